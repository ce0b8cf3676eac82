"""Shared test helpers for the feedback loop: corpus access, seeded messages, row counts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailconsole.delivery.queue import enqueue
from mailconsole.feedback import verp
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, ContactEvent, FeedbackEvent, Message, UnparsedMail
from mailconsole.store.secrets import SecretBox

CORPUS = Path(__file__).resolve().parent.parent / "data" / "dsn"
BOUNCE_DOMAIN = "bounces.sender.test"


def manifest() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())["samples"]
    return data


def sample(
    name: str, *, signed_by: SecretBox | None = None, message_id: int | None = None, verp_id: int | None = None
) -> bytes:
    """A corpus file, optionally as if this installation had sent the mail it reports on.

    The corpus carries untagged ``b-<id>-<local>=<domain>@…`` addresses (no installation signed
    them), which the bounce handler refuses as forged. ``signed_by`` (the runtime's secrets)
    remakes each as the tagged address that installation would have sent with, its id replaced
    by ``message_id`` where it is ``verp_id``.
    """
    raw = (CORPUS / name).read_bytes()
    if signed_by is None:
        assert message_id is None, "a remade VERP address needs the installation's key (signed_by)"
        return raw
    key = verp.key_from(signed_by)

    def remake(match: re.Match[bytes]) -> bytes:
        address = match.group(0).decode()
        old = verp.decode(address)
        if old is None or old.recipient is None:
            return match.group(0)
        new_id = message_id if message_id is not None and old.message_id == verp_id else old.message_id
        return verp.encode(new_id, old.recipient, address.rpartition("@")[2], key).encode()

    return re.sub(rb"b-\d+-[^@\s<>;]+@[A-Za-z0-9.-]*[A-Za-z0-9]", remake, raw)


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
