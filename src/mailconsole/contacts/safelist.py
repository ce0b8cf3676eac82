"""Safelist requests: approved at once for established accounts, otherwise queued for review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.lookup import failed_check_since_block, pending_request, require_contact
from mailconsole.contacts.service import apply_state, state_of
from mailconsole.domain.contact_status import on_safelisted
from mailconsole.domain.roles import Actor, Permission
from mailconsole.domain.safelist import auto_approves, safelist_eligibility
from mailconsole.store import audit
from mailconsole.store.models import Account, SafelistRequest

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


@dataclass(frozen=True, slots=True)
class SafelistOutcome:
    request_id: int
    address: str
    state: str  # approved | pending
    auto: bool
    message: str


async def request_safelist(
    runtime: Runtime, *, account_id: int, address: str, actor: Actor
) -> SafelistOutcome:
    """Ask for a safelist (``Permission.CONTACT_ACTION``); audited in the same transaction."""
    actor.require(Permission.CONTACT_ACTION)
    who = actor.label
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        contact = await require_contact(session, account_id, address)
        eligibility = safelist_eligibility(
            contact.status,
            bool(contact.safelisted),
            failed_check_since_block=await failed_check_since_block(session, contact),
            pending_request=await pending_request(session, contact) is not None,
        )
        if not eligibility.ok:
            raise ContactError(f"cannot request a safelist for {contact.address}: {eligibility.reason}")
        account = await session.get(Account, account_id)
        assert account is not None
        days = runtime.settings.safelist_auto_approve_days
        auto = auto_approves(account.created_at, now, days)
        request = SafelistRequest(
            account_id=account_id,
            contact_id=contact.id,
            requested_by=who,
            requested_at=now,
            state="approved" if auto else "pending",
            auto=auto,
            reason=f"{contact.status}: {contact.status_reason}",
            decided_by="auto" if auto else None,
            decided_at=now if auto else None,
        )
        session.add(request)
        await session.flush()
        if auto:
            message = f"approved automatically: the account is older than {days} days"
            apply_state(session, contact, on_safelisted(state_of(contact)), now=now, actor=who,
                        kind="safelist_approved", reason=f"safelisted ({message})",
                        detail=f"safelist request #{request.id} {message}")
        else:
            age = (now - account.created_at).days
            message = f"waiting for review: the account is {age} days old (auto-approval after {days})"
            apply_state(session, contact, state_of(contact), now=now, actor=who,
                        kind="safelist_requested", reason="",
                        detail=f"safelist request #{request.id} {message}")
        audit.record(session, runtime.clock, actor, "contacts.request_safelist", f"{contact.address}: {request.state}")
        return SafelistOutcome(request.id, contact.address, request.state, auto, message)
