"""The engine against a real aiosmtpd sink, a real SQLite file and a test-controlled clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

from sqlalchemy import func, select

from mailconsole.clock import FixedClock
from mailconsole.delivery import queue, servers
from mailconsole.delivery.engine import Engine
from mailconsole.delivery.events import MessageEvent
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, DeliveryAttempt, SendingServer
from tests.support.actors import ADA

from .conftest import add_sink_server, closed_port, received_to, send


async def _state(runtime: Runtime, mid: int) -> str:
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None
    return detail.message.state


async def _contact(runtime: Runtime, address: str) -> Contact | None:
    async with runtime.sessions() as session:
        return (await session.execute(select(Contact).where(Contact.address == address))).scalar_one_or_none()


async def test_451_then_250_is_retried_and_delivered(runtime: Runtime, clock: FixedClock, sink: CaptureSink) -> None:
    await add_sink_server(runtime, sink.port)
    sink.handler.scripted.append("451 4.3.0 try later")
    (mid,) = await send(runtime, "bob@example.test")
    engine = Engine(runtime)
    await engine.run_until_idle()
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.state == "deferred"
    assert detail.message.last_code == "451 4.3.0"
    assert detail.message.next_attempt_at is not None and detail.message.next_attempt_at > clock.now()
    clock.advance(seconds=runtime.settings.retry_base_seconds + 1)
    await engine.run_until_idle()
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.state == "sent" and detail.message.attempts == 2
    assert [a.outcome for a in detail.attempts] == ["transient", "accepted"]
    assert received_to(sink) == ["bob@example.test"]
    await engine.stop()


async def test_550_5_1_1_fails_the_message_and_blocklists_the_contact(runtime: Runtime, sink: CaptureSink) -> None:
    await add_sink_server(runtime, sink.port)
    sink.handler.rcpt_replies["gone@example.test"] = "550 5.1.1 <gone@example.test>: no such user"
    (mid,) = await send(runtime, "gone@example.test")
    await Engine(runtime).run_until_idle()
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.state == "failed"
    assert detail.message.state_reason == "550 5.1.1 <gone@example.test>: no such user"
    assert [(a.outcome, a.smtp_code, a.enhanced_code) for a in detail.attempts] == [("permanent", 550, "5.1.1")]
    contact = await _contact(runtime, "gone@example.test")
    assert contact is not None and contact.status == "blocklisted"
    assert "hard bounce" in contact.status_reason
    assert sink.handler.messages == []


async def test_reputation_block_is_retried_not_failed_and_leaves_the_contact_active(
    runtime: Runtime, sink: CaptureSink
) -> None:
    """The block is about our server's IP, not the message: it goes again at once (issue 14)."""
    await add_sink_server(runtime, sink.port)
    sink.handler.scripted.append("550 5.7.1 Service unavailable; client host [127.0.0.1] blocked using Spamhaus")
    (mid,) = await send(runtime, "carol@example.test")
    await Engine(runtime).run_until_idle()
    assert await _state(runtime, mid) == "sent"
    contact = await _contact(runtime, "carol@example.test")
    assert contact is None or contact.status == "active"
    async with runtime.sessions() as session:
        attempts = (await session.execute(
            select(DeliveryAttempt.smtp_code).where(DeliveryAttempt.message_id == mid).order_by(DeliveryAttempt.id)
        )).scalars().all()
    assert list(attempts) == [550, 250]  # refused once, then delivered: never failed for it


async def test_connection_refused_fails_over_to_the_groups_second_server(runtime: Runtime, sink: CaptureSink) -> None:
    dead = await add_sink_server(runtime, closed_port(), name="dead")
    await add_sink_server(runtime, sink.port, name="alive")
    ids = await send(runtime, *[f"user{i}@example.test" for i in range(6)])
    await Engine(runtime).run_until_idle()
    assert [await _state(runtime, mid) for mid in ids] == ["sent"] * 6
    assert received_to(sink) == sorted(f"user{i}@example.test" for i in range(6))
    dead_row = await servers.get_server(runtime, dead.id)
    assert dead_row.state == "failing" and "connection refused" in dead_row.state_reason
    async with runtime.sessions() as session:
        refused = (await session.execute(
            select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.server_id == dead.id)
        )).scalar_one()
    # The sends already in flight (concurrency 4) plus those started before the threshold (2) was
    # seen; the rest of the claimed batch was given back, not sent to the dead server.
    assert refused <= 4 + 2 - 1


