"""A local capture SMTP server for the demo and the tests.

It stores what it receives in a Maildir, counts messages, and can inject faults (451 and
550 replies at a given rate, slow replies) so retries and failover can be seen for real.
"""

from __future__ import annotations

import asyncio
import mailbox
import random
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class SinkStats:
    accepted: int = 0
    tempfailed: int = 0
    failed: int = 0
    recipients: int = 0


class CaptureHandler:
    """aiosmtpd handler: accept, or fail per the fault settings, and record the outcome."""

    def __init__(
        self,
        maildir: Path | None = None,
        *,
        tempfail_rate: float = 0.0,
        fail_rate: float = 0.0,
        delay: float = 0.0,
        keep_in_memory: bool = True,
        seed: int | None = None,
    ) -> None:
        for name, rate in (("tempfail-rate", tempfail_rate), ("fail-rate", fail_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"--{name} must be between 0 and 1, got {rate}")
        if delay < 0:
            raise ValueError(f"--delay must be 0 or more seconds, got {delay}")
        self.maildir = mailbox.Maildir(str(maildir), create=True) if maildir else None
        self.tempfail_rate = tempfail_rate
        self.fail_rate = fail_rate
        self.delay = delay
        self.keep_in_memory = keep_in_memory
        self.messages: list[ReceivedMessage] = []
        self.stats = SinkStats()
        # Scripted replies for tests: popped one per DATA before the random faults apply.
        self.scripted: list[str] = []
        # Per-recipient replies for RCPT, e.g. {"bad@x.test": "550 5.1.1 no such user"}.
        self.rcpt_replies: dict[str, str] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.scripted:
                reply = self.scripted.pop(0)
                if not reply.startswith("250"):
                    self._count_failure(reply)
                    return reply
            roll = self._random.random()
            if roll < self.fail_rate:
                self.stats.failed += 1
                return "550 5.1.1 Mailbox unavailable (injected by mailconsole sink)"
            if roll < self.fail_rate + self.tempfail_rate:
                self.stats.tempfailed += 1
                return "451 4.3.0 Temporary failure (injected by mailconsole sink)"
            data = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
            received = ReceivedMessage(str(envelope.mail_from), list(envelope.rcpt_tos), data)
            if self.keep_in_memory:
                self.messages.append(received)
            self.stats.accepted += 1
            self.stats.recipients += len(envelope.rcpt_tos)
        if self.maildir is not None:
            await asyncio.to_thread(self.maildir.add, data)
        return "250 2.0.0 OK: queued"

    def _count_failure(self, reply: str) -> None:
        if reply.startswith("4"):
            self.stats.tempfailed += 1
        else:
            self.stats.failed += 1


class CaptureSink:
    """Run a CaptureHandler in a background thread (aiosmtpd's Controller) on loopback."""

    def __init__(self, handler: CaptureHandler, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        self.handler = handler
        self.host = host
        self._requested_port = port
        self._kwargs = kwargs
        self._controller: Controller | None = None
        self.port = port

    def start(self) -> CaptureSink:
        port = self._requested_port or _free_port(self.host)
        self._controller = Controller(
            self.handler, hostname=self.host, port=port, data_size_limit=64 * 1024 * 1024, **self._kwargs
        )
        self._controller.start()
        self.port = port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> CaptureSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class SinkOptions:
    host: str = "127.0.0.1"
    port: int = 2525
    maildir: Path | None = None
    tempfail_rate: float = 0.0
    fail_rate: float = 0.0
    delay: float = 0.0


def make_sink(options: SinkOptions) -> CaptureSink:
    handler = CaptureHandler(
        options.maildir,
        tempfail_rate=options.tempfail_rate,
        fail_rate=options.fail_rate,
        delay=options.delay,
        keep_in_memory=False,
    )
    return CaptureSink(handler, options.host, options.port)
