"""Provider answers about the sender or the account blame the server, never the recipient.

Texts as seen from the providers (issue 14) and as they document them: Postmark's API
reference, "Error codes" (ErrorCode 300 "Invalid email request", 406 "Inactive recipient");
Mailgun's messages API 400 answers; the AWS SES v2 API reference for SendEmail
(``MessageRejected``, ``TooManyRequestsException``) and the SES sandbox "not verified" text.
"""

from __future__ import annotations

import httpx
import pytest

from mailconsole.domain.results import ResultKind
from mailconsole.transports.http_common import classify_response
from mailconsole.transports.postmark import PostmarkTransport
from tests.transports.esp_cases import ENVELOPE, SECRET, Recorder, make_message

RCPT = ENVELOPE.recipients[0]


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (400, "'from' parameter is not a valid address. please check documentation"),  # Mailgun
        (400, "Email address is not verified. The following identities failed the check in region "
              f"US-EAST-1: {RCPT}"),  # SES sandbox naming the recipient
        (400, "Email address is not verified. The following identities failed the check in region "
              "US-EAST-1: news@example.com"),  # SES naming the sender identity
        (400, "The from address does not match a verified Sender Identity."),  # SendGrid
    ],
)
def test_sender_and_configuration_answers_blame_the_server(status: int, detail: str) -> None:
    result = classify_response(status, detail=detail, recipients=[RCPT])
    assert result.server_fault and result.kind is ResultKind.TRANSIENT
    assert result.enhanced_code is None  # nothing a contact could be blamed with
    assert result.counts_against_server


def test_a_recipient_answer_still_blames_the_recipient() -> None:
    result = classify_response(400, detail=f"'to' parameter is not a valid address: {RCPT}", recipients=[RCPT])
    assert (result.kind, result.enhanced_code, result.server_fault) == (ResultKind.PERMANENT, "5.1.1", False)


def test_provider_throttling_counts_against_the_server_and_keeps_retry_after() -> None:
    result = classify_response(429, headers={"retry-after": "30"}, detail="Too Many Requests", recipients=[RCPT])
    assert result.kind is ResultKind.TRANSIENT and result.retry_after == 30
    assert result.counts_against_server


async def test_postmark_300_error_parsing_from_blames_the_server() -> None:
    body = {
        "ErrorCode": 300,
        "Message": "Error parsing 'From': Illegal email address 'Name'. It must contain the '@' symbol.",
    }
    recorder = Recorder(lambda r: httpx.Response(422, json=body))
    transport = PostmarkTransport(server_token=SECRET, http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    await transport.close()
    assert result.server_fault and result.enhanced_code is None
    assert "Error parsing 'From'" in result.text