async def test_failing_server_is_probed_after_the_cooldown_and_heals(
    runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    server = await add_sink_server(runtime, sink.port)
    async with runtime.sessions.begin() as session:
        row = await session.get(SendingServer, server.id)
        assert row is not None
        row.state, row.next_probe_at = "failing", clock.now() + dt.timedelta(seconds=60)
    (mid,) = await send(runtime, "dave@example.test")
    engine = Engine(runtime)
    await engine.run_until_idle()
    assert await _state(runtime, mid) == "queued"  # waits, never dropped
    clock.advance(seconds=61)
    await engine.run_until_idle()
    assert (await servers.get_server(runtime, server.id)).state == "healthy"
    assert await _state(runtime, mid) == "sent"


async def test_hourly_cap_of_10_with_concurrency_5_sends_exactly_10_per_window_across_a_restart(
    settings: object, runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    await add_sink_server(runtime, sink.port, speed="hour", limit=10, concurrency=5)
    ids = await send(runtime, *[f"c{i}@example.test" for i in range(25)])
    start = clock.now()
    engine = Engine(runtime)
    sent_at: list[int] = []  # minute of each delivery
    for minute in range(0, 30):
        clock.set(start + dt.timedelta(minutes=minute))
        before = len(sink.handler.messages)
        await engine.run_until_idle()
        sent_at += [minute] * (len(sink.handler.messages) - before)
    await engine.stop()
    # Restart: a new runtime and engine on the same database file; the cap must hold.
    async with Runtime.open(runtime.settings, clock=clock) as again:
        engine2 = Engine(again)
        for minute in range(30, 60 * 3):
            clock.set(start + dt.timedelta(minutes=minute))
            before = len(sink.handler.messages)
            await engine2.run_until_idle()
            sent_at += [minute] * (len(sink.handler.messages) - before)
        await engine2.stop()
        states = [(await queue.message_detail(again, mid)) for mid in ids]
    assert len([m for m in sent_at if m < 60]) == 10
    assert len([m for m in sent_at if 60 <= m < 120]) == 10
    assert len(sent_at) == 25 and all(d is not None and d.message.state == "sent" for d in states)
    # Spread, not burst: never more than one send in any 6-minute slice.
    assert all(b - a >= 6 for a, b in itertools.pairwise(sent_at))


async def test_blocklisted_contact_is_suppressed_at_claim(
    runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    await add_sink_server(runtime, sink.port)
    account = await default_account_id(runtime)
    async with runtime.sessions.begin() as session:
        session.add(Contact(account_id=account, address="spam@example.test", domain="example.test",
                            status="spam_complaint", status_reason="complained via ARF", created_at=clock.now()))
    blocked, ok = await send(runtime, "spam@example.test", "fine@example.test")
    await Engine(runtime).run_until_idle()
    detail = await queue.message_detail(runtime, blocked)
    assert detail is not None and detail.message.state == "suppressed" and detail.attempts == []
    assert detail.message.state_reason == "suppressed: contact is spam_complaint (complained via ARF)"
    assert await _state(runtime, ok) == "sent"
    assert received_to(sink) == ["fine@example.test"]


async def test_paused_server_sends_nothing_until_resumed(runtime: Runtime, sink: CaptureSink) -> None:
    server = await add_sink_server(runtime, sink.port)
    await servers.pause_server(runtime, server.id, actor=ADA)
    (mid,) = await send(runtime, "erin@example.test")
    engine = Engine(runtime)
    await engine.run_until_idle()
    assert await _state(runtime, mid) == "queued" and sink.handler.messages == []
    await servers.resume_server(runtime, server.id, actor=ADA)
    await engine.run_until_idle()
    assert await _state(runtime, mid) == "sent"


async def test_background_engine_delivers_and_publishes_events_without_blocking(
    runtime: Runtime, sink: CaptureSink
) -> None:
    await add_sink_server(runtime, sink.port)
    engine = Engine(runtime, poll_interval=0.05)
    slow = engine.events.subscribe(maxsize=2)  # never read: it must lose events, not stall the engine
    fast = engine.events.subscribe(maxsize=10_000)
    await engine.start()
    ids = await send(runtime, *[f"f{i}@example.test" for i in range(12)])
    for _ in range(200):
        if (await queue.counts_by_state(runtime))["sent"] == 12:
            break
        await asyncio.sleep(0.05)
    await engine.stop()
    assert (await queue.counts_by_state(runtime))["sent"] == 12
    sent_events = {e.message_id for e in fast.drain() if isinstance(e, MessageEvent) and e.state == "sent"}
    assert sent_events == set(ids)
    assert slow.dropped > 0 and slow.queue.qsize() == 2


async def test_stop_gives_back_claimed_but_unsent_messages(runtime: Runtime) -> None:
    slow = CaptureSink(CaptureHandler(delay=0.3)).start()
    try:
        await add_sink_server(runtime, slow.port, concurrency=1)
        ids = await send(runtime, *[f"s{i}@example.test" for i in range(4)])
        engine = Engine(runtime, poll_interval=0.05)
        await engine.start()
        await asyncio.sleep(0.15)
        await engine.stop()
        counts = await queue.counts_by_state(runtime)
        assert counts["sending"] == 0 and counts["sent"] + counts["queued"] == len(ids)
        async with runtime.sessions() as session:
            reserved = (await session.execute(
                select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.outcome == "reserved")
            )).scalar_one()
        assert reserved == 0
    finally:
        slow.stop()


async def test_two_engines_on_one_database_never_exceed_the_cap_together(
    runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    # 100/hour allows a burst of 10 per 6-minute slice; two engines racing must share those 10.
    await add_sink_server(runtime, sink.port, speed="hour", limit=100, concurrency=10)
    await send(runtime, *[f"t{i}@example.test" for i in range(40)])
    async with Runtime.open(runtime.settings, clock=clock) as other:
        first, second = Engine(runtime, owner="one"), Engine(other, owner="two")
        for _ in range(3):
            await asyncio.gather(first.dispatch_once(), second.dispatch_once())
        await first.stop()
        await second.stop()
    assert len(sink.handler.messages) == 10
    async with runtime.sessions() as session:
        attempts = (await session.execute(select(func.count()).select_from(DeliveryAttempt))).scalar_one()
    assert attempts == 10
    assert (await queue.counts_by_state(runtime))["queued"] == 30


async def test_stopping_mid_work_never_leaves_the_sqlite_write_lock_taken(runtime: Runtime, sink: CaptureSink) -> None:
    """stop() lets the claim loops finish their transaction instead of cancelling them inside
    it (a cancelled aiosqlite transaction can hold the write lock until garbage collection)."""
    import sqlite3

    database = runtime.engine.url.database
    assert database
    await add_sink_server(runtime, sink.port, concurrency=4)
    for round_ in range(8):  # stop at a different point of the claim/send cycle each round
        await send(runtime, *[f"r{round_}-{i}@example.test" for i in range(30)])
        engine = Engine(runtime, poll_interval=0.001, prefetch=1)
        await engine.start()
        await asyncio.sleep(0.005 * round_)
        await engine.stop()
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # raises "database is locked" if anyone still holds it
            probe.execute("ROLLBACK")
        finally:
            probe.close()
    counts = await queue.counts_by_state(runtime)
    assert counts["sending"] == 0 and counts["sent"] + counts["queued"] == 8 * 30
