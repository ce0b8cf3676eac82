"""Periodic jobs a long-lived process runs beside its engine: the daily safelist summary and
the bounce mailbox poll.

``mailconsole serve``, the demo and the console's in-process engine all start the same
``Housekeeping``, so whichever process delivers also sends yesterday's summaries and reads
bounces. Both jobs are safe to run in several processes at once: a summary is unique per
account and day in the database, and a bounce is deduplicated by its report's key.

The jobs themselves are passed in by the composition root (``mailconsole.boot``): this module
only schedules them, so delivery does not reach into contacts or feedback.

``stop()`` sets one event that both loops wait on, so stopping (SIGTERM) is prompt however
long the intervals are; a job caught in a slow mailbox is cancelled after ``grace`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from mailconsole.runtime import Runtime

log = logging.getLogger(__name__)

SUMMARY_INTERVAL_SECONDS = 300.0  # a day's summary goes out within five minutes of midnight UTC

# Sends the due summaries; returns how many were queued.
SendSummaries = Callable[[Runtime], Awaitable[int]]
# Polls the bounce mailboxes every ``interval`` seconds until the event is set.
PollBounces = Callable[[Runtime, asyncio.Event, float], Awaitable[None]]


class Housekeeping:
    def __init__(
        self,
        runtime: Runtime,
        *,
        send_summaries: SendSummaries,
        poll_bounces: PollBounces,
        summary_interval: float = SUMMARY_INTERVAL_SECONDS,
        bounce_interval: float | None = None,
    ) -> None:
        self.runtime = runtime
        self.send_summaries = send_summaries
        self.poll_bounces = poll_bounces
        self.summary_interval = summary_interval
        self.bounce_interval = bounce_interval if bounce_interval is not None else runtime.settings.bounce_poll_seconds
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._every(self.summary_interval, self._summaries), name="housekeeping-summary"),
            asyncio.create_task(self._bounces(), name="housekeeping-bounces"),
        ]

    async def stop(self, grace: float = 5.0) -> None:
        self._stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _summaries(self) -> None:
        sent = await self.send_summaries(self.runtime)
        if sent:
            log.info("queued %d daily safelist summary(ies)", sent)

    async def _bounces(self) -> None:
        # run_periodically loops itself; if it dies (e.g. the database went away) start it again.
        await self._every(self.bounce_interval,
                          lambda: self.poll_bounces(self.runtime, self._stop, self.bounce_interval))

    async def _every(self, interval: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` now and then every ``interval`` seconds until stopped; a failure is logged."""
        while not self._stop.is_set():
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("housekeeping job failed; trying again in %.0f s", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=max(0.01, interval))


__all__ = ["SUMMARY_INTERVAL_SECONDS", "Housekeeping"]
