"""The daily safelist summary: one email per account and day, never twice.

The ``SafelistSummary`` row (unique per account and day) and the queued message are written in
one transaction, so a crash either sends nothing (and the next run sends it) or both exist
(and the next run sees the row and does nothing). That holds across restarts and processes.

The message is queued through a ``QueueMail`` callable the composition root passes in
(``mailconsole.boot.queue_mail``), so this package does not reach into delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.errors import ContactError
from mailconsole.store.models import (
    Account,
    Contact,
    SafelistRequest,
    SafelistSummary,
)

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


@dataclass(frozen=True)
class Mail:
    """One notification to queue: who it is from and to, and the message."""

    account_id: int
    envelope_from: str
    to: str
    raw: bytes
    subject: str


# Writes ``Mail`` into the queue on the given connection (inside the caller's transaction) at
# the given time and returns the new message's id.
QueueMail = Callable[[Connection, Mail, dt.datetime], int]


@dataclass
class SummaryResult:
    account_id: int
    day: dt.date
    sent: bool
    already_sent: bool
    items: int
    recipient: str
    text: str
    message_id: int | None = None
    lines: list[str] = field(default_factory=list)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


async def _lines(session: AsyncSession, account_id: int, day: dt.date) -> list[str]:
    """Every safelist result of that day: decisions made (auto or manual) and requests still waiting."""
    start, end = _day_bounds(day)
    rows = (
        await session.execute(
            select(SafelistRequest, Contact.address)
            .join(Contact, Contact.id == SafelistRequest.contact_id)
            .where(
                SafelistRequest.account_id == account_id,
                or_(
                    and_(SafelistRequest.decided_at >= start, SafelistRequest.decided_at < end),
                    and_(
                        SafelistRequest.state == "pending",
                        SafelistRequest.requested_at >= start,
                        SafelistRequest.requested_at < end,
                    ),
                ),
            )
            .order_by(SafelistRequest.id)
        )
    ).all()
    out = []
    for req, address in rows:
        if req.state == "pending":
            verdict = "waiting for review"
        elif req.auto:
            verdict = "approved automatically"
        else:
            verdict = f"{req.state} by {req.decided_by}" + (f" ({req.note})" if req.note else "")
        out.append(f"#{req.id} {address}: {verdict} (requested by {req.requested_by})")
    return out


def _render(runtime: Runtime, account: Account, day: dt.date, lines: list[str], to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = runtime.settings.notification_from
    msg["To"] = to
    msg["Subject"] = f"Safelist summary for {account.name} on {day.isoformat()}: {len(lines)} result(s)"
    msg["Date"] = format_datetime(runtime.clock.now())
    msg["Message-ID"] = make_msgid(domain=runtime.settings.notification_from.rpartition("@")[2] or None)
    body = [f"Safelist results for account {account.name} on {day.isoformat()} (UTC):", ""]
    body += [f"- {line}" for line in lines]
    msg.set_content("\n".join(body) + "\n")
    return msg.as_bytes()


async def send_summary(
    runtime: Runtime, *, account_id: int, day: dt.date, queue_mail: QueueMail, preview: bool = False
) -> SummaryResult:
    """Queue (or, with ``preview``, only render) the account's summary for ``day``."""
    now = runtime.clock.now()
    try:
        async with runtime.sessions.begin() as session:
            account = await session.get(Account, account_id)
            if account is None:
                raise ContactError(f"no account #{account_id}")
            to = account.notification_email or runtime.settings.notification_to
            done = (
                await session.execute(
                    select(SafelistSummary).where(
                        SafelistSummary.account_id == account_id, SafelistSummary.day == day
                    )
                )
            ).scalar_one_or_none()
            lines = await _lines(session, account_id, day)
            raw = _render(runtime, account, day, lines, to or "(no recipient set)")
            text = raw.decode("utf-8", "replace")
            result = SummaryResult(account_id, day, False, done is not None, len(lines), to, text, lines=lines)
            if preview or done is not None or not lines:
                return result
            if not to:
                raise ContactError(
                    f"no recipient for account {account.name}'s summary: set its notification email "
                    "or MAILCONSOLE_NOTIFICATION_TO"
                )
            mail = Mail(account_id, runtime.settings.notification_from, to, raw,
                        subject=f"Safelist summary {day.isoformat()}")
            message_id = await session.run_sync(
                lambda sync_session: queue_mail(sync_session.connection(), mail, now)
            )
            session.add(SafelistSummary(account_id=account_id, day=day, sent_at=now,
                                        message_id=message_id, items=len(lines)))
            await session.flush()
            result.sent = True
            result.message_id = message_id
            return result
    except IntegrityError:
        # Another process queued this day's summary first; ours was rolled back with its message.
        return SummaryResult(account_id, day, False, True, 0, "", "")


async def send_due_summaries(runtime: Runtime, *, queue_mail: QueueMail) -> list[SummaryResult]:
    """Send yesterday's summaries for every account (run periodically by a long-lived process)."""
    yesterday = (runtime.clock.now() - dt.timedelta(days=1)).date()
    async with runtime.sessions() as session:
        ids = list((await session.execute(select(Account.id).order_by(Account.id))).scalars())
    results = []
    for account_id in ids:
        try:
            results.append(await send_summary(runtime, account_id=account_id, day=yesterday,
                                              queue_mail=queue_mail))
        except ContactError:
            continue  # no recipient configured: nothing to send to
    return results
