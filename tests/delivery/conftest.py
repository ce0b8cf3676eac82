"""Delivery fixtures: a runtime with test-friendly delivery settings, helpers to add servers."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator

import pytest

from mailconsole.clock import FixedClock
from mailconsole.delivery import queue, servers
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import SendingServer


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    tuned = dataclasses.replace(settings, breaker_threshold=2, breaker_cooldown_seconds=60)
    async with Runtime.open(tuned, clock=clock) as rt:
        yield rt


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def add_sink_server(
    runtime: Runtime, port: int, *, name: str = "sink", group: str = "default", speed: str = "unlimited",
    limit: int | None = None, concurrency: int = 4,
) -> SendingServer:
    return await servers.add_server(
        runtime, name=name, type="smtp", group=group,
        fields={"host": "127.0.0.1", "port": str(port), "encryption": "none", "timeout": "5"},
        speed_mode=speed, speed_limit=limit, concurrency=concurrency, actor=SYSTEM
    )


def raw_message(subject: str = "hello", to: str = "bob@example.test") -> bytes:
    return (
        f"From: Alice <alice@example.test>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@example.test>\r\n\r\nHello.\r\n"
    ).encode()


async def send(runtime: Runtime, *recipients: str, subject: str = "hello") -> list[int]:
    account = await default_account_id(runtime)
    ids: list[int] = []
    for rcpt in recipients:
        ids += await queue.enqueue(
            runtime, account_id=account, envelope_from="bounce@example.test", recipients=[rcpt],
            raw=raw_message(subject, rcpt),
        )
    return ids


def received_to(sink: CaptureSink) -> list[str]:
    return sorted(r for m in sink.handler.messages for r in m.rcpt_tos)
