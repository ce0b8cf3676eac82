"""Check again and address edits: the support agent's way to unblock a fixable address.

DNS runs outside any database transaction (a slow resolver must not hold SQLite's write lock);
the result is then written in one short transaction with its log entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mailconsole.contacts.dns_check import check_address
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.lookup import require_contact
from mailconsole.contacts.service import apply_state, canonical_address, find_contact, state_of
from mailconsole.domain.addresses import AddressError, normalize_address
from mailconsole.domain.contact_status import (
    CHECK_AGAIN_REFUSAL,
    ContactStatus,
    can_check_again,
    on_check_passed,
)

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


@dataclass(frozen=True, slots=True)
class CheckReport:
    """``outcome``: "sent" when the check was processed, "fail" when it could not be.

    ``passed`` says what the processed check found (None when it could not be processed).
    """

    address: str
    outcome: Literal["sent", "fail"]
    passed: bool | None
    detail: str
    status: str  # the contact's status afterwards
    offer_safelist: bool


def check_refusal(status: str) -> str | None:
    if status == ContactStatus.SPAM_COMPLAINT:
        return CHECK_AGAIN_REFUSAL
    if not can_check_again(status):
        return f"Check again is for blocked contacts; this contact is {status}"
    return None


async def check_again(runtime: Runtime, *, account_id: int, address: str, actor: str) -> CheckReport:
    """Re-verify the contact's current address; a pass restores its status before the block."""
    async with runtime.sessions() as session:
        contact = await require_contact(session, account_id, address)
        refusal = check_refusal(contact.status)
        if refusal:
            raise ContactError(refusal)
        current = contact.address
    result = await check_address(current, runtime.settings)
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        contact = await require_contact(session, account_id, current)
        stamp = now.strftime("%Y-%m-%d %H:%M UTC")
        if result.verdict == "error":
            apply_state(session, contact, state_of(contact), now=now, actor=actor, kind="check_error",
                        reason="", detail=f"Check again could not be processed at {stamp}: {result.detail}")
            return CheckReport(current, "fail", None, result.detail, contact.status, False)
        if result.verdict == "pass":
            before = contact.status
            new = on_check_passed(state_of(contact))
            apply_state(session, contact, new, now=now, actor=actor, kind="check_passed",
                        reason=f"Check again passed at {stamp}: {result.detail}",
                        detail=f"Check again passed at {stamp}: {result.detail}; {before} -> {new.status}")
            return CheckReport(current, "sent", True, result.detail, new.status, False)
        apply_state(session, contact, state_of(contact), now=now, actor=actor, kind="check_failed",
                    reason="", detail=f"Check again failed at {stamp}: {result.detail}; status stays {contact.status}")
        return CheckReport(current, "sent", False, result.detail, contact.status, True)


async def edit_address(
    runtime: Runtime, *, account_id: int, address: str, new_address: str, actor: str
) -> str:
    """Fix a typo in a contact's address (status kept; run Check again next). Returns the new form."""
    try:
        normal = normalize_address(new_address)
    except AddressError as exc:
        raise ContactError(exc.message) from None
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        contact = await require_contact(session, account_id, address)
        if normal == contact.address:
            raise ContactError(f"the address is already {normal}")
        if await find_contact(session, account_id, canonical_address(normal)) is not None:
            raise ContactError(f"another contact already has the address {normal}")
        old = contact.address
        contact.address = normal
        contact.domain = normal.rsplit("@", 1)[1]
        apply_state(session, contact, state_of(contact), now=now, actor=actor, kind="address_edit",
                    reason="", detail=f"address changed from {old} to {normal}")
    return normal
