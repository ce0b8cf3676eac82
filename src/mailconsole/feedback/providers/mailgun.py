"""Mailgun webhooks: HMAC-SHA256(signing key, timestamp + token), hex, in the JSON body's
``signature`` object. Stale timestamps and reused tokens are refused.

A token is remembered only after its events were recorded, so a delivery that failed on our
side can still be retried by Mailgun with the same signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from mailconsole.feedback.dsn import normalize_status
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers.common import WebhookRefused, bad_signature, load_json, not_configured, unsigned

_MAX_TOKENS = 100_000


class TokenCache:
    """Tokens seen within the acceptance window (per process; the event dedup covers the rest)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def seen(self, token: str) -> bool:
        return token in self._seen

    def remember(self, token: str, expires_at: float, now: float) -> None:
        if len(self._seen) >= _MAX_TOKENS:
            self._seen = {t: e for t, e in self._seen.items() if e > now}
            while len(self._seen) >= _MAX_TOKENS:  # still full of live tokens: drop the oldest
                self._seen.pop(next(iter(self._seen)))
        self._seen[token] = expires_at


def verify(
    signing_key: str, payload: Any, *, now: float, max_age: float, tokens: TokenCache
) -> tuple[str, float]:
    """Check the signature; returns (token, timestamp) for ``tokens.remember`` after recording."""
    if not signing_key:
        raise not_configured("Mailgun")
    signature = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(signature, dict) or not signature.get("signature"):
        raise unsigned("the body has no signature object")
    timestamp = str(signature.get("timestamp", ""))
    token = str(signature.get("token", ""))
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(signature["signature"])):
        raise bad_signature()
    try:
        stamp = float(timestamp)
    except ValueError:
        raise bad_signature("the signature timestamp is not a number") from None
    if abs(now - stamp) > max_age:
        raise WebhookRefused(403, "stale", "the signature timestamp is too old")
    if tokens.seen(token):
        raise WebhookRefused(403, "replayed", "this signature token was already used")
    return token, stamp


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


def now() -> float:
    return time.time()


def parse(body: bytes) -> dict[str, Any]:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise WebhookRefused(400, "malformed", "a Mailgun webhook body is a JSON object")
    return payload
