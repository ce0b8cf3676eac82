"""Rows every installation needs: a default account and a default server group.

Rows other areas need at start (the placeholder sender identity) are made by the composition
root (``mailconsole.boot``) in its explicit boot sequence, not by hooks registered on import.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mailconsole.clock import Clock
from mailconsole.store.models import Account, ServerGroup

DEFAULT_ACCOUNT = "default"
DEFAULT_GROUP = "default"


class _HasSessions(Protocol):
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...


async def ensure_defaults(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    async with sessions.begin() as session:
        group = (
            await session.execute(select(ServerGroup).where(ServerGroup.name == DEFAULT_GROUP))
        ).scalar_one_or_none()
        if group is None:
            group = ServerGroup(name=DEFAULT_GROUP)
            session.add(group)
            await session.flush()
        account = (await session.execute(select(Account).where(Account.name == DEFAULT_ACCOUNT))).scalar_one_or_none()
        if account is None:
            account = Account(name=DEFAULT_ACCOUNT, created_at=clock.now(), server_group_id=group.id)
            session.add(account)
            await session.flush()


async def default_account_id(runtime: _HasSessions) -> int:
    async with runtime.sessions() as session:
        account_id = (await session.execute(select(Account.id).where(Account.name == DEFAULT_ACCOUNT))).scalar_one()
        return int(account_id)
