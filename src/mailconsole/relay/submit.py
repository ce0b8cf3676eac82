"""The one intake for application mail: the SMTP relay and the HTTP send API both call this.

``submit_message`` applies the per-message policy (``domain.policy``), rewrites the routing
headers, and returns message ids only once the queue transaction has committed, so whoever
calls it can acknowledge (SMTP 250, HTTP 202) knowing the mail is on disk. A refusal is a
``PolicyViolation``; any other exception means "not stored" and the caller answers with a
temporary failure so the application retries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select

from mailconsole.delivery.queue import enqueue
from mailconsole.domain import policy
from mailconsole.relay import headers, unsubscribe
from mailconsole.relay.keys import is_revoked
from mailconsole.runtime import Runtime
from mailconsole.store.models import Account, ApiKey, Message, MessageBody

REVOKED_TEXT = "this API key has been revoked"


class KeyRevoked(Exception):
    """The key was revoked after it authenticated (e.g. mid SMTP session)."""


async def _sent_today(runtime: Runtime, account_id: int) -> int:
    now = runtime.clock.now()
    start = dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count(Message.id)).where(Message.account_id == account_id, Message.created_at >= start)
        )
        return int(count or 0)


async def check_account(runtime: Runtime, key: ApiKey, recipients: Sequence[str]) -> None:
    """Sandbox rules for the key's account (the only policy step that needs the database).

    The count and the enqueue are separate transactions, so two concurrent sessions may pass
    the cap by at most their own batch; a sandbox cap is a guard rail, not a billing meter.
    """
    async with runtime.sessions() as session:
        account = await session.get(Account, key.account_id)
    if account is None or not account.sandbox:
        return
    policy.check_sandbox(
        sandbox=True,
        daily_cap=account.sandbox_daily_cap,
        sent_today=await _sent_today(runtime, account.id),
        allowlist=list(account.sandbox_allowlist or []),
        recipients=recipients,
    )


def decide(key: ApiKey, raw: bytes) -> policy.Decision:
    """The key- and message-only part of the policy (no database), for early refusals."""
    return policy.decide(
        scopes=key.scopes,
        allowed_streams=key.allowed_streams,
        stream_header=headers.first_header(raw, policy.STREAM_HEADER),
        tracking_header=headers.first_header(raw, policy.TRACKING_HEADER),
        size=len(raw),
    )


async def _enqueue_broadcast(
    runtime: Runtime, key: ApiKey, *, mail_from: str, recipients: Sequence[str], raw: bytes, tracking: bool
) -> list[int]:
    """Broadcast: one body per recipient (each carries its own unsubscribe link), one commit."""
    now = runtime.clock.now()
    subject = (headers.first_header(raw, "Subject") or "")[:300]
    async with runtime.sessions.begin() as session:
        rows: list[Message] = []
        for rcpt in recipients:
            extra = unsubscribe.headers_for(runtime, account_id=key.account_id, recipient=rcpt)
            body_raw = headers.rewrite(raw, remove=(), add=extra)
            body = MessageBody(raw=body_raw, size=len(body_raw), created_at=now)
            session.add(body)
            await session.flush()
            row = Message(
                account_id=key.account_id,
                stream=policy.Stream.BROADCAST.value,
                tracking=tracking,
                envelope_from=mail_from,
                recipient=rcpt,
                subject=subject,
                body_id=body.id,
                state="queued",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            rows.append(row)
        await session.flush()
        return [row.id for row in rows]


async def submit_message(
    runtime: Runtime, key: ApiKey, *, mail_from: str, recipients: list[str], raw: bytes
) -> list[int]:
    """Apply the policy, strip routing headers, enqueue; ids are returned after commit.

    Raises ``PolicyViolation`` for a refusal, ``KeyRevoked`` if the key was revoked since it
    authenticated, ``ValueError`` for no recipients.
    """
    if not recipients:
        raise ValueError("at least one recipient is required")
    decision = decide(key, raw)
    if await is_revoked(runtime, key.id):
        raise KeyRevoked(REVOKED_TEXT)
    await check_account(runtime, key, recipients)
    cleaned = headers.rewrite(raw, remove=policy.ROUTING_HEADERS)
    if decision.stream == policy.Stream.BROADCAST.value and not headers.header_values(cleaned, "List-Unsubscribe"):
        return await _enqueue_broadcast(
            runtime, key, mail_from=mail_from, recipients=recipients, raw=cleaned, tracking=decision.tracking
        )
    return await enqueue(
        runtime,
        account_id=key.account_id,
        envelope_from=mail_from,
        recipients=recipients,
        raw=cleaned,
        stream=decision.stream,
        tracking=decision.tracking,
    )
