"""Manual review of safelist requests (admins): approve or reject with a note, logged on the contact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.service import apply_state, state_of
from mailconsole.domain.contact_status import on_safelisted
from mailconsole.domain.roles import Actor, Permission
from mailconsole.store import audit
from mailconsole.store.models import Contact, SafelistRequest

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: int
    address: str
    status: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    state: str
    note: str


async def list_requests(
    runtime: Runtime, *, state: str | None = "pending", limit: int = 200, after_id: int = 0
) -> list[ReviewItem]:
    """Requests oldest first (keyset on id), with the contact's address and status."""
    query = (
        select(SafelistRequest, Contact.address, Contact.status)
        .join(Contact, Contact.id == SafelistRequest.contact_id)
        .where(SafelistRequest.id > after_id)
        .order_by(SafelistRequest.id)
        .limit(limit)
    )
    if state:
        query = query.where(SafelistRequest.state == state)
    async with runtime.reads() as session:
        rows = (await session.execute(query)).all()
    return [
        ReviewItem(r.id, address, status, r.reason, r.requested_by, r.requested_at, r.state, r.note)
        for r, address, status in rows
    ]


async def decide(runtime: Runtime, *, request_id: int, approve: bool, actor: Actor, note: str = "") -> ReviewItem:
    """Approve or reject a pending request (``Permission.REVIEW``).

    The request, the contact's log entry and the audit row are one transaction.
    """
    actor.require(Permission.REVIEW)
    who = actor.label
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        request = await session.get(SafelistRequest, request_id)
        if request is None:
            raise ContactError(f"no safelist request #{request_id}")
        if request.state != "pending":
            raise ContactError(f"safelist request #{request_id} is already {request.state}")
        contact = await session.get(Contact, request.contact_id)
        assert contact is not None
        request.state = "approved" if approve else "rejected"
        request.decided_by = who
        request.decided_at = now
        request.note = note
        said = f" with note: {note}" if note else ""
        if approve:
            apply_state(session, contact, on_safelisted(state_of(contact)), now=now, actor=who,
                        kind="safelist_approved", reason=f"safelisted by {who}{said}",
                        detail=f"safelist request #{request.id} approved by {who}{said}")
        else:
            apply_state(session, contact, state_of(contact), now=now, actor=who,
                        kind="safelist_rejected", reason="",
                        detail=f"safelist request #{request.id} rejected by {who}{said}")
        audit.record(session, runtime.clock, actor, f"reviews.{request.state}",
                     f"#{request.id} {contact.address} {note}")
        return ReviewItem(request.id, contact.address, contact.status, request.reason,
                          request.requested_by, request.requested_at, request.state, note)
