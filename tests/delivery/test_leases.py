"""Leases that hold: a slow receiver never causes a second send, and an attempt that ended by
lease expiry is counted and shown.

The issue's case was a sink taking 10 s per message, concurrency 4 and the default 120 s lease:
the engine claimed ~68 messages at once, never extended a lease, and its own lease recovery
queued the tail again while it was still waiting to be sent. Here time is scaled down by 40
(0.25 s per message, a 3 s lease) so the test runs in seconds with the same proportions: one
lease covers about 48 sends on four connections, so a claim of 64 or more has a tail that would
expire unsent.

Real parts: the engine on a real SQLite file with the wall clock (leases must really expire),
an aiosmtpd sink on loopback that sleeps in DATA.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from mailconsole.delivery import queue
from mailconsole.delivery.claims import claim_for_server
from mailconsole.delivery.engine import Engine
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import DeliveryAttempt, Message

from .conftest import add_sink_server, send

SECONDS_PER_MESSAGE = 0.25
LEASE_SECONDS = 3.0
CONCURRENCY = 4
N = 90


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime on the wall clock: leases expire as they would in production."""
    async with Runtime.open(dataclasses.replace(settings, lease_seconds=LEASE_SECONDS)) as rt:
        yield rt


async def _wait_sent(runtime: Runtime, n: int, within: float) -> int:
    """Wait until ``n`` are sent; return the most messages seen under lease at once."""
    deadline = time.monotonic() + within
    most_leased = 0
    while time.monotonic() < deadline:
        counts = await queue.counts_by_state(runtime)
        most_leased = max(most_leased, counts["sending"])
        if counts["sent"] >= n:
            return most_leased
        await asyncio.sleep(0.05)
    raise AssertionError(f"not all sent in {within} s: {await queue.counts_by_state(runtime)}")


async def test_slow_receiver_gets_every_message_exactly_once(live: Runtime) -> None:
    with CaptureSink(CaptureHandler(delay=SECONDS_PER_MESSAGE)) as sink:
        await add_sink_server(live, sink.port, concurrency=CONCURRENCY)
        recipients = [f"r{i}@example.test" for i in range(N)]
        await send(live, *recipients)
        engine = Engine(live, poll_interval=0.05, housekeeping_interval=0.2)
        await engine.start()
        try:
            most_leased = await _wait_sent(live, N, within=N * SECONDS_PER_MESSAGE / CONCURRENCY + 15)
        finally:
            await engine.stop()
        per_rcpt = collections.Counter(r for m in sink.handler.messages for r in m.rcpt_tos)
    # What one lease covers at the observed pace, planned at half the lease (domain/leases.py);
    # the engine used to lease ~68 here.
    assert most_leased <= LEASE_SECONDS * 0.5 * CONCURRENCY / SECONDS_PER_MESSAGE
    assert set(per_rcpt) == set(recipients)
    assert [r for r, n in per_rcpt.items() if n > 1] == []
    async with live.sessions() as session:
        attempts = (await session.execute(select(Message.attempts))).scalars().all()
        expired = (await session.execute(
            select(DeliveryAttempt.id).where(DeliveryAttempt.text.like("lease expired%"))
        )).scalars().all()
    assert set(attempts) == {1} and expired == []


async def test_an_attempt_ended_by_lease_expiry_is_counted_and_shown(live: Runtime) -> None:
    """An engine died mid-send (its lease ran out): the next engine counts that attempt too."""
    with CaptureSink(CaptureHandler()) as sink:
        server = await add_sink_server(live, sink.port, concurrency=CONCURRENCY)
        [message_id] = await send(live, "dana@example.test")
        # A first engine claims the message, then "dies" before recording: its lease runs out.
        claimed = await claim_for_server(
            live, server.id, want=1, owner="dead-engine", account_ids=[await default_account_id(live)]
        )
        assert [c.message_id for c in claimed.claimed] == [message_id]
        async with live.sessions.begin() as session:
            await session.execute(update(Message).values(lease_until=live.clock.now()))
        await asyncio.sleep(0.01)
        assert await queue.recover_leases(live) == 1
        engine = Engine(live)
        await engine.run_until_idle()
        await engine.stop()
    assert [m.rcpt_tos for m in sink.handler.messages] == [["dana@example.test"]]
    detail = await queue.message_detail(live, message_id)
    assert detail is not None
    assert detail.message.state == "sent" and detail.message.attempts == 2
    assert [a.outcome for a in detail.attempts] == ["transient", "accepted"]
    assert detail.attempts[0].text.startswith("lease expired")


async def test_a_send_slower_than_the_lease_keeps_its_lease_alive(settings: Settings) -> None:
    """One message takes longer than the whole lease: the heartbeat extends it, so another
    engine's lease recovery (which knows nothing of this engine's sends) finds nothing to take."""
    async with Runtime.open(dataclasses.replace(settings, lease_seconds=0.6)) as rt:
        with CaptureSink(CaptureHandler(delay=1.5)) as sink:
            await add_sink_server(rt, sink.port, concurrency=2)
            await send(rt, "a@example.test", "b@example.test")
            engine = Engine(rt, poll_interval=0.05, housekeeping_interval=0.2)
            await engine.start()
            try:
                await asyncio.sleep(1.2)  # two leases' worth into the sends
                assert (await queue.counts_by_state(rt))["sending"] == 2
                assert await queue.recover_leases(rt) == 0  # as another engine's housekeeping would
                await _wait_sent(rt, 2, within=10)
            finally:
                await engine.stop()
            assert engine.leases.extended >= 2
        assert sorted(r for m in sink.handler.messages for r in m.rcpt_tos) == ["a@example.test", "b@example.test"]
        async with rt.sessions() as session:
            assert set((await session.execute(select(Message.attempts))).scalars()) == {1}
