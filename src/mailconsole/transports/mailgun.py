"""Mailgun through the v3 raw-MIME endpoint.

Request (Mailgun API reference, "Send an email in MIME format",
https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages/post-v3--domain-name--messages-mime):
``POST {base}/v3/{domain}/messages.mime`` as ``multipart/form-data`` with ``to`` (the envelope
recipients) and ``message`` (our MIME as a file upload), HTTP Basic auth with user ``api`` and the
API key as password. Tracking is set per message with ``o:tracking``, ``o:tracking-opens`` and
``o:tracking-clicks``; ``v:mailconsole_message_id`` comes back in Mailgun's events. The answer is
``{"id": "<...>", "message": "Queued. Thank you."}``.
Base URL by region: US ``https://api.mailgun.net``, EU ``https://api.eu.mailgun.net``.
``check()`` calls ``GET /v3/domains/{domain}``, proving both the key and the sending domain.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar

from mailconsole.transports.base import CheckResult, Envelope, FieldSpec, SendResult
from mailconsole.transports.http_common import (
    HttpTransportBase,
    accepted_message_id,
    secret_validator,
    url_validator,
)

REGION_URLS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}


def _domain_validator(value: Any) -> str | None:
    text = str(value)
    if "." not in text or "/" in text or " " in text or "@" in text:
        return f"must be a sending domain such as mg.example.com, got {text!r}"
    return None


class MailgunTransport(HttpTransportBase):
    TYPE: ClassVar[str] = "mailgun"
    LABEL: ClassVar[str] = "Mailgun"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("api_key", "API key", "secret", required=True, validator=secret_validator),
        FieldSpec(
            "domain",
            "Sending domain",
            "text",
            required=True,
            validator=_domain_validator,
            help="The Mailgun domain to send from, e.g. mg.example.com",
        ),
        FieldSpec(
            "region",
            "Region",
            "select",
            default="us",
            choices=tuple(REGION_URLS),
            help="Where the domain was created: us or eu",
        ),
        FieldSpec(
            "base_url",
            "API base URL",
            "text",
            validator=url_validator,
            help="Leave empty to use the region's URL (override for proxies, tests)",
        ),
    )

    def default_base_url(self) -> str:
        return REGION_URLS.get(self.config["region"], REGION_URLS["us"])

    def configure(self, config: Mapping[str, Any]) -> None:
        self.domain = str(config["domain"])
        self.region = str(config["region"])
        token = base64.b64encode(f"api:{config['api_key']}".encode()).decode("ascii")
        self._auth = {"Authorization": f"Basic {token}"}

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        flag = "yes" if envelope.tracking else "no"
        data: dict[str, Any] = {
            "to": list(envelope.recipients),
            "o:tracking": flag,
            "o:tracking-opens": flag,
            "o:tracking-clicks": flag,
        }
        if envelope.message_id is not None:
            data["v:mailconsole_message_id"] = str(envelope.message_id)
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/v3/{self.domain}/messages.mime",
            data=data,
            files={"message": ("message.mime", raw_message, "message/rfc822")},
            headers=self._auth,
        )
        outcome = await self.request(request)
        if isinstance(outcome, SendResult):
            return outcome
        message_id = (accepted_message_id(outcome, "id") or "").strip("<>") or None
        return self.classify(outcome, recipients=envelope.recipients, provider_message_id=message_id)

    async def check(self) -> CheckResult:
        request = self._client.build_request("GET", f"{self.base_url}/v3/domains/{self.domain}", headers=self._auth)

        def detail(payload: Any) -> str:
            domain = payload.get("domain", {}) if isinstance(payload, dict) else {}
            state = domain.get("state") if isinstance(domain, dict) else None
            return f"API key valid; domain {self.domain} ({state or 'state unknown'})"

        return await self.check_get(request, detail)
