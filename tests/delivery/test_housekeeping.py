"""Housekeeping beside the engine: yesterday's safelist summary goes out once however often the
job runs, and stopping ends the jobs at once rather than after their intervals."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from mailconsole import boot
from mailconsole.clock import FixedClock
from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.delivery.engine import Engine
from mailconsole.delivery.housekeeping import Housekeeping
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureSink
from mailconsole.store.models import Message, SafelistSummary
from tests.support.actors import SAM

from .conftest import add_sink_server


async def _count(runtime: Runtime, model: type[Message] | type[SafelistSummary]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_next_day_housekeeping_sends_the_summary_once_and_stops_promptly(
    runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    runtime.settings.notification_to = "ops@example.net"
    await add_sink_server(runtime, sink.port)
    await record_delivery_outcome(runtime, account_id=1, recipient="ann@example.com", effect="complaint",
                                  reply_text="ARF abuse report", message_id=None)
    clock.advance(days=95)
    await request_safelist(runtime, account_id=1, address="ann@example.com", actor=SAM)
    clock.advance(days=1)  # the summary is for "yesterday"

    # A bounce interval of an hour: stop() must not wait for it.
    housekeeping = boot.housekeeping(runtime, summary_interval=0.01, bounce_interval=3600)
    await housekeeping.start()
    for _ in range(300):  # bounded: up to ~3 s
        if await _count(runtime, SafelistSummary):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # several more runs of the summary job
    assert housekeeping.running
    await asyncio.wait_for(housekeeping.stop(), timeout=2)
    assert not housekeeping.running

    assert (await _count(runtime, SafelistSummary), await _count(runtime, Message)) == (1, 1)
    await Engine(runtime).run_until_idle()
    assert [m.rcpt_tos for m in sink.handler.messages] == [["ops@example.net"]]
    assert "Safelist summary for default" in sink.handler.messages[0].message["Subject"]


async def test_a_failing_job_is_retried_and_does_not_stop_the_other(runtime: Runtime) -> None:
    runs = {"summary": 0}

    async def flaky(_: Runtime) -> int:
        runs["summary"] += 1
        raise RuntimeError("database went away")

    housekeeping = Housekeeping(runtime, send_summaries=flaky, poll_bounces=boot.poll_bounces,
                                summary_interval=0.01, bounce_interval=3600)
    await housekeeping.start()
    for _ in range(200):
        if runs["summary"] >= 3:
            break
        await asyncio.sleep(0.01)
    assert runs["summary"] >= 3 and housekeeping.running
    await asyncio.wait_for(housekeeping.stop(), timeout=2)
