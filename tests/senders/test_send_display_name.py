"""A sender given as ``Name <addr>``: the address is the envelope sender, the name goes in From:.

Through `mailconsole queue send` (the real entry point, a real SQLite file) and the HTTP API's
JSON and raw-MIME sends (a real Starlette app over a real database).
"""

from __future__ import annotations

import email
import sqlite3
from email.policy import default as default_policy
from pathlib import Path

import pytest

from mailconsole.domain.addresses import AddressError, Mailbox, parse_mailbox
from tests.support.cli import InProcessCli


@pytest.fixture
def mc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> InProcessCli:
    return InProcessCli(tmp_path, capsys)


def _stored(db: Path) -> list[tuple[str, str, email.message.EmailMessage]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT m.envelope_from, m.recipient, b.raw FROM messages m JOIN message_bodies b ON b.id = m.body_id "
            "ORDER BY m.id"
        ).fetchall()
    out = []
    for sender, rcpt, raw in rows:
        parsed = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(parsed, email.message.EmailMessage)
        out.append((sender, rcpt, parsed))
    return out


def test_parse_mailbox_splits_the_name_from_the_address() -> None:
    assert parse_mailbox("Jane <jane@example.com>") == Mailbox("Jane", "jane@example.com")
    assert parse_mailbox('"Doe, Jane" <jane@example.com>') == Mailbox("Doe, Jane", "jane@example.com")
    assert parse_mailbox(" jane@example.com ") == Mailbox("", "jane@example.com")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Jane jane@example.com", "not an email address: 'Jane jane@example.com'"),
        ("a@example.com, b@example.com", "not one email address: 'a@example.com, b@example.com'"),
        ("Jane <@example.com>", "not an email address: 'Jane <@example.com>'"),
    ],
)
def test_parse_mailbox_refuses_what_is_not_one_mailbox(text: str, message: str) -> None:
    with pytest.raises(AddressError) as info:
        parse_mailbox(text)
    assert info.value.message == message


def test_queue_send_with_a_display_name_uses_the_address_as_envelope_sender(mc: InProcessCli) -> None:
    proc = mc("queue", "send", "--from", "Jane Doe <jane@example.com>", "--to", "Bob <bob@example.org>",
              "--subject", "Hi", "--body", "Hello")
    assert proc.returncode == 0, proc.stderr
    [(sender, rcpt, msg)] = _stored(mc.db)
    assert (sender, rcpt) == ("jane@example.com", "bob@example.org")
    assert msg["From"].addresses[0].display_name == "Jane Doe"
    assert msg["From"].addresses[0].addr_spec == "jane@example.com"
    assert str(msg["To"]) == "Bob <bob@example.org>"


def test_queue_send_with_a_file_takes_the_envelope_sender_from_the_address(mc: InProcessCli, tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(b"From: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: x\r\n\r\nbody\r\n")
    proc = mc("queue", "send", "--from", "Jane <jane@example.com>", "--to", "bob@example.org", "--file", str(path))
    assert proc.returncode == 0, proc.stderr
    assert [(s, r) for s, r, _ in _stored(mc.db)] == [("jane@example.com", "bob@example.org")]


def test_queue_send_with_a_broken_from_is_one_clear_line_and_stores_nothing(mc: InProcessCli) -> None:
    proc = mc("queue", "send", "--from", "Jane jane@example.com", "--to", "bob@example.org", "--body", "x")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: --from: not an email address: 'Jane jane@example.com'"]
    assert not mc.db.exists() or _stored(mc.db) == []
