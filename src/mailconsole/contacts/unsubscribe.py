"""RFC 8058 one-click unsubscribe: the recipient stops getting broadcast mail.

Unsubscribing is not a delivery status (the address still works, and transactional mail such
as password resets must still reach it), so it is a flag beside the status: the engine
suppresses broadcast messages to an unsubscribed contact at claim time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailconsole.contacts.service import canonical_address, get_or_create_contact
from mailconsole.store.models import ContactEvent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from mailconsole.runtime import Runtime

ONE_CLICK_DETAIL = "one-click unsubscribe (RFC 8058): no more broadcast mail"


async def unsubscribe(
    runtime: Runtime,
    *,
    account_id: int,
    recipient: str,
    actor: str = "recipient",
    detail: str = ONE_CLICK_DETAIL,
    session: AsyncSession | None = None,
) -> bool:
    """Mark the contact unsubscribed from broadcast; False when it already was (idempotent:
    mail clients may POST the one-click request more than once, ESPs retry webhooks).
    Pass ``session`` to take part in the caller's transaction (the feedback service does)."""
    if session is not None:
        return await _unsubscribe_in(session, runtime, account_id, recipient, actor, detail)
    async with runtime.sessions.begin() as own:
        return await _unsubscribe_in(own, runtime, account_id, recipient, actor, detail)


async def _unsubscribe_in(
    session: AsyncSession, runtime: Runtime, account_id: int, recipient: str, actor: str, detail: str
) -> bool:
    now = runtime.clock.now()
    contact = await get_or_create_contact(session, account_id, canonical_address(recipient), now)
    if contact.unsubscribed_at is not None:
        return False
    contact.unsubscribed_at = now
    session.add(
        ContactEvent(
            contact_id=contact.id, at=now, actor=actor, kind="unsubscribed",
            detail=detail, status_from=contact.status, status_to=contact.status,
        )
    )
    return True

