"""Small helpers for driving the relay with real clients from async tests."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select

from mailconsole.runtime import Runtime
from mailconsole.store.models import Message, MessageBody

T = TypeVar("T")


def mime(subject: str = "hello", *, extra: str = "", body: str = "body\r\n") -> bytes:
    return (f"From: app@example.com\r\nTo: user@example.net\r\nSubject: {subject}\r\n{extra}\r\n{body}").encode()


async def in_thread(fn: Callable[[], T]) -> T:
    """smtplib blocks; run it off the loop the relay serves on."""
    return await asyncio.to_thread(fn)


def smtp_ssl(port: int, ctx: ssl.SSLContext) -> smtplib.SMTP_SSL:
    return smtplib.SMTP_SSL("localhost", port, context=ctx, timeout=10)


async def counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.sessions() as session:
        messages = await session.scalar(select(func.count(Message.id)))
        bodies = await session.scalar(select(func.count(MessageBody.id)))
    return int(messages or 0), int(bodies or 0)


async def stored(runtime: Runtime) -> list[tuple[Message, bytes]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(Message, MessageBody.raw).join(MessageBody, Message.body_id == MessageBody.id).order_by(Message.id)
        )
        return [(m, raw) for m, raw in rows.all()]


class RawSession:
    """An SMTP session over TLS that writes command bytes exactly as given.

    Real clients refuse to send a NUL or a bare CR in a command (aiosmtplib and smtplib both
    raise), so the relay's answers to such bytes can only be seen with a client that does not
    check: what a buggy or hostile application would send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, ctx: ssl.SSLContext) -> RawSession:
        """Connected and past EHLO, not authenticated."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
        session = cls(reader, writer)
        await session.reply()
        await session.command(b"EHLO raw.test")
        return session

    @classmethod
    async def login(cls, port: int, ctx: ssl.SSLContext, key: str) -> RawSession:
        import base64

        session = await cls.connect(port, ctx)
        token = base64.b64encode(b"\0apikey\0" + key.encode()).decode()
        code, text = await session.command(f"AUTH PLAIN {token}".encode())
        assert code == 235, text
        return session

    async def reply(self) -> tuple[int, str]:
        lines = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 10)).decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line[4:])
            if line[3:4] != "-":
                return int(line[:3]), "\n".join(lines)

    async def command(self, line: bytes) -> tuple[int, str]:
        self.writer.write(line + b"\r\n")
        await self.writer.drain()
        return await self.reply()

    async def close(self) -> None:
        self.writer.close()
