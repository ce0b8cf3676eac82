"""The SMTP relay: aiosmtpd on implicit TLS, API-key AUTH, the shared policy, 250 after commit.

Runs in the caller's event loop (not aiosmtpd's threaded ``Controller``) because the database
engine belongs to that loop. Reply codes a client sees:

- ``530 5.7.0`` MAIL (or RCPT/DATA) before AUTH; ``535 5.7.8`` bad credentials;
  ``454 4.7.0`` AUTH refused for a while after repeated failures from one address;
- ``550`` per-message policy (``invalid_stream``, ``stream_not_allowed``, ``missing_scope``,
  sandbox rules), worded by ``domain.policy`` exactly as the HTTP API words them;
- ``552 5.3.4`` larger than ``SIZE 26214400`` (aiosmtpd stops storing data past the limit);
- ``451 Temporary failure, try again later`` when storing fails unexpectedly;
- ``250`` only once the queue transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
import warnings
import weakref
from base64 import b64decode
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, Session, syntax

from mailconsole import metrics
from mailconsole.domain import policy, wire
from mailconsole.intake import keys as keys_mod
from mailconsole.intake.batcher import EnqueueBatcher
from mailconsole.intake.keys import split_key
from mailconsole.intake.submit import KeyRevoked, submit_message
from mailconsole.intake.throttle import AuthThrottle, credential_of
from mailconsole.intake.tls import server_context
from mailconsole.logsafe import escape_for_log, quiet_smtp_library_logs
from mailconsole.relay.data_reader import TooLarge, read_data
from mailconsole.runtime import Runtime
from mailconsole.store.models import ApiKey

log = logging.getLogger(__name__)

AUTH_USERNAME = b"apikey"
MAX_RECIPIENTS = 1000
AUTH_LOOKUPS_AT_ONCE = 4
TEMPFAIL = "451 Temporary failure, try again later"
AUTH_INVALID = "535 5.7.8 Authentication credentials invalid"
AUTH_BLOCKED = "454 4.7.0 Too many failed authentication attempts with this key; try again later"
AUTH_AUTHZID = "535 5.7.8 Authorization identity not allowed: leave it empty or use apikey"
KEY_REVOKED = "550 5.7.1 key_revoked: this API key has been revoked"
BAD_RECIPIENT = "553 5.1.3 recipient must be an address like user@example.com"
TOO_MANY_RECIPIENTS = f"452 4.5.3 Too many recipients (at most {MAX_RECIPIENTS} per message)"
# aiosmtpd's own size replies, rewritten to the policy's words.
_AIOSMTPD_SIZE_REPLIES = (
    "552 Error: Too much mail data",
    "552 Error: message size exceeds fixed maximum message size",
)


# An angle-bracketed address whose local part is a dot-atom and whose domain is plain
# labels: what nearly every application sends. For these aiosmtpd's RFC 5322 parser (most of
# the CPU of MAIL and RCPT) returns exactly the text between the brackets.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_PATH = re.compile(
    rf"[ \t]*<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*(?!\()(.*)", re.DOTALL
)

_POLICY_CODE = re.compile(r"^\d{3}(?: \d\.\d{1,3}\.\d{1,3})? ([a-z][a-z0-9_]+):")


# Refusals that carry no policy code, named in the same words the HTTP API uses for the same
# thing where there is one (invalid_api_key, temporary_failure, message_too_large), so one
# vocabulary labels both interfaces' rejection metrics.
_REPLY_NAMES = {
    "421": "service_unavailable",
    "451": "temporary_failure",
    "452": "too_many_recipients",
    "454": "auth_throttled",
    "500": "syntax_error",
    "501": "syntax_error",
    "502": "not_implemented",
    "503": "bad_sequence",
    "504": "not_implemented",
    "530": "auth_required",
    "535": "invalid_api_key",
    "550": "refused",
    "552": "message_too_large",
    "553": "invalid_address",
    "554": "refused",
}


def rejection_label(reply: str) -> str:
    """The metric label for a refusal: the policy code where the reply names one, else the
    reply code's name, so the label set stays small and alerts can key on the rule."""
    match = _POLICY_CODE.match(reply)
    if match:
        return match.group(1)
    return _REPLY_NAMES.get(reply[:3], "refused")


