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
