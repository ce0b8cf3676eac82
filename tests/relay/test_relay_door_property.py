"""What the relay answers 250 to, the engine can send: generated envelopes and header values
(control characters, bare CR/LF, non-ASCII with and without SMTPUTF8, long lines), written to
the relay as raw bytes, then delivered by the engine through the SMTP transport into a capture
sink that offers SMTPUTF8. Every acknowledged message must arrive; none may fail locally."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mailconsole.clock import SystemClock
from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import create_key
from mailconsole.intake.throttle import AuthThrottle
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id

from .clients import RawSession, stored
from .conftest import TlsFiles

# Characters that have broken the wire before: NUL and other controls, DEL, CR, LF, non-ASCII.
_TRICKY = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\r", "\n", "é", "ø", "日", "\t", " "])
_ASCII = st.sampled_from(list("abcxyz019.-_+"))
_CLEAN = st.lists(_ASCII, min_size=1, max_size=12).map("".join)
_INTERNATIONAL = st.lists(st.sampled_from(list("abcéøü日")), min_size=1, max_size=8).map("".join)
_HOSTILE = st.lists(st.one_of(_ASCII, _TRICKY), min_size=1, max_size=12).map("".join)
# Mostly addresses the relay should take, so that what it accepts is tested, not just refusals.
_LOCAL = st.one_of(_CLEAN, _CLEAN, _INTERNATIONAL, _INTERNATIONAL, _HOSTILE)
_VALUE = st.lists(st.one_of(_ASCII, _TRICKY), max_size=40).map("".join)


@dataclass
class Submission:
    sender: str
    recipient: str
    smtputf8: bool
    subject: str
    body_line: int  # length of one body line


_SUBMISSION = st.builds(
    Submission,
    sender=_LOCAL.map(lambda s: s + "@doeinc.com"),
    recipient=_LOCAL.map(lambda s: s + "@example.org"),
    smtputf8=st.booleans(),
    subject=_VALUE,
    body_line=st.sampled_from([10, 997, 998, 999, 2000]),
)


async def _submit_all(relay: RelayServer, ctx: ssl.SSLContext, key: str, batch: list[Submission]) -> list[int]:
    """Each submission on its own raw session; the indexes the relay answered 250."""
    accepted = []
    for index, item in enumerate(batch):
        session = await RawSession.login(relay.port, ctx, key)
        try:
            param = b" SMTPUTF8" if item.smtputf8 else b""
            if (await session.command(b"MAIL FROM:<" + item.sender.encode() + b">" + param))[0] != 250:
                continue
            if (await session.command(b"RCPT TO:<" + item.recipient.encode() + b">"))[0] != 250:
                continue
            if (await session.command(b"DATA"))[0] != 354:
                continue
            raw = (
                # X-Index first: a subject holding CRLF CRLF legitimately ends the header section
                # (hypothesis found it), and what follows is body, not a header to look for.
                f"X-Index: {index}\r\nFrom: <{item.sender}>\r\nTo: <{item.recipient}>\r\n"
                f"Subject: {item.subject}\r\n\r\n{'b' * item.body_line}\r\n"
            ).encode()
            if (await session.command(raw + b"."))[0] == 250:
                accepted.append(index)
        finally:
            await session.close()
    return accepted


async def _round(tmp: Path, tls: TlsFiles, batch: list[Submission]) -> None:
    settings = Settings(
        data_dir=tmp, database_url=f"sqlite+aiosqlite:///{tmp / 'p.db'}", dns_nameservers=["127.0.0.1:1"]
    )
    with CaptureSink(CaptureHandler(), enable_SMTPUTF8=True) as sink:
        async with Runtime.open(settings, clock=SystemClock()) as runtime:
            _, key = await create_key(runtime, account_id=await default_account_id(runtime), name="p", actor=SYSTEM)
            await servers.add_server(
                runtime, name="sink", type="smtp", group="default",
                fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none", "timeout": "5"},
                actor=SYSTEM,
            )
            relay = RelayServer(
                runtime, host="127.0.0.1", port=0, ssl_context=tls.server_context(),
                auth_throttle=AuthThrottle(), hostname="relay.test",
            )
            await relay.start()
            try:
                accepted = await _submit_all(relay, tls.client_context(), key, batch)
            finally:
                await relay.stop()
            engine = Engine(runtime)
            await engine.run_until_idle()
            await engine.stop()
            rows = await stored(runtime)
        assert len(rows) == len(accepted)
        failures = [(m.state, m.last_text) for m, _ in rows if m.state != "sent"]
        assert failures == []
        for m in sink.handler.messages:
            assert m.message["X-Index"] is not None, m.data[:400]
        delivered = sorted(int(m.message["X-Index"]) for m in sink.handler.messages)
        assert delivered == accepted
        stored_rcpt = {int(message_from_bytes(raw)["X-Index"]): m.recipient for m, raw in rows}
        for message in sink.handler.messages:
            # The relay's parser forgives blanks the RFC 5322 grammar allows around an address
            # (``< a @b>``); what it stored and acknowledged is what goes out, and it is an
            # address the next hop takes as written.
            recipient = stored_rcpt[int(message.message["X-Index"])]
            assert message.rcpt_tos == [recipient]
            assert recipient == "".join(recipient.split()) and all(ord(c) >= 32 for c in recipient)
            assert all(len(line) <= 998 for line in message.data.split(b"\r\n"))


@settings(
    max_examples=6,
    deadline=None,
    # explain traces every line (minutes with a relay and an engine in the loop)
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(_SUBMISSION, min_size=8, max_size=16))
def test_every_message_the_relay_accepts_the_engine_delivers(tls_files: TlsFiles, batch: list[Submission]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_round(Path(tmp), tls_files, batch))