def _asks_smtputf8(mail_options: list[str]) -> bool:
    return any(option.upper() == "SMTPUTF8" for option in mail_options)


@dataclass
class Principal:
    """Who authenticated on this session: the key and its account's sandbox rules."""

    key: ApiKey
    sandbox: bool = False
    allowlist: list[str] = field(default_factory=list)


async def _principal(runtime: Runtime, plaintext: str) -> Principal | None:
    found = await keys_mod.lookup(runtime, plaintext)
    if found is None:
        return None
    key, account = found
    return Principal(key=key, sandbox=account.sandbox, allowlist=list(account.sandbox_allowlist or []))


class RelaySMTP(SMTP):
    """aiosmtpd's SMTP with API-key AUTH (async, throttled) and the policy's size wording."""

    # aiosmtpd sizes its StreamReader by this (1001, one RFC 5321 line): every read longer
    # than that raises, and the transport is paused whenever 2 KB are buffered. DATA is read
    # in bulk here, so give the reader room; command lines are still held to aiosmtpd's
    # per-command limits ("500 Command line too long").
    line_length_limit = 64 * 1024

    def __init__(self, handler: RelayHandler, *, throttle: AuthThrottle, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._relay = handler
        self._throttle = throttle

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        metrics.record_relay_session()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's address parsing, with a fast path giving the same answer for plain
        ``<local@domain>`` paths (tests/relay/test_relay_addresses.py holds them equal)."""
        match = _SIMPLE_PATH.fullmatch(arg)
        if match is None:
            return super()._getaddr(arg)
        address = match.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, match.group(2)

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status in _AIOSMTPD_SIZE_REPLIES:
            status = policy.message_too_large().smtp_reply
        if isinstance(status, str) and status[:1] in ("4", "5"):
            metrics.record_relay_rejection(rejection_label(status))
        await super().push(status)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """DATA read in bulk (``relay.data_reader``), storing nothing past the size limit.

        aiosmtpd's own DATA keeps one bytearray per line (about twice the message size for
        base64 attachments), refuses lines over 1000 bytes and costs a read per line; this one
        keeps one buffer, accepts long lines (many application mailers send them) and, once
        the limit is passed, reads to the final dot without storing, then answers 552.
        """
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None and self.session is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await read_data(self._reader, self.data_size_limit or policy.MAX_MESSAGE_BYTES)
        except TooLarge:
            self._set_post_data_state()
            log.info("relay: message refused: over %d bytes", self.data_size_limit or policy.MAX_MESSAGE_BYTES)
            await self.push(policy.message_too_large().smtp_reply)
            return
        except asyncio.IncompleteReadError:  # the client went away mid-message: nothing stored
            self._set_post_data_state()
            if self.transport is not None:
                self.transport.close()
            return
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._relay.handle_DATA(self, self.session, self.envelope)
        self._set_post_data_state()
        await self.push(status)

    def _peer_address(self) -> str:
        peer = self.session.peer if self.session is not None else None
        if isinstance(peer, tuple) and peer:
            return str(peer[0])
        return str(peer)

    async def _check_credentials(self, login: bytes, password: bytes) -> AuthResult:
        """Look the key up first, so a valid key always works; only failures are throttled,
        counted per (source address, credential) so one app's wrong key slows only itself."""
        address = self._peer_address()
        principal: Principal | None = None
        password_text = password.decode("utf-8", "replace")
        if login == AUTH_USERNAME:
            try:
                async with self._relay.key_lookup_slots:
                    principal = await _principal(self._relay.runtime, password_text)
            except Exception:
                log.exception("relay: key lookup failed")
                return AuthResult(success=False, handled=False, message="454 4.7.0 Temporary authentication failure")
        credential = credential_of(login.decode("utf-8", "replace"), split_key(password_text))
        if principal is None:
            metrics.record_auth_failure("smtp")
            delay = self._throttle.failure(address, credential)
            log.info("relay: AUTH failed from %s for %s", address, escape_for_log(credential))
            if delay > 0:
                await asyncio.sleep(delay)
            if self._throttle.blocked_for(address, credential) > 0:
                return AuthResult(success=False, handled=False, message=AUTH_BLOCKED)
            return AuthResult(success=False, handled=False, message=AUTH_INVALID)
        self._throttle.success(address, credential)
        return AuthResult(success=True, auth_data=principal)

    async def _decode_or_fail(self, blob: str) -> bytes | None:
        try:
            return b64decode(blob.encode(), validate=True)
        except Exception:
            await self.push("501 5.5.2 Can't decode base64")
            return None

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        data: Any = await self.challenge_auth("") if len(args) == 1 else await self._decode_or_fail(args[1])
        if data is MISSING or data is None:
            return AuthResult(success=False, handled=True)
        assert isinstance(data, bytes)
        parts = data.split(b"\x00")
        if len(parts) != 3:
            await self.push("501 5.5.2 Can't split auth value")
            return AuthResult(success=False, handled=True)
        if parts[0] not in (b"", AUTH_USERNAME):
            # RFC 4616's authorization identity: we have no identities to act as, so a client
            # asking to act as someone else ("admin") is refused rather than silently ignored.
            metrics.record_auth_failure("smtp")
            return AuthResult(success=False, handled=False, message=AUTH_AUTHZID)
        return await self._check_credentials(parts[1], parts[2])

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        login: Any
        if len(args) == 1:
            login = await self.challenge_auth(self.AuthLoginUsernameChallenge)
        else:
            login = await self._decode_or_fail(args[1])
        if login is MISSING or login is None:
            return AuthResult(success=False, handled=True)
        password = await self.challenge_auth(self.AuthLoginPasswordChallenge)
        if password is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(login, bytes) and isinstance(password, bytes)
        return await self._check_credentials(login, password)


