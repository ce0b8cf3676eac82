"""Blame the right party (issue 14): real receivers answering what real receivers answer.

A 4xx to one message is that message's problem; a reputation block on one server is that
server's, so another server of the group delivers; a message that cannot be put on the wire is
the message's, so the server stays healthy and its cap untouched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from mailconsole.clock import FixedClock
from mailconsole.delivery import queue, servers
from mailconsole.delivery.engine import Engine
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, DeliveryAttempt

from .engines import add_smtp, message_bytes, recipient

SPAMHAUS = "550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org"


class Blocklisted(CaptureHandler):
    """A receiver that refuses our IP for every message, as a Spamhaus-listed host sees it."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return SPAMHAUS


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    tuned = dataclasses.replace(settings, breaker_threshold=3, breaker_cooldown_seconds=600)
    async with Runtime.open(tuned, clock=clock) as rt:
        yield rt


async def _send(runtime: Runtime, recipients: list[str]) -> list[int]:
    account = await default_account_id(runtime)
    ids: list[int] = []
    for i, rcpt in enumerate(recipients):
        ids += await queue.enqueue(runtime, account_id=account, envelope_from="bounce@example.com",
                                   recipients=[rcpt], raw=message_bytes(i))
    return ids


async def _attempt_count(runtime: Runtime, message_id: int) -> int:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(DeliveryAttempt.id).where(DeliveryAttempt.message_id == message_id)))
        return len(rows.all())


async def test_greylisting_451s_never_open_the_breaker_and_everything_is_delivered(
    runtime: Runtime, clock: FixedClock
) -> None:
    n = 60
    handler = CaptureHandler(tempfail_rate=0.3, seed=7)
    with CaptureSink(handler) as sink:
        server = await add_smtp(runtime, sink.port, name="grey")
        await _send(runtime, [recipient(i) for i in range(n)])
        engine = Engine(runtime)
        seen_states: set[str] = set()
        try:
            for _ in range(40):  # bounded: each round advances the clock past every retry
                await engine.run_until_idle(max_rounds=20)
                seen_states.add((await servers.get_server(runtime, server.id)).state)
                if len({r for m in sink.handler.messages for r in m.rcpt_tos}) == n:
                    break
                clock.advance(hours=1)
        finally:
            await engine.stop()
    assert seen_states == {"healthy"}, seen_states
    delivered = sorted(r for m in sink.handler.messages for r in m.rcpt_tos)
    assert delivered == sorted(recipient(i) for i in range(n))


async def test_a_reputation_block_on_one_server_moves_the_mail_to_the_other(
    runtime: Runtime, clock: FixedClock
) -> None:
    n = 20
    with CaptureSink(Blocklisted()) as blocked, CaptureSink(CaptureHandler()) as good:
        await add_smtp(runtime, blocked.port, name="a-listed", concurrency=2)
        await add_smtp(runtime, good.port, name="b-clean", concurrency=2)
        ids = await _send(runtime, [recipient(i) for i in range(n)])
        engine = Engine(runtime)
        try:
            for _ in range(10):
                await engine.run_until_idle(max_rounds=20)
                if len(good.handler.messages) == n:
                    break
                clock.advance(minutes=30)
        finally:
            await engine.stop()
    details = [await queue.message_detail(runtime, mid) for mid in ids]
    failed = [(d.message.state, d.message.state_reason) for d in details if d is not None and d.message.state != "sent"]
    assert failed == []
    assert sorted(r for m in good.handler.messages for r in m.rcpt_tos) == sorted(recipient(i) for i in range(n))
    async with runtime.sessions() as session:
        contacts = (await session.execute(select(Contact))).scalars().all()
    assert all(c.status not in ("blocklisted", "bounced") for c in contacts), [(c.email, c.status) for c in contacts]


@pytest.mark.parametrize(
    ("bad", "words"),
    [("bjørn@exämple.org", "does not offer SMTPUTF8"), ("ja\x01ne@example.org", "cannot be put on the wire")],
)
async def test_a_message_that_cannot_go_on_the_wire_fails_alone(
    runtime: Runtime, clock: FixedClock, bad: str, words: str
) -> None:
    with CaptureSink(CaptureHandler(), enable_SMTPUTF8=False) as sink:
        server = await add_smtp(runtime, sink.port, name="plain", speed_mode="hour", speed_limit=10)
        (bad_id,) = await _send(runtime, [bad] * 1)
        bad_ids = [bad_id] + await _send(runtime, [bad] * 4)
        (good_id,) = await _send(runtime, [recipient(1)])
        engine = Engine(runtime)
        try:
            await engine.run_until_idle(max_rounds=20)
        finally:
            await engine.stop()
        after = await servers.get_server(runtime, server.id)
    for mid in bad_ids:
        detail = await queue.message_detail(runtime, mid)
        assert detail is not None and detail.message.state == "failed"
        assert words in detail.message.state_reason
        assert await _attempt_count(runtime, mid) == 0  # no slot of the hourly cap used
    good = await queue.message_detail(runtime, good_id)
    assert good is not None and good.message.state == "sent"
    assert after.state == "healthy" and (after.consecutive_failures or 0) == 0
