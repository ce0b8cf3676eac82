"""What every webhook provider module shares: the refusal type and small JSON helpers."""

from __future__ import annotations

import json
from typing import Any

from mailconsole.domain.errors import Refused


class WebhookRefused(Refused):
    """A request we will not act on. ``reason`` is a short label for the counter and the log;
    it never contains a secret or the received signature."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def unsigned(message: str = "the request is not signed") -> WebhookRefused:
    return WebhookRefused(401, "unsigned", message)


def bad_signature(message: str = "the signature does not verify") -> WebhookRefused:
    return WebhookRefused(403, "bad_signature", message)


def not_configured(provider: str) -> WebhookRefused:
    return WebhookRefused(403, "not_configured", f"{provider} webhooks are not configured on this server")


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused(400, "malformed", "the body is not valid JSON") from None
