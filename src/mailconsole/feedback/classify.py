"""From a feedback kind and status to the effect on the contact.

Bounce status codes go through ``domain.replies.classify_status`` so a DSN saying 5.1.1 and
an SMTP reply saying 550 5.1.1 are judged by the same table.
"""

from __future__ import annotations

from mailconsole.domain.replies import classify_status
from mailconsole.feedback.dsn import normalize_status

EFFECTS = ("hard_bounce", "soft_bounce", "complaint", "policy_block", "none")


def effect_for(kind: str, status: str, diagnostic: str) -> str:
    """complaint -> complaint; delay -> soft_bounce (or policy_block when the receiver refuses
    us); bounce -> what the status code and diagnostic say; anything else -> none."""
    if kind == "complaint":
        return "complaint"
    if kind not in ("bounce", "delay"):
        return "none"
    if not status and not diagnostic:
        return "soft_bounce" if kind == "delay" else "hard_bounce"
    specific = normalize_status(diagnostic)
    if status.endswith(".0.0") and specific and specific[0] == status[0]:
        status = specific  # Exim says 5.0.0 and quotes the remote's 550 5.1.1: trust the remote
    verdict = classify_status(status, diagnostic)
    effect = str(verdict.effect)
    if kind == "delay":
        return "policy_block" if effect == "policy_block" else "soft_bounce"
    if effect == "none" and status.startswith("5"):
        # A failed DSN whose code the table does not know still means the message died.
        return "hard_bounce" if status.startswith("5.1") else "soft_bounce"
    if effect == "none" and status.startswith("4"):
        return "soft_bounce"
    return effect