class RelayHandler:
    """aiosmtpd handler hooks: scope at MAIL, sandbox allow-list at RCPT, submit at DATA."""

    def __init__(self, runtime: Runtime, batcher: EnqueueBatcher | None = None) -> None:
        self.runtime = runtime
        self.batcher = batcher
        # (Not named auth_*: aiosmtpd offers every handler attribute auth_X as a mechanism X.)
        # Key lookups at once: fewer than the database pool, so a burst of connecting clients
        # queues for a pooled connection for a millisecond instead of opening (and closing)
        # an overflow connection each.
        self.key_lookup_slots = asyncio.Semaphore(AUTH_LOOKUPS_AT_ONCE)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        principal = session.auth_data
        assert isinstance(principal, Principal)
        try:
            policy.check_scope(principal.key.scopes)
        except policy.PolicyViolation as violation:
            return violation.smtp_reply
        try:
            wire.check_address(address, role=wire.Role.SENDER, smtputf8=_asks_smtputf8(mail_options))
        except policy.PolicyViolation as violation:
            return violation.smtp_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        principal = session.auth_data
        assert isinstance(principal, Principal)
        local, _, domain = address.rpartition("@")
        if not local or not domain or " " in domain:
            return BAD_RECIPIENT
        try:
            wire.check_address(address, role=wire.Role.RECIPIENT, smtputf8=_asks_smtputf8(envelope.mail_options))
        except policy.PolicyViolation as violation:
            return violation.smtp_reply
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        if principal.sandbox and not policy.recipient_allowed(address, principal.allowlist):
            return policy.sandbox_recipient_not_allowed(address).smtp_reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        principal = session.auth_data
        assert isinstance(principal, Principal)
        raw = envelope.original_content
        if not isinstance(raw, bytes):
            raw = bytes(raw or b"")
        reply = await self._store(principal, envelope, raw)
        # One INFO line per message (per-command lines are DEBUG, see logsafe): a session with
        # thousands of recipients is one line, and nothing the client wrote reaches it unescaped.
        log.info(
            "relay: message key=%s size=%d recipients=%d -> %s",
            principal.key.prefix,
            len(raw),
            len(envelope.rcpt_tos),
            escape_for_log(reply, 80),
        )
        return reply

    async def _store(self, principal: Principal, envelope: Envelope, raw: bytes) -> str:
        try:
            ids = await submit_message(
                self.runtime,
                principal.key,
                mail_from=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                raw=raw,
                batcher=self.batcher,
            )
        except policy.PolicyViolation as violation:
            return violation.smtp_reply
        except KeyRevoked:
            return KEY_REVOKED
        except Exception:
            log.exception("relay: storing a message failed; answered 451")
            return TEMPFAIL
        more = f" (+{len(ids) - 1})" if len(ids) > 1 else ""
        return f"250 2.0.0 OK queued as {ids[0]}{more}"


