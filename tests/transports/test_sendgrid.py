"""SendGrid v3: our MIME becomes Mail Send JSON faithfully; tracking per message; X-Message-Id kept."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage

import httpx

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope
from mailconsole.transports.sendgrid import SendGridTransport
from tests.transports.esp_cases import ENVELOPE, PNG, RECIPIENT, SECRET, SENDER, Recorder, make_message

SUBJECT = "Grüße aus Köln, 你好 ✓"


async def _payload(raw: bytes, envelope: Envelope = ENVELOPE) -> dict:
    recorder = Recorder(lambda r: httpx.Response(202, headers={"X-Message-Id": "sg-1"}))
    transport = SendGridTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.send(envelope, raw)
    await transport.close()
    assert result.kind is ResultKind.ACCEPTED and result.provider_message_id == "sg-1"
    return json.loads(recorder.last.content.decode("utf-8"))


async def test_attachment_and_non_ascii_subject_round_trip_into_mail_send_json() -> None:
    payload = await _payload(make_message(subject=SUBJECT, attachment=True))
    assert payload["subject"] == SUBJECT
    assert payload["from"] == {"email": SENDER, "name": "News Desk"}
    assert payload["reply_to"] == {"email": "help@example.com", "name": "Help"}
    assert payload["personalizations"] == [{"to": [{"email": RECIPIENT, "name": "Ana Rcpt"}]}]
    assert payload["content"] == [
        {"type": "text/plain", "value": "Plain body\n"},
        {"type": "text/html", "value": "<p>HTML body</p>\n"},
    ]
    [attachment] = payload["attachments"]
    assert base64.b64decode(attachment["content"]) == PNG
    assert attachment["filename"] == "chart.png"
    assert attachment["type"] == "image/png"
    assert attachment["disposition"] == "attachment"
    assert "content_id" not in attachment


async def test_custom_headers_pass_and_reserved_ones_are_dropped() -> None:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = RECIPIENT
    msg["Subject"] = "Hi"
    msg["X-SG-EID"] = "should-not-pass"
    msg["List-Unsubscribe"] = "<https://example.com/u/1>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Note"] = "Ünïcode"
    msg.set_content("x")
    payload = await _payload(msg.as_bytes())
    headers = payload["headers"]
    assert headers["List-Unsubscribe"] == "<https://example.com/u/1>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Non-ASCII header values stay RFC 2047-encoded, as SendGrid asks.
    assert headers["X-Note"].startswith("=?utf-8?")
    lowered = {k.lower() for k in headers}
    assert not lowered & {"x-sg-eid", "to", "from", "subject", "content-type", "mime-version", "message-id"}


async def test_inline_image_keeps_its_content_id() -> None:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = RECIPIENT
    msg["Subject"] = "Logo"
    msg.set_content("text")
    msg.add_alternative('<img src="cid:logo@x">', subtype="html")
    html = msg.get_body(("html",))
    assert html is not None
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo@x>", filename="logo.png")
    payload = await _payload(msg.as_bytes())
    [attachment] = payload["attachments"]
    assert attachment["content_id"] == "logo@x"
    assert attachment["disposition"] == "inline"
    assert payload["content"][1] == {"type": "text/html", "value": '<img src="cid:logo@x">\n'}


async def test_tracking_settings_follow_the_message() -> None:
    tracked = await _payload(
        make_message(), Envelope(sender="b@x.com", recipients=(RECIPIENT,), stream="broadcast", tracking=True)
    )
    assert tracked["tracking_settings"] == {
        "click_tracking": {"enable": True, "enable_text": False},
        "open_tracking": {"enable": True},
    }
    plain = await _payload(make_message())
    assert plain["tracking_settings"]["click_tracking"]["enable"] is False
    assert plain["tracking_settings"]["open_tracking"]["enable"] is False
    assert plain["custom_args"] == {"mailconsole_message_id": "42"}


async def test_personalization_lists_only_the_envelope_recipient() -> None:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = f"{RECIPIENT}, other@example.org"
    msg["Subject"] = "Team"
    msg.set_content("x")
    payload = await _payload(msg.as_bytes())
    assert payload["personalizations"] == [{"to": [{"email": RECIPIENT}]}]


async def test_bad_recipient_400_is_permanent_for_the_message() -> None:
    error = {"errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}]}
    recorder = Recorder(lambda r: httpx.Response(400, json=error))
    transport = SendGridTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    await transport.close()
    assert (result.kind, result.enhanced_code, result.server_fault) == (ResultKind.PERMANENT, "5.1.1", False)
    assert result.text == ("SendGrid HTTP 400: Does not contain a valid address. (personalizations.0.to.0.email)")


async def test_unverified_sender_identity_blames_the_server_not_the_recipient() -> None:
    error = {"errors": [{"message": "The from address does not match a verified Sender Identity.", "field": "from"}]}
    recorder = Recorder(lambda r: httpx.Response(400, json=error))
    transport = SendGridTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    await transport.close()
    assert (result.kind, result.enhanced_code, result.server_fault) == (ResultKind.TRANSIENT, None, True)
    assert "does not match a verified Sender Identity" in result.text


async def test_other_400_is_permanent_with_sendgrids_words() -> None:
    error = {"errors": [{"message": "Invalid type. Expected: object, given: string.", "field": "content.0"}]}
    recorder = Recorder(lambda r: httpx.Response(400, json=error))
    transport = SendGridTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    await transport.close()
    assert (result.kind, result.enhanced_code) == (ResultKind.PERMANENT, None)
    assert "Invalid type" in result.text


async def test_check_fails_when_the_key_lacks_mail_send() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"scopes": ["stats.read"]}))
    transport = SendGridTransport(api_key=SECRET, http_transport=recorder.transport)
    result = await transport.check()
    await transport.close()
    assert not result.ok
    assert result.detail == "SendGrid: API key valid but lacks the mail.send scope"
    assert recorder.last.headers["authorization"] == f"Bearer {SECRET}"
