"""The relay refuses at the door what the engine could not send, and what it answers 250 to,
the engine delivers: each row of issue #15's table, over TLS with a valid key, through the
queue and the engine into a capture sink."""

from __future__ import annotations

import ssl
from email import message_from_bytes

import aiosmtplib
import pytest

from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureSink

from .clients import RawSession, counts, mime, stored


async def _session(relay: RelayServer, api_key: str, ctx: ssl.SSLContext) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=ctx)
    await client.connect()
    await client.login("apikey", api_key)
    return client


@pytest.mark.parametrize(
    ("mail_from", "expected"),
    [
        (b"FROM:<ja\x00ne@doeinc.com>", (501, "5.1.7 invalid_address: the sender address contains a NUL byte")),
        (b"FROM:<ja\x07ne@doeinc.com>", (501, "5.1.7 invalid_address: the sender address contains the control")),
        (b'FROM:<"ja ne"@doeinc.com>', (501, "5.1.7 invalid_address: the sender address contains a space")),
        (b"FROM:<j\xe4ne@doeinc.com> SMTPUTF8", (501, "5.1.7 invalid_address_encoding: the sender address is not")),
        ("FROM:<jäne@doeinc.com>".encode(), (553, "5.6.7 smtputf8_required: the sender address has non-ASCII")),
    ],
    ids=["nul", "control", "quoted-space", "invalid-utf8", "non-ascii-without-smtputf8"],
)
async def test_relay_refuses_unsendable_sender_addresses_at_mail(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext, mail_from: bytes,
    expected: tuple[int, str],
) -> None:
    client = await RawSession.login(relay.port, client_ctx, api_key)
    try:
        code, text = await client.command(b"MAIL " + mail_from)
    finally:
        await client.close()
    assert (code, text[: len(expected[1])]) == expected
    assert await counts(runtime) == (0, 0)


@pytest.mark.parametrize(
    ("rcpt", "expected"),
    [
        (b"TO:<bo\x00b@example.org>", (501, "5.1.3 invalid_address: the recipient address contains a NUL byte")),
        ("TO:<bjørn@exämple.org>".encode(), (553, "5.6.7 smtputf8_required: the recipient address has non-ASCII")),
    ],
    ids=["nul", "non-ascii-without-smtputf8"],
)
async def test_relay_refuses_unsendable_recipient_addresses_at_rcpt(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext, rcpt: bytes,
    expected: tuple[int, str],
) -> None:
    client = await RawSession.login(relay.port, client_ctx, api_key)
    try:
        assert (await client.command(b"MAIL FROM:<jane@doeinc.com>"))[0] == 250
        code, text = await client.command(b"RCPT " + rcpt)
    finally:
        await client.close()
    assert (code, text[: len(expected[1])]) == expected
    assert await counts(runtime) == (0, 0)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (mime(body="x" * 2000 + "\r\n"), "554 5.6.0 line_too_long: line 5 is 2000 octets long, over the limit of 998"),
        (mime(body="ok\r\n" + "y" * 100_000 + "\r\n"), "554 5.6.0 line_too_long: line 6 is 100000 octets long"),
        (mime(subject="a\rBcc: x@example.org"), "554 5.6.0 bare_line_ending: header line 3 contains a bare CR"),
        (mime(subject="a\nBcc: x@example.org"), "554 5.6.0 bare_line_ending: header line 3 contains a bare LF"),
        (mime(subject="a\r\nnot a field"), "554 5.6.0 invalid_header_line: header line 4 is not a header field"),
        (mime(body="a\x00b\r\n"), "554 5.6.0 nul_byte: line 5 contains a NUL byte"),
    ],
    ids=["line-2000", "line-100000", "bare-cr-in-subject", "bare-lf-in-subject", "line-without-colon", "nul"],
)
async def test_relay_refuses_content_the_wire_cannot_carry_at_end_of_data(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext, message: bytes, expected: str
) -> None:
    # Raw bytes: aiosmtplib and smtplib turn a bare CR into CRLF before sending, which is how
    # the injected header line used to come about on the engine's side.
    client = await RawSession.login(relay.port, client_ctx, api_key)
    try:
        assert (await client.command(b"MAIL FROM:<jane@doeinc.com>"))[0] == 250
        assert (await client.command(b"RCPT TO:<bob@example.org>"))[0] == 250
        assert (await client.command(b"DATA"))[0] == 354
        code, text = await client.command(message + b".")
    finally:
        await client.close()
    assert f"{code} {text}".startswith(expected)
    assert any(fix in text for fix in ("encode the body", "CRLF", "fix the header section", "remove it"))
    assert await counts(runtime) == (0, 0)


async def test_what_the_relay_accepts_reaches_the_sink_intact_and_bcc_never_does(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext, sink: CaptureSink
) -> None:
    await servers.add_server(
        runtime, name="sink", type="smtp", group="default",
        fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none", "timeout": "5"},
        actor=SYSTEM,
    )
    long_but_legal = "z" * 998
    client = await _session(relay, api_key, client_ctx)
    try:
        await client.sendmail(
            "jane@doeinc.com", ["bob@example.org", "hidden@example.org"],
            mime("with bcc", extra="Bcc: hidden@example.org\r\n", body=long_but_legal + "\r\n"),
        )
        # LF-only text (a Unix .eml) is unambiguous: normalised to CRLF, not refused.
        await client.sendmail("jane@doeinc.com", ["carol@example.org"], b"Subject: unix\nTo: c@example.org\n\nhi\n")
    finally:
        client.close()
    engine = Engine(runtime)
    await engine.run_until_idle()
    await engine.stop()
    assert [m.state for m, _ in await stored(runtime)] == ["sent"] * 3
    got = {r: m for m in sink.handler.messages for r in m.rcpt_tos}
    assert set(got) == {"bob@example.org", "hidden@example.org", "carol@example.org"}
    for rcpt in ("bob@example.org", "hidden@example.org"):
        delivered = got[rcpt].message
        assert delivered["Bcc"] is None
        assert delivered["Subject"] == "with bcc"
        assert delivered.get_payload().rstrip("\r\n") == long_but_legal
    unix = message_from_bytes(got["carol@example.org"].data)
    assert unix["Subject"] == "unix" and unix.get_payload().strip() == "hi"
