"""Recording what happened to claimed messages, many at a time, in one transaction.

For each outcome: the reserved attempt gets its result, the message moves on (sent, deferred
with the retry schedule, failed or expired), the contact hears about bounces (through the
contact service, inside the same transaction) and the server's circuit breaker counts
consecutive failures. Writing a batch per transaction is what lets the engine keep up with
the transports; a caller acknowledges nothing before this commit, so a crash in between
only ever leads to a re-send (at least once), never to a lost message.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.delivery.claims import ClaimedMessage
from mailconsole.domain.replies import Classification, classify_smtp
from mailconsole.domain.results import ResultKind
from mailconsole.domain.retry import next_attempt
from mailconsole.runtime import Runtime
from mailconsole.store.models import DeliveryAttempt, Message, SendingServer
from mailconsole.transports.base import SendResult

_RNG = random.Random()


@dataclass(frozen=True)
class Outcome:
    claimed: ClaimedMessage
    result: SendResult


@dataclass(frozen=True)
class Applied:
    """What recording decided, for events and counters."""

    message_id: int
    server_id: int
    state: str
    reason: str
    counts_as_failure: bool


@dataclass(frozen=True)
class BreakerChange:
    server_id: int
    name: str
    state: str
    reason: str


def classify_result(result: SendResult) -> Classification:
    """The contact effect of a transport's result (transports already set kind and server_fault)."""
    if result.kind is ResultKind.ACCEPTED:
        return Classification(ResultKind.ACCEPTED, "none", False, "accepted")
    if result.smtp_code is not None or result.enhanced_code:
        cls = classify_smtp(result.smtp_code, result.enhanced_code, result.text)
        # The transport's kind wins (an HTTP API's 5xx is transient even if the text says 5.x.x).
        # A server fault never touches the contact; a policy block is kept as what it is (it
        # never reaches the contact either) so the writer can retry it elsewhere.
        effect = cls.effect if cls.effect == "policy_block" or not result.server_fault else "none"
        return Classification(result.kind, effect,
                              result.server_fault or cls.server_fault, cls.reason)
    return Classification(result.kind, "none", result.server_fault, "")


def _label(result: SendResult) -> str:
    """"550 5.1.1 no such user": the code once, then the text (which often repeats the enhanced code)."""
    text = result.text.strip()
    if result.smtp_code is None:
        return f"{result.code_label} {text}".strip()
    if text.startswith(str(result.smtp_code)):
        return text
    if result.enhanced_code and text.startswith(result.enhanced_code):
        return f"{result.smtp_code} {text}"
    return f"{result.code_label} {text}".strip()