class RelayServer:
    """The relay listener. ``await start()`` binds (port 0 picks a free one, see ``.port``)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        host: str | None = None,
        port: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        auth_throttle: AuthThrottle | None = None,
        hostname: str | None = None,
        handshake_timeout: float = 10.0,
        idle_timeout: float = 300.0,
    ) -> None:
        self.runtime = runtime
        self.host = host if host is not None else runtime.settings.relay_host
        self.port = port if port is not None else runtime.settings.relay_port
        self.ssl_context = ssl_context
        self.throttle = auth_throttle or AuthThrottle()
        self.hostname = hostname or socket.gethostname() or "mailconsole"
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.batcher = EnqueueBatcher(runtime)
        self.handler = RelayHandler(runtime, self.batcher)
        self._server: asyncio.AbstractServer | None = None
        self._connections: weakref.WeakSet[RelaySMTP] = weakref.WeakSet()

    def _factory(self) -> RelaySMTP:
        with warnings.catch_warnings():
            # "AUTH while not requiring TLS": aiosmtpd only knows STARTTLS; our socket is TLS.
            warnings.simplefilter("ignore", UserWarning)
            protocol = self._make_protocol()
        self._connections.add(protocol)
        return protocol

    def _make_protocol(self) -> RelaySMTP:
        return RelaySMTP(
            self.handler,
            throttle=self.throttle,
            data_size_limit=policy.MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident="mailconsole relay",
            tls_context=None,  # implicit TLS: no STARTTLS is offered
            require_starttls=False,
            auth_required=True,
            auth_require_tls=False,  # the socket itself is TLS; aiosmtpd only knows STARTTLS
            auth_exclude_mechanism=["CRAM-MD5"],
            timeout=self.idle_timeout,
        )

    async def start(self) -> None:
        if self._server is not None:
            return
        context = self.ssl_context or server_context(self.runtime.settings)
        loop = asyncio.get_running_loop()
        self.batcher.start()
        self._server = await loop.create_server(
            self._factory,
            host=self.host,
            port=self.port,
            ssl=context,
            ssl_handshake_timeout=self.handshake_timeout,
        )
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        quiet_smtp_library_logs()
        log.info("relay listening on %s:%s (implicit TLS)", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for protocol in list(self._connections):
            if protocol.transport is not None:
                protocol.transport.close()
        self._connections.clear()
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=5)
        except TimeoutError:  # pragma: no cover - a stuck client must not hang shutdown
            log.warning("relay: connections still open at shutdown")
        await self.batcher.stop()

    async def __aenter__(self) -> RelayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class _ImplicitTlsWarningFilter(logging.Filter):
    """Quiet two aiosmtpd warnings that do not apply: AUTH without STARTTLS (our socket is
    TLS from the first byte) and its own use of the deprecated ``Session.login_data``."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return "auth_require_tls" not in text and "login_data is deprecated" not in text


logging.getLogger("mail.log").addFilter(_ImplicitTlsWarningFilter())
