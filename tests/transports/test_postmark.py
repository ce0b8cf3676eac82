"""Postmark: JSON from our MIME, our streams mapped to message streams, ErrorCode semantics."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope
from mailconsole.transports.postmark import PostmarkTransport
from tests.transports.esp_cases import ENVELOPE, PNG, RECIPIENT, SECRET, SENDER, Recorder, make_message

SUBJECT = "Grüße aus Köln, 你好 ✓"


async def _send(raw: bytes, envelope: Envelope = ENVELOPE, respond=None, **kwargs: str):
    recorder = Recorder(respond or (lambda r: httpx.Response(200, json={"MessageID": "pm-1", "ErrorCode": 0})))
    transport = PostmarkTransport(server_token=SECRET, http_transport=recorder.transport, **kwargs)
    result = await transport.send(envelope, raw)
    await transport.close()
    return json.loads(recorder.requests[0].content.decode("utf-8")), result  # the send, not a later lookup


async def test_attachment_and_non_ascii_subject_round_trip_into_postmark_json() -> None:
    payload, result = await _send(make_message(subject=SUBJECT, attachment=True))
    assert result.kind is ResultKind.ACCEPTED and result.provider_message_id == "pm-1"
    assert payload["Subject"] == SUBJECT
    assert payload["From"] == f"News Desk <{SENDER}>"
    assert payload["To"] == f"Ana Rcpt <{RECIPIENT}>"
    assert payload["ReplyTo"] == "Help <help@example.com>"
    assert payload["TextBody"] == "Plain body\n"
    assert payload["HtmlBody"] == "<p>HTML body</p>\n"
    [attachment] = payload["Attachments"]
    assert attachment == {
        "Name": "chart.png",
        "Content": base64.b64encode(PNG).decode(),
        "ContentType": "image/png",
    }
    assert {"Name": "X-Campaign", "Value": "spring"} in payload["Headers"]
    assert {h["Name"].lower() for h in payload["Headers"]}.isdisjoint({"to", "from", "subject"})
    assert {"Name": "Message-ID", "Value": "<m1@example.com>"} in payload["Headers"]  # the sender's own id
    assert payload["Metadata"] == {"mailconsole_message_id": "42"}


async def test_names_that_need_quotes_are_quoted_in_from() -> None:
    raw = make_message().replace(b"From: News Desk <", b'From: "Desk, News" <')
    payload, _ = await _send(raw)
    assert payload["From"] == f'"Desk, News" <{SENDER}>'


@pytest.mark.parametrize(
    ("stream", "tracking", "expected_stream", "track_links"),
    [("transactional", False, "outbound", "None"), ("broadcast", True, "broadcast", "HtmlAndText")],
)
async def test_our_stream_maps_to_the_postmark_message_stream(
    stream: str, tracking: bool, expected_stream: str, track_links: str
) -> None:
    envelope = Envelope(sender="b@x.com", recipients=(RECIPIENT,), stream=stream, tracking=tracking)
    payload, _ = await _send(make_message(), envelope)
    assert payload["MessageStream"] == expected_stream
    assert payload["TrackOpens"] is tracking
    assert payload["TrackLinks"] == track_links


async def test_stream_names_are_configurable() -> None:
    envelope = Envelope(sender="b@x.com", recipients=(RECIPIENT,), stream="broadcast", tracking=True)
    payload, _ = await _send(make_message(), envelope, transactional_stream="tx", broadcast_stream="news")
    assert payload["MessageStream"] == "news"


@pytest.mark.parametrize(
    ("status", "code", "message", "kind", "server_fault", "enhanced"),
    [
        (
            422,
            406,
            "You tried to send to recipient(s) that have been marked as inactive.",
            ResultKind.PERMANENT,
            False,
            "5.1.1",
        ),
        (422, 300, f"Error parsing 'To': Illegal email address '{RECIPIENT}'.", ResultKind.PERMANENT, False, "5.1.1"),
        (422, 411, "Forbidden attachment type.", ResultKind.PERMANENT, False, None),
        (401, 10, "Bad or missing Server API token.", ResultKind.TRANSIENT, True, None),
        (422, 400, "Sender signature not found.", ResultKind.TRANSIENT, True, None),
        (
            422,
            1235,
            "The message stream for the provided 'MessageStream' was not found.",
            ResultKind.TRANSIENT,
            True,
            None,
        ),
        (503, 100, "Maintenance", ResultKind.TRANSIENT, True, None),
    ],
)
async def test_error_codes_are_classified(
    status: int, code: int, message: str, kind: ResultKind, server_fault: bool, enhanced: str | None
) -> None:
    _, result = await _send(
        make_message(), respond=lambda r: httpx.Response(status, json={"ErrorCode": code, "Message": message})
    )
    assert (result.kind, result.server_fault, result.enhanced_code) == (kind, server_fault, enhanced)
    assert result.text == f"Postmark HTTP {status}: ErrorCode {code}: {message}"


async def test_check_reads_the_server_with_the_token() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"Name": "Production"}))
    transport = PostmarkTransport(server_token=SECRET, http_transport=recorder.transport)
    result = await transport.check()
    await transport.close()
    assert result.ok and result.detail == "Postmark: server token valid (server 'Production')"
    assert recorder.last.headers["x-postmark-server-token"] == SECRET


async def test_inactive_recipient_carries_postmarks_own_suppression_reason() -> None:
    """406 (Postmark API overview, "Error codes"), then the Suppressions API
    (``GET /message-streams/{stream}/suppressions/dump``, rows as the Postmark SDKs document them:
    EmailAddress, SuppressionReason, Origin, CreatedAt) says why."""
    inactive = "You tried to send to recipient(s) that have been marked as inactive."

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(422, json={"ErrorCode": 406, "Message": inactive})
        assert request.url.path == "/message-streams/outbound/suppressions/dump"
        assert request.url.params["EmailAddress"] == RECIPIENT
        assert request.headers["X-Postmark-Server-Token"] == SECRET
        return httpx.Response(200, json={"Suppressions": [
            {"EmailAddress": RECIPIENT, "SuppressionReason": "HardBounce", "Origin": "Recipient",
             "CreatedAt": "2026-03-01T10:00:00-05:00"}]})

    _, result = await _send(make_message(), respond=respond)
    assert result.kind is ResultKind.PERMANENT and not result.server_fault
    assert result.text == (
        f"Postmark HTTP 422: ErrorCode 406: {inactive}; "
        "Postmark suppression: HardBounce (origin Recipient, since 2026-03-01T10:00:00-05:00)"
    )
