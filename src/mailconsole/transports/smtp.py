"""SMTP relay transport (aiosmtplib): the workhorse sending-server type.

Connections are pooled per server and reused across messages (a TLS handshake and AUTH per
message would cost more than the message), sized by the server's concurrency. Every reply
is classified by ``domain.replies`` so the engine branches on ``SendResult.kind`` only.
Certificate verification is on by default; turning it off is a per-server choice that the
console shows as a warning.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

import aiosmtplib
from aiosmtplib.errors import (
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from mailconsole.domain.replies import Classification, classify_smtp, classify_transport_error, split_enhanced
from mailconsole.domain.results import ResultKind
from mailconsole.domain.wire import needs_smtputf8
from mailconsole.transports.base import (
    CheckResult,
    Envelope,
    FieldSpec,
    SendResult,
    port_validator,
    positive_validator,
)

ENCRYPTIONS = ("starttls", "tls", "none")
_QUEUED_AS = re.compile(r"queued as\s+<?([^\s>]+)>?", re.IGNORECASE)


def _result(cls: Classification, code: int | None, text: str, enhanced: str | None = None, **kw: Any) -> SendResult:
    return SendResult(
        kind=cls.kind,
        text=text.strip() or cls.reason,
        smtp_code=code,
        enhanced_code=enhanced or split_enhanced(text),
        server_fault=cls.server_fault,
        **kw,
    )


def reply_result(code: int, text: str) -> SendResult:
    """A SendResult for an SMTP reply (code and text as the server sent them)."""
    enhanced = split_enhanced(text)
    return _result(classify_smtp(code, enhanced, text), code, text, enhanced)


def error_result(exc: BaseException, *, context: str = "") -> SendResult:
    """A SendResult for a failure to talk to the server at all (refused, timeout, TLS, AUTH)."""
    cls = classify_transport_error(exc)
    detail = str(exc).strip() or type(exc).__name__
    prefix = f"{context}: " if context else ""
    local = cls.kind is ResultKind.PERMANENT and not cls.server_fault
    return SendResult(
        kind=cls.kind, text=f"{prefix}{cls.reason}: {detail}"[:500], server_fault=cls.server_fault, local_error=local
    )


class SmtpTransport:
    TYPE: ClassVar[str] = "smtp"
    LABEL: ClassVar[str] = "SMTP relay"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("host", "Host", "text", required=True, help="SMTP server name or IP address"),
        FieldSpec("port", "Port", "int", default=587, validator=port_validator, help="587 STARTTLS, 465 TLS, 25 plain"),
        FieldSpec("encryption", "Encryption", "select", default="starttls", choices=ENCRYPTIONS,
                  help="starttls: upgrade after connecting; tls: implicit TLS from the start; none: plaintext"),
        FieldSpec("username", "Username", "text", help="leave empty for no authentication"),
        FieldSpec("password", "Password", "secret", help="stored encrypted; leave empty to keep the current one"),
        FieldSpec("timeout", "Timeout (s)", "float", default=30.0, validator=positive_validator,
                  help="seconds to wait for the server at each step"),
        FieldSpec("verify_certificates", "Verify certificates", "bool", default=True,
                  help="turn off only for a server with a self-signed certificate you trust"),
        FieldSpec("ehlo_name", "EHLO name", "text", help="name announced in EHLO; empty means this host's FQDN"),
    )

    def __init__(
        self,
        host: str,
        port: int = 587,
        encryption: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        verify_certificates: bool = True,
        ehlo_name: str | None = None,
        concurrency: int = 4,
    ) -> None:
        self.host = host
        self.port = int(port or 587)
        self.encryption = encryption or "starttls"
        self.username = username or None
        self.password = password or None
        self.timeout = float(timeout or 30.0)
        self.verify_certificates = True if verify_certificates is None else bool(verify_certificates)
        self.ehlo_name = ehlo_name or None
        self.concurrency = max(1, int(concurrency or 1))
        self._slots = asyncio.Semaphore(self.concurrency)
        self._idle: list[aiosmtplib.SMTP] = []
        self._closed = False

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password if self.username else None,
            local_hostname=self.ehlo_name,
            timeout=self.timeout,
            use_tls=self.encryption == "tls",
            start_tls=True if self.encryption == "starttls" else False,
            validate_certs=self.verify_certificates,
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._client()
        await client.connect()
        return client

    async def _discard(self, client: aiosmtplib.SMTP) -> None:
        try:
            client.close()
        except Exception:  # already broken; nothing to clean
            pass

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        async with self._slots:
            reused = bool(self._idle)
            client = self._idle.pop() if self._idle else None
            if client is None or not client.is_connected:
                reused = False
                try:
                    client = await self._connect()
                except (TimeoutError, SMTPException, OSError) as exc:
                    return error_result(exc, context=f"{self.host}:{self.port}")
            result, keep = await self._transaction(client, envelope, raw_message)
            if result is None and reused:
                # An idle connection the server had already closed: one fresh try.
                await self._discard(client)
                try:
                    client = await self._connect()
                except (TimeoutError, SMTPException, OSError) as exc:
                    return error_result(exc, context=f"{self.host}:{self.port}")
                result, keep = await self._transaction(client, envelope, raw_message)
            if result is None:
                result = SendResult(ResultKind.TRANSIENT, "server closed the connection", server_fault=True)
                keep = False
            if keep and not self._closed:
                self._idle.append(client)
            else:
                await self._discard(client)
            return result

    async def _transaction(
        self, client: aiosmtplib.SMTP, envelope: Envelope, raw: bytes
    ) -> tuple[SendResult | None, bool]:
        """One MAIL/RCPT/DATA; returns (result, connection reusable). None: stale connection."""
        # RFC 6531: an internationalised address needs SMTPUTF8 on MAIL FROM; aiosmtplib then
        # sends the addresses as UTF-8, and refuses (SMTPNotSupported) where the next hop did
        # not offer the extension.
        options = ["SMTPUTF8"] if needs_smtputf8(envelope.sender, list(envelope.recipients)) else []
        try:
            refused, reply = await client.sendmail(
                envelope.sender, list(envelope.recipients), raw, mail_options=options
            )
        except SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            return reply_result(first.code, first.message), True
        except SMTPServerDisconnected:
            return None, False
        except SMTPNotSupported as exc:
            if not options:
                return error_result(exc), False
            # The hop cannot carry this message's internationalised address: the message's
            # limit, not the server's fault; nothing was sent, so no slot of the cap is used.
            return SendResult(
                ResultKind.PERMANENT,
                "the next hop does not offer SMTPUTF8, which this message's internationalised address needs",
                local_error=True,
            ), True
        except SMTPResponseException as exc:
            return reply_result(exc.code, exc.message), exc.code != 421
        except (TimeoutError, SMTPException, OSError) as exc:
            return error_result(exc), False
        text = str(reply)
        match = _QUEUED_AS.search(text)
        enhanced = split_enhanced(text)
        if refused:
            # Per-recipient RCPT results: accepted for some; name the refused ones.
            text = f"{text}; refused: " + ", ".join(f"{a} ({r.code} {r.message})" for a, r in refused.items())
        return SendResult(
            ResultKind.ACCEPTED, text, 250, enhanced, provider_message_id=match.group(1) if match else None
        ), True

    async def check(self) -> CheckResult:
        """Connect, negotiate TLS, log in and NOOP: everything but a message."""
        try:
            client = await self._connect()
        except (TimeoutError, SMTPException, OSError) as exc:
            return CheckResult(False, error_result(exc, context=f"{self.host}:{self.port}").text)
        try:
            await client.noop()
            tls = {"tls": "implicit TLS", "starttls": "STARTTLS", "none": "no encryption"}[self.encryption]
            auth = f", logged in as {self.username}" if self.username else ""
            warn = " (certificate NOT verified)" if not self.verify_certificates and self.encryption != "none" else ""
            return CheckResult(True, f"connected to {self.host}:{self.port} with {tls}{warn}{auth}")
        except (TimeoutError, SMTPException, OSError) as exc:
            return CheckResult(False, error_result(exc).text)
        finally:
            try:
                await client.quit()
            except (TimeoutError, SMTPException, OSError):
                client.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except Exception:  # closing: a dead connection is fine
                client.close()
