"""SMTP servers with a bounce mailbox send with a tagged VERP envelope sender on the bounce
domain, so the DSN that comes back is pinned on the exact message that bounced, and a DSN
to an address we never signed (guessed id, wrong or missing tag) changes no contact."""

from __future__ import annotations

import dataclasses
import mailbox
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailconsole.clock import FixedClock
from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.feedback import metrics, verp
from mailconsole.feedback.poller import poll_once
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureSink
from mailconsole.store.models import Contact, ContactEvent, FeedbackEvent

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
    await servers.edit_server(runtime, server.id, bounce_handler={"type": "maildir", "path": str(path)}, actor=SYSTEM)
    first, second = await send(runtime, "bob@example.test", "bob@example.test")
    await Engine(runtime).run_until_idle()

    senders = sorted(m.mail_from for m in sink.handler.messages)
    decoded = sorted((d.message_id, d.recipient) for d in (verp.decode(s, BOUNCE_DOMAIN) for s in senders) if d)
    assert decoded == [(first, "bob@example.test"), (second, "bob@example.test")]
    assert all(s.endswith("@" + BOUNCE_DOMAIN) for s in senders)

    # Same recipient twice: only the envelope sender can tell which message the DSN is about.
    second_sender = verp.encode(second, "bob@example.test", BOUNCE_DOMAIN, verp.key_from(runtime.secrets))
    assert second_sender in senders
    mailbox.Maildir(path, create=True).add(_dsn(second_sender, "bob@example.test"))
    report = await poll_once(runtime)
    assert (report.recorded, report.forged) == (1, 0)
    async with runtime.sessions() as session:
        (event,) = (await session.execute(select(FeedbackEvent))).scalars().all()
    assert (event.message_id, event.recipient, event.kind) == (second, "bob@example.test", "bounce")
    assert await _contact(runtime, "bob@example.test") == ("blocklisted", 1)


async def _contact(runtime: Runtime, address: str) -> tuple[str | None, int]:
    """The contact's status and how many log entries it has (None, 0 when there is none)."""
    async with runtime.sessions() as session:
        status = (await session.execute(select(Contact.status).where(Contact.address == address))).scalar()
        entries = (
            await session.execute(
                select(func.count(ContactEvent.id))
                .join(Contact, Contact.id == ContactEvent.contact_id)
                .where(Contact.address == address)
            )
        ).scalar_one()
    return status, int(entries)


def _wrong_tag(address: str) -> str:
    """The same address with one character of its tag changed."""
    local, _, domain = address.rpartition("@")
    prefix, message_id, tag, rest = local.split("-", 3)
    flipped = tag[:-1] + ("a" if tag[-1] != "a" else "b")
    return f"{prefix}-{message_id}-{flipped}-{rest}@{domain}"


@pytest.mark.parametrize("forge", ["bad_tag", "untagged"])
async def test_dsn_to_an_address_with_a_wrong_or_no_tag_changes_nothing_and_is_counted(
    runtime: Runtime, sink: CaptureSink, tmp_path: Path, forge: str
) -> None:
    server = await add_sink_server(runtime, sink.port)
    path = tmp_path / "bounces"
    await servers.edit_server(runtime, server.id, bounce_handler={"type": "maildir", "path": str(path)}, actor=SYSTEM)
    (message_id,) = await send(runtime, "bob@example.test")
    await Engine(runtime).run_until_idle()
    (sent_from,) = [m.mail_from for m in sink.handler.messages]
    before = await _contact(runtime, "bob@example.test")
    counted = metrics.forged_verp_count(forge)

    forged = _wrong_tag(sent_from) if forge == "bad_tag" else f"b-{message_id}-bob=example.test@{BOUNCE_DOMAIN}"
    box = mailbox.Maildir(path, create=True)
    box.add(_dsn(forged, "bob@example.test"))
    report = await poll_once(runtime)

    assert (report.recorded, report.forged, report.unparsed) == (0, 1, 0)
    assert await _contact(runtime, "bob@example.test") == before
    assert metrics.forged_verp_count(forge) == counted + 1
    async with runtime.sessions() as session:
        (event,) = (await session.execute(select(FeedbackEvent))).scalars().all()
    assert event.outcome == f"forged_verp: {forge} (contact unchanged)"
    assert (event.message_id, event.contact_id) == (None, None)
    assert len(box) == 0 and len(box.get_folder("Processed")) == 1  # kept, out of the way, not read again
    assert (await poll_once(runtime)).fetched == 0


async def test_server_without_bounce_mailbox_keeps_the_stored_envelope_sender(
    runtime: Runtime, sink: CaptureSink
) -> None:
    await add_sink_server(runtime, sink.port)
    await send(runtime, "bob@example.test")
    await Engine(runtime).run_until_idle()
    assert [m.mail_from for m in sink.handler.messages] == ["bounce@example.test"]
