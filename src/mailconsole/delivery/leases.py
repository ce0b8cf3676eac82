"""The leases this engine holds: what it claimed and has not recorded yet, kept alive while it works.

Three promises, so a slow receiver never causes a second send (only a crash can):
- a claim takes no more than the server can send within one lease at its observed send
  time (``domain/leases.py``), learned per server from the sends this engine times;
- a heartbeat extends the lease of every message held here, one UPDATE per server and
  chunk, every third of a lease (a lease survives two missed beats);
- this engine's lease recovery skips what it holds (``held()``): a message whose send is
  still running is never queued again behind its own back.

Held means from the claim until the outcome is recorded (or the claim given back): a send
that finished but waits for the outcome writer is still this engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import update

from mailconsole.domain import leases as rules
from mailconsole.runtime import Runtime
from mailconsole.store.contention import retry_locked
from mailconsole.store.models import Message

log = logging.getLogger(__name__)

CHUNK = 500  # ids per UPDATE (well under SQLite's bound-parameter limit)
STOP_SECONDS = 10.0

Turn = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


class LeaseKeeper:
    def __init__(self, runtime: Runtime, owner: str, turn: Turn | None = None) -> None:
        self.runtime = runtime
        self.owner = owner
        self._turn: Turn = turn or contextlib.nullcontext
        self._held: dict[int, set[int]] = {}  # server id -> message ids
        self._pace: dict[int, float] = {}  # server id -> average seconds per message
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.extended = 0  # leases extended so far (for tests and metrics)

    # --- how much to claim -------------------------------------------------------------

    def seconds_per_message(self, server_id: int) -> float | None:
        return self._pace.get(server_id)

    def claim_size(self, server_id: int, *, want: int, concurrency: int, unobserved: int) -> int:
        """``want`` trimmed so the server's held messages stay sendable within one lease."""
        capacity = rules.lease_capacity(
            lease_seconds=self.runtime.settings.lease_seconds, concurrency=concurrency,
            seconds_per_message=self._pace.get(server_id), unobserved=unobserved,
        )
        return rules.claim_size(want, capacity=capacity, held=len(self._held.get(server_id, ())))

    @contextlib.contextmanager
    def timing(self, server_id: int) -> Iterator[None]:
        """Time one send on ``server_id`` (whatever its result: a slow failure is slow too)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self._pace[server_id] = rules.observe_send_time(self._pace.get(server_id), time.monotonic() - started)

    # --- what is held ------------------------------------------------------------------

    def hold(self, server_id: int, message_ids: Iterable[int]) -> None:
        self._held.setdefault(server_id, set()).update(message_ids)

    def release(self, server_id: int, message_id: int) -> None:
        held = self._held.get(server_id)
        if held is not None:
            held.discard(message_id)

    def held(self) -> frozenset[int]:
        """Every message this engine claimed and has not recorded (lease recovery skips them)."""
        return frozenset(mid for ids in self._held.values() for mid in ids)

    def held_count(self, server_id: int) -> int:
        return len(self._held.get(server_id, ()))

    # --- the heartbeat -----------------------------------------------------------------

    async def extend(self) -> int:
        """Push the lease of every held message one full lease ahead; return how many moved."""
        batches = [(sid, sorted(ids)) for sid, ids in self._held.items() if ids]
        if not batches:
            return 0

        async def write() -> int:
            until = self.runtime.clock.now() + dt.timedelta(seconds=self.runtime.settings.lease_seconds)
            moved = 0
            async with self._turn(), self.runtime.sessions.begin() as session:
                for _server_id, ids in batches:
                    for start in range(0, len(ids), CHUNK):
                        result = await session.execute(
                            update(Message)
                            .where(Message.id.in_(ids[start:start + CHUNK]), Message.state == "sending",
                                   Message.lease_owner == self.owner)
                            .values(lease_until=until)
                            .execution_options(synchronize_session=False)
                        )
                        moved += int(result.rowcount or 0)  # type: ignore[attr-defined]
            return moved

        moved = await retry_locked(write, what="extending leases")
        self.extended += moved
        return moved

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self._beat(self._stop), name="engine-leases")

    async def stop(self) -> None:
        """End the heartbeat between beats (cancelled only if stuck: a task cancelled inside a
        transaction can leave SQLite's write lock with its connection, see ``Engine.stop``)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        _, stuck = await asyncio.wait([task], timeout=STOP_SECONDS)
        for pending in stuck:
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _beat(self, stop: asyncio.Event) -> None:
        interval = rules.heartbeat_seconds(self.runtime.settings.lease_seconds)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                return
            try:
                await self.extend()
            except Exception:  # the next beat tries again; a lease survives two missed beats
                log.exception("extending leases failed")
