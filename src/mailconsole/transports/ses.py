"""Amazon SES through API v2 ``SendEmail`` with raw content.

Request (AWS SES API v2 reference, "SendEmail"; https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html):
``POST https://email.{region}.amazonaws.com/v2/email/outbound-emails`` with JSON
``{"Content": {"Raw": {"Data": <base64 MIME>}}, "Destination": {"ToAddresses": [...]},
"ConfigurationSetName": ...}``; the answer is ``{"MessageId": ...}``. The raw message goes
untouched (our DKIM signature and headers stay intact); ``Destination`` carries the envelope
recipients so a recipient absent from the headers still gets the message.

Requests are signed with botocore's ``SigV4Auth`` (service ``ses``) over an ``AWSRequest``
built from the exact bytes httpx sends: we never hand-roll SigV4.
``check()`` calls ``GET /v2/email/account`` (GetAccount), a cheap authenticated read.

Configuration sets carry SES's open/click tracking and event destinations, so a message with
tracking on (the broadcast stream's default, decided upstream in ``Envelope.tracking``) can use
its own set.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mailconsole.transports.base import CheckResult, Envelope, FieldSpec, SendResult
from mailconsole.transports.http_common import (
    Hint,
    HttpTransportBase,
    accepted_message_id,
    dumps,
    secret_validator,
    url_validator,
)

SIGNING_SERVICE = "ses"
# SES error types that say the account / identity / configuration is wrong, not the recipient.
SERVER_ERROR_TYPES = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatchException",
        "IncompleteSignatureException",
        "ExpiredTokenException",
    }
)
TRANSIENT_ERROR_TYPES = frozenset(
    {"TooManyRequestsException", "TooManyRequests", "LimitExceededException", "ThrottlingException", "Throttling"}
)


def _region_validator(value: Any) -> str | None:
    text = str(value)
    parts = text.split("-")
    if len(parts) < 3 or not parts[-1].isdigit():
        return f"must be an AWS region such as eu-west-1, got {text!r}"
    return None


def _topic_validator(value: Any) -> str | None:
    text = str(value or "")
    if text and not (text.startswith("arn:aws") and ":sns:" in text and text.count(":") == 5):
        return f"must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:ses-feedback, got {text!r}"
    return None


def default_endpoint(region: str) -> str:
    return f"https://email.{region}.amazonaws.com"


def error_type(response: httpx.Response) -> str:
    """SES names its error in ``x-amzn-ErrorType`` (``Name:uri`` form) or the JSON body."""
    raw = response.headers.get("x-amzn-errortype", "")
    if not raw:
        try:
            payload = response.json()
        except (ValueError, UnicodeDecodeError):
            payload = {}
        if isinstance(payload, dict):
            raw = str(payload.get("__type") or payload.get("code") or payload.get("Code") or "")
    return raw.split(":")[0].split("#")[-1]


class SesTransport(HttpTransportBase):
    TYPE: ClassVar[str] = "ses"
    LABEL: ClassVar[str] = "Amazon SES"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("access_key_id", "Access key ID", "text", required=True, help="IAM key with ses:SendEmail"),
        FieldSpec("secret_access_key", "Secret access key", "secret", required=True, validator=secret_validator),
        FieldSpec(
            "region",
            "Region",
            "text",
            default="us-east-1",
            validator=_region_validator,
            help="AWS region of the verified identity, e.g. eu-west-1",
        ),
        FieldSpec(
            "configuration_set",
            "Configuration set",
            "text",
            help="Optional SES configuration set for every message (event publishing)",
        ),
        FieldSpec(
            "tracking_configuration_set",
            "Tracking configuration set",
            "text",
            help="Optional set with open/click tracking, used for messages with tracking on (broadcast)",
        ),
        FieldSpec(
            "base_url",
            "API base URL",
            "text",
            validator=url_validator,
            help="Leave empty for https://email.<region>.amazonaws.com (override for VPC endpoints, tests)",
        ),
        FieldSpec(
            "feedback_topic_arn",
            "Feedback SNS topic ARN",
            "text",
            validator=_topic_validator,
            help="SNS topic of SES feedback; only these accepted",
        ),
    )

    def default_base_url(self) -> str:
        return default_endpoint(self.config["region"])

    def configure(self, config: Mapping[str, Any]) -> None:
        self.region = str(config["region"])
        self.configuration_set = config["configuration_set"] or None
        self.tracking_configuration_set = config["tracking_configuration_set"] or None
        credentials = Credentials(config["access_key_id"], config["secret_access_key"])
        self._signer = SigV4Auth(credentials, SIGNING_SERVICE, self.region)

    def configuration_set_for(self, envelope: Envelope) -> str | None:
        if envelope.tracking:
            return self.tracking_configuration_set or self.configuration_set
        return self.configuration_set

    def sign(self, request: httpx.Request) -> httpx.Request:
        """Sign ``request`` in place with SigV4 over its method, URL, Host, Content-Type and body."""
        body = request.content
        to_sign = {"Host": request.url.netloc.decode("ascii")}
        if "content-type" in request.headers:
            to_sign["Content-Type"] = request.headers["content-type"]
        aws_request = AWSRequest(method=request.method, url=str(request.url), data=body, headers=to_sign)
        self._signer.add_auth(aws_request)
        for name in ("X-Amz-Date", "Authorization", "X-Amz-Security-Token"):
            value = aws_request.headers.get(name)
            if value is not None:
                request.headers[name] = value
        return request

    def build_send_request(self, envelope: Envelope, raw_message: bytes) -> httpx.Request:
        payload: dict[str, Any] = {
            "Content": {"Raw": {"Data": base64.b64encode(raw_message).decode("ascii")}},
            "Destination": {"ToAddresses": list(envelope.recipients)},
        }
        config_set = self.configuration_set_for(envelope)
        if config_set:
            payload["ConfigurationSetName"] = config_set
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/v2/email/outbound-emails",
            content=dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return self.sign(request)

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        outcome = await self.request(self.build_send_request(envelope, raw_message))
        if isinstance(outcome, SendResult):
            return outcome
        if 200 <= outcome.status_code < 300:
            message_id = accepted_message_id(outcome, "MessageId")
            return self.classify(outcome, recipients=envelope.recipients, provider_message_id=message_id)
        kind = error_type(outcome)
        hint: Hint | None = None
        if kind in SERVER_ERROR_TYPES:
            hint = "server"
        elif kind in TRANSIENT_ERROR_TYPES:
            hint = "transient"
        return self.classify(outcome, recipients=envelope.recipients, hint=hint)

    async def check(self) -> CheckResult:
        request = self.sign(self._client.build_request("GET", f"{self.base_url}/v2/email/account"))

        def detail(payload: Any) -> str:
            if isinstance(payload, dict):
                enabled = "sending enabled" if payload.get("SendingEnabled") else "sending paused"
                sandbox = ", sandbox" if not payload.get("ProductionAccessEnabled", True) else ""
                return f"credentials valid in {self.region} ({enabled}{sandbox})"
            return f"credentials valid in {self.region}"

        return await self.check_get(request, detail)
