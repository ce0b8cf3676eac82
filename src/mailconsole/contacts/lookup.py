"""Finding one contact for an action, with the facts its bubble and safelist rules need."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.service import canonical_address, find_contact
from mailconsole.store.models import Contact, ContactEvent, SafelistRequest


async def require_contact(session: AsyncSession, account_id: int, address: str) -> Contact:
    contact = await find_contact(session, account_id, canonical_address(address))
    if contact is None:
        raise ContactError(f"no contact {address.strip()!r} in this account")
    return contact


async def failed_check_since_block(session: AsyncSession, contact: Contact) -> bool:
    """Has a Check again failed since the contact got its current status?"""
    row = (
        await session.execute(
            select(ContactEvent.id)
            .where(
                ContactEvent.contact_id == contact.id,
                ContactEvent.kind == "check_failed",
                ContactEvent.at >= contact.status_since,
            )
            .limit(1)
        )
    ).first()
    return row is not None


async def pending_request(session: AsyncSession, contact: Contact) -> SafelistRequest | None:
    return (
        await session.execute(
            select(SafelistRequest)
            .where(SafelistRequest.contact_id == contact.id, SafelistRequest.state == "pending")
            .limit(1)
        )
    ).scalar_one_or_none()
