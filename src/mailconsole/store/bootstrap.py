"""Rows every installation needs: a default account and a default server group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from mailconsole.store.models import Account, ServerGroup

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

DEFAULT_ACCOUNT = "default"
DEFAULT_GROUP = "default"


async def ensure_defaults(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        group = (
            await session.execute(select(ServerGroup).where(ServerGroup.name == DEFAULT_GROUP))
        ).scalar_one_or_none()
        if group is None:
            group = ServerGroup(name=DEFAULT_GROUP)
            session.add(group)
            await session.flush()
        account = (await session.execute(select(Account).where(Account.name == DEFAULT_ACCOUNT))).scalar_one_or_none()
        if account is None:
            account = Account(name=DEFAULT_ACCOUNT, created_at=runtime.clock.now(), server_group_id=group.id)
            session.add(account)
            await session.flush()
    # Per-area defaults (e.g. the placeholder sender identity) hook in here.
    for hook in BOOTSTRAP_HOOKS:
        await hook(runtime)


async def default_account_id(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        account_id = (await session.execute(select(Account.id).where(Account.name == DEFAULT_ACCOUNT))).scalar_one()
        return int(account_id)


BOOTSTRAP_HOOKS: list = []
