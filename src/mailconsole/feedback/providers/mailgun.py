"""Mailgun webhooks: HMAC-SHA256(signing key, timestamp + token), hex, in the JSON body's
``signature`` object. Stale timestamps are refused here; reused tokens by the database replay
store (``feedback/replay.py``), so a replay to another engine is refused too.

Subaccounts: Mailgun adds a ``parent-signature`` object to a subaccount's webhooks, signed with
the parent account's key. The configured key is tried against ``signature`` and then
``parent-signature``, so a parent operator can receive every subaccount's events with one key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from mailconsole.feedback.dsn import normalize_status
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers.common import WebhookRefused, bad_signature, load_json, not_configured, unsigned

_SIGNATURE_BLOCKS = ("signature", "parent-signature")


def _verified_block(signing_key: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    for name in _SIGNATURE_BLOCKS:
        block = payload.get(name)
        if not isinstance(block, dict) or not block.get("signature"):
            continue
        text = f"{block.get('timestamp', '')}{block.get('token', '')}"
        expected = hmac.new(signing_key.encode(), text.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, str(block["signature"])):
            return block
    return None


def verify(signing_key: str, payload: Any, *, now: float, max_age: float) -> tuple[str, float]:
    """Check the signature (or the parent account's); returns (token, timestamp) for the
    caller to claim in the replay store."""
    if not signing_key:
        raise not_configured("Mailgun")
    if not isinstance(payload, dict) or not any(
        isinstance(payload.get(n), dict) and payload[n].get("signature") for n in _SIGNATURE_BLOCKS
    ):
        raise unsigned("the body has no signature object")
    block = _verified_block(signing_key, payload)
    if block is None:
        raise bad_signature()
    try:
        stamp = float(str(block.get("timestamp", "")))
    except ValueError:
        raise bad_signature("the signature timestamp is not a number") from None
    if abs(now - stamp) > max_age:
        raise WebhookRefused(403, "stale", "the signature timestamp is too old")
    return str(block.get("token", "")), stamp


def reports(payload: dict[str, Any]) -> list[FeedbackReport]:
    data = payload.get("event-data")
    if not isinstance(data, dict):
        raise WebhookRefused(400, "malformed", "the body has no event-data object")
    event = str(data.get("event", ""))
    recipient = str(data.get("recipient", ""))
    headers = (data.get("message") or {}).get("headers") or {}
    provider_id = str(headers.get("message-id", ""))
    status_block = data.get("delivery-status") or {}
    diagnostic = str(status_block.get("message") or status_block.get("description") or data.get("reason") or "")
    code = status_block.get("code")
    status = normalize_status(str(status_block.get("enhanced-code") or "")) or normalize_status(diagnostic)
    if not status and isinstance(code, int) and code >= 400:
        status = f"{str(code)[0]}.0.0"
    key = str(data.get("id") or "")

    def make(kind: str, effect: str | None = None) -> FeedbackReport:
        return FeedbackReport("mailgun", kind, recipient, status, diagnostic, effect=effect,
                              provider_message_id=provider_id, event_key=key)

    if event == "failed":
        severity = str(data.get("severity", ""))
        if str(data.get("reason", "")) == "suppress-bounce":
            return [make("bounce", "hard_bounce")]
        return [make("bounce" if severity == "permanent" else "delay")]
    if event == "complained":
        return [make("complaint", "complaint")]
    if event == "unsubscribed":
        return [make("unsubscribe", "unsubscribe")]
    return []


def parse(body: bytes) -> dict[str, Any]:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise WebhookRefused(400, "malformed", "a Mailgun webhook body is a JSON object")
    return payload
