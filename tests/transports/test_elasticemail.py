"""Elastic Email v4: transactional JSON from our MIME, tracking options, errors."""

from __future__ import annotations

import base64
import json

import httpx

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope
from mailconsole.transports.elasticemail import ElasticEmailTransport
from tests.transports.esp_cases import ENVELOPE, PNG, RECIPIENT, SECRET, SENDER, Recorder, make_message

SUBJECT = "Grüße, 你好"


async def test_message_becomes_the_documented_transactional_json() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"TransactionID": "t", "MessageID": "ee-9"}))
    transport = ElasticEmailTransport(api_key=SECRET, http_transport=recorder.transport)
    envelope = Envelope(sender="b@x.com", recipients=(RECIPIENT,), stream="broadcast", tracking=True)
    result = await transport.send(envelope, make_message(subject=SUBJECT, attachment=True))
    await transport.close()
    assert result.provider_message_id == "ee-9"
    payload = json.loads(recorder.last.content.decode("utf-8"))
    content = payload["Content"]
    assert content["From"] == f"News Desk <{SENDER}>"
    assert content["ReplyTo"] == "Help <help@example.com>"
    assert content["Subject"] == SUBJECT
    assert content["Body"] == [
        {"ContentType": "PlainText", "Content": "Plain body\n", "Charset": "utf-8"},
        {"ContentType": "HTML", "Content": "<p>HTML body</p>\n", "Charset": "utf-8"},
    ]
    assert content["Attachments"] == [
        {"BinaryContent": base64.b64encode(PNG).decode(), "Name": "chart.png", "ContentType": "image/png"}
    ]
    assert content["Headers"]["X-Campaign"] == "spring"
    assert payload["Options"] == {"TrackOpens": True, "TrackClicks": True}


async def test_invalid_recipient_is_permanent_for_the_message() -> None:
    recorder = Recorder(lambda r: httpx.Response(400, json={"Error": f"Invalid recipient {RECIPIENT}"}))
    transport = ElasticEmailTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    await transport.close()
    assert (result.kind, result.enhanced_code) == (ResultKind.PERMANENT, "5.1.1")
    assert result.text == f"Elastic Email HTTP 400: Invalid recipient {RECIPIENT}"


async def test_check_with_send_only_key_explains_the_403() -> None:
    recorder = Recorder(lambda r: httpx.Response(403, json={"Error": "Access denied"}))
    transport = ElasticEmailTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.check()
    await transport.close()
    assert not result.ok
    assert result.detail.endswith("(a send-only key cannot be checked; allow ViewSettings)")
