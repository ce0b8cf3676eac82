"""The bounce mailbox over IMAP against a real Dovecot: DSNs and ARF reports are applied,
moved to the processed folder, unparseable mail stays in place with our keyword."""

from __future__ import annotations

import imaplib
import itertools
import json
from collections.abc import Iterator

import pytest

from mailconsole.feedback.handler import build_bounce_handler
from mailconsole.feedback.imap import UNPARSED_KEYWORD
from mailconsole.feedback.mailbox import ImapConfig
from mailconsole.feedback.poller import poll_once
from mailconsole.runtime import Runtime
from mailconsole.store.models import FeedbackEvent, SendingServer, UnparsedMail
from tests.feedback.dovecot import Dovecot
from tests.feedback.helpers import contact_status, count, feedback_rows, sample, seed_message

_folders = itertools.count(1)


@pytest.fixture
def folder(imap_server: Dovecot) -> Iterator[str]:
    """A fresh folder per test so tests sharing the one server do not see each other's mail."""
    name = f"Bounces{next(_folders)}"
    conn = _login(imap_server)
    conn.create(name)
    conn.logout()
    yield name


def _login(server: Dovecot) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    conn.login(server.user, server.password)
    return conn


def _append(server: Dovecot, folder: str, *raws: bytes) -> None:
    conn = _login(server)
    for raw in raws:
        typ, data = conn.append(folder, None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        assert typ == "OK", data
    conn.logout()


def _contents(server: Dovecot, folder: str) -> list[tuple[bytes, bytes]]:
    """(flags, message bytes) for each message in a folder."""
    conn = _login(server)
    typ, _ = conn.select(folder)
    assert typ == "OK"
    out = []
    typ, data = conn.uid("SEARCH", "ALL")
    for uid in (data[0] or b"").split():
        typ, fetched = conn.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
        head, body = next(p for p in fetched if isinstance(p, tuple))
        out.append((head, body))
    conn.logout()
    return out


def _config(server: Dovecot, folder: str, **overrides: object) -> ImapConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "tls": "none",
        "user": server.user,
        "password": server.password,
        "folder": folder,
        "processed_folder": f"{folder}.Processed",
    }
    values.update(overrides)
    return ImapConfig(**values)  # type: ignore[arg-type]


async def test_imap_poll_applies_dsn_and_arf_and_moves_them(
    runtime: Runtime, imap_server: Dovecot, folder: str
) -> None:
    alice = await seed_message(runtime, "alice@example.com")
    olivia = await seed_message(runtime, "olivia@yahoo.com")
    _append(
        imap_server,
        folder,
        sample("postfix_user_unknown.eml", message_id=alice, verp_id=1042, signed_by=runtime.secrets),
        sample("yahoo_arf_complaint.eml", message_id=olivia, verp_id=1044, signed_by=runtime.secrets),
        sample("out_of_office.eml"),
    )
    report = await poll_once(runtime, [_config(imap_server, folder)])

    assert report.mailboxes[0].error == ""
    assert (report.fetched, report.recorded, report.unparsed) == (3, 2, 1)
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"
    assert sorted(r.message_id for r in await feedback_rows(runtime)) == sorted([alice, olivia])

    left = _contents(imap_server, folder)
    assert len(left) == 1
    flags, body = left[0]
    assert UNPARSED_KEYWORD.encode() in flags
    assert b"out of the office" in body
    assert len(_contents(imap_server, f"{folder}.Processed")) == 2
    assert await count(runtime, UnparsedMail) == 1


async def test_imap_second_pass_reads_nothing_new(runtime: Runtime, imap_server: Dovecot, folder: str) -> None:
    _append(imap_server, folder, sample("exim_dsn.eml", signed_by=runtime.secrets), sample("out_of_office.eml"))
    await poll_once(runtime, [_config(imap_server, folder)])
    again = await poll_once(runtime, [_config(imap_server, folder)])
    assert (again.fetched, again.recorded, again.unparsed) == (0, 0, 0)
    assert await count(runtime, FeedbackEvent) == 1
    assert await count(runtime, UnparsedMail) == 1


async def test_imap_flag_mode_keeps_processed_mail_in_the_folder(
    runtime: Runtime, imap_server: Dovecot, folder: str
) -> None:
    _append(imap_server, folder, sample("gmail_dsn.eml", signed_by=runtime.secrets))
    await poll_once(runtime, [_config(imap_server, folder, processed_folder="")])
    ((flags, _),) = _contents(imap_server, folder)
    assert b"$McProcessed" in flags
    assert b"\\Seen" not in flags  # a person's read state is left alone
    assert await contact_status(runtime, "judy@example.com") == "blocklisted"


async def test_imap_wrong_password_is_reported_without_the_password(
    runtime: Runtime, imap_server: Dovecot, folder: str
) -> None:
    report = await poll_once(runtime, [_config(imap_server, folder, password="wrong-password-xyz")])
    error = report.mailboxes[0].error
    assert error == f"login refused for user 'bounces' on 127.0.0.1:{imap_server.port}"
    assert "wrong-password-xyz" not in error


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
async def test_imap_over_tls_verifies_the_server_certificate(
    runtime: Runtime, imap_server: Dovecot, folder: str, tls: str
) -> None:
    _append(imap_server, folder, sample("sendmail_dsn.eml", signed_by=runtime.secrets))
    port = imap_server.tls_port if tls == "ssl" else imap_server.port
    config = _config(imap_server, folder, tls=tls, port=port, ca_file=str(imap_server.ca_file))
    report = await poll_once(runtime, [config])
    assert report.mailboxes[0].error == ""
    assert report.recorded == 1
    assert await contact_status(runtime, "nick@example.edu") == "blocklisted"


async def test_imap_refuses_a_server_certificate_it_cannot_verify(
    runtime: Runtime, imap_server: Dovecot, folder: str
) -> None:
    _append(imap_server, folder, sample("sendmail_dsn.eml", signed_by=runtime.secrets))
    report = await poll_once(runtime, [_config(imap_server, folder, tls="ssl", port=imap_server.tls_port)])
    assert "CERTIFICATE_VERIFY_FAILED" in report.mailboxes[0].error
    assert report.recorded == 0
    assert len(_contents(imap_server, folder)) == 1  # nothing moved


async def test_server_bounce_handler_is_polled_with_its_encrypted_password(
    runtime: Runtime, imap_server: Dovecot, folder: str
) -> None:
    handler, errors = build_bounce_handler(runtime, {
        "type": "imap", "host": "127.0.0.1", "port": str(imap_server.port), "tls": "none",
        "user": imap_server.user, "password": imap_server.password, "folder": folder,
        "processed_folder": f"{folder}.Done",
    })
    assert errors == {}
    assert imap_server.password not in json.dumps(handler)
    async with runtime.sessions.begin() as session:
        session.add(SendingServer(name="mx1", type="smtp", bounce_handler=handler))
    _append(imap_server, folder, sample("qmail_remote_reject.eml", signed_by=runtime.secrets))
    report = await poll_once(runtime)  # the configured mailboxes: this server's handler
    assert [m.label for m in report.mailboxes] == [f"imap://bounces@127.0.0.1:{imap_server.port}/{folder}"]
    assert report.recorded == 1
    assert len(_contents(imap_server, f"{folder}.Done")) == 1
