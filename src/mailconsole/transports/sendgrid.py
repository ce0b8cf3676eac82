"""Twilio SendGrid through the v3 Mail Send API.

Request (SendGrid v3 "Mail Send", https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send):
``POST https://api.sendgrid.com/v3/mail/send`` with ``Authorization: Bearer <API key>`` and a
JSON body: ``personalizations[].to[]``, ``from`` {email, name}, ``reply_to`` (or
``reply_to_list``), ``subject``, ``content[]`` (text/plain first, then text/html),
``attachments[]`` {content base64, type, filename, disposition, content_id}, ``headers``
(custom headers; SendGrid rejects its reserved ones, which we drop), ``tracking_settings``
and ``custom_args``. A success is ``202 Accepted`` with the id in the ``X-Message-Id`` header.
EU regional subusers use ``https://api.eu.sendgrid.com`` (set ``base_url``).

SendGrid has no raw-MIME endpoint, so the message is rebuilt from ``mime_parts``; the
personalization lists the envelope recipients only (one message per recipient in our queue),
never every address of the To header, which would send the copy to all of them.
``check()`` calls ``GET /v3/scopes`` and requires the ``mail.send`` scope.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar

from mailconsole.transports.base import CheckResult, Envelope, FieldSpec, SendResult
from mailconsole.transports.http_common import (
    HttpTransportBase,
    dumps,
    secret_validator,
    url_validator,
)
from mailconsole.transports.mime_parts import Address, MessageParts, extract_parts

DEFAULT_BASE_URL = "https://api.sendgrid.com"
# Headers SendGrid reserves and refuses in ``headers`` (Mail Send errors: "headers").
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)


def _address(address: Address) -> dict[str, str]:
    return {"email": address.email, "name": address.name} if address.name else {"email": address.email}


def build_payload(envelope: Envelope, parts: MessageParts) -> dict[str, Any]:
    """The Mail Send JSON for one message (pure, so tests can read it field by field)."""
    names = {a.email.lower(): a.name for a in (*parts.to, *parts.cc)}
    to = [_address(Address(r, names.get(r.lower(), ""))) for r in envelope.recipients]
    sender = parts.sender or Address(envelope.sender)
    content: list[dict[str, str]] = []
    if parts.text is not None:
        content.append({"type": "text/plain", "value": parts.text})
    if parts.html is not None:
        content.append({"type": "text/html", "value": parts.html})
    if not content:
        content.append({"type": "text/plain", "value": " "})
    payload: dict[str, Any] = {
        "personalizations": [{"to": to}],
        "from": _address(sender),
        "subject": parts.subject,
        "content": content,
    }
    if len(parts.reply_to) == 1:
        payload["reply_to"] = _address(parts.reply_to[0])
    elif parts.reply_to:
        payload["reply_to_list"] = [_address(a) for a in parts.reply_to]
    if parts.attachments:
        payload["attachments"] = []
        for att in parts.attachments:
            item = {
                "content": base64.b64encode(att.content).decode("ascii"),
                "type": att.content_type,
                "filename": att.filename,
                "disposition": att.disposition,
            }
            if att.content_id:
                item["content_id"] = att.content_id
            payload["attachments"].append(item)
    headers = parts.custom_headers(exclude=RESERVED_HEADERS)
    if headers:
        payload["headers"] = headers
    payload["tracking_settings"] = {
        "click_tracking": {"enable": envelope.tracking, "enable_text": False},
        "open_tracking": {"enable": envelope.tracking},
    }
    if envelope.message_id is not None:
        payload["custom_args"] = {"mailconsole_message_id": str(envelope.message_id)}
    return payload


class SendGridTransport(HttpTransportBase):
    TYPE: ClassVar[str] = "sendgrid"
    LABEL: ClassVar[str] = "SendGrid"
    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "api_key",
            "API key",
            "secret",
            required=True,
            validator=secret_validator,
            help="mail.send key; 30 MB max, no Cc (esp-limits.md)",
        ),
        FieldSpec(
            "base_url",
            "API base URL",
            "text",
            default=DEFAULT_BASE_URL,
            validator=url_validator,
            help="https://api.eu.sendgrid.com for EU regional subusers",
        ),
    )

    def configure(self, config: Mapping[str, Any]) -> None:
        self._auth = {"Authorization": f"Bearer {config['api_key']}"}

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        payload = build_payload(envelope, extract_parts(raw_message))
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/v3/mail/send",
            content=dumps(payload),
            headers={**self._auth, "Content-Type": "application/json"},
        )
        outcome = await self.request(request)
        if isinstance(outcome, SendResult):
            return outcome
        return self.classify(
            outcome, recipients=envelope.recipients, provider_message_id=outcome.headers.get("x-message-id")
        )

    async def check(self) -> CheckResult:
        request = self._client.build_request("GET", f"{self.base_url}/v3/scopes", headers=self._auth)
        return await self.check_get(request, _scopes_verdict)


def _scopes_verdict(payload: Any) -> tuple[bool, str]:
    """A key that cannot send must fail "test connection" even though it authenticates."""
    scopes = payload.get("scopes", []) if isinstance(payload, dict) else []
    if "mail.send" in scopes:
        return True, "API key valid (mail.send allowed)"
    return False, "API key valid but lacks the mail.send scope"
