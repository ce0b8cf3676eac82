"""The shapes feedback takes on its way in: what a parser found, and what a source reports.

Kept apart from the parsers and the service so the CLI, the mailbox poller and the webhook
routes all speak the same small vocabulary (kind, recipient, status, action, diagnostic).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# What a report says happened to a recipient, independent of where it came from.
KINDS = ("bounce", "delay", "complaint", "unsubscribe", "unknown")


@dataclass(frozen=True)
class RecipientReport:
    """One recipient's line in a DSN, ARF report or heuristic bounce."""

    recipient: str
    kind: str  # bounce | delay | complaint | unknown
    action: str = ""  # RFC 3464 Action: failed | delayed | delivered | relayed | expanded
    status: str = ""  # RFC 3463 enhanced status, e.g. "5.1.1"
    diagnostic: str = ""  # Diagnostic-Code text, or the server reply we found


@dataclass(frozen=True)
class ParsedMail:
    """What the parser makes of one mailbox item; ``kind == "unknown"`` with no recipients
    means we could not understand it and the item must be kept for a person."""

    kind: str
    format: str  # dsn | arf | heuristic | none
    recipients: tuple[RecipientReport, ...] = ()
    feedback_type: str = ""  # ARF Feedback-Type
    original_message_id: str = ""  # Message-ID of the returned original, if included
    envelope_candidates: tuple[str, ...] = ()  # addresses that may carry our VERP sender
    reason: str = ""  # why the item is unknown

    @property
    def understood(self) -> bool:
        return bool(self.recipients)

    def to_json(self) -> dict[str, Any]:
        """The one-line summary `feedback parse --json` prints (first recipient on top)."""
        first = self.recipients[0] if self.recipients else None
        out: dict[str, Any] = {
            "kind": self.kind,
            "format": self.format,
            "recipient": first.recipient if first else None,
            "status": first.status if first else None,
            "action": first.action if first else None,
            "diagnostic": first.diagnostic if first else None,
        }
        if len(self.recipients) > 1:
            out["recipients"] = [asdict(r) for r in self.recipients]
        if self.feedback_type:
            out["feedback_type"] = self.feedback_type
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class FeedbackReport:
    """One recipient outcome reported by a source (bounce mailbox or ESP webhook).

    ``event_key`` identifies the report at its source (an SNS MessageId, a SendGrid
    sg_event_id, a mailbox item's Message-ID) so a retried delivery of the same report is
    recorded once; the contact-level dedup key is built from the message and recipient so a
    DSN and a webhook about the same bounce change the contact once.
    """

    source: str  # dsn | arf | ses | sendgrid | mailgun | postmark | elasticemail
    kind: str
    recipient: str
    status: str = ""
    diagnostic: str = ""
    effect: str | None = None  # hard_bounce | soft_bounce | complaint | policy_block | unsubscribe | none
    message_id: int | None = None  # our Message.id (from a verified VERP address)
    provider_message_id: str = ""
    event_key: str = ""
    forged_verp: str = ""  # why the VERP address it came to did not verify; logged, contact untouched
    extra: dict[str, Any] = field(default_factory=dict)
