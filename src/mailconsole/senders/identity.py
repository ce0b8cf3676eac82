"""Sender identity per account: who the mail says it is from and where replies go.

Saving enforces ``domain.addresses.identity_rules`` (valid syntax, a business domain, one
domain for both addresses). A new account starts with a placeholder
``<account name>@<placeholder domain>`` so mail can flow in a demo; the console flags it
because replies to it are undeliverable.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.domain.addresses import RuleError, identity_rules, normalize_address
from mailconsole.domain.errors import InputError
from mailconsole.domain.roles import Actor, Permission
from mailconsole.store import audit
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Account, SenderIdentity

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

PLACEHOLDER_WARNING = "placeholder: replies are undeliverable"


class IdentityRulesBroken(InputError, ValueError):
    """Saving was refused; ``errors`` holds one message per broken rule, each for its field."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class IdentityView:
    account_id: int
    account_name: str
    sender_name: str
    from_address: str
    reply_to: str
    is_placeholder: bool
    updated_at: dt.datetime | None

    @property
    def warning(self) -> str:
        return PLACEHOLDER_WARNING if self.is_placeholder else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account_name,
            "sender_name": self.sender_name,
            "from": self.from_address,
            "reply_to": self.reply_to,
            "placeholder": self.is_placeholder,
            "warning": self.warning,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def placeholder_address(account_name: str, placeholder_domain: str) -> str:
    """``<account name>@<placeholder domain>``, the name made into a valid local part."""
    local = re.sub(r"[^a-z0-9._-]+", "-", account_name.lower()).strip(".-") or "account"
    return f"{local[:64]}@{placeholder_domain}"


def _placeholder(account: Account, placeholder_domain: str, now: dt.datetime) -> SenderIdentity:
    address = placeholder_address(account.name, placeholder_domain)
    return SenderIdentity(
        account_id=account.id,
        sender_name=account.name,
        from_address=address,
        reply_to=address,
        is_default=True,
        is_placeholder=True,
        created_at=now,
        updated_at=now,
    )


async def _current(session: AsyncSession, account_id: int) -> SenderIdentity | None:
    return (
        await session.execute(
            select(SenderIdentity)
            .where(SenderIdentity.account_id == account_id, SenderIdentity.is_default.is_(True))
            .order_by(SenderIdentity.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def ensure_placeholder_identities(runtime: Runtime) -> None:
    """Bootstrap hook: every account without an identity gets the placeholder one."""
    async with runtime.sessions.begin() as session:
        have = select(SenderIdentity.account_id)
        accounts = (await session.execute(select(Account).where(Account.id.not_in(have)))).scalars()
        for account in accounts:
            session.add(_placeholder(account, runtime.settings.placeholder_domain, runtime.clock.now()))


def _view(account: Account, row: SenderIdentity) -> IdentityView:
    return IdentityView(
        account_id=account.id,
        account_name=account.name,
        sender_name=row.sender_name,
        from_address=row.from_address,
        reply_to=row.reply_to,
        is_placeholder=row.is_placeholder,
        updated_at=row.updated_at,
    )


async def get_identity(runtime: Runtime, *, account_id: int | None = None) -> IdentityView:
    """The account's identity; an account created after startup gets its placeholder here."""
    account_id = account_id if account_id is not None else await default_account_id(runtime)
    async with runtime.sessions.begin() as session:
        account = await session.get_one(Account, account_id)
        row = await _current(session, account_id)
        if row is None:
            row = _placeholder(account, runtime.settings.placeholder_domain, runtime.clock.now())
            session.add(row)
            await session.flush()
        return _view(account, row)


async def save_identity(
    runtime: Runtime,
    *,
    sender_name: str,
    from_addr: str,
    reply_to: str,
    actor: Actor,
    account_id: int | None = None,
) -> IdentityView:
    """Check every rule, then store the identity (no longer a placeholder) and audit it.

    Needs ``Permission.CONFIG``; the audit row is written in the same transaction.
    """
    actor.require(Permission.CONFIG)
    errors = identity_rules(sender_name, from_addr, reply_to)
    if errors:
        raise IdentityRulesBroken(errors)
    name, sender, reply = sender_name.strip(), normalize_address(from_addr), normalize_address(reply_to)
    account_id = account_id if account_id is not None else await default_account_id(runtime)
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        account = await session.get_one(Account, account_id)
        row = await _current(session, account_id)
        if row is None:
            row = SenderIdentity(account_id=account_id, is_default=True, created_at=now)
            session.add(row)
        row.sender_name, row.from_address, row.reply_to = name, sender, reply
        row.is_placeholder = False
        row.updated_at = now
        await session.flush()
        audit.record(session, runtime.clock, actor, "identity.set", f"{name} <{sender}> reply-to {reply}")
        return _view(account, row)
