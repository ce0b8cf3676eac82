"""Postmark's bounce and spam-complaint webhooks, protected by HTTP basic auth credentials
set in both Postmark and our settings (Postmark does not sign its webhooks)."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from mailconsole.feedback.dsn import normalize_status
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers.common import WebhookRefused, load_json, not_configured, unsigned

# Bounce Type -> (kind, effect); None lets the status code decide.
_BOUNCE_TYPES: dict[str, tuple[str, str | None]] = {
    "HardBounce": ("bounce", "hard_bounce"),
    "BadEmailAddress": ("bounce", "hard_bounce"),
    "SoftBounce": ("bounce", "soft_bounce"),
    "DnsError": ("bounce", "soft_bounce"),
    "Transient": ("delay", "soft_bounce"),
    "SpamComplaint": ("complaint", "complaint"),
    "SpamNotification": ("bounce", "policy_block"),
    "Blocked": ("bounce", "policy_block"),
    "DMARCPolicy": ("bounce", "policy_block"),
}


def verify(user: str, password: str, authorization: str) -> None:
    if not user or not password:
        raise not_configured("Postmark")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise unsigned("basic auth credentials are required")
    try:
        given_user, _, given_password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise WebhookRefused(403, "bad_credentials", "the basic auth credentials are malformed") from None
    ok_user = hmac.compare_digest(given_user.encode(), user.encode())
    ok_password = hmac.compare_digest(given_password.encode(), password.encode())
    if not (ok_user and ok_password):
        raise WebhookRefused(403, "bad_credentials", "the basic auth credentials are wrong")


def reports(body: bytes) -> list[FeedbackReport]:
    payload: Any = load_json(body)
    if not isinstance(payload, dict):
        raise WebhookRefused(400, "malformed", "a Postmark webhook body is a JSON object")
    record_type = str(payload.get("RecordType", ""))
    email = str(payload.get("Email", ""))
    provider_id = str(payload.get("MessageID", ""))
    key = f"{record_type}:{payload.get('ID', '')}"
    details = str(payload.get("Details") or payload.get("Description") or "")
    if record_type == "SpamComplaint":
        return [FeedbackReport("postmark", "complaint", email, "", details or "spam complaint",
                               effect="complaint", provider_message_id=provider_id, event_key=key)]
    if record_type == "SubscriptionChange":
        return _subscription_change(payload, provider_id)
    if record_type != "Bounce":
        return []
    kind, effect = _BOUNCE_TYPES.get(str(payload.get("Type", "")), ("unknown", "none"))
    status = normalize_status(details)
    return [FeedbackReport("postmark", kind, email, status, details or str(payload.get("Type", "")),
                           effect=effect, provider_message_id=provider_id, event_key=key)]


# SubscriptionChange webhook (Postmark "Subscription change webhook",
# https://postmarkapp.com/developer/webhooks/subscription-change-webhook): ``Recipient``,
# ``SuppressSending``, ``SuppressionReason`` (HardBounce | SpamComplaint | ManualSuppression),
# ``Origin`` (Recipient | Customer | Admin), ``MessageStream``, ``ChangedAt``.
_SUPPRESSION_REASONS: dict[str, tuple[str, str]] = {
    "HardBounce": ("bounce", "hard_bounce"),
    "SpamComplaint": ("complaint", "complaint"),
    "ManualSuppression": ("unsubscribe", "unsubscribe"),
}


def _subscription_change(payload: dict[str, Any], provider_id: str) -> list[FeedbackReport]:
    """A suppression Postmark applied: hard bounce and complaint as such; a recipient's own
    unsubscribe (ManualSuppression) as an unsubscribe. Reactivations are not acted on: a
    contact is made mailable again only by our own Check again / safelist."""
    if payload.get("SuppressSending") is not True:
        return []
    reason = str(payload.get("SuppressionReason", ""))
    kind, effect = _SUPPRESSION_REASONS.get(reason, ("unknown", "none"))
    origin = str(payload.get("Origin", ""))
    if effect == "unsubscribe" and origin not in ("", "Recipient"):
        kind, effect = "unknown", "none"  # suppressed by the customer or an admin, not the recipient
    stream = str(payload.get("MessageStream", ""))
    diagnostic = f"Postmark suppression: {reason} (origin {origin or '?'}, stream {stream or '?'})"
    key = f"SubscriptionChange:{provider_id}:{payload.get('ChangedAt', '')}:{reason}"
    recipient = str(payload.get("Recipient", ""))
    return [FeedbackReport("postmark", kind, recipient, "", diagnostic, effect=effect,
                           provider_message_id=provider_id, event_key=key)]
