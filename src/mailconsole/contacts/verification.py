"""Check again and address edits: the support agent's way to unblock a fixable address.

DNS runs outside any database transaction (a slow resolver must not hold SQLite's write lock);
the result is then written in one short transaction with its log entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.dns_check import check_address
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.lookup import require_contact
from mailconsole.contacts.queries import ContactFilter, page
from mailconsole.contacts.service import apply_state, canonical_address, find_contact, state_of
from mailconsole.domain.addresses import AddressError, normalize_address
from mailconsole.domain.contact_status import (
    CHECK_AGAIN_REFUSAL,
    ContactStatus,
    can_check_again,
    on_check_passed,
)
from mailconsole.domain.roles import Actor, Permission
from mailconsole.store import audit
from mailconsole.store.models import Contact

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


async def check_again(runtime: Runtime, *, account_id: int, address: str, actor: Actor) -> CheckReport:
    """Re-verify the contact's current address; a pass restores its status before the block.

    Needs ``Permission.CONTACT_ACTION``; the contact's log entry and the audit row are written
    in the transaction that records the result.
    """
    actor.require(Permission.CONTACT_ACTION)
    return await _check(runtime, account_id=account_id, address=address, actor=actor, audit_row=True)


async def _check(runtime: Runtime, *, account_id: int, address: str, actor: Actor, audit_row: bool) -> CheckReport:
    """One check; ``audit_row`` False when a bulk run writes one audit row for all of them."""
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
        report = _record_check(session, contact, result.verdict, result.detail, now, actor.label)
        if audit_row:
            audit.record(session, runtime.clock, actor, "contacts.check_again",
                         f"{current}: {report.outcome} {report.detail}")
        return report


@dataclass
class BulkCheckReport:
    """What a bulk Check again did: processed checks that passed or failed, checks that could
    not be processed (``fail``), and contacts that are not checkable (``skipped``)."""

    passed: int = 0
    failed: int = 0
    fail: int = 0
    skipped: int = 0

    @property
    def seen(self) -> int:
        return self.passed + self.failed + self.fail + self.skipped

    def as_json(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "fail": self.fail, "skipped": self.skipped}

    def summary(self) -> str:
        return (f"{self.passed} passed, {self.failed} failed verification, "
                f"{self.fail} could not be processed, {self.skipped} not checkable")


BULK_PAGE = 200
BULK_MAX_PAGES = 100_000  # bounded: at most 20 million contacts in one run


async def check_matching(
    runtime: Runtime,
    *,
    account_id: int,
    flt: ContactFilter,
    actor: Actor,
    progress: Callable[[int, int], None] | None = None,
) -> BulkCheckReport:
    """Check again every checkable contact matching ``flt`` (``Permission.CONTACT_BULK``).

    Pages through the matches in address order (keyset), checks each blocked contact as
    ``check_again`` would (its log entry names the actor), skips the ones Check again is not
    for, and writes one audit row with the tallies at the end.
    """
    actor.require(Permission.CONTACT_BULK)
    report = BulkCheckReport()
    after: str | None = None
    for _ in range(BULK_MAX_PAGES):
        async with runtime.reads() as session:
            batch = await page(session, account_id, flt, after=after, limit=BULK_PAGE)
        if not batch:
            break
        for row in batch:
            if check_refusal(row.status):
                report.skipped += 1
            else:
                try:
                    one = await _check(runtime, account_id=account_id, address=row.address, actor=actor,
                                       audit_row=False)
                except ContactError:  # changed since the page was read (edited, or no longer blocked)
                    report.skipped += 1
                else:
                    if one.outcome == "fail":
                        report.fail += 1
                    elif one.passed:
                        report.passed += 1
                    else:
                        report.failed += 1
            if progress:
                progress(report.seen, report.seen + (BULK_PAGE if len(batch) == BULK_PAGE else 0))
        after = batch[-1].address
    async with runtime.sessions.begin() as session:
        audit.record(session, runtime.clock, actor, "contacts.bulk_check_again",
                     f"{_describe(flt)}: {report.summary()}")
    if progress:
        progress(report.seen, report.seen)
    return report


def _describe(flt: ContactFilter) -> str:
    parts = [f"status:{flt.status}" if flt.status else "", f"domain:{flt.domain}" if flt.domain else "",
             flt.prefix or ""]
    return " ".join(p for p in parts if p) or "all contacts"


def _record_check(
    session: AsyncSession, contact: Contact, verdict: str, detail: str, now: dt.datetime, actor: str
) -> CheckReport:
    """Write what the check found onto the contact (and its log); say what it found."""
    current = contact.address
    stamp = now.strftime("%Y-%m-%d %H:%M UTC")
    if verdict == "error":
        apply_state(session, contact, state_of(contact), now=now, actor=actor, kind="check_error",
                    reason="", detail=f"Check again could not be processed at {stamp}: {detail}")
        return CheckReport(current, "fail", None, detail, contact.status, False)
    if verdict == "pass":
        before = contact.status
        new = on_check_passed(state_of(contact))
        apply_state(session, contact, new, now=now, actor=actor, kind="check_passed",
                    reason=f"Check again passed at {stamp}: {detail}",
                    detail=f"Check again passed at {stamp}: {detail}; {before} -> {new.status}")
        return CheckReport(current, "sent", True, detail, new.status, False)
    apply_state(session, contact, state_of(contact), now=now, actor=actor, kind="check_failed",
                reason="", detail=f"Check again failed at {stamp}: {detail}; status stays {contact.status}")
    return CheckReport(current, "sent", False, detail, contact.status, True)


async def edit_address(
    runtime: Runtime, *, account_id: int, address: str, new_address: str, actor: Actor
) -> str:
    """Fix a typo in a contact's address (status kept; run Check again next). Returns the new form."""
    actor.require(Permission.CONTACT_ACTION)
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
        apply_state(session, contact, state_of(contact), now=now, actor=actor.label, kind="address_edit",
                    reason="", detail=f"address changed from {old} to {normal}")
        audit.record(session, runtime.clock, actor, "contacts.edit_address", f"{old} -> {normal}")
    return normal
