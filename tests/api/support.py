"""Helpers shared by the API tests."""

from __future__ import annotations

from sqlalchemy import func, select

from mailconsole.runtime import Runtime
from mailconsole.store.models import Message


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def message_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count(Message.id))) or 0)


MINIMAL = {
    "from": "App <app@example.com>",
    "to": "ada@example.org",
    "subject": "Hello",
    "text": "Hi Ada",
}
