"""Shared test helpers for the feedback loop: corpus access, seeded messages, row counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailconsole.delivery.queue import enqueue
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, ContactEvent, FeedbackEvent, Message, UnparsedMail

CORPUS = Path(__file__).resolve().parent.parent / "data" / "dsn"
BOUNCE_DOMAIN = "bounces.sender.test"


def manifest() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())["samples"]
    return data


def sample(name: str, *, message_id: int | None = None, verp_id: int | None = None) -> bytes:
    """A corpus file, optionally with its VERP message id replaced by a real one."""
    raw = (CORPUS / name).read_bytes()
    if message_id is not None and verp_id is not None:
        raw = raw.replace(f"b-{verp_id}-".encode(), f"b-{message_id}-".encode())
    return raw


async def seed_message(runtime: Runtime, recipient: str, *, provider_message_id: str | None = None) -> int:
    """One queued message to ``recipient`` (as the engine would have sent it)."""
    account_id = await default_account_id(runtime)
    raw = f"From: orders@sender.test\r\nTo: {recipient}\r\nSubject: hi\r\n\r\nhello\r\n".encode()
    (message_id,) = await enqueue(
        runtime, account_id=account_id, envelope_from="orders@sender.test", recipients=[recipient], raw=raw
    )
    if provider_message_id is not None:
        async with runtime.sessions.begin() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            message.provider_message_id = provider_message_id
            message.state = "sent"
    return message_id


async def contact_status(runtime: Runtime, address: str) -> str | None:
    async with runtime.sessions() as session:
        row = (await session.execute(select(Contact.status).where(Contact.address == address))).first()
        return None if row is None else str(row[0])


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def contact_events(runtime: Runtime, address: str) -> list[ContactEvent]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(ContactEvent).join(Contact, Contact.id == ContactEvent.contact_id).where(Contact.address == address)
        )
        return list(rows.scalars().all())


async def feedback_rows(runtime: Runtime) -> list[FeedbackEvent]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(FeedbackEvent).order_by(FeedbackEvent.id))).scalars().all())


async def unparsed_rows(runtime: Runtime) -> list[UnparsedMail]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(UnparsedMail).order_by(UnparsedMail.id))).scalars().all())
