"""Failed-AUTH throttling per remote address: slowed first, then refused for a while.

Pure bookkeeping with an injectable monotonic clock, so the rules are testable without
sleeping. Bounded memory: at most ``max_entries`` addresses are remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Entry:
    failures: int
    first_at: float
    blocked_until: float = 0.0


class AuthThrottle:
    """After ``delay_after`` failures in ``window`` seconds each failure waits longer
    (``base_delay`` doubling up to ``max_delay``); after ``block_after`` failures the address
    is refused for ``block_seconds``. A success forgets the address."""

    def __init__(
        self,
        *,
        delay_after: int = 3,
        block_after: int = 10,
        window: float = 600.0,
        block_seconds: float = 900.0,
        base_delay: float = 0.5,
        max_delay: float = 4.0,
        max_entries: int = 10000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delay_after = delay_after
        self.block_after = block_after
        self.window = window
        self.block_seconds = block_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def blocked_for(self, address: str) -> float:
        """Seconds this address is still refused (0 when it may try)."""
        entry = self._entries.get(address)
        if entry is None:
            return 0.0
        return max(0.0, entry.blocked_until - self.clock())

    def failure(self, address: str) -> float:
        """Record a failure; return how long to wait before answering it."""
        now = self.clock()
        entry = self._entries.get(address)
        if entry is None or (now - entry.first_at > self.window and entry.blocked_until <= now):
            self._prune(now)
            entry = _Entry(failures=0, first_at=now)
            self._entries[address] = entry
        entry.failures += 1
        if entry.failures >= self.block_after:
            entry.blocked_until = now + self.block_seconds
        if entry.failures <= self.delay_after:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** (entry.failures - self.delay_after - 1))

    def success(self, address: str) -> None:
        self._entries.pop(address, None)

    def _prune(self, now: float) -> None:
        if len(self._entries) < self.max_entries:
            return
        stale = [a for a, e in self._entries.items() if now - e.first_at > self.window and e.blocked_until <= now]
        for address in stale:
            del self._entries[address]
        while len(self._entries) >= self.max_entries:  # still full: forget the oldest
            del self._entries[next(iter(self._entries))]
