"""AUTH on the relay: failures throttled per (source, credential), never a valid key; the
authorization identity held to what we support; one escaped INFO line per message."""

from __future__ import annotations

import base64
import logging
import ssl

import aiosmtplib
import pytest

from mailconsole import metrics
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime

from .clients import RawSession, mime


async def test_a_valid_key_authenticates_from_an_address_that_just_made_50_failures(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    codes = []
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.ehlo()
        for i in range(50):
            wrong = "mc_wrongkey_guess" if i % 2 else f"mc_other{i:03d}_guess"
            try:
                await client.auth_plain("apikey", wrong)
            except aiosmtplib.SMTPAuthenticationError as exc:
                codes.append(exc.code)
        login = await client.auth_plain("apikey", api_key)
    assert len(codes) == 50 and set(codes) <= {535, 454}
    assert login.code == 235


@pytest.mark.parametrize("authzid", [b"admin", b"root"])
async def test_auth_plain_with_another_authorization_identity_is_535(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext, authzid: bytes
) -> None:
    before = metrics.COUNTERS.get_sample_value("mailconsole_auth_failures_total", {"interface": "smtp"}) or 0.0
    session = await RawSession.connect(relay.port, client_ctx)
    try:
        token = base64.b64encode(authzid + b"\0apikey\0" + api_key.encode()).decode()
        code, text = await session.command(f"AUTH PLAIN {token}".encode())
        # "apikey" as the authorization identity is the same identity, so it is allowed.
        named = base64.b64encode(b"apikey\0apikey\0" + api_key.encode()).decode()
        assert (await session.command(f"AUTH PLAIN {named}".encode()))[0] == 235
    finally:
        await session.close()
    assert (code, text) == (535, "5.7.8 Authorization identity not allowed: leave it empty or use apikey")
    after = metrics.COUNTERS.get_sample_value("mailconsole_auth_failures_total", {"interface": "smtp"})
    assert after == before + 1


async def test_a_session_with_many_recipients_logs_one_info_line_with_client_bytes_escaped(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recipients = [f"r{i}@example.org" for i in range(300)]
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        await client.sendmail("jane@doeinc.com", recipients, mime())
    raw = await RawSession.login(relay.port, client_ctx, api_key)
    try:
        assert (await raw.command(b"MAIL FROM:<evil\x1b[2J\r@doeinc.com>"))[0] == 501
    finally:
        await raw.close()
    ours = ("mail.log", "mailconsole.relay.server")
    info = [r for r in caplog.records if r.levelno >= logging.INFO and r.name in ours]
    messages = [r.getMessage() for r in info if "message key=" in r.getMessage()]
    assert len(messages) == 1 and "recipients=300 -> 250 2.0.0 OK queued as" in messages[0]
    assert not [r for r in info if r.name == "mail.log" and "recip" in r.getMessage()]
    shown = [r.getMessage() for r in caplog.records]
    assert any("evil" in m and "x1b[2J" in m for m in shown)  # logged, as an escape
    assert all("\x1b" not in m and "\r" not in m for m in shown)
