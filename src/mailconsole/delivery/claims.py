"""Claiming work for one server: the cap check, the lease and the reservation in ONE transaction.

A server's speed cap is counted from ``DeliveryAttempt`` rows. Counting and inserting the
'reserved' attempts happen inside the same write transaction, serialised per server:
SQLite takes its single write lock at BEGIN IMMEDIATE (see ``store/db.py``), PostgreSQL locks
the server row ``FOR UPDATE``. So however many workers or engine processes race, the count
every one of them sees already includes the others' reservations: a cap cannot be exceeded.
Messages are taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (ignored by SQLite, which
needs no row locks under its write lock), so several engines share one queue. A server with
``streams`` set (e.g. broadcast only) is only given messages of those streams. An account
with a ``daily_cap`` is given no more than that many messages per rolling day; the rest wait.

Suppression is decided here too: a recipient whose contact is not mailable (blocklisted,
complained, multiple soft bounces, unless safelisted) is never sent to; the message becomes
``suppressed`` with the contact's reason and takes no capacity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.service import canonical_address
from mailconsole.delivery.queue import insert_returning_ids
from mailconsole.domain.contact_status import is_mailable
from mailconsole.domain.ratelimit import allowance, speed_of, window_starts
from mailconsole.runtime import Runtime
from mailconsole.store.models import Account, Contact, DeliveryAttempt, Message, SendingServer

READY_STATES = ("queued", "deferred")
# The same literal text as the partial index ix_messages_ready (store/models.py): with bound
# parameters neither SQLite nor PostgreSQL's generic plans could prove the index applies.
_READY = text("messages.state IN ('queued', 'deferred')")


def _contact_key(recipient: str) -> str:
    """The stored contact address; a fast path for plain ASCII (the common case, per message)."""
    local, at, domain = recipient.rpartition("@")
    if at and local and recipient.isascii() and "@" not in local and " " not in recipient:
        return f"{local}@{domain.lower()}"
    return canonical_address(recipient)


@dataclass(frozen=True)
class ClaimedMessage:
    message_id: int
    attempt_id: int
    server_id: int
    account_id: int
    recipient: str
    envelope_from: str
    stream: str
    tracking: bool
    body_id: int
    attempts: int  # attempts made before this one
    created_at: dt.datetime


@dataclass
class ClaimResult:
    claimed: list[ClaimedMessage] = field(default_factory=list)
    suppressed: list[tuple[int, str]] = field(default_factory=list)
    capped: bool = False  # the speed cap (or smoothing slice) allowed fewer than wanted
    eligible: bool = True  # the server may send (active, healthy) per the database


async def claim_for_server(
    runtime: Runtime,
    server_id: int,
    *,
    want: int,
    owner: str,
    account_ids: Sequence[int],
) -> ClaimResult:
    """Lease up to ``want`` due messages of the given accounts to ``server_id`` and reserve them."""
    out = ClaimResult()
    if want <= 0 or not account_ids:
        return out
    now = runtime.clock.now()
    lease_until = now + dt.timedelta(seconds=runtime.settings.lease_seconds)
    async with runtime.sessions.begin() as session:
        server_q = select(
            SendingServer.active, SendingServer.state, SendingServer.speed_mode, SendingServer.speed_limit,
            SendingServer.streams,
        ).where(SendingServer.id == server_id)
        row = (await session.execute(server_q)).first()
        capped_server = row is not None and not speed_of(row.speed_mode, row.speed_limit).unlimited
        if capped_server and runtime.backend == "postgresql":
            # Only a capped server's claims must take turns (count, then reserve); uncapped
            # servers' claims run side by side across engines. Re-read under the lock.
            row = (await session.execute(server_q.with_for_update())).first()
        if row is None or not row.active or row.state != "healthy":
            out.eligible = False
            return out
        speed = speed_of(row.speed_mode, row.speed_limit)
        n = want
        if not speed.unlimited:
            window_start, slice_start = window_starts(speed, now)
            in_window, in_slice = (
                await session.execute(
                    select(
                        func.count(),
                        func.sum(case((DeliveryAttempt.at > slice_start, 1), else_=0)),
                    ).where(DeliveryAttempt.server_id == server_id, DeliveryAttempt.at > window_start)
                )
            ).one()
            allowed = allowance(speed, int(in_window or 0), int(in_slice or 0))
            assert allowed is not None
            if allowed < want:
                out.capped = True
            n = min(want, allowed)
            if n <= 0:
                return out
        account_room = await _account_room(session, runtime.backend, account_ids, now)
        open_accounts = [a for a in account_ids if account_room.get(a, 1) > 0]
        if not open_accounts:  # every account at its daily cap: its mail waits, untouched
            return out
        msg_q = (
            select(
                Message.id, Message.account_id, Message.recipient, Message.envelope_from, Message.stream,
                Message.tracking, Message.body_id, Message.attempts, Message.created_at,
            )
            .where(
                _READY,
                Message.next_attempt_at <= now,
                Message.account_id.in_(open_accounts),
            )
            .order_by(Message.next_attempt_at, Message.id)
            .limit(n)
        )
        if row.streams:  # a server dedicated to some streams (e.g. broadcast only) gets only those
            msg_q = msg_q.where(Message.stream.in_(list(row.streams)))
        if runtime.backend == "postgresql":
            msg_q = msg_q.with_for_update(skip_locked=True, of=Message)
        rows = (await session.execute(msg_q)).all()
        if not rows:
            return out
        blocked, unsubscribed = await _unmailable(session, [(r.account_id, r.recipient) for r in rows])
        take = []
        for r in rows:
            key = (r.account_id, _contact_key(r.recipient))
            reason = blocked.get(key)
            if reason is None and r.stream == "broadcast" and key in unsubscribed:
                reason = UNSUBSCRIBED_REASON
            if reason is not None:
                out.suppressed.append((r.id, reason))
            else:
                take.append(r)
        if out.suppressed:
            await session.execute(
                update(Message),
                [
                    {"id": mid, "state": "suppressed", "state_reason": reason, "updated_at": now,
                     "lease_owner": None, "lease_until": None}
                    for mid, reason in out.suppressed
                ],
            )
        take = _within_account_caps(take, account_room)
        if not take:
            return out
        # One statement for the lease (same values for every row) and one bulk insert for the
        # reservations: a claim costs a handful of statements whatever its size.
        messages = Message.__table__
        await session.execute(
            update(messages)  # type: ignore[arg-type]
            .where(messages.c.id.in_([r.id for r in take]))
            .values(state="sending", lease_owner=owner, lease_until=lease_until, server_id=server_id, updated_at=now)
        )
        attempt_ids = await insert_returning_ids(session, runtime.backend, DeliveryAttempt, [
            {"message_id": r.id, "server_id": server_id, "at": now, "outcome": "reserved", "text": ""}
            for r in take
        ])
        out.claimed = [
            ClaimedMessage(
                message_id=r.id, attempt_id=attempt_id, server_id=server_id, account_id=r.account_id,
                recipient=r.recipient, envelope_from=r.envelope_from, stream=r.stream, tracking=r.tracking,
                body_id=r.body_id, attempts=r.attempts, created_at=r.created_at,
            )
            for r, attempt_id in zip(take, attempt_ids, strict=True)
        ]
    return out


UNSUBSCRIBED_REASON = "suppressed: recipient unsubscribed from broadcast mail"


async def _account_room(
    session: AsyncSession, backend: str, account_ids: Sequence[int], now: dt.datetime
) -> dict[int, int]:
    """account id -> messages it may still send, for accounts with a daily cap (others absent).

    The cap counts distinct messages attempted in the rolling last 24 hours (reserved attempts
    included), inside the claim's write transaction like the server's cap. PostgreSQL locks
    the capped accounts' rows (after the server row, in id order) so engines claiming for
    different servers cannot overshoot an account's cap together.
    """
    caps_q = (
        select(Account.id, Account.daily_cap)
        .where(Account.id.in_(list(account_ids)), Account.daily_cap.is_not(None))
        .order_by(Account.id)
    )
    if backend == "postgresql":
        caps_q = caps_q.with_for_update()
    caps = (await session.execute(caps_q)).all()
    if not caps:
        return {}
    used_rows = await session.execute(
        select(Message.account_id, func.count(func.distinct(DeliveryAttempt.message_id)))
        .join(Message, Message.id == DeliveryAttempt.message_id)
        .where(Message.account_id.in_([c.id for c in caps]), DeliveryAttempt.at > now - dt.timedelta(days=1))
        .group_by(Message.account_id)
    )
    used = {int(account_id): int(n) for account_id, n in used_rows.all()}
    return {int(c.id): max(0, int(c.daily_cap) - used.get(int(c.id), 0)) for c in caps}


def _within_account_caps(take: list[Any], room: dict[int, int]) -> list[Any]:
    """Keep, in order, only as many messages per capped account as it has room for today."""
    if not room:
        return take
    left = dict(room)
    kept = []
    for r in take:
        if r.account_id in left:
            if left[r.account_id] <= 0:
                continue
            left[r.account_id] -= 1
        kept.append(r)
    return kept


async def _unmailable(
    session: object, pairs: list[tuple[int, str]]
) -> tuple[dict[tuple[int, str], str], set[tuple[int, str]]]:
    """(account, canonical address) -> reason for recipients whose contact must not be mailed at
    all, and the set of those unsubscribed from broadcast (transactional mail still goes)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    by_account: dict[int, set[str]] = {}
    for account_id, recipient in pairs:
        by_account.setdefault(account_id, set()).add(_contact_key(recipient))
    out: dict[tuple[int, str], str] = {}
    unsubscribed: set[tuple[int, str]] = set()
    for account_id, addresses in by_account.items():
        rows = (
            await session.execute(
                select(
                    Contact.address, Contact.status, Contact.safelisted, Contact.status_reason, Contact.unsubscribed_at
                ).where(
                    and_(Contact.account_id == account_id, Contact.address.in_(sorted(addresses)),
                         or_(Contact.status != "active", Contact.unsubscribed_at.is_not(None)))
                )
            )
        ).all()
        for address, status, safelisted, reason, unsubscribed_at in rows:
            if not is_mailable(status, bool(safelisted)):
                out[(account_id, address)] = f"suppressed: contact is {status}" + (f" ({reason})" if reason else "")
            if unsubscribed_at is not None:
                unsubscribed.add((account_id, address))
    return out, unsubscribed


async def release_claims(runtime: Runtime, claimed: Sequence[ClaimedMessage], reason: str) -> None:
    """Give back messages that were claimed but never handed to a transport (engine stopping).

    Their reserved attempts are deleted (nothing was sent, so they must not eat the cap) and
    the messages are due again at once.
    """
    if not claimed:
        return
    now = runtime.clock.now()
    from sqlalchemy import delete

    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(DeliveryAttempt).where(
                DeliveryAttempt.id.in_([c.attempt_id for c in claimed]), DeliveryAttempt.outcome == "reserved"
            )
        )
        await session.execute(
            update(Message)
            .where(Message.id.in_([c.message_id for c in claimed]), Message.state == "sending")
            .values(state="queued", lease_owner=None, lease_until=None, next_attempt_at=now, updated_at=now,
                    state_reason=reason)
            .execution_options(synchronize_session=False)
        )