async def record_outcomes(
    runtime: Runtime, outcomes: Sequence[Outcome]
) -> tuple[list[Applied], list[BreakerChange]]:
    now = runtime.clock.now()
    settings = runtime.settings
    max_age = dt.timedelta(hours=settings.max_message_age_hours)
    applied: list[Applied] = []
    attempt_rows: list[dict[str, object]] = []
    message_rows: list[dict[str, object]] = []
    contact_calls: list[tuple[ClaimedMessage, str, str]] = []
    failures_by_server: dict[int, list[tuple[bool, str]]] = {}
    local_attempts: list[int] = []
    for item in outcomes:
        c, r = item.claimed, item.result
        cls = classify_result(r)
        attempts = c.attempts + 1
        label = _label(r)[:2000]
        attempt_rows.append({
            "id": c.attempt_id, "outcome": r.kind.value, "smtp_code": r.smtp_code,
            "enhanced_code": r.enhanced_code, "http_status": r.http_status, "text": r.text[:2000],
        })
        row: dict[str, object] = {
            "id": c.message_id, "attempts": attempts, "lease_owner": None, "lease_until": None,
            "last_code": r.code_label[:32], "last_text": r.text[:2000], "updated_at": now,
        }
        # Only what speaks about the server feeds its breaker: a 4xx to one message (greylisting,
        # a full mailbox) is that message's problem, and a local error never reached the server.
        failure = r.counts_against_server
        if r.local_error:
            local_attempts.append(c.attempt_id)
            attempts = c.attempts  # nothing reached a server: not an attempt, not a slot of its cap
            row["attempts"] = attempts
        policy_block = cls.effect == "policy_block" and r.server_fault
        if r.kind is ResultKind.ACCEPTED:
            row.update(state="sent", state_reason="", provider_message_id=r.provider_message_id)
        elif r.kind is ResultKind.PERMANENT and not policy_block:
            row.update(state="failed", state_reason=label)
        else:
            decision = next_attempt(
                now=now, created_at=c.created_at, attempt=attempts, base=settings.retry_base_seconds,
                cap=settings.retry_cap_seconds, max_age=max_age, rng=_RNG,
            )
            if decision.expired:
                row.update(state="failed", state_reason=f"expired after {attempts} attempts: {label}")
            else:
                # A server fault says nothing about the message: retry at once, on another server
                # of the group if this one trips its breaker.
                # A policy/reputation block ("client host blocked using zen.spamhaus.org") is
                # about this server's IP or name: another server of the group may deliver, so the
                # message is never failed for it, only retried (at once) until its maximum age.
                # Only the first block goes again at once: a message every server refuses
                # (content judged as spam) then follows the retry schedule instead of feeding
                # every breaker of the group.
                at = now if r.server_fault and not (policy_block and attempts > 1) else decision.at
                if r.retry_after and not r.server_fault and decision.at is not None:
                    # The server paced us (an ESP's 429 Retry-After): never earlier than it
                    # asked, never later than the message's last chance at its maximum age.
                    asked = now + dt.timedelta(seconds=max(0.0, float(r.retry_after)))
                    at = max(decision.at, min(asked, c.created_at + max_age))
                row.update(state="deferred", next_attempt_at=at, state_reason=label)
        message_rows.append(row)
        if cls.effect in ("hard_bounce", "soft_bounce"):
            contact_calls.append((c, cls.effect, label))
        if not r.local_error:  # the server never saw it: neither a failure nor a success there
            failures_by_server.setdefault(c.server_id, []).append((failure, label))
        applied.append(Applied(c.message_id, c.server_id, str(row["state"]), str(row.get("state_reason", "")), failure))

    changes: list[BreakerChange] = []
    async with runtime.sessions.begin() as session:
        if attempt_rows:
            await _update_by_id(session, DeliveryAttempt, attempt_rows)
            if local_attempts:
                # The reserved cap slot is given back: caps count attempt rows.
                await session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.id.in_(local_attempts)))
            # Never lower attempts: lease recovery may have counted this attempt already (it
            # ended by lease expiry, then finished late) or a newer one on another engine.
            await _update_by_id(session, Message, message_rows, at_least=("attempts",))
        for c, effect, label in contact_calls:
            await record_delivery_outcome(
                runtime, account_id=c.account_id, recipient=c.recipient, effect=effect, reply_text=label,
                message_id=c.message_id, session=session,
            )
        for server_id, seq in failures_by_server.items():
            change = await _breaker(session, runtime, server_id, seq, now)
            if change is not None:
                changes.append(change)
    return applied, changes


async def _update_by_id(
    session: AsyncSession, model: Any, rows: list[dict[str, object]], *, at_least: tuple[str, ...] = ()
) -> None:
    """Core executemany UPDATE … WHERE id = ?, one statement per distinct set of columns;
    columns in ``at_least`` only ever grow (the larger of the stored and the given value)."""
    table = model.__table__
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for row in rows:
        keys = tuple(sorted(k for k in row if k != "id"))
        groups.setdefault(keys, []).append({("b_" + k): v for k, v in row.items()})
    for keys, params in groups.items():
        values: dict[str, Any] = {k: bindparam("b_" + k) for k in keys}
        for k in at_least:
            if k in values:
                values[k] = case((table.c[k] > values[k], table.c[k]), else_=values[k])
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(values)
        await session.execute(stmt, params)


async def _breaker(
    session: AsyncSession, runtime: Runtime, server_id: int, seq: list[tuple[bool, str]], now: dt.datetime
) -> BreakerChange | None:
    """Count consecutive failures; at the threshold the server becomes failing until a probe."""
    if not any(failed for failed, _ in seq):
        # The common case, all accepted: the run of failures ends, whatever it was. One write
        # that touches the row only if it had a run, instead of a read and a write per batch.
        await session.execute(
            update(SendingServer)
            .where(SendingServer.id == server_id, SendingServer.consecutive_failures != 0)
            .values(consecutive_failures=0)
            .execution_options(synchronize_session=False)
        )
        return None
    server = (
        await session.execute(
            select(SendingServer.consecutive_failures, SendingServer.state, SendingServer.name)
            .where(SendingServer.id == server_id)
        )
    ).first()
    if server is None:
        return None
    count = server.consecutive_failures or 0
    last_failure = ""
    for failed, label in seq:
        if failed:
            count += 1
            last_failure = label
        else:
            count = 0
    values: dict[str, object] = {}
    change = None
    if count != (server.consecutive_failures or 0):
        values["consecutive_failures"] = count
    threshold = max(1, runtime.settings.breaker_threshold)
    if count >= threshold and server.state == "healthy":
        reason = f"{count} failures in a row; last: {last_failure}"[:1000]
        values.update(
            state="failing", state_reason=reason,
            next_probe_at=now + dt.timedelta(seconds=runtime.settings.breaker_cooldown_seconds),
        )
        change = BreakerChange(server_id, server.name, "failing", reason)
    if values:
        await session.execute(
            update(SendingServer).where(SendingServer.id == server_id).values(**values)
            .execution_options(synchronize_session=False)
        )
    return change
