"""Amazon SES v2: SigV4 signed by botocore, raw MIME, configuration set per tracking, SES error types."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope
from mailconsole.transports.ses import SesTransport
from tests.transports.esp_cases import AKID, ENVELOPE, RECIPIENT, SECRET, Recorder, make_message

FIXED = dt.datetime(2026, 3, 2, 9, 0, 0)
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[A-Z0-9]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/ses/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


@pytest.fixture
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: FIXED)


def _ses(recorder: Recorder, **kwargs: object) -> SesTransport:
    options: dict[str, object] = {"access_key_id": AKID, "secret_access_key": SECRET, "region": "eu-west-1"}
    options.update(kwargs)
    return SesTransport(**options, http_transport=recorder.transport)  # type: ignore[arg-type]


async def test_authorization_header_has_sigv4_structure_for_ses_in_the_region(fixed_time: None) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"MessageId": "m-1"}))
    ses = _ses(recorder)
    await ses.send(ENVELOPE, make_message())
    await ses.close()
    request = recorder.last
    match = AUTH_RE.match(request.headers["authorization"])
    assert match, request.headers["authorization"]
    assert match["akid"] == AKID
    assert match["date"] == "20260302"
    assert match["region"] == "eu-west-1"
    assert match["signed"] == "content-type;host;x-amz-date"
    assert request.headers["x-amz-date"] == "20260302T090000Z"


async def test_signature_equals_botocores_for_the_same_request(fixed_time: None) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"MessageId": "m-1"}))
    ses = _ses(recorder)
    await ses.send(ENVELOPE, make_message())
    await ses.close()
    sent = recorder.last

    # Independently: the documented request, signed by botocore at the same instant.
    body = json.dumps(
        {
            "Content": {"Raw": {"Data": base64.b64encode(make_message()).decode()}},
            "Destination": {"ToAddresses": [RECIPIENT]},
        },
        separators=(",", ":"),
    ).encode()
    assert sent.content == body
    expected = AWSRequest(
        method="POST",
        url="https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails",
        data=body,
        headers={"Host": "email.eu-west-1.amazonaws.com", "Content-Type": "application/json"},
    )
    SigV4Auth(Credentials(AKID, SECRET), "ses", "eu-west-1").add_auth(expected)
    assert sent.headers["authorization"] == expected.headers["Authorization"]


async def test_signature_changes_when_the_body_changes(fixed_time: None) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"MessageId": "m-1"}))
    ses = _ses(recorder)
    await ses.send(ENVELOPE, make_message())
    await ses.send(ENVELOPE, make_message(subject="Other"))
    await ses.close()
    first, second = (AUTH_RE.match(r.headers["authorization"]) for r in recorder.requests)
    assert first and second and first["sig"] != second["sig"]


async def test_check_signs_a_get_account_request() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"SendingEnabled": True, "ProductionAccessEnabled": False}))
    ses = _ses(recorder)
    result = await ses.check()
    await ses.close()
    assert result.ok
    assert result.detail == "Amazon SES: credentials valid in eu-west-1 (sending enabled, sandbox)"
    assert recorder.last.method == "GET"
    assert AUTH_RE.match(recorder.last.headers["authorization"])


@pytest.mark.parametrize(
    ("tracking", "expected"),
    [(True, "tracked"), (False, "plain")],
)
async def test_configuration_set_follows_tracking(tracking: bool, expected: str) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"MessageId": "m-1"}))
    ses = _ses(recorder, configuration_set="plain", tracking_configuration_set="tracked")
    envelope = Envelope(sender="b@example.com", recipients=(RECIPIENT,), stream="broadcast", tracking=tracking)
    await ses.send(envelope, make_message())
    await ses.close()
    assert json.loads(recorder.last.content)["ConfigurationSetName"] == expected


async def test_no_configuration_set_means_no_field() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"MessageId": "m-1"}))
    ses = _ses(recorder)
    await ses.send(ENVELOPE, make_message())
    await ses.close()
    assert "ConfigurationSetName" not in json.loads(recorder.last.content)


async def test_base_url_override_is_used_for_sending_and_signing() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"MessageId": "m-1"}))
    ses = _ses(recorder, base_url="http://127.0.0.1:4566/")
    await ses.send(ENVELOPE, make_message())
    await ses.close()
    assert str(recorder.last.url) == "http://127.0.0.1:4566/v2/email/outbound-emails"


@pytest.mark.parametrize(
    ("status", "error_type", "message", "kind", "server_fault", "enhanced"),
    [
        # The SES sandbox names the *recipient* as an unverified identity: the account's setup
        # is to blame (issue 14), never the contact.
        (400, "MessageRejected", "Email address is not verified. The following identities failed the check in "
         f"region US-EAST-1: {RECIPIENT}", ResultKind.TRANSIENT, True, None),
        (400, "Throttling", "Maximum sending rate exceeded.", ResultKind.TRANSIENT, False, None),
        (400, "BadRequestException", "Illegal header value", ResultKind.PERMANENT, False, None),
        (400, "AccountSuspendedException", "account suspended", ResultKind.TRANSIENT, True, None),
        (400, "MailFromDomainNotVerifiedException", "mail from not verified", ResultKind.TRANSIENT, True, None),
        (400, "LimitExceededException", "daily quota", ResultKind.TRANSIENT, False, None),
        (403, "SignatureDoesNotMatchException", "signature mismatch", ResultKind.TRANSIENT, True, None),
    ],
)
async def test_ses_error_types_are_classified(
    status: int, error_type: str, message: str, kind: ResultKind, server_fault: bool, enhanced: str | None
) -> None:
    recorder = Recorder(
        lambda r: httpx.Response(
            status, headers={"x-amzn-ErrorType": f"{error_type}:http://"}, json={"message": message}
        )
    )
    ses = _ses(recorder)
    result = await ses.send(ENVELOPE, make_message())
    await ses.close()
    assert (result.kind, result.server_fault, result.enhanced_code) == (kind, server_fault, enhanced)
    assert message in result.text
