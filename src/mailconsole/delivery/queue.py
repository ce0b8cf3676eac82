"""The durable queue: enqueue (one transaction per batch), then the engine claims with leases.

``enqueue`` returns only after the transaction commits, so a caller that acknowledges on
its return (SMTP 250, HTTP 202) never acknowledges a message that is not on disk.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.domain.roles import Actor, Permission
from mailconsole.runtime import Runtime
from mailconsole.store import audit
from mailconsole.store.models import DeliveryAttempt, Message, MessageBody, SendingServer

_BODIES = cast(Table, MessageBody.__table__)
_MESSAGES = cast(Table, Message.__table__)
_SUBJECT_RE = re.compile(rb"^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def _subject_of(raw: bytes) -> str:
    """The decoded Subject header, cheaply (this runs for every message enqueued)."""
    try:
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        match = _SUBJECT_RE.search(head)
        if match is None:
            return ""
        value = re.sub(rb"\r?\n[ \t]", b" ", match.group(1)).decode("utf-8", "replace").strip()
        if "=?" in value:
            value = str(make_header(decode_header(value)))
        return value[:300]
    except Exception:  # a broken header must not stop the enqueue; the subject is cosmetic
        return ""


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: raw MIME for one or more recipients.

    ``raw_per_recipient`` gives each recipient a body of its own (broadcast mail with a
    personal unsubscribe link); otherwise ``raw`` is stored once and shared.
    """

    account_id: int
    envelope_from: str
    recipients: Sequence[str]
    raw: bytes
    stream: str = "transactional"
    tracking: bool = False
    raw_per_recipient: Sequence[bytes] = ()
    subject: str | None = None  # None: read from the Subject header

    def bodies(self) -> Sequence[bytes]:
        return self.raw_per_recipient or (self.raw,)


