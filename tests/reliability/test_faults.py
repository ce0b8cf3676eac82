"""Faulty receivers, providers, DNS and a locked database: retried with backoff, failed over,
nothing lost, and no hot loop (attempts are counted, not timed).

Real parts: the real Engine in this process on a real SQLite file, real aiosmtpd sinks on
loopback, a controlled clock; the ESP's HTTP endpoint is an ``httpx.MockTransport`` injected
where the engine builds transports; the DNS server is a real UDP socket that never answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from mailconsole.clock import FixedClock
from mailconsole.contacts.service import get_or_create_contact
from mailconsole.contacts.verification import check_again
from mailconsole.delivery import engine as engine_module
from mailconsole.delivery import queue, servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, DeliveryAttempt, SendingServer
from mailconsole.transports.base import Transport
from mailconsole.transports.sendgrid import SendGridTransport
from tests.support.actors import ADA
from tests.transports.esp_cases import SECRET, Recorder

from .engines import add_smtp, message_bytes, recipient


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    tuned = dataclasses.replace(settings, breaker_threshold=3, breaker_cooldown_seconds=600)
    async with Runtime.open(tuned, clock=clock) as rt:
        yield rt


async def _send(runtime: Runtime, n: int) -> list[int]:
    account = await default_account_id(runtime)
    ids: list[int] = []
    for i in range(n):
        ids += await queue.enqueue(runtime, account_id=account, envelope_from="bounce@example.com",
                                   recipients=[recipient(i)], raw=message_bytes(i))
    return ids


async def _attempts(runtime: Runtime, message_id: int) -> list[DeliveryAttempt]:
    async with runtime.sessions() as session:
        return list((await session.execute(
            select(DeliveryAttempt).where(DeliveryAttempt.message_id == message_id).order_by(DeliveryAttempt.id)
        )).scalars())


def _delivered(*sinks: CaptureSink) -> list[str]:
    return sorted(r for s in sinks for m in s.handler.messages for r in m.rcpt_tos)


async def test_451s_back_off_exponentially_then_deliver_once_without_a_hot_loop(
    settings: Settings, clock: FixedClock
) -> None:
    tuned = dataclasses.replace(settings, breaker_threshold=1000)  # isolate the retry schedule
    handler = CaptureHandler()
    handler.scripted = ["451 4.3.0 try later"] * 6
    async with Runtime.open(tuned, clock=clock) as runtime:
        with CaptureSink(handler) as sink:
            await add_smtp(runtime, sink.port, name="sink")
            (mid,) = await _send(runtime, 1)
            engine = Engine(runtime)
            try:
                for _ in range(20):  # many polls at the same instant: one attempt only
                    await engine.dispatch_once()
                assert len(await _attempts(runtime, mid)) == 1
                for _ in range(300):  # 75 simulated minutes polled every 15 s
                    clock.advance(seconds=15)
                    await engine.dispatch_once()
            finally:
                await engine.stop()
            attempts = await _attempts(runtime, mid)
    assert [a.outcome for a in attempts] == ["transient"] * 6 + ["accepted"]
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps == sorted(gaps) and gaps[0] >= 30 and gaps[-1] >= 16 * 30  # 60 s base, doubling
    assert _delivered(sink) == [recipient(0)]


class DisconnectingHandler(CaptureHandler):
    """Drops the connection at the end of DATA, before any reply, the first ``drops`` times."""

    def __init__(self, drops: int) -> None:
        super().__init__()
        self.drops = drops

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.drops > 0:
            self.drops -= 1
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "421 4.4.2 connection dropped"
        return await super().handle_DATA(server, session, envelope)


async def test_disconnect_during_data_defers_and_delivers_on_the_next_try(runtime: Runtime, clock: FixedClock) -> None:
    with CaptureSink(DisconnectingHandler(drops=2)) as sink:
        await add_smtp(runtime, sink.port, name="sink")
        ids = await _send(runtime, 2)
        engine = Engine(runtime)
        try:
            await engine.dispatch_once()
            assert _delivered(sink) == []
            clock.advance(hours=1)
            await engine.run_until_idle(max_rounds=5)
        finally:
            await engine.stop()
    assert _delivered(sink) == [recipient(0), recipient(1)]
    for mid in ids:
        assert [a.outcome for a in await _attempts(runtime, mid)] == ["transient", "accepted"]


async def test_reply_slower_than_the_timeout_defers_then_delivers(runtime: Runtime, clock: FixedClock) -> None:
    handler = CaptureHandler(delay=2.0)
    with CaptureSink(handler) as sink:
        await add_smtp(runtime, sink.port, name="slow", reply_timeout=0.5)
        (mid,) = await _send(runtime, 1)
        engine = Engine(runtime)
        try:
            await engine.dispatch_once()
            first = await _attempts(runtime, mid)
            assert [a.outcome for a in first] == ["transient"]
            assert "timed out" in first[0].text.lower() or "timeout" in first[0].text.lower(), first[0].text
            handler.delay = 0.0
            clock.advance(hours=1)
            await engine.run_until_idle(max_rounds=5)
        finally:
            await engine.stop()
        await asyncio.sleep(2.1)  # let the slow first DATA finish inside the sink
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.state == "sent"
    # At least once: the slow receiver may also have kept the first copy.
    assert 1 <= _delivered(sink).count(recipient(0)) <= 2


async def test_5xx_fails_the_message_once_and_it_is_never_retried(runtime: Runtime, clock: FixedClock) -> None:
    handler = CaptureHandler()
    # A content refusal (5.6.x), not a policy block: policy blocks are retried (test_blame.py).
    handler.scripted = ["554 5.6.0 message refused"]
    with CaptureSink(handler) as sink:
        await add_smtp(runtime, sink.port, name="sink")
        (mid,) = await _send(runtime, 1)
        engine = Engine(runtime)
        try:
            for _ in range(10):
                await engine.dispatch_once()
                clock.advance(hours=1)
        finally:
            await engine.stop()
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.state == "failed"
    assert "554" in detail.message.state_reason
    assert len(await _attempts(runtime, mid)) == 1 and _delivered(sink) == []


@pytest.mark.parametrize("status", [429, 500])
async def test_esp_storm_trips_its_breaker_and_the_group_fails_over_with_bounded_calls(
    runtime: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    n = 30
    recorder = Recorder(lambda r: httpx.Response(status, headers={"Retry-After": "120"},
                                                 json={"errors": [{"message": "slow down"}]}))
    real_load = engine_module.load_transport

    def load(rt: Runtime, server: SendingServer) -> Transport:
        if server.type != "sendgrid":
            return real_load(rt, server)
        return SendGridTransport(**dict(server.settings or {}), **rt.secrets.decrypt_json(server.secrets),
                                 http_transport=recorder.transport)

    monkeypatch.setattr(engine_module, "load_transport", load)
    esp = await servers.add_server(runtime, name="sendgrid", type="sendgrid", fields={"api_key": SECRET},
                                   concurrency=2, actor=SYSTEM)
    with CaptureSink(CaptureHandler()) as sink:
        await add_smtp(runtime, sink.port, name="sink")
        await _send(runtime, n)
        engine = Engine(runtime)
        try:
            await engine.run_until_idle(max_rounds=50)
            clock.advance(minutes=5)  # the ones refused by the ESP were deferred, not lost
            await engine.run_until_idle(max_rounds=50)
        finally:
            await engine.stop()
    assert _delivered(sink) == sorted(recipient(i) for i in range(n))
    # The breaker (3 in a row) stops the storm: calls are bounded by what was already claimed.
    assert 3 <= len(recorder.requests) <= 3 + 2 * 2
    failing = await servers.get_server(runtime, esp.id)
    assert failing.state == "failing" and str(status) in failing.state_reason


@pytest.fixture
def silent_dns() -> Iterator[str]:
    """A UDP socket on loopback that receives queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


