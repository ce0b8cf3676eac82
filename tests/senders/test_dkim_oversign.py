"""DKIM over a broadcast message, checked by an independent verifier: Perl's Mail::DKIM.

The key is served by a DNS server on 127.0.0.1 (Mail::DKIM asks it through Net::DNS), so the
verifier fetches ``s1._domainkey.doeinc.com`` as a receiver would. RFC 8058 §4 requires
List-Unsubscribe and List-Unsubscribe-Post in ``h=``; over-signing (RFC 6376 §8.15) makes
adding a second copy of a signed header fail too, which is what the mutations show.
Debian package: libmail-dkim-perl (installed by .ci/run).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.unsubscribe import headers_for
from mailconsole.runtime import Runtime
from mailconsole.senders.dkim import OVERSIGNED, dkim_record_value, sign_message
from mailconsole.senders.domains import add_domain
from tests.senders.dns_server import ThreadedZone

VERIFY = Path(__file__).parent / "perl" / "dkim_verify.pl"
BROADCAST = (
    b"From: Jane <jane@doeinc.com>\r\n"
    b"To: bob@example.org\r\n"
    b"Reply-To: help@doeinc.com\r\n"
    b"Subject: March news\r\n"
    b"Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
    b"Message-ID: <news-1@doeinc.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"List-Unsubscribe: <https://mail.doeinc.com/unsubscribe/tok123>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"\r\n"
    b"Hello Bob, here is the news.\r\n"
)


def _broadcast(runtime: Runtime) -> bytes:
    """BROADCAST with the List-Unsubscribe headers intake adds to broadcast mail (a real token)."""
    head, body = _delete(_delete(BROADCAST, "List-Unsubscribe"), "List-Unsubscribe-Post").split(b"\r\n\r\n", 1)
    added = headers_for(runtime, account_id=1, recipient="bob@example.org")
    assert [name for name, _ in added] == ["List-Unsubscribe", "List-Unsubscribe-Post"]
    lines = b"".join(f"{name}: {value}\r\n".encode() for name, value in added)
    return head + b"\r\n" + lines + b"\r\n" + body


def _has_mail_dkim() -> bool:
    if shutil.which("perl") is None:
        return False
    return subprocess.run(["perl", "-MMail::DKIM::Verifier", "-e", "1"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not _has_mail_dkim(), reason="Perl Mail::DKIM missing: apt-get install libmail-dkim-perl"
)


@pytest.fixture
def key_zone() -> Iterator[ThreadedZone]:
    zone = ThreadedZone()
    try:
        yield zone
    finally:
        zone.close()


def _verify(zone: ThreadedZone, message: bytes) -> str:
    done = subprocess.run(
        ["perl", str(VERIFY), str(zone.server.port)], input=message, capture_output=True, timeout=30, check=True
    )
    return done.stdout.decode().strip()


@pytest.fixture
async def signed(runtime: Runtime, key_zone: ThreadedZone) -> bytes:
    view = await add_domain(runtime, "doeinc.com", "s1", actor=SYSTEM)
    assert view.public_key is not None
    key_zone.server.add("s1._domainkey.doeinc.com", "TXT", dkim_record_value(view.public_key))
    return await sign_message(runtime, _broadcast(runtime), "doeinc.com")


def _h_tag(message: bytes) -> list[str]:
    header = message.split(b"\r\n\r\n", 1)[0].decode()
    unfolded = header.replace("\r\n ", " ").replace("\r\n\t", " ")
    tags = unfolded.split("\r\n", 1)[0].split(";")
    value = next(t.strip()[2:] for t in tags if t.strip().startswith("h="))
    return [h.strip().lower() for h in value.replace(" ", "").split(":")]


def _delete(message: bytes, name: str) -> bytes:
    lines = message.split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.lower().startswith(name.lower().encode() + b":"))


def _add_above(message: bytes, name: str) -> bytes:
    """A second copy of ``name`` above all headers (where a forger or a list manager puts it)."""
    return f"{name}: forged value\r\n".encode() + message


async def test_a_signed_broadcast_verifies_with_mail_dkim(signed: bytes, key_zone: ThreadedZone) -> None:
    assert _verify(key_zone, signed) == "pass"


async def test_h_lists_the_unsubscribe_headers_and_each_oversigned_header_once_more(signed: bytes) -> None:
    h = _h_tag(signed)
    for name in OVERSIGNED:
        assert h.count(name.lower()) == 2, (name, h)  # each occurs once in BROADCAST, plus one


@pytest.mark.parametrize("name", OVERSIGNED)
async def test_deleting_a_signed_header_fails_verification(signed: bytes, key_zone: ThreadedZone, name: str) -> None:
    result = _verify(key_zone, _delete(signed, name))
    assert result.startswith("fail"), result


@pytest.mark.parametrize("name", OVERSIGNED)
async def test_adding_a_second_copy_of_a_signed_header_fails_verification(
    signed: bytes, key_zone: ThreadedZone, name: str
) -> None:
    result = _verify(key_zone, _add_above(signed, name))
    assert result.startswith("fail"), result


async def test_a_header_absent_when_signed_cannot_be_added_later(runtime: Runtime, key_zone: ThreadedZone) -> None:
    view = await add_domain(runtime, "doeinc.com", "s1", actor=SYSTEM)
    assert view.public_key is not None
    key_zone.server.add("s1._domainkey.doeinc.com", "TXT", dkim_record_value(view.public_key))
    plain = _delete(_delete(_delete(BROADCAST, "Reply-To"), "List-Unsubscribe"), "List-Unsubscribe-Post")
    signed = await sign_message(runtime, plain, "doeinc.com")
    assert _verify(key_zone, signed) == "pass"
    assert _verify(key_zone, _add_above(signed, "List-Unsubscribe")).startswith("fail")
