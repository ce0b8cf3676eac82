"""Postmark through its single-email API.

Request (Postmark "Email API", https://postmarkapp.com/developer/api/email-api and
https://postmarkapp.com/developer/user-guide/send-email-with-api): ``POST https://api.postmarkapp.com/email``
with ``X-Postmark-Server-Token``, ``Accept``/``Content-Type: application/json`` and the fields
``From``, ``To``, ``Subject``, ``TextBody``, ``HtmlBody``, ``ReplyTo``, ``Headers``
[{Name, Value}], ``Attachments`` [{Name, Content (base64), ContentType, ContentID}],
``MessageStream``, ``TrackOpens``, ``TrackLinks`` and ``Metadata``. The answer carries
``MessageID``; errors carry an ``ErrorCode`` (API overview, "Error codes") which we map:
10 bad token, 400/401/405/412/413 sender or account state, 1235 unknown stream -> the server is
misconfigured; 406 inactive recipient and 300 naming the address -> permanent for the recipient;
100 maintenance and 429 -> transient.

Our streams map to Postmark message streams (configurable, defaults ``outbound`` and
``broadcast``): Postmark requires broadcast mail on a broadcast stream.
``check()`` calls ``GET /server``, which needs a valid server token.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from mailconsole.transports.base import CheckResult, Envelope, FieldSpec, SendResult
from mailconsole.transports.http_common import (
    Hint,
    HttpTransportBase,
    dumps,
    json_detail,
    names_sender_or_config,
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

DEFAULT_BASE_URL = "https://api.postmarkapp.com"
SERVER_ERROR_CODES = frozenset({10, 400, 401, 405, 412, 413, 1235})
RECIPIENT_ERROR_CODES = frozenset({406})
TRANSIENT_ERROR_CODES = frozenset({100, 429})


def hint_for_error_code(code: int | None) -> Hint | None:
    if code in SERVER_ERROR_CODES:
        return "server"
    if code in RECIPIENT_ERROR_CODES:
        return "recipient"
    if code in TRANSIENT_ERROR_CODES:
        return "transient"
    return None


def build_payload(
    envelope: Envelope, parts: MessageParts, *, transactional_stream: str, broadcast_stream: str
) -> dict[str, Any]:
    """The /email JSON for one message (pure, so tests can read it field by field)."""
    names = {a.email.lower(): a.name for a in (*parts.to, *parts.cc)}
    sender = parts.sender or Address(envelope.sender)
    payload: dict[str, Any] = {
        "From": sender.formatted(),
        "To": ", ".join(Address(r, names.get(r.lower(), "")).formatted() for r in envelope.recipients),
        "Subject": parts.subject,
        "MessageStream": broadcast_stream if envelope.stream == "broadcast" else transactional_stream,
        "TrackOpens": envelope.tracking,
        "TrackLinks": "HtmlAndText" if envelope.tracking else "None",
    }
    if parts.text is not None:
        payload["TextBody"] = parts.text
    if parts.html is not None:
        payload["HtmlBody"] = parts.html
    if parts.text is None and parts.html is None:
        payload["TextBody"] = ""
    if parts.reply_to:
        payload["ReplyTo"] = ", ".join(a.formatted() for a in parts.reply_to)
    # Headers is a list: repeated headers travel as written; Message-ID, Date and Cc as custom
    # headers (display only: Postmark delivers to the To field alone).
    headers = parts.header_list(exclude=STRUCTURAL_HEADERS - KEPT_HEADERS)
    if headers:
        payload["Headers"] = [{"Name": k, "Value": v} for k, v in headers]
    if parts.attachments:
        payload["Attachments"] = [
            {
                "Name": a.filename,
                "Content": base64.b64encode(a.content).decode("ascii"),
                "ContentType": a.content_type,
                **({"ContentID": f"cid:{a.content_id}"} if a.content_id else {}),
            }
            for a in parts.attachments
        ]
    if envelope.message_id is not None:
        payload["Metadata"] = {"mailconsole_message_id": str(envelope.message_id)}
    return payload


class PostmarkTransport(HttpTransportBase):
    TYPE: ClassVar[str] = "postmark"
    LABEL: ClassVar[str] = "Postmark"
    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "server_token",
            "Server API token",
            "secret",
            required=True,
            validator=secret_validator,
            help="Server token; 10 MB max (esp-limits.md)",
        ),
        FieldSpec(
            "transactional_stream",
            "Transactional message stream",
            "text",
            default="outbound",
            help="Postmark stream for our transactional stream",
        ),
        FieldSpec(
            "broadcast_stream",
            "Broadcast message stream",
            "text",
            default="broadcast",
            help="Postmark broadcast stream for our broadcast stream",
        ),
        FieldSpec("base_url", "API base URL", "text", default=DEFAULT_BASE_URL, validator=url_validator),
    )

    def configure(self, config: Mapping[str, Any]) -> None:
        self.transactional_stream = str(config["transactional_stream"])
        self.broadcast_stream = str(config["broadcast_stream"])
        self._auth = {"X-Postmark-Server-Token": config["server_token"]}

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        payload = build_payload(
            envelope,
            extract_parts(raw_message),
            transactional_stream=self.transactional_stream,
            broadcast_stream=self.broadcast_stream,
        )
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/email",
            content=dumps(payload),
            headers={**self._auth, "Content-Type": "application/json"},
        )
        outcome = await self.request(request)
        if isinstance(outcome, SendResult):
            return outcome
        try:
            body: Any = outcome.json()
        except (ValueError, UnicodeDecodeError):
            body = {}
        body = body if isinstance(body, dict) else {}
        code = body.get("ErrorCode")
        code = code if isinstance(code, int) else None
        if 200 <= outcome.status_code < 300 and not code:
            return self.classify(
                outcome, recipients=envelope.recipients, provider_message_id=str(body.get("MessageID") or "") or None
            )
        detail = json_detail(body) or outcome.text
        if code is not None:
            detail = f"ErrorCode {code}: {detail}"
        if code in RECIPIENT_ERROR_CODES:
            detail += await self.suppression_reason(envelope)
        hint = hint_for_error_code(code)
        if hint is None and names_sender_or_config(detail):
            hint = "server"  # ErrorCode 300 "Error parsing 'From'": the sender is wrong, not the recipient
        if hint is None and 200 <= outcome.status_code < 300:
            hint = "permanent"  # a 200 with a non-zero ErrorCode is still a refusal
        return self.classify(outcome, recipients=envelope.recipients, hint=hint, detail=detail)

    async def suppression_reason(self, envelope: Envelope) -> str:
        """Why Postmark calls the recipient inactive (406), in Postmark's words, from the
        Suppressions API (``GET /message-streams/{stream}/suppressions/dump?EmailAddress=``,
        rows ``{EmailAddress, SuppressionReason, Origin, CreatedAt}``): e.g.
        ``"; Postmark suppression: HardBounce (origin Recipient, since 2026-03-01T10:00:00Z)"``.
        Empty when the lookup fails or finds nothing: the 406 text alone then stands."""
        stream = self.broadcast_stream if envelope.stream == "broadcast" else self.transactional_stream
        request = self._client.build_request(
            "GET",
            f"{self.base_url}/message-streams/{stream}/suppressions/dump",
            params={"EmailAddress": envelope.recipients[0]} if envelope.recipients else None,
            headers={**self._auth, "Accept": "application/json"},
        )
        try:
            response = await self._client.send(request)
            rows = response.json().get("Suppressions") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return ""
        wanted = {r.lower() for r in envelope.recipients}
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and str(row.get("EmailAddress", "")).lower() in wanted:
                reason = self.redact(str(row.get("SuppressionReason") or "unknown"))[:60]
                origin = self.redact(str(row.get("Origin") or "?"))[:30]
                since = self.redact(str(row.get("CreatedAt") or "?"))[:40]
                return f"; Postmark suppression: {reason} (origin {origin}, since {since})"
        return ""

    async def check(self) -> CheckResult:
        request = self._client.build_request("GET", f"{self.base_url}/server", headers=self._auth)

        def detail(payload: Any) -> str:
            name = payload.get("Name") if isinstance(payload, dict) else None
            return f"server token valid (server {name!r})" if name else "server token valid"

        return await self.check_get(request, detail)
