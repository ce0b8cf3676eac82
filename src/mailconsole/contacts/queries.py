"""Read side of contacts: a window of rows by keyset pagination, and one contact with its log.

Only the visible window is ever queried: ``WHERE address > :last ORDER BY address LIMIT n`` on
the (account, address), (account, status, address) and (account, domain, address) indexes, so the
cost of a page does not grow with the table. A prefix search is an index range, not ``LIKE``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.lookup import failed_check_since_block, pending_request, require_contact
from mailconsole.domain.bubbles import Bubble, bubble_for
from mailconsole.store.models import Contact, ContactEvent

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


@dataclass(frozen=True, slots=True)
class ContactFilter:
    status: str | None = None
    domain: str | None = None
    prefix: str | None = None

    @classmethod
    def parse(cls, text: str) -> ContactFilter:
        """The console's one-line filter: ``status:blocklisted domain:example.com jo``."""
        status = domain = None
        prefix_parts: list[str] = []
        for word in text.split():
            key, sep, value = word.partition(":")
            if sep and key in ("status", "s") and value:
                status = value
            elif sep and key in ("domain", "d") and value:
                domain = value.lower()
            else:
                prefix_parts.append(word)
        return cls(status=status, domain=domain, prefix=" ".join(prefix_parts) or None)


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    address: str
    name: str
    status: str
    safelisted: bool
    status_reason: str
    status_since: dt.datetime
    last_message_at: dt.datetime | None
    last_message_summary: str

    def bubble(self) -> Bubble:
        return bubble_for(
            status=self.status,
            safelisted=self.safelisted,
            reason=self.status_reason,
            since=self.status_since,
            last_message_at=self.last_message_at,
            last_message_summary=self.last_message_summary,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "address": self.address,
            "name": self.name,
            "status": self.status,
            "safelisted": self.safelisted,
            "reason": self.status_reason,
            "since": self.status_since.isoformat(),
            "last_message_at": self.last_message_at.isoformat() if self.last_message_at else None,
            "last_message": self.last_message_summary,
        }


_COLUMNS = (
    Contact.id,
    Contact.address,
    Contact.name,
    Contact.status,
    Contact.safelisted,
    Contact.status_reason,
    Contact.status_since,
    Contact.last_message_at,
    Contact.last_message_summary,
)


def _prefix_upper(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _filtered(query: Select[Any], account_id: int, flt: ContactFilter) -> Select[Any]:
    query = query.where(Contact.account_id == account_id)
    if flt.status:
        query = query.where(Contact.status == flt.status)
    if flt.domain:
        query = query.where(Contact.domain == flt.domain)
    if flt.prefix:
        query = query.where(Contact.address >= flt.prefix, Contact.address < _prefix_upper(flt.prefix))
    return query


async def page(
    session: AsyncSession,
    account_id: int,
    flt: ContactFilter,
    *,
    after: str | None = None,
    before: str | None = None,
    start: str | None = None,
    limit: int = 50,
) -> list[ContactRow]:
    """One window of contacts in address order: after ``after``, from ``start`` (inclusive,
    to redraw the same window) or the window ending just before ``before``."""
    query: Select[Any] = _filtered(select(*_COLUMNS), account_id, flt)  # type: ignore[arg-type]
    if before is not None:
        query = query.where(Contact.address < before).order_by(Contact.address.desc()).limit(limit)
        rows = list(reversed((await session.execute(query)).all()))
    else:
        if after is not None:
            query = query.where(Contact.address > after)
        if start is not None:
            query = query.where(Contact.address >= start)
        rows = list((await session.execute(query.order_by(Contact.address).limit(limit))).all())
    return [ContactRow(*row) for row in rows]


async def window(
    runtime: Runtime,
    account_id: int,
    flt: ContactFilter,
    *,
    after: str | None = None,
    before: str | None = None,
    start: str | None = None,
    limit: int = 50,
) -> list[ContactRow]:
    """``page`` in a read-only session of its own (the console's window of rows)."""
    async with runtime.reads() as session:
        return await page(session, account_id, flt, after=after, before=before, start=start, limit=limit)


async def list_contacts(
    runtime: Runtime, account_id: int, flt: ContactFilter, *, after: str | None = None, limit: int = 50
) -> list[ContactRow]:
    async with runtime.reads() as session:
        return await page(session, account_id, flt, after=after, limit=limit)


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: dt.datetime
    actor: str
    kind: str
    detail: str
    status_from: str | None
    status_to: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "detail": self.detail,
            "status_from": self.status_from,
            "status_to": self.status_to,
        }


@dataclass(frozen=True, slots=True)
class ContactDetail:
    row: ContactRow
    bubble: Bubble
    log: list[LogEntry]
    fields: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        data = self.row.as_json()
        data.update(
            fields=self.fields,
            label=self.bubble.label,
            tooltip=self.bubble.tooltip,
            actions=list(self.bubble.actions),
            log=[entry.as_json() for entry in self.log],
        )
        return data


async def contact_detail(runtime: Runtime, account_id: int, address: str, *, log_limit: int = 200) -> ContactDetail:
    """One contact, its bubble (with the safelist facts) and its newest log entries first."""
    async with runtime.reads() as session:
        contact = await require_contact(session, account_id, address)
        row = ContactRow(
            contact.id, contact.address, contact.name, contact.status, bool(contact.safelisted),
            contact.status_reason, contact.status_since, contact.last_message_at,
            contact.last_message_summary,
        )
        bubble = bubble_for(
            status=contact.status,
            safelisted=bool(contact.safelisted),
            reason=contact.status_reason,
            since=contact.status_since,
            last_message_at=contact.last_message_at,
            last_message_summary=contact.last_message_summary,
            failed_check_since_block=await failed_check_since_block(session, contact),
            pending_request=await pending_request(session, contact) is not None,
        )
        events = (
            await session.execute(
                select(ContactEvent)
                .where(ContactEvent.contact_id == contact.id)
                .order_by(ContactEvent.at.desc(), ContactEvent.id.desc())
                .limit(log_limit)
            )
        ).scalars()
        log = [LogEntry(e.at, e.actor, e.kind, e.detail, e.status_from, e.status_to) for e in events]
        return ContactDetail(row, bubble, log, dict(contact.fields or {}))
