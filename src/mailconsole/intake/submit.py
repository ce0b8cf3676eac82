"""The one intake for application mail: the SMTP relay and the HTTP send API both call this.

``submit_message`` applies the per-message policy (``domain.policy``), rewrites the routing
headers, and returns message ids only once the queue transaction has committed, so whoever
calls it can acknowledge (SMTP 250, HTTP 202) knowing the mail is on disk. The rows are
written by ``delivery.queue.write_outgoing`` like every enqueue; ``intake.batcher`` calls it so
that the relay can group-commit many sessions' messages and check key and sandbox inside that
transaction. A refusal is a ``PolicyViolation``; any other exception means "not stored" and
the caller answers with a temporary failure so the application retries.
"""

from __future__ import annotations

from mailconsole.delivery import queue
from mailconsole.domain import policy, wire
from mailconsole.intake import headers, unsubscribe
from mailconsole.intake.batcher import EnqueueBatcher, KeyRevoked, Submission, write_now
from mailconsole.runtime import Runtime
from mailconsole.store.models import ApiKey

__all__ = ["KeyRevoked", "decide", "submit_message"]

def decide(key: ApiKey, raw: bytes, block: headers.HeaderBlock | None = None) -> policy.Decision:
    """The key- and message-only part of the policy (no database), for early refusals."""
    block = block or headers.HeaderBlock.parse(raw)
    return policy.decide(
        scopes=key.scopes,
        allowed_streams=key.allowed_streams,
        stream_header=block.first(policy.STREAM_HEADER),
        tracking_header=block.first(policy.TRACKING_HEADER),
        size=len(raw),
    )


async def submit_message(
    runtime: Runtime,
    key: ApiKey,
    *,
    mail_from: str,
    recipients: list[str],
    raw: bytes,
    batcher: EnqueueBatcher | None = None,
) -> list[int]:
    """Apply the policy, strip routing headers, enqueue; ids are returned after commit.

    Broadcast mail gets RFC 8058 List-Unsubscribe headers naming each recipient, so it is
    stored once per recipient; transactional mail is stored once for all recipients.
    Raises ``PolicyViolation`` for a refusal, ``KeyRevoked`` if the key was revoked since it
    authenticated, ``ValueError`` for no recipients; anything else means "not stored".
    """
    if not recipients:
        raise ValueError("at least one recipient is required")
    raw = wire.normalise_line_endings(raw)
    block = headers.HeaderBlock.parse(raw)
    decision = decide(key, raw, block)
    wire.check_address(mail_from, role=wire.Role.SENDER, smtputf8=True)
    for rcpt in recipients:
        wire.check_address(rcpt, role=wire.Role.RECIPIENT, smtputf8=True)
    wire.check_content(raw, header_end=len(raw) - len(block.body) - len(block.separator))
    # Bcc is envelope-only on every path: a Bcc header would show the hidden recipients to all.
    cleaned = block.without((*policy.ROUTING_HEADERS, "Bcc"))
    per_recipient: list[bytes] = []
    if decision.stream == policy.Stream.BROADCAST.value and cleaned.first("List-Unsubscribe") is None:
        per_recipient = [
            cleaned.to_bytes(add=unsubscribe.headers_for(runtime, account_id=key.account_id, recipient=rcpt))
            for rcpt in recipients
        ]
    message = queue.Outgoing(
        account_id=key.account_id,
        envelope_from=mail_from,
        recipients=list(recipients),
        raw=per_recipient[0] if per_recipient else cleaned.to_bytes(),
        stream=decision.stream,
        tracking=decision.tracking,
        raw_per_recipient=per_recipient,
        subject=None,  # the queue reads it from the header, RFC 2047 words decoded
    )
    item = Submission(key_id=key.id, message=message)
    if batcher is not None:
        return await batcher.submit(item)
    return await write_now(runtime, item)
