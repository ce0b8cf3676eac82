"""SendGrid's signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body.

The verification key is the public key SendGrid shows (base64 DER), or a PEM. Replays are
harmless: every event carries ``sg_event_id`` and is recorded once.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailconsole.feedback.dsn import normalize_status
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers.common import WebhookRefused, bad_signature, load_json, not_configured, unsigned

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

_DROP_EFFECTS = {
    "bounced address": ("bounce", "hard_bounce"),
    "invalid": ("bounce", "hard_bounce"),
    "spam reporting address": ("complaint", "complaint"),
    "unsubscribed address": ("unsubscribe", "unsubscribe"),
}
# Event Webhook "engagement" events that are a person leaving the mailing (Event Webhook
# reference: unsubscribe = clicked the subscription-tracking link, group_unsubscribe = left an
# ASM suppression group).
_UNSUBSCRIBE_EVENTS = frozenset({"unsubscribe", "group_unsubscribe"})


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    text = text.strip()
    if not text:
        raise not_configured("SendGrid")
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text))
    except ValueError:
        message = "the SendGrid verification key setting is not a public key"
        raise WebhookRefused(403, "not_configured", message) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookRefused(403, "not_configured", "the SendGrid verification key is not an ECDSA key")
    return key


def verify(public_key_text: str, headers: dict[str, str], body: bytes) -> None:
    key = load_public_key(public_key_text)
    signature = headers.get(SIGNATURE_HEADER.lower(), "")
    timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
    if not signature or not timestamp:
        raise unsigned(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    try:
        key.verify(base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise bad_signature() from None


def _event_report(event: dict[str, Any]) -> FeedbackReport | None:
    name = str(event.get("event", ""))
    email = str(event.get("email", ""))
    provider_id = str(event.get("sg_message_id", "")).split(".", 1)[0]
    key = str(event.get("sg_event_id") or "")
    reason = str(event.get("reason") or event.get("response") or "")
    status = normalize_status(str(event.get("status") or "")) or normalize_status(reason)

    def make(kind: str, status: str, diagnostic: str, effect: str | None = None) -> FeedbackReport:
        return FeedbackReport("sendgrid", kind, email, status, diagnostic, effect=effect,
                              provider_message_id=provider_id, event_key=key)

    if name == "bounce":
        return make("bounce", status, reason)
    if name == "deferred":
        return make("delay", status, reason)
    if name == "spamreport":
        return make("complaint", "", "spam report", "complaint")
    if name in _UNSUBSCRIBE_EVENTS:
        group = event.get("asm_group_id")
        detail = f"{name} (group {group})" if group is not None else name
        return make("unsubscribe", "", detail, "unsubscribe")
    if name == "dropped":
        kind, effect = _DROP_EFFECTS.get(reason.strip().lower(), ("unknown", "none"))
        return make(kind, status, f"dropped: {reason}", effect)
    return None


def reports(body: bytes) -> list[FeedbackReport]:
    events = load_json(body)
    if not isinstance(events, list):
        raise WebhookRefused(400, "malformed", "a SendGrid event batch is a JSON array")
    out = []
    for event in events:
        if isinstance(event, dict):
            report = _event_report(event)
            if report is not None and report.recipient:
                out.append(report)
    return out
