"""The durable queue: enqueue (one transaction per batch), then the engine claims with leases.

``enqueue`` returns only after the transaction commits, so a caller that acknowledges on
its return (SMTP 250, HTTP 202) never acknowledges a message that is not on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from mailconsole.runtime import Runtime
from mailconsole.store.models import Message, MessageBody


def _subject_of(raw: bytes) -> str:
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        return str(headers.get("Subject", ""))[:300]
    except Exception:  # a broken header must not stop the enqueue; the subject is cosmetic
        return ""


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
    if not recipients:
        raise ValueError("at least one recipient is required")
    now = runtime.clock.now()
    subject = _subject_of(raw)
    async with runtime.sessions.begin() as session:
        body = MessageBody(raw=raw, size=len(raw), created_at=now)
        session.add(body)
        await session.flush()
        rows = [
            Message(
                account_id=account_id,
                stream=stream,
                tracking=tracking,
                envelope_from=envelope_from,
                recipient=rcpt,
                subject=subject,
                body_id=body.id,
                state="queued",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for rcpt in recipients
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]
