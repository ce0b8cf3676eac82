"""From a real client through the relay, the queue and the engine to a capture sink; and swaks."""

from __future__ import annotations

import asyncio
import shutil
import ssl

import aiosmtplib
import pytest

from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureSink

from .clients import counts, mime, stored


def _swaks_tls_reason() -> str | None:
    """swaks needs Net::SSLeay for --tls-on-connect (Debian: libnet-ssleay-perl)."""
    if shutil.which("swaks") is None:
        return "swaks is not installed (Debian package `swaks`)"
    import subprocess

    probe = subprocess.run(["perl", "-MNet::SSLeay", "-e", "1"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "swaks cannot do TLS here: Net::SSLeay missing (Debian package `libnet-ssleay-perl`)"
    return None


SWAKS_SKIP = _swaks_tls_reason()


async def test_relayed_mail_reaches_the_sink_without_routing_headers_and_broadcast_has_unsubscribe(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext, sink: CaptureSink
) -> None:
    await servers.add_server(
        runtime, name="sink", type="smtp", group="default",
        fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none", "timeout": "5"}, actor=SYSTEM
    )
    async with aiosmtplib.SMTP(hostname="localhost", port=relay.port, use_tls=True, tls_context=client_ctx) as client:
        await client.login("apikey", api_key)
        await client.sendmail(
            "app@example.com", ["t@example.test"],
            mime("receipt", extra="X-Mailconsole-Stream: transactional\r\nX-Mailconsole-Tracking-Enabled: false\r\n"),
        )
        await client.sendmail(
            "news@example.com", ["n@example.test"], mime("news", extra="X-Mailconsole-Stream: broadcast\r\n")
        )
    engine = Engine(runtime)
    await engine.run_until_idle()
    await engine.stop()
    by_rcpt = {m.rcpt_tos[0]: m.message for m in sink.handler.messages}
    assert set(by_rcpt) == {"t@example.test", "n@example.test"}
    for message in by_rcpt.values():
        assert message["X-Mailconsole-Stream"] is None
        assert message["X-Mailconsole-Tracking-Enabled"] is None
    assert by_rcpt["t@example.test"]["List-Unsubscribe"] is None
    assert by_rcpt["n@example.test"]["List-Unsubscribe"].startswith("<http://127.0.0.1:8025/unsubscribe/")
    assert by_rcpt["n@example.test"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [m.state for m, _ in await stored(runtime)] == ["sent", "sent"]


@pytest.mark.skipif(SWAKS_SKIP is not None, reason=str(SWAKS_SKIP))
async def test_swaks_sends_over_implicit_tls_with_auth_login(
    relay: RelayServer, runtime: Runtime, api_key: str
) -> None:
    proc = await asyncio.create_subprocess_exec(
        "swaks", "--server", "127.0.0.1", "--port", str(relay.port), "--tls-on-connect",
        "--auth", "LOGIN", "--auth-user", "apikey", "--auth-password", api_key,
        "--from", "app@example.com", "--to", "user@example.net",
        "--header", "Subject: from swaks", "--header", "X-Mailconsole-Stream: broadcast",
        "--body", "hello from swaks", "--timeout", "10",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    transcript = out.decode(errors="replace")
    assert proc.returncode == 0, transcript
    assert "<~  235 2.7.0 Authentication successful" in transcript
    assert "<~  250 2.0.0 OK queued as" in transcript
    [(message, raw)] = await stored(runtime)
    assert (message.stream, message.subject) == ("broadcast", "from swaks")
    assert b"X-Mailconsole-Stream" not in raw and b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert await counts(runtime) == (1, 1)


@pytest.mark.skipif(SWAKS_SKIP is not None, reason=str(SWAKS_SKIP))
async def test_swaks_with_a_bad_stream_sees_the_policy_550(relay: RelayServer, runtime: Runtime, api_key: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "swaks", "--server", "127.0.0.1", "--port", str(relay.port), "--tls-on-connect",
        "--auth", "PLAIN", "--auth-user", "apikey", "--auth-password", api_key,
        "--from", "app@example.com", "--to", "user@example.net", "--header", "X-Mailconsole-Stream: promo",
        "--timeout", "10",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    transcript = out.decode(errors="replace")
    assert proc.returncode != 0
    assert (
        "<~* 550 5.6.0 invalid_stream: X-Mailconsole-Stream must be transactional or broadcast, not 'promo'"
        in transcript
    ), transcript
    assert await counts(runtime) == (0, 0)