async def test_dns_timeout_on_check_again_keeps_the_status_and_says_try_later(
    settings: Settings, clock: FixedClock, silent_dns: str
) -> None:
    tuned = dataclasses.replace(settings, dns_nameservers=[silent_dns], dns_timeout=0.3)
    async with Runtime.open(tuned, clock=clock) as runtime:
        account = await default_account_id(runtime)
        async with runtime.sessions.begin() as session:
            contact = await get_or_create_contact(session, account, "someone@example.org", clock.now())
            contact.status, contact.status_reason = "blocklisted", "550 5.1.1 no such user"
        report = await check_again(runtime, account_id=account, address="someone@example.org", actor=ADA)
        async with runtime.sessions() as session:
            query = select(Contact).where(Contact.address == "someone@example.org")
            stored = (await session.execute(query)).scalar_one()
    assert report.passed is not True
    assert "DNS could not be reached (LifetimeTimeout); try again later" in report.detail
    assert stored.status == "blocklisted" and stored.status_reason == "550 5.1.1 no such user"


async def test_sqlite_locked_by_another_process_delays_recording_but_loses_nothing(
    runtime: Runtime, settings: Settings
) -> None:
    db = Path(settings.database_url.split("///", 1)[1])
    with CaptureSink(CaptureHandler()) as sink:
        await add_smtp(runtime, sink.port, name="sink")
        await _send(runtime, 40)
        locked, release = threading.Event(), threading.Event()

        def hold_write_lock() -> None:
            with sqlite3.connect(db, timeout=30, isolation_level=None) as conn:
                conn.execute("BEGIN IMMEDIATE")
                locked.set()
                release.wait(10)
                conn.execute("COMMIT")

        holder = threading.Thread(target=hold_write_lock)
        holder.start()
        assert locked.wait(10)
        engine = Engine(runtime)
        try:
            run = asyncio.ensure_future(engine.run_until_idle(max_rounds=20))
            await asyncio.sleep(1.0)
            assert not run.done() and _delivered(sink) == []  # waiting on the lock, not failing
            release.set()
            await asyncio.wait_for(run, 30)
        finally:
            release.set()
            holder.join(10)
            await engine.stop()
    assert _delivered(sink) == sorted(recipient(i) for i in range(40))
    assert (await queue.counts_by_state(runtime)).get("sent") == 40