def insert_ids(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert and return the new ids in row order.

    SQLite: the transaction holds the database's only write lock (BEGIN IMMEDIATE), so ids
    after the current maximum are ours; assigning them lets one ``executemany`` do the work
    (SQLite cannot return ids in parameter order from a multi-row insert, which would make
    SQLAlchemy fall back to one statement per row). PostgreSQL: ordered RETURNING.
    """
    if not rows:
        return []
    if connection.dialect.name == "sqlite":
        start = int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        ids = list(range(start, start + len(rows)))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        connection.execute(insert(table), rows)
        return ids
    result = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [int(i) for i in result.scalars()]


async def insert_returning_ids(
    session: AsyncSession, backend: str, model: Any, rows: list[dict[str, Any]]
) -> list[int]:
    """``insert_ids`` inside an async session's transaction (the engine's claims)."""
    table = cast(Table, model.__table__)
    return await session.run_sync(lambda sync_session: insert_ids(sync_session.connection(), table, rows))


def write_outgoing(connection: Connection, items: Sequence[Outgoing], now: dt.datetime) -> list[list[int]]:
    """Insert the bodies and queued rows of ``items`` in the caller's transaction; ids per item.

    The one writer of new queue rows: ``enqueue``/``enqueue_many`` call it through the async
    engine, the relay's and the API's group commit on the SQLite writer thread. Synchronous
    Core, so a whole batch is a handful of statements whatever its size.
    """
    for item in items:
        if not item.recipients:
            raise ValueError("at least one recipient is required")
        if item.raw_per_recipient and len(item.raw_per_recipient) != len(item.recipients):
            raise ValueError("raw_per_recipient needs one body per recipient")
    body_rows = [{"raw": raw, "size": len(raw), "created_at": now} for item in items for raw in item.bodies()]
    body_ids = insert_ids(connection, _BODIES, body_rows)
    message_rows: list[dict[str, Any]] = []
    cursor = 0
    for item in items:
        bodies = body_ids[cursor : cursor + len(item.bodies())]
        cursor += len(bodies)
        subject = item.subject if item.subject is not None else _subject_of(item.raw)
        for i, rcpt in enumerate(item.recipients):
            message_rows.append(
                {
                    "account_id": item.account_id, "stream": item.stream, "tracking": item.tracking,
                    "envelope_from": item.envelope_from, "recipient": rcpt, "subject": subject[:300],
                    "body_id": bodies[i] if len(bodies) > 1 else bodies[0], "state": "queued", "attempts": 0,
                    "next_attempt_at": now, "created_at": now, "updated_at": now, "state_reason": "",
                    "last_code": "", "last_text": "",
                }
            )
    ids = insert_ids(connection, _MESSAGES, message_rows)
    out: list[list[int]] = []
    position = 0
    for item in items:
        out.append(ids[position : position + len(item.recipients)])
        position += len(item.recipients)
    return out


async def enqueue_many(runtime: Runtime, items: Sequence[Outgoing]) -> list[list[int]]:
    """Store many messages in ONE transaction (bulk inserts); return the ids per item.

    For importers and benchmarks that hand over thousands at a time: one commit per batch
    instead of one per message, which is what makes a durable queue keep up.
    """
    if not items:
        return []
    now = runtime.clock.now()
    async with runtime.engine.begin() as connection:
        return await connection.run_sync(write_outgoing, items, now)


async def enqueue(
    runtime: Runtime,
    *,
    account_id: int,
    envelope_from: str,
    recipients: Sequence[str],
    raw: bytes,
    stream: str = "transactional",
    tracking: bool = False,
) -> list[int]:
    """Store one message for each recipient (raw MIME stored once) and commit; return ids."""
    item = Outgoing(account_id, envelope_from, list(recipients), raw, stream=stream, tracking=tracking)
    [ids] = await enqueue_many(runtime, [item])
    return ids


# --- reading the queue (console, CLI, API) -----------------------------------------------

MESSAGE_STATES: tuple[str, ...] = (
    "queued", "sending", "deferred", "held", "sent", "failed", "cancelled", "suppressed",
)


@dataclass(frozen=True)
class MessageRow:
    id: int
    account_id: int
    state: str
    state_reason: str
    stream: str
    envelope_from: str
    recipient: str
    subject: str
    attempts: int
    next_attempt_at: dt.datetime | None
    server_id: int | None
    server_name: str
    last_code: str
    last_text: str
    provider_message_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class AttemptRow:
    id: int
    at: dt.datetime
    server_id: int | None
    server_name: str
    outcome: str
    smtp_code: int | None
    enhanced_code: str | None
    http_status: int | None
    text: str


@dataclass(frozen=True)
class MessageDetail:
    message: MessageRow
    attempts: list[AttemptRow]
    size: int
    tracking: bool


def _row(msg: Message, server_name: str | None) -> MessageRow:
    return MessageRow(
        id=msg.id,
        account_id=msg.account_id,
        state=msg.state,
        state_reason=msg.state_reason,
        stream=msg.stream,
        envelope_from=msg.envelope_from,
        recipient=msg.recipient,
        subject=msg.subject,
        attempts=msg.attempts,
        next_attempt_at=msg.next_attempt_at if msg.state in ("queued", "deferred") else None,
        server_id=msg.server_id,
        server_name=server_name or "",
        last_code=msg.last_code,
        last_text=msg.last_text,
        provider_message_id=msg.provider_message_id,
        created_at=msg.created_at,
        updated_at=msg.updated_at,
    )


async def list_messages(
    runtime: Runtime,
    *,
    state: str | None = None,
    search: str | None = None,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[MessageRow]:
    """One page of messages, newest first, by keyset pagination on id.

    The list order is id descending. ``after_id`` (the last id of the current page) gives the
    next, older page; ``before_id`` (the first id of the current page) gives the previous,
    newer page, still returned newest first. Cost is one index range scan whatever the
    queue's size. ``search`` matches recipient, sender or subject (substring, case-insensitive).
    """
    limit = max(1, min(int(limit), 1000))
    stmt = select(Message, SendingServer.name).outerjoin(SendingServer, SendingServer.id == Message.server_id)
    if state:
        stmt = stmt.where(Message.state == state)
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Message.recipient).like(pattern),
                func.lower(Message.envelope_from).like(pattern),
                func.lower(Message.subject).like(pattern),
            )
        )
    if before_id is not None:
        stmt = stmt.where(Message.id > before_id).order_by(Message.id.asc()).limit(limit)
    else:
        if after_id is not None:
            stmt = stmt.where(Message.id < after_id)
        stmt = stmt.order_by(Message.id.desc()).limit(limit)
    async with runtime.reads() as session:
        rows = [_row(msg, name) for msg, name in (await session.execute(stmt)).all()]
    if before_id is not None:
        rows.reverse()
    return rows


async def counts_by_state(runtime: Runtime) -> dict[str, int]:
    """Number of messages in each state (every known state present, zero when empty)."""
    out = dict.fromkeys(MESSAGE_STATES, 0)
    async with runtime.reads() as session:
        for state, count in (await session.execute(select(Message.state, func.count()).group_by(Message.state))).all():
            out[state] = int(count)
    return out


async def message_detail(runtime: Runtime, message_id: int) -> MessageDetail | None:
    """A message with every attempt (oldest first), or None when there is no such message."""
    async with runtime.reads() as session:
        found = (
            await session.execute(
                select(Message, SendingServer.name)
                .outerjoin(SendingServer, SendingServer.id == Message.server_id)
                .where(Message.id == message_id)
            )
        ).first()
        if found is None:
            return None
        msg, server_name = found
        size = (await session.execute(select(MessageBody.size).where(MessageBody.id == msg.body_id))).scalar_one()
        attempts = (
            await session.execute(
                select(DeliveryAttempt, SendingServer.name)
                .outerjoin(SendingServer, SendingServer.id == DeliveryAttempt.server_id)
                .where(DeliveryAttempt.message_id == message_id)
                .order_by(DeliveryAttempt.id)
            )
        ).all()
    return MessageDetail(
        message=_row(msg, server_name),
        attempts=[
            AttemptRow(
                a.id, a.at, a.server_id, name or "", a.outcome, a.smtp_code, a.enhanced_code, a.http_status, a.text
            )
            for a, name in attempts
        ],
        size=int(size),
        tracking=msg.tracking,
    )


# --- operator actions ----------------------------------------------------------------------

# action -> (states it applies to, new state)
_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "hold": (("queued", "deferred"), "held"),
    "release": (("held",), "queued"),
    "retry": (("deferred", "held", "failed", "queued"), "queued"),
    "cancel": (("queued", "deferred", "held"), "cancelled"),
}


async def _operator_action(runtime: Runtime, action: str, ids: Sequence[int], actor: Actor) -> int:
    """Move the given messages that are in an allowed state; audit the action; return the count.

    Needs ``Permission.QUEUE_ACTION``; the audit row is written in the same transaction.

    A message currently being sent (``sending``) is never touched: its outcome is decided by
    the engine holding the lease, and an operator action must not race it.
    """
    actor.require(Permission.QUEUE_ACTION)
    ids = [int(i) for i in ids]
    if not ids:
        return 0
    allowed, new_state = _ACTIONS[action]
    now = runtime.clock.now()
    values: dict[str, object] = {"state": new_state, "updated_at": now, "state_reason": f"{action} by {actor.label}"}
    if new_state == "queued":
        values["next_attempt_at"] = now
    async with runtime.sessions.begin() as session:
        result = await session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.state.in_(allowed))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
        audit.record(session, runtime.clock, actor, f"queue.{action}", f"{changed} of {len(ids)}: {_id_list(ids)}")
    return changed


def _id_list(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return shown + (f" … (+{len(ids) - 20})" if len(ids) > 20 else "")


async def hold(runtime: Runtime, ids: Sequence[int], actor: Actor) -> int:
    """Keep queued or deferred messages from being sent until released."""
    return await _operator_action(runtime, "hold", ids, actor)


async def release(runtime: Runtime, ids: Sequence[int], actor: Actor) -> int:
    """Put held messages back in the queue, due now."""
    return await _operator_action(runtime, "release", ids, actor)


async def retry_now(runtime: Runtime, ids: Sequence[int], actor: Actor) -> int:
    """Make deferred, held or failed messages due now (the retry schedule starts from here)."""
    return await _operator_action(runtime, "retry", ids, actor)


async def cancel(runtime: Runtime, ids: Sequence[int], actor: Actor) -> int:
    """Cancel messages that have not been sent; they are kept, marked cancelled."""
    return await _operator_action(runtime, "cancel", ids, actor)


async def recover_leases(runtime: Runtime, *, keep: Collection[int] = ()) -> int:
    """Messages whose lease expired (their engine died mid-send) go back to the queue.

    ``keep``: messages the calling engine still holds (claimed, not yet recorded); never
    re-queued however old their lease, since their send may still be running here.

    The attempt that was reserved for them stays counted against the server's cap (we cannot
    know whether the receiver got the message), is marked with what happened, and counts in
    the message's ``attempts``: an attempt that ended by lease expiry is an attempt.
    """
    now = runtime.clock.now()
    kept = set(keep)
    async with runtime.sessions.begin() as session:
        expired = (
            await session.execute(
                select(Message.id).where(Message.state == "sending", Message.lease_until < now)
            )
        ).scalars().all()
        stale = [mid for mid in expired if mid not in kept]
        if not stale:
            return 0
        for chunk_start in range(0, len(stale), 500):
            chunk = stale[chunk_start:chunk_start + 500]
            await session.execute(
                update(DeliveryAttempt)
                .where(DeliveryAttempt.message_id.in_(chunk), DeliveryAttempt.outcome == "reserved")
                .values(outcome="transient", text=LEASE_EXPIRED_TEXT)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(Message)
                .where(Message.id.in_(chunk), Message.state == "sending", Message.lease_until < now)
                .values(
                    state="queued", lease_owner=None, lease_until=None, next_attempt_at=now, updated_at=now,
                    state_reason="lease expired; queued again", attempts=Message.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
    return len(stale)


LEASE_EXPIRED_TEXT = "lease expired: the engine holding the message stopped or lost the database during the send"
