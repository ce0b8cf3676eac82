"""RFC 3464 delivery status notifications: one RecipientReport per per-recipient block.

Ours on purpose: the maintained Python MIME libraries (flanker is unmaintained for modern
Python) add nothing over the stdlib, which already splits ``message/delivery-status`` into
blocks; what is left is reading five fields, tested against a corpus of real-world formats.
"""

from __future__ import annotations

import re

from mailconsole.feedback import mime
from mailconsole.feedback.model import ParsedMail, RecipientReport

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def kind_for(action: str, status: str) -> str:
    """failed -> bounce, delayed -> delay; a missing Action is read from the status class."""
    action = action.lower()
    if action == "failed":
        return "bounce"
    if action == "delayed":
        return "delay"
    if action in ("delivered", "relayed", "expanded"):
        return "unknown"
    if status.startswith("5"):
        return "bounce"
    if status.startswith("4"):
        return "delay"
    return "unknown"


def normalize_status(value: str) -> str:
    """'5.1.1 (bad destination mailbox)' -> '5.1.1'; '' when there is none."""
    match = _STATUS_RE.search(value or "")
    return ".".join(match.groups()) if match else ""


def find_delivery_status(msg: mime.Message) -> mime.Message | None:
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            return part
    return None


def parse(msg: mime.Message) -> ParsedMail | None:
    """Read a message/delivery-status part; None when the message has none."""
    part = find_delivery_status(msg)
    if part is None:
        return None
    blocks = mime.field_blocks(part)
    recipients: list[RecipientReport] = []
    for block in blocks:
        final = mime.header(block, "Final-Recipient") or mime.header(block, "Original-Recipient")
        if not final:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        recipient = mime.clean_address(mime.typed_value(final))
        if not recipient:
            continue
        action = mime.header(block, "Action").lower()
        status = normalize_status(mime.header(block, "Status"))
        diagnostic = mime.typed_value(mime.header(block, "Diagnostic-Code"))
        if not status:
            status = normalize_status(diagnostic)
        recipients.append(
            RecipientReport(
                recipient=recipient,
                kind=kind_for(action, status),
                action=action,
                status=status,
                diagnostic=diagnostic,
            )
        )
    original = mime.original_headers(msg)
    original_id = mime.header(original, "Message-ID") if original is not None else ""
    candidates = mime.envelope_candidates(msg)
    if not recipients:
        return ParsedMail(
            kind="unknown",
            format="dsn",
            original_message_id=original_id,
            envelope_candidates=candidates,
            reason="the delivery-status part names no recipient",
        )
    return ParsedMail(
        kind=overall_kind(recipients),
        format="dsn",
        recipients=tuple(recipients),
        original_message_id=original_id,
        envelope_candidates=candidates,
    )


def overall_kind(recipients: list[RecipientReport]) -> str:
    kinds = {r.kind for r in recipients}
    for kind in ("complaint", "bounce", "delay"):
        if kind in kinds:
            return kind
    return "unknown"
