"""An ESP that answers 500 trips its breaker and the group's SMTP server delivers the message.

Real parts except the ESP's HTTP endpoint: a real SQLite file, the real engine, a real aiosmtpd
sink; the SendGrid adapter talks to an ``httpx.MockTransport`` injected where the engine builds
transports (``delivery.engine.load_transport``)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from mailconsole.clock import FixedClock
from mailconsole.delivery import queue, servers
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, SendingServer
from mailconsole.transports.base import Transport
from mailconsole.transports.sendgrid import SendGridTransport
from tests.transports.esp_cases import SECRET, Recorder

engine_module = pytest.importorskip("mailconsole.delivery.engine")

RAW = (
    b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: failover\r\n"
    b"Message-ID: <failover@example.test>\r\n\r\nHello.\r\n"
)


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    tuned = dataclasses.replace(settings, breaker_threshold=2, breaker_cooldown_seconds=600)
    async with Runtime.open(tuned, clock=clock) as rt:
        yield rt


async def test_esp_returning_500_fails_over_to_smtp_in_the_same_group(
    runtime: Runtime, sink: CaptureSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    esp = await servers.add_server(runtime, name="sendgrid", type="sendgrid", fields={"api_key": SECRET}, actor=SYSTEM)
    smtp = await servers.add_server(
        runtime,
        name="sink",
        type="smtp",
        fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none", "timeout": "5"}, actor=SYSTEM
    )
    assert esp.group_id == smtp.group_id and esp.id < smtp.id  # the ESP is tried first

    recorder = Recorder(lambda r: httpx.Response(500, json={"errors": [{"message": "internal error"}]}))
    real_load = engine_module.load_transport

    def load(rt: Runtime, server: SendingServer) -> Transport:
        if server.type != "sendgrid":
            return real_load(rt, server)
        secrets = rt.secrets.decrypt_json(server.secrets)
        return SendGridTransport(**dict(server.settings or {}), **secrets, http_transport=recorder.transport)

    monkeypatch.setattr(engine_module, "load_transport", load)

    account = await default_account_id(runtime)
    (mid,) = await queue.enqueue(
        runtime, account_id=account, envelope_from="bounce@example.test", recipients=["bob@example.test"], raw=RAW
    )
    engine = engine_module.Engine(runtime)
    try:
        await engine.run_until_idle(max_rounds=20)
    finally:
        await engine.stop()

    detail = await queue.message_detail(runtime, mid)
    assert detail is not None
    assert detail.message.state == "sent"
    outcomes = [(a.server_id, a.outcome, a.http_status) for a in detail.attempts]
    assert outcomes[0] == (esp.id, "transient", 500)
    assert outcomes[-1] == (smtp.id, "accepted", None)
    assert {o for o in outcomes[:-1]} == {(esp.id, "transient", 500)}
    assert [m.rcpt_tos for m in sink.handler.messages] == [["bob@example.test"]]
    assert recorder.requests and all(str(r.url) == "https://api.sendgrid.com/v3/mail/send" for r in recorder.requests)

    async with runtime.sessions() as session:
        esp_row = await session.get(SendingServer, esp.id)
        contact = (
            await session.execute(select(Contact).where(Contact.address == "bob@example.test"))
        ).scalar_one_or_none()
    assert esp_row is not None and esp_row.state == "failing"
    assert contact is None or contact.status == "active"  # the provider's 500 never blames the contact
