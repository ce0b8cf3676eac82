"""Which sending servers speak for an account: the active servers of its server group.

Read-only helpers for SPF (what must the record authorise) and the test send (which server is
the default). The servers themselves are managed by the delivery area.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.senders.spf import SpfRequirement, requirement_for
from mailconsole.store.models import Account, SendingServer


async def active_servers(session: AsyncSession, account_id: int) -> list[SendingServer]:
    """Active servers of the account's group plus ungrouped ones (all if it has no group), by id."""
    group_id = (
        await session.execute(select(Account.server_group_id).where(Account.id == account_id))
    ).scalar_one_or_none()
    query = select(SendingServer).where(SendingServer.active.is_(True)).order_by(SendingServer.id)
    if group_id is not None:
        query = query.where(or_(SendingServer.group_id == group_id, SendingServer.group_id.is_(None)))
    return list((await session.execute(query)).scalars())


async def default_server(session: AsyncSession, account_id: int) -> SendingServer | None:
    """The account's default server: the first active one (lowest id) of its group."""
    servers = await active_servers(session, account_id)
    return servers[0] if servers else None


async def spf_requirements(session: AsyncSession, account_id: int, bounce_domain: str = "") -> list[SpfRequirement]:
    """Each active server's SPF needs; an SMTP server that reads its bounces sends with a VERP
    MAIL FROM on ``bounce_domain`` (``delivery.engine``), so SPF is checked on that domain."""
    return [
        requirement_for(
            s.name,
            s.type,
            dict(s.settings or {}),
            bounce_domain.lower() if s.type == "smtp" and s.bounce_handler and bounce_domain else "",
        )
        for s in await active_servers(session, account_id)
    ]
