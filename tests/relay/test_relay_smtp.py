"""The relay, driven by Python's smtplib (SMTP_SSL) and aiosmtplib over real TLS."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email import message_from_bytes

import aiosmtplib
import pytest
from sqlalchemy import text, update

from mailconsole.domain.roles import SYSTEM
from mailconsole.intake import keys
from mailconsole.relay import server as server_mod
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime
from mailconsole.store.models import Account

from .clients import RawSession, counts, in_thread, mime, smtp_ssl, stored


async def test_accepted_message_is_queued_after_250_without_routing_headers(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    raw = mime("welcome", extra="X-Mailconsole-Stream: transactional\r\nX-Mailconsole-Tracking-Enabled: TRUE\r\n")

    def send() -> tuple[int, bytes]:
        with smtp_ssl(relay.port, client_ctx) as client:
            client.login("apikey", api_key)
            client.mail("app@example.com")
            client.rcpt("user@example.net")
            client.rcpt("other@example.net")
            return client.data(raw)

    code, reply = await in_thread(send)
    assert code == 250
    rows = await stored(runtime)
    assert reply.decode() == f"2.0.0 OK queued as {rows[0][0].id} (+1)"
    assert [m.recipient for m, _ in rows] == ["user@example.net", "other@example.net"]
    message, body = rows[0]
    assert (message.stream, message.tracking, message.subject, message.state) == (
        "transactional",
        True,
        "welcome",
        "queued",
    )
    assert b"X-Mailconsole" not in body
    assert body.endswith(b"Subject: welcome\r\n\r\nbody\r\n")
    assert await counts(runtime) == (2, 1)  # raw stored once, no duplicates


async def test_broadcast_gets_one_click_list_unsubscribe_per_recipient(
    relay: RelayServer, runtime: Runtime, api_key: str
) -> None:
    ctx = ssl.create_default_context(cafile=None)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=relay.port, use_tls=True, tls_context=ctx) as client:
        await client.login("apikey", api_key)
        errors, _reply = await client.sendmail(
            "news@example.com", ["a@example.net", "b@example.net"], mime(extra="X-Mailconsole-Stream: Broadcast\r\n")
        )
    assert errors == {}
    rows = await stored(runtime)
    assert [(m.stream, m.tracking) for m, _ in rows] == [("broadcast", True), ("broadcast", True)]
    links = []
    for _message, body in rows:
        parsed = message_from_bytes(body)
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert parsed["X-Mailconsole-Stream"] is None
        link = parsed["List-Unsubscribe"]
        assert link.startswith("<http://127.0.0.1:8025/unsubscribe/") and link.endswith(">")
        links.append(link)
    assert links[0] != links[1]  # each recipient can only unsubscribe themselves


async def test_mail_before_auth_is_refused_with_530(relay: RelayServer, client_ctx: ssl.SSLContext) -> None:
    def send() -> tuple[int, bytes]:
        with smtp_ssl(relay.port, client_ctx) as client:
            client.ehlo()
            assert "starttls" not in client.esmtp_features
            assert client.esmtp_features["size"] == "26214400"
            assert set(client.esmtp_features["auth"].split()) == {"LOGIN", "PLAIN"}
            return client.mail("app@example.com")

    assert await in_thread(send) == (530, b"5.7.0 Authentication required")


@pytest.mark.parametrize(("user", "use_right_key"), [("apikey", False), ("admin", True)])
async def test_wrong_key_or_username_fails_auth_with_535(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext, user: str, use_right_key: bool
) -> None:
    password = api_key if use_right_key else api_key[:-2] + "zz"

    def login() -> None:
        with smtp_ssl(relay.port, client_ctx) as client:
            client.login(user, password)

    with pytest.raises(smtplib.SMTPAuthenticationError) as info:
        await in_thread(login)
    assert (info.value.smtp_code, info.value.smtp_error) == (535, b"5.7.8 Authentication credentials invalid")


async def test_auth_login_mechanism_works(relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext) -> None:
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.ehlo()
        response = await client.auth_login("apikey", api_key)
        assert response.code == 235


async def test_revoked_key_is_refused_at_auth_and_mid_session(
    relay: RelayServer, runtime: Runtime, account_id: int, client_ctx: ssl.SSLContext
) -> None:
    row, plaintext = await keys.create_key(runtime, account_id=account_id, actor=SYSTEM)
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", plaintext)
        await keys.revoke_key(runtime, row.id, actor=SYSTEM)
        with pytest.raises(aiosmtplib.SMTPDataError) as info:
            await client.sendmail("a@example.com", ["b@example.net"], mime())
        assert (info.value.code, info.value.message) == (550, "5.7.1 key_revoked: this API key has been revoked")
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as auth:
        async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as c2:
            await c2.login("apikey", plaintext)
    assert auth.value.code == 535
    assert await counts(runtime) == (0, 0)


async def test_key_without_send_scope_is_refused_at_mail_with_550(
    relay: RelayServer, runtime: Runtime, account_id: int, client_ctx: ssl.SSLContext
) -> None:
    _, plaintext = await keys.create_key(runtime, account_id=account_id, scopes=[], actor=SYSTEM)
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", plaintext)
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as info:
            await client.mail("a@example.com")
    assert (info.value.code, info.value.message) == (550, "5.7.1 missing_scope: this API key lacks the mail:send scope")


async def test_relay_rejects_unknown_stream_with_550(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        with pytest.raises(aiosmtplib.SMTPDataError) as info:
            await client.sendmail("a@example.com", ["b@example.net"], mime(extra="X-Mailconsole-Stream: promo\r\n"))
        # the session stays usable: the next good message is accepted
        await client.sendmail("a@example.com", ["b@example.net"], mime())
    assert (info.value.code, info.value.message) == (
        550,
        "5.6.0 invalid_stream: X-Mailconsole-Stream must be transactional or broadcast, not 'promo'",
    )
    assert await counts(runtime) == (1, 1)


async def test_stream_outside_key_allowed_streams_is_refused_with_550(
    relay: RelayServer, runtime: Runtime, account_id: int, client_ctx: ssl.SSLContext
) -> None:
    _, plaintext = await keys.create_key(runtime, account_id=account_id, allowed_streams=["transactional"],
                                         actor=SYSTEM)
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", plaintext)
        with pytest.raises(aiosmtplib.SMTPDataError) as info:
            await client.sendmail("a@example.com", ["b@example.net"], mime(extra="X-Mailconsole-Stream: broadcast\r\n"))
    assert (info.value.code, info.value.message) == (
        550,
        "5.7.1 stream_not_allowed: this API key is not allowed to send to the broadcast stream",
    )
    assert await counts(runtime) == (0, 0)


async def test_sandbox_refuses_recipients_off_the_allowlist_and_past_the_daily_cap(
    relay: RelayServer, runtime: Runtime, account_id: int, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(sandbox=True, sandbox_daily_cap=2, sandbox_allowlist=["ok@example.net", "team.example"])
        )
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        await client.mail("a@example.com")
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt("eve@example.net")
        await client.rset()
        await client.sendmail("a@example.com", ["ok@example.net", "x@team.example"], mime())
        with pytest.raises(aiosmtplib.SMTPDataError) as cap:
            await client.sendmail("a@example.com", ["ok@example.net"], mime())
    assert (refused.value.code, refused.value.message) == (
        550,
        "5.7.1 sandbox_recipient_not_allowed: sandbox account may only send to its recipient allow-list; "
        "eve@example.net is not on it",
    )
    assert (cap.value.code, cap.value.message) == (
        550,
        "5.7.1 sandbox_daily_cap: sandbox account reached its daily cap of 2 messages; try again tomorrow (UTC)",
    )
    assert await counts(runtime) == (2, 1)


async def test_declared_size_over_limit_is_refused_with_552_before_data(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as info:
            await client.mail("a@example.com", options=["SIZE=26214401"])
    assert (info.value.code, info.value.message) == (
        552,
        "5.3.4 message_too_large: message exceeds the size limit of 26214400 bytes",
    )


async def test_storage_failure_answers_451_and_stores_nothing(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE message_bodies RENAME TO message_bodies_away"))
    try:
        async with aiosmtplib.SMTP(
            hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx
        ) as client:
            await client.login("apikey", api_key)
            with pytest.raises(aiosmtplib.SMTPDataError) as info:
                await client.sendmail("a@example.com", ["b@example.net"], mime())
    finally:
        async with runtime.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE message_bodies_away RENAME TO message_bodies"))
    assert (info.value.code, info.value.message) == (451, "Temporary failure, try again later")
    assert await counts(runtime) == (0, 0)


async def test_plaintext_connection_gets_no_smtp_greeting(relay: RelayServer) -> None:
    def plain() -> None:
        smtplib.SMTP("127.0.0.1", relay.port, timeout=5)

    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError)):
        await in_thread(plain)


async def test_starttls_is_not_offered_and_is_refused(relay: RelayServer, client_ctx: ssl.SSLContext) -> None:
    def starttls() -> tuple[int, bytes]:
        with smtp_ssl(relay.port, client_ctx) as client:
            client.ehlo()
            with pytest.raises(smtplib.SMTPNotSupportedError):
                client.starttls()
            return client.docmd("STARTTLS")

    code, _ = await in_thread(starttls)
    assert code == 454


async def test_repeated_failed_auth_refuses_that_key_for_a_while_but_never_a_valid_key(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    codes: list[tuple[int, str]] = []
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.ehlo()
        for _ in range(7):
            try:
                await client.auth_plain("apikey", "mc_wrongkey_guess")
            except aiosmtplib.SMTPAuthenticationError as exc:
                codes.append((exc.code, exc.message))
        login = await client.auth_plain("apikey", api_key)
    invalid = (535, "5.7.8 Authentication credentials invalid")
    blocked = (454, "4.7.0 Too many failed authentication attempts with this key; try again later")
    assert codes == [invalid] * 5 + [blocked, blocked]
    assert login.code == 235
    assert relay.throttle.blocked_for("127.0.0.1", "key:wrongkey") > 0
    assert relay.throttle.blocked_for("127.0.0.1", "key:" + api_key.split("_")[1]) == 0


async def test_bad_smtp_input_gets_clear_codes(relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext) -> None:
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        no_rcpt = await client.execute_command(b"DATA")
        bad_from = await client.execute_command(b"MAIL", b"FROM:<a@@example.com>")
        await client.mail("a@example.com")
        bad_rcpt = await client.execute_command(b"RCPT", b"TO:<not an address>")
        nested = await client.execute_command(b"MAIL", b"FROM:<b@example.com>")
        bogus = await client.execute_command(b"FROB")
    assert no_rcpt.code == 503
    assert bad_from.code == 553
    assert (bad_rcpt.code, bad_rcpt.message) == (553, "5.1.3 recipient must be an address like user@example.com")
    assert nested.code == 503
    assert bogus.code == 500


async def test_lines_up_to_998_octets_and_leading_dots_arrive_intact(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    body = "x" * 998 + "\r\n.leading dot\r\n..two dots\r\n"
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        await client.sendmail("a@example.com", ["b@example.net"], mime(body=body))
    [(_, raw)] = await stored(runtime)
    assert raw.endswith(("\r\n" + body).encode())


async def _raw_session(port: int, ctx: ssl.SSLContext, key: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS connection past EHLO and AUTH, for byte-exact conversations."""
    session = await RawSession.login(port, ctx, key)
    return session.reader, session.writer


