"""Feedback in, contacts changed: the one place that turns a report into a FeedbackEvent
row and a contact outcome.

Two dedup layers, on purpose:
- the FeedbackEvent ``dedup_key`` is per source report (a retried webhook, a mailbox item
  read twice) so each report is logged once;
- the contact ``dedup_key`` is per message and effect (or provider message id), so a DSN
  and an ESP webhook about the same bounce both appear in the log but change the contact once.
Both rows are written in one transaction with the contact change.

A report that came to a VERP address of ours whose tag does not verify (``feedback/verp.py``)
is logged with outcome ``forged_verp: …`` and counted, and changes no contact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.service import canonical_address, find_contact, record_delivery_outcome
from mailconsole.contacts.unsubscribe import unsubscribe
from mailconsole.feedback import metrics, verp
from mailconsole.feedback.classify import effect_for
from mailconsole.feedback.model import FeedbackReport, ParsedMail
from mailconsole.store.bootstrap import DEFAULT_ACCOUNT
from mailconsole.store.models import Account, ContactEvent, FeedbackEvent, Message, UnparsedMail

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class RecordResult:
    event_id: int | None  # None when the report was a duplicate
    outcome: str  # the effect applied, "duplicate", or why the contact was not changed
    duplicate: bool
    contact_id: int | None = None
    message_id: int | None = None
    forged: bool = False  # refused for a forged VERP address: logged, no contact changed


def _key(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:48]
    return f"{prefix}:{digest}"


async def _find_message(session: AsyncSession, report: FeedbackReport) -> Message | None:
    if report.message_id is not None:
        message = await session.get(Message, report.message_id)
        if message is not None:
            return message
    if report.provider_message_id:
        bare = report.provider_message_id.strip().strip("<>")
        variants = {report.provider_message_id, bare, f"<{bare}>"}  # ESPs differ on the brackets
        rows = (
            await session.execute(
                select(Message)
                .where(Message.provider_message_id.in_(variants))
                .order_by(Message.id)
                .limit(50)
            )
        ).scalars().all()
        wanted = report.recipient.strip().lower()
        for message in rows:
            if message.recipient.lower() == wanted:
                return message
        if len(rows) == 1:
            return rows[0]
    return None


async def _default_account(session: AsyncSession) -> int:
    return int((await session.execute(select(Account.id).where(Account.name == DEFAULT_ACCOUNT))).scalar_one())


async def record_report(runtime: Runtime, report: FeedbackReport) -> RecordResult:
    """Log one report and apply its effect to the contact, once."""
    effect = report.effect or effect_for(report.kind, report.status, report.diagnostic)
    event_key = _key(report.source, report.event_key or "", report.recipient.lower(), report.kind)
    try:
        async with runtime.sessions.begin() as session:
            seen = (
                await session.execute(select(FeedbackEvent.id).where(FeedbackEvent.dedup_key == event_key))
            ).first()
            if seen is not None:
                metrics.FEEDBACK_DUPLICATES.labels(report.source).inc()
                return RecordResult(None, "duplicate", True)
            if report.forged_verp:
                result = await _log_forged(runtime, session, report, event_key)
                metrics.FORGED_VERP.labels(report.forged_verp).inc()
                return result
            message = await _find_message(session, report)
            recipient = message.recipient if message is not None else report.recipient
            account_id = message.account_id if message is not None else await _default_account(session)
            if message is not None:
                contact_key = _key("fb", "m", message.id, effect)
            elif report.provider_message_id:
                contact_key = _key("fb", "p", report.provider_message_id, recipient.lower(), effect)
            else:
                contact_key = _key("fb", "e", event_key, effect)
            already = (
                await session.execute(select(ContactEvent.id).where(ContactEvent.dedup_key == contact_key))
            ).first()
            reply_text = report.diagnostic or report.status or report.kind
            if already is not None:
                outcome = f"{effect} (already recorded from another report)"
            elif effect in ("none", "policy_block"):
                outcome = f"{effect} (contact unchanged)"
            else:
                outcome = effect
            if effect == "unsubscribe":
                # Like our RFC 8058 link: broadcast stops, transactional mail still arrives.
                changed = await unsubscribe(
                    runtime, account_id=account_id, recipient=recipient, actor=f"feedback:{report.source}",
                    detail=f"unsubscribed at the provider ({reply_text}): no more broadcast mail",
                    session=session,
                )
                outcome = "unsubscribed (broadcast)" if changed else "unsubscribed (already)"
            elif already is None and effect != "none":
                await record_delivery_outcome(
                    runtime,
                    account_id=account_id,
                    recipient=recipient,
                    effect=effect,
                    reply_text=reply_text,
                    message_id=message.id if message is not None else None,
                    actor=f"feedback:{report.source}",
                    dedup_key=contact_key,
                    session=session,
                )
            contact = await find_contact(session, account_id, canonical_address(recipient))
            row = _event_row(
                runtime, report, event_key, outcome, recipient=recipient,
                contact_id=contact.id if contact is not None else None,
                message_id=message.id if message is not None else None,
            )
            session.add(row)
            await session.flush()
            result = RecordResult(row.id, outcome, False, row.contact_id, row.message_id)
    except IntegrityError:  # a concurrent delivery of the same report won the race
        metrics.FEEDBACK_DUPLICATES.labels(report.source).inc()
        return RecordResult(None, "duplicate", True)
    metrics.FEEDBACK_EVENTS.labels(report.source, report.kind).inc()
    return result


def _event_row(
    runtime: Runtime,
    report: FeedbackReport,
    event_key: str,
    outcome: str,
    *,
    recipient: str,
    contact_id: int | None = None,
    message_id: int | None = None,
) -> FeedbackEvent:
    """The feedback log row, each text cut to its column."""
    return FeedbackEvent(
        at=runtime.clock.now(),
        source=report.source,
        kind=report.kind,
        recipient=recipient[:320],
        contact_id=contact_id,
        message_id=message_id,
        status_code=report.status[:32],
        detail=report.diagnostic[:2000],
        outcome=outcome[:60],
        dedup_key=event_key,
    )


async def _log_forged(runtime: Runtime, session: AsyncSession, report: FeedbackReport, event_key: str) -> RecordResult:
    """The log row of a report refused for its VERP address: no message, no contact, no change."""
    outcome = f"forged_verp: {report.forged_verp} (contact unchanged)"
    log.warning(
        "%s report about %s ignored: its VERP address did not verify (%s)",
        report.source, report.recipient, report.forged_verp,
    )
    row = _event_row(runtime, report, event_key, outcome, recipient=report.recipient)
    session.add(row)
    await session.flush()
    return RecordResult(row.id, outcome, False, forged=True)


def reports_from_mail(
    parsed: ParsedMail, *, item_key: str, verp_key: bytes, bounce_domain: str = ""
) -> list[FeedbackReport]:
    """One FeedbackReport per recipient of a parsed mailbox item, with the verified VERP message id.

    A VERP address of ours that does not verify marks every report of the item forged.
    """
    checked = verp.check(parsed.envelope_candidates, bounce_domain or None, verp_key)
    message_id = checked.message_id
    source = "arf" if parsed.format == "arf" else "dsn"
    return [
        FeedbackReport(
            source=source,
            kind=r.kind,
            recipient=r.recipient,
            status=r.status,
            diagnostic=r.diagnostic,
            # A multi-recipient DSN without VERP must not pin every line on one message.
            message_id=message_id if len(parsed.recipients) == 1 else None,
            event_key=item_key,
            forged_verp=checked.forged,
        )
        for r in parsed.recipients
    ]


async def keep_unparsed(runtime: Runtime, *, source: str, reason: str, raw: bytes) -> int | None:
    """Store an item we could not parse (once per mailbox and content); returns its row id."""
    digest = hashlib.sha256(raw).hexdigest()[:16]
    label = f"{source} #{digest}"[:200]
    async with runtime.sessions.begin() as session:
        existing = (await session.execute(select(UnparsedMail.id).where(UnparsedMail.source == label))).first()
        if existing is not None:
            return None
        row = UnparsedMail(at=runtime.clock.now(), source=label, reason=reason[:2000], raw=raw)
        session.add(row)
        await session.flush()
        metrics.UNPARSED_MAIL.labels(source).inc()
        return row.id


# --- queries for the console and the CLI ---------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """What the Events pane and CLI narrow the log by: ``source:ses kind:bounce alice@``."""

    source: str = ""
    kind: str = ""
    recipient_prefix: str = ""

    @classmethod
    def parse(cls, text: str) -> EventFilter:
        source = kind = prefix = ""
        for word in text.split():
            key, sep, value = word.partition(":")
            if sep and key == "source":
                source = value.lower()
            elif sep and key == "kind":
                kind = value.lower()
            else:
                prefix = word
        return cls(source, kind, prefix)

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.source:
            query = query.where(FeedbackEvent.source == self.source)
        if self.kind:
            query = query.where(FeedbackEvent.kind == self.kind)
        if self.recipient_prefix:
            escaped = self.recipient_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(FeedbackEvent.recipient.like(escaped + "%", escape="\\"))
        return query


@dataclass(frozen=True, slots=True)
class FeedbackEventView:
    """One row of the feedback log as the console and CLI show it (no ORM row leaves here)."""

    id: int
    at: dt.datetime
    source: str
    kind: str
    recipient: str
    contact_id: int | None
    message_id: int | None
    status_code: str
    detail: str
    outcome: str

    @classmethod
    def of(cls, row: FeedbackEvent) -> FeedbackEventView:
        return cls(row.id, row.at, row.source, row.kind, row.recipient, row.contact_id, row.message_id,
                   row.status_code or "", row.detail or "", row.outcome or "")


@dataclass(frozen=True, slots=True)
class UnparsedView:
    """A kept bounce-mailbox item we could not parse."""

    id: int
    at: dt.datetime
    source: str
    reason: str
    raw: bytes

    @classmethod
    def of(cls, row: UnparsedMail) -> UnparsedView:
        return cls(row.id, row.at, row.source, row.reason, row.raw)


async def recent_events(
    runtime: Runtime, *, before_id: int | None = None, limit: int = 100, flt: EventFilter | None = None
) -> list[FeedbackEventView]:
    """Newest first, keyset-paginated by id: a window, never the whole table."""
    query = select(FeedbackEvent).order_by(FeedbackEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(FeedbackEvent.id < before_id)
    query = (flt or EventFilter()).apply(query)
    async with runtime.sessions() as session:
        return [FeedbackEventView.of(r) for r in (await session.execute(query)).scalars().all()]


async def events_after(
    runtime: Runtime, after_id: int, *, limit: int = 200, flt: EventFilter | None = None
) -> list[FeedbackEventView]:
    """Events newer than the last one shown, oldest first (for a live log)."""
    query = select(FeedbackEvent).where(FeedbackEvent.id > after_id).order_by(FeedbackEvent.id).limit(limit)
    query = (flt or EventFilter()).apply(query)
    async with runtime.sessions() as session:
        return [FeedbackEventView.of(r) for r in (await session.execute(query)).scalars().all()]


async def unparsed_items(
    runtime: Runtime, *, before_id: int | None = None, limit: int = 100
) -> list[UnparsedView]:
    query = select(UnparsedMail).order_by(UnparsedMail.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(UnparsedMail.id < before_id)
    async with runtime.sessions() as session:
        return [UnparsedView.of(r) for r in (await session.execute(query)).scalars().all()]


async def unparsed_item(runtime: Runtime, item_id: int) -> UnparsedView | None:
    async with runtime.sessions() as session:
        row = await session.get(UnparsedMail, item_id)
        return UnparsedView.of(row) if row is not None else None


async def unparsed_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count(UnparsedMail.id)))).scalar_one())
