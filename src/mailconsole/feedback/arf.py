"""RFC 5965 Abuse Reporting Format: a mailbox provider telling us a recipient hit "spam".

Feedback-Type ``abuse`` is a spam complaint; the other types (fraud, virus, not-spam,
auth-failure, other) are read but have no effect on the contact.
"""

from __future__ import annotations

from mailconsole.feedback import mime
from mailconsole.feedback.model import ParsedMail, RecipientReport

COMPLAINT_TYPES = frozenset({"abuse"})


def find_report(msg: mime.Message) -> mime.Message | None:
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            return part
    return None


def parse(msg: mime.Message) -> ParsedMail | None:
    """Read the feedback-report part; None when the message is not an ARF report."""
    part = find_report(msg)
    if part is None:
        return None
    blocks = mime.field_blocks(part)
    fields = blocks[0] if blocks else None
    feedback_type = mime.header(fields, "Feedback-Type").lower() if fields is not None else ""
    original = mime.original_headers(msg)
    recipient = ""
    if fields is not None:
        recipient = mime.clean_address(mime.header(fields, "Original-Rcpt-To"))
    if not recipient and original is not None:
        recipient = mime.clean_address(mime.header(original, "To").split(",")[0])
    candidates = list(mime.envelope_candidates(msg))
    for source in (fields, original):
        if source is None:
            continue
        for name in ("Original-Mail-From", "Return-Path"):
            addr = mime.clean_address(mime.header(source, name))
            if addr and addr not in candidates:
                candidates.append(addr)
    kind = "complaint" if feedback_type in COMPLAINT_TYPES else "unknown"
    original_id = mime.header(original, "Message-ID") if original is not None else ""
    if not recipient:
        return ParsedMail(
            kind="unknown",
            format="arf",
            feedback_type=feedback_type,
            original_message_id=original_id,
            envelope_candidates=tuple(candidates),
            reason="the feedback report names no recipient (redacted?)",
        )
    diagnostic = f"Feedback-Type: {feedback_type or '(none)'}"
    agent = mime.header(fields, "User-Agent") if fields is not None else ""
    if agent:
        diagnostic += f"; reported by {agent}"
    return ParsedMail(
        kind=kind,
        format="arf",
        recipients=(RecipientReport(recipient, kind, "", "", diagnostic),),
        feedback_type=feedback_type,
        original_message_id=original_id,
        envelope_candidates=tuple(candidates),
        reason="" if kind == "complaint" else f"feedback type {feedback_type or '(none)'} is not a complaint",
    )