async def test_a_command_pipelined_behind_the_final_dot_is_answered_too(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    reader, writer = await _raw_session(relay.port, client_ctx, api_key)
    writer.write(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
    replies = [await reader.readline() for _ in range(3)]
    writer.write(b"Subject: piped\r\n\r\n..dot\r\n.\r\nQUIT\r\n")  # one write: message, dot, next command
    replies += [await reader.readline(), await reader.readline()]
    writer.close()
    assert [r[:3] for r in replies] == [b"250", b"250", b"354", b"250", b"221"]
    [(_, raw)] = await stored(runtime)
    assert raw == b"Subject: piped\r\n\r\n.dot\r\n"


async def test_a_client_gone_mid_data_stores_nothing_and_the_relay_serves_on(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    reader, writer = await _raw_session(relay.port, client_ctx, api_key)
    writer.write(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
    assert [(await reader.readline())[:3] for _ in range(3)] == [b"250", b"250", b"354"]
    writer.write(b"Subject: cut off\r\n\r\nhalf a bo")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        await client.sendmail("a@example.com", ["b@example.net"], mime("whole"))
    assert [m.subject for m, _ in await stored(runtime)] == ["whole"]


async def test_overlong_command_lines_are_refused_with_500_and_the_session_goes_on(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    reader, writer = await _raw_session(relay.port, client_ctx, api_key)
    replies = []
    for length in (2_000, 100_000):  # under and over the reader's buffer size
        writer.write(b"NOOP " + b"x" * length + b"\r\n")
        replies.append(await reader.readline())
    writer.write(b"NOOP\r\n")
    replies.append(await reader.readline())
    writer.close()
    assert replies == [b"500 Command line too long\r\n"] * 2 + [b"250 OK\r\n"]


async def test_a_burst_of_logins_all_succeed_with_few_lookups_at_once(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, peak = 0, 0
    real_lookup = keys.lookup

    async def observed(runtime: Runtime, plaintext: str) -> object:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return await real_lookup(runtime, plaintext)
        finally:
            running -= 1

    monkeypatch.setattr(keys, "lookup", observed)

    async def login() -> int:
        async with aiosmtplib.SMTP(
            hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx
        ) as client:
            return (await client.login("apikey", api_key)).code

    assert await asyncio.gather(*(login() for _ in range(12))) == [235] * 12
    assert 1 <= peak <= server_mod.AUTH_LOOKUPS_AT_ONCE
