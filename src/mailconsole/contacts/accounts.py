"""Resolve an account by name for the CLI and console (the default account unless told)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from mailconsole.contacts.errors import ContactError
from mailconsole.store.bootstrap import DEFAULT_ACCOUNT
from mailconsole.store.models import Account

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


async def account_id_by_name(runtime: Runtime, name: str | None = None) -> int:
    wanted = name or DEFAULT_ACCOUNT
    async with runtime.reads() as session:
        found = (await session.execute(select(Account.id).where(Account.name == wanted))).scalar_one_or_none()
    if found is None:
        raise ContactError(f"no account named {wanted!r}")
    return int(found)


async def default_account_id(runtime: Runtime) -> int:
    """The default account's id (what the console acts on until it offers a choice)."""
    return await account_id_by_name(runtime, None)
