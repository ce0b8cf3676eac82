"""The contact service: the one place that changes a contact's status and writes its log.

The engine (SMTP replies) and the feedback parsers (DSN, ARF, ESP webhooks) call
``record_delivery_outcome``; the console and CLI call the verification and safelist modules,
which use ``apply_state`` here. Every status change records the reason, the time, the actor and
the status before the block, and writes one ``ContactEvent``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.domain.addresses import AddressError, normalize_address
from mailconsole.domain.contact_status import (
    ContactState,
    Transition,
    on_delivery_outcome,
)
from mailconsole.store.models import Contact, ContactEvent

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


def canonical_address(addr: str) -> str:
    """The stored form of an address; tolerant for recipients the relay already accepted."""
    try:
        return normalize_address(addr)
    except AddressError:
        text = (addr or "").strip()
        local, at, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}" if at else text


def state_of(contact: Contact) -> ContactState:
    return ContactState(
        status=contact.status,
        status_before_block=contact.status_before_block,
        safelisted=bool(contact.safelisted),
        soft_bounce_count=contact.soft_bounce_count or 0,
        soft_bounce_window_start=contact.soft_bounce_window_start,
    )


def apply_state(
    session: AsyncSession,
    contact: Contact,
    new: ContactState,
    *,
    now: dt.datetime,
    actor: str,
    kind: str,
    reason: str,
    detail: str = "",
    dedup_key: str | None = None,
) -> ContactEvent:
    """Write the new state onto the row and add the log entry describing the change.

    ``status_since`` and ``status_reason`` move only when the status or safelist flag changes, so
    the bubble's "since" stays truthful when a soft bounce is merely counted.
    """
    before = contact.status
    changed = new.status != contact.status or new.safelisted != bool(contact.safelisted)
    contact.status = new.status
    contact.status_before_block = new.status_before_block
    contact.safelisted = new.safelisted
    contact.soft_bounce_count = new.soft_bounce_count
    contact.soft_bounce_window_start = new.soft_bounce_window_start
    if changed:
        contact.status_since = now
        contact.status_reason = reason
    event = ContactEvent(
        contact_id=contact.id,
        at=now,
        actor=actor,
        kind=kind,
        detail=detail or reason,
        status_from=before,
        status_to=new.status,
        dedup_key=dedup_key,
    )
    session.add(event)
    return event


async def find_contact(session: AsyncSession, account_id: int, address: str) -> Contact | None:
    return (
        await session.execute(
            select(Contact).where(Contact.account_id == account_id, Contact.address == address)
        )
    ).scalar_one_or_none()


async def get_or_create_contact(
    session: AsyncSession, account_id: int, address: str, now: dt.datetime
) -> Contact:
    """The contact row for a recipient, created (active) the first time we hear of it."""
    contact = await find_contact(session, account_id, address)
    if contact is not None:
        return contact
    domain = address.rpartition("@")[2]
    contact = Contact(
        account_id=account_id,
        address=address,
        domain=domain,
        status="active",
        status_reason="",
        status_since=now,
        created_at=now,
        fields={},
    )
    try:
        async with session.begin_nested():
            session.add(contact)
            await session.flush()
    except IntegrityError:  # another process created it between our read and our insert
        found = await find_contact(session, account_id, address)
        assert found is not None
        return found
    return contact


async def _already_recorded(session: AsyncSession, dedup_key: str | None) -> bool:
    if dedup_key is None:
        return False
    found = (
        await session.execute(select(ContactEvent.id).where(ContactEvent.dedup_key == dedup_key))
    ).first()
    return found is not None


def _summary(effect: str, reply_text: str, message_id: int | None) -> str:
    text = (reply_text or "").strip().splitlines()[0][:200] if (reply_text or "").strip() else ""
    label = {"delivered": "delivered", "hard_bounce": "hard bounce", "soft_bounce": "soft bounce",
             "complaint": "complaint", "policy_block": "blocked by policy", "none": "no effect"}[effect]
    ref = f"message #{message_id}: " if message_id is not None else ""
    return f"{ref}{label}" + (f" ({text})" if text else "")


async def _record_in(
    session: AsyncSession,
    runtime: Runtime,
    *,
    account_id: int,
    recipient: str,
    effect: str,
    reply_text: str,
    message_id: int | None,
    actor: str,
    dedup_key: str | None,
) -> Transition | None:
    now = runtime.clock.now()
    address = canonical_address(recipient)
    if effect in ("policy_block", "none"):
        return None  # our own policy refused it, or nothing happened: the contact is not at fault
    if effect == "delivered":
        contact = await find_contact(session, account_id, address)
        if contact is not None:
            contact.last_message_at = now
            contact.last_message_summary = _summary(effect, reply_text, message_id)
        return None
    if await _already_recorded(session, dedup_key):
        return None
    contact = await get_or_create_contact(session, account_id, address, now)
    settings = runtime.settings
    transition = on_delivery_outcome(
        state_of(contact),
        effect,
        reply_text,
        now,
        soft_bounce_threshold=settings.soft_bounce_threshold,
        soft_bounce_window=dt.timedelta(hours=settings.soft_bounce_window_hours),
    )
    contact.last_message_at = now
    contact.last_message_summary = _summary(effect, reply_text, message_id)
    if transition.changed or transition.log:
        detail = _summary(effect, reply_text, message_id)
        if not transition.changed and effect == "soft_bounce":
            detail += f"; {transition.state.soft_bounce_count} within the window"
        elif not transition.changed:
            detail += f"; status stays {contact.status}"
        apply_state(
            session,
            contact,
            transition.state,
            now=now,
            actor=actor,
            kind=effect,
            reason=transition.reason,
            detail=detail if not transition.changed else f"{transition.reason} ({detail})",
            dedup_key=dedup_key,
        )
    return transition


async def record_delivery_outcome(
    runtime: Runtime,
    *,
    account_id: int,
    recipient: str,
    effect: str,
    reply_text: str,
    message_id: int | None,
    actor: str = "engine",
    dedup_key: str | None = None,
    session: AsyncSession | None = None,
) -> None:
    """Apply what a delivery (or later feedback) says about a recipient to its contact.

    effect: hard_bounce -> blocklisted (reason = the server's reply); soft_bounce -> counted, and
    ``multiple_soft_bounces`` at ``settings.soft_bounce_threshold`` within
    ``settings.soft_bounce_window_hours``; complaint -> spam_complaint; policy_block and none never
    touch the contact; delivered only updates the contact's last message.
    A repeated report with the same ``dedup_key`` changes the contact once.
    Pass ``session`` to take part in the caller's transaction (the caller commits).
    """
    async def apply(target: AsyncSession) -> None:
        await _record_in(
            target,
            runtime,
            account_id=account_id,
            recipient=recipient,
            effect=effect,
            reply_text=reply_text,
            message_id=message_id,
            actor=actor,
            dedup_key=dedup_key,
        )

    if session is not None:
        async with session.begin_nested():
            await apply(session)
        return
    try:
        async with runtime.sessions.begin() as own:
            await apply(own)
    except IntegrityError:
        # Only the dedup_key race on PostgreSQL lands here: the other writer recorded it.
        if dedup_key is None:
            raise
