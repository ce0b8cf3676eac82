"""Failed-authentication throttling per (source address, credential), for the relay and the API.

Every local application reaches us from 127.0.0.1, so a throttle per address would let one
misconfigured app lock all the others out. Failures are therefore counted per *credential* (the
key prefix a client presented, or the login name) from a source, and only *failing* attempts are
ever slowed or refused: a valid key is checked first and always works, whatever its neighbours
on the same address did. A source that sprays many different credentials is slowed too (its
failing attempts only), through a second, more tolerant count per address.

Pure bookkeeping with an injectable monotonic clock, so the rules are testable without sleeping.
Bounded memory: at most ``max_entries`` counters are remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K")

# The credential named when a client's password is not even shaped like one of our keys: all such
# attempts from one source share one counter (none of them can ever be valid).
MALFORMED = "malformed-key"


def credential_of(login: str, key_prefix: str | None) -> str:
    """What a failed attempt is counted against: the key prefix, else the login name."""
    if login != "apikey":
        return f"login:{login[:64]}"
    return f"key:{key_prefix}" if key_prefix else MALFORMED


@dataclass
class _Count:
    failures: int
    first_at: float
    blocked_until: float = 0.0


class AuthThrottle:
    """After ``delay_after`` failures of one credential from one source in ``window`` seconds,
    each further failure waits longer (``base_delay`` doubling up to ``max_delay``); after
    ``block_after`` failures that credential is refused from that source for ``block_seconds``
    (a valid key still works: callers look the key up first). A source's failures over all its
    credentials slow it the same way past ``source_delay_after``. A success forgets the pair."""

    def __init__(
        self,
        *,
        delay_after: int = 3,
        block_after: int = 10,
        source_delay_after: int = 20,
        window: float = 600.0,
        block_seconds: float = 900.0,
        base_delay: float = 0.5,
        max_delay: float = 4.0,
        max_entries: int = 10000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delay_after = delay_after
        self.block_after = block_after
        self.source_delay_after = source_delay_after
        self.window = window
        self.block_seconds = block_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_entries = max_entries
        self.clock = clock
        self._pairs: dict[tuple[str, str], _Count] = {}
        self._sources: dict[str, _Count] = {}

    def blocked_for(self, source: str, credential: str) -> float:
        """Seconds this credential is still refused from this source (0 when it may try)."""
        count = self._pairs.get((source, credential))
        if count is None:
            return 0.0
        return max(0.0, count.blocked_until - self.clock())

    def failure(self, source: str, credential: str) -> float:
        """Record a failed attempt; return how long to hold its answer (0: answer at once)."""
        now = self.clock()
        pair = self._bump(self._pairs, (source, credential), now)
        if pair.failures >= self.block_after:
            pair.blocked_until = now + self.block_seconds
        whole = self._bump(self._sources, source, now)
        return max(self._delay(pair.failures, self.delay_after), self._delay(whole.failures, self.source_delay_after))

    def success(self, source: str, credential: str) -> None:
        self._pairs.pop((source, credential), None)

    def _delay(self, failures: int, after: int) -> float:
        if failures <= after:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** (failures - after - 1))

    def _bump(self, table: dict[K, _Count], key: K, now: float) -> _Count:
        count = table.get(key)
        if count is None or (now - count.first_at > self.window and count.blocked_until <= now):
            self._prune(table, now)
            count = _Count(failures=0, first_at=now)
            table[key] = count
        count.failures += 1
        return count

    def _prune(self, table: dict[K, _Count], now: float) -> None:
        if len(table) < self.max_entries:
            return
        stale = [k for k, c in table.items() if now - c.first_at > self.window and c.blocked_until <= now]
        for key in stale:
            del table[key]
        while len(table) >= self.max_entries:  # still full: forget the oldest
            del table[next(iter(table))]
