"""SMTP servers with a bounce mailbox send with a VERP envelope sender on the bounce domain,
so the DSN that comes back is pinned on the exact message that bounced."""

from __future__ import annotations

import dataclasses
import mailbox
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mailconsole.clock import FixedClock
from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.feedback import verp
from mailconsole.feedback.poller import poll_once
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureSink
from mailconsole.store.models import FeedbackEvent

from .conftest import add_sink_server, send

BOUNCE_DOMAIN = "bounces.example.test"


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    async with Runtime.open(dataclasses.replace(settings, bounce_domain=BOUNCE_DOMAIN), clock=clock) as rt:
        yield rt


def _dsn(to: str, recipient: str) -> bytes:
    """A minimal RFC 3464 report as an MTA returns it to the envelope sender."""
    return (
        "From: MAILER-DAEMON@mx.example.test\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.test>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "--B--\r\n"
    ).encode()


async def test_mail_from_is_verp_and_the_returned_dsn_maps_to_its_message(
    runtime: Runtime, sink: CaptureSink, tmp_path: Path
) -> None:
    server = await add_sink_server(runtime, sink.port)
    path = tmp_path / "bounces"
    await servers.edit_server(runtime, server.id, bounce_handler={"type": "maildir", "path": str(path)})
    first, second = await send(runtime, "bob@example.test", "bob@example.test")
    await Engine(runtime).run_until_idle()

    senders = sorted(m.mail_from for m in sink.handler.messages)
    decoded = sorted((d.message_id, d.recipient) for d in (verp.decode(s, BOUNCE_DOMAIN) for s in senders) if d)
    assert decoded == [(first, "bob@example.test"), (second, "bob@example.test")]
    assert all(s.endswith("@" + BOUNCE_DOMAIN) for s in senders)

    # Same recipient twice: only the envelope sender can tell which message the DSN is about.
    second_sender = verp.encode(second, "bob@example.test", BOUNCE_DOMAIN)
    mailbox.Maildir(path, create=True).add(_dsn(second_sender, "bob@example.test"))
    report = await poll_once(runtime)
    assert report.recorded == 1
    async with runtime.sessions() as session:
        (event,) = (await session.execute(select(FeedbackEvent))).scalars().all()
    assert (event.message_id, event.recipient, event.kind) == (second, "bob@example.test", "bounce")


async def test_server_without_bounce_mailbox_keeps_the_stored_envelope_sender(
    runtime: Runtime, sink: CaptureSink
) -> None:
    await add_sink_server(runtime, sink.port)
    await send(runtime, "bob@example.test")
    await Engine(runtime).run_until_idle()
    assert [m.mail_from for m in sink.handler.messages] == ["bounce@example.test"]
