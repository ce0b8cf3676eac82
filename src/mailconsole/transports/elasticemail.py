"""Elastic Email through the v4 transactional endpoint.

Request (Elastic Email REST API v4, "Send Transactional Email", operation ``emailsTransactionalPost``,
https://elasticemail.com/developers/api-documentation/rest-api#operation/emailsTransactionalPost;
models ``EmailTransactionalMessageData``, ``EmailContent``, ``BodyPart``, ``MessageAttachment``,
``Options``): ``POST https://api.elasticemail.com/v4/emails/transactional`` with header
``X-ElasticEmail-ApiKey`` and JSON ``{"Recipients": {"To": [...]}, "Content": {"From", "ReplyTo",
"Subject", "Body": [{"ContentType": "PlainText"|"HTML", "Content", "Charset"}], "Headers": {...},
"Attachments": [{"BinaryContent": base64, "Name", "ContentType"}]}, "Options": {"TrackOpens",
"TrackClicks"}}``. The answer (``EmailSend``) carries ``TransactionID`` and ``MessageID``.
Elastic Email attachments have no Content-ID, so inline images travel as plain attachments.

``check()`` calls ``GET /v4/domains`` (Load Domains, access level ViewSettings): there is no
``/v4/account`` read, and this is the cheapest authenticated read that also shows the key works.
A key restricted to sending only fails the check with 403 though it can send; the detail says so.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar

from mailconsole.transports.base import CheckResult, Envelope, FieldSpec, SendResult
from mailconsole.transports.http_common import (
    HttpTransportBase,
    accepted_message_id,
    dumps,
    secret_validator,
    url_validator,
)
from mailconsole.transports.mime_parts import (
    KEPT_HEADERS,
    STRUCTURAL_HEADERS,
    Address,
    MessageParts,
    extract_parts,
)

DEFAULT_BASE_URL = "https://api.elasticemail.com"


def build_payload(envelope: Envelope, parts: MessageParts) -> dict[str, Any]:
    """The transactional JSON for one message (pure, so tests can read it field by field)."""
    names = {a.email.lower(): a.name for a in (*parts.to, *parts.cc)}
    sender = parts.sender or Address(envelope.sender)
    body: list[dict[str, str]] = []
    if parts.text is not None:
        body.append({"ContentType": "PlainText", "Content": parts.text, "Charset": "utf-8"})
    if parts.html is not None:
        body.append({"ContentType": "HTML", "Content": parts.html, "Charset": "utf-8"})
    content: dict[str, Any] = {"From": sender.formatted(), "Subject": parts.subject, "Body": body}
    if parts.reply_to:
        content["ReplyTo"] = ", ".join(a.formatted() for a in parts.reply_to)
    # Headers is an object (one value per name); Message-ID, Date and Cc ride as custom headers
    # (display only: Elastic Email delivers to Recipients alone).
    headers = parts.custom_headers(exclude=STRUCTURAL_HEADERS - KEPT_HEADERS)
    if headers:
        content["Headers"] = headers
    if parts.attachments:
        content["Attachments"] = [
            {
                "BinaryContent": base64.b64encode(a.content).decode("ascii"),
                "Name": a.filename,
                "ContentType": a.content_type,
            }
            for a in parts.attachments
        ]
    return {
        "Recipients": {"To": [Address(r, names.get(r.lower(), "")).formatted() for r in envelope.recipients]},
        "Content": content,
        "Options": {"TrackOpens": envelope.tracking, "TrackClicks": envelope.tracking},
    }


class ElasticEmailTransport(HttpTransportBase):
    TYPE: ClassVar[str] = "elasticemail"
    LABEL: ClassVar[str] = "Elastic Email"
    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "api_key",
            "API key",
            "secret",
            required=True,
            validator=secret_validator,
            help="Send+ViewSettings; no cid: images (esp-limits.md)",
        ),
        FieldSpec("base_url", "API base URL", "text", default=DEFAULT_BASE_URL, validator=url_validator),
    )

    def configure(self, config: Mapping[str, Any]) -> None:
        self._auth = {"X-ElasticEmail-ApiKey": config["api_key"]}

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        payload = build_payload(envelope, extract_parts(raw_message))
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/v4/emails/transactional",
            content=dumps(payload),
            headers={**self._auth, "Content-Type": "application/json"},
        )
        outcome = await self.request(request)
        if isinstance(outcome, SendResult):
            return outcome
        message_id = accepted_message_id(outcome, "MessageID", "TransactionID")
        return self.classify(outcome, recipients=envelope.recipients, provider_message_id=message_id)

    async def check(self) -> CheckResult:
        request = self._client.build_request("GET", f"{self.base_url}/v4/domains", headers=self._auth)

        def detail(payload: Any) -> str:
            count = len(payload) if isinstance(payload, list) else 0
            return f"API key valid ({count} sending domain{'s' if count != 1 else ''})"

        return await self.check_get(
            request, detail, advice={403: "a send-only key cannot be checked; allow ViewSettings"}
        )
