"""The shared pieces: Retry-After, redaction, the classifier's rules, MIME -> parts."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import httpx
import pytest

from mailconsole.domain.results import ResultKind
from mailconsole.transports.http_common import accepted_message_id, classify_response, parse_retry_after, redact
from mailconsole.transports.mime_parts import extract_parts
from tests.transports.esp_cases import PNG, RECIPIENT, SECRET, make_message

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Mon, 02 Mar 2026 09:01:30 GMT", 90.0),
        ("Mon, 02 Mar 2026 08:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_429_with_an_http_date_sets_retry_after_from_now() -> None:
    result = classify_response(429, headers={"retry-after": "Mon, 02 Mar 2026 09:00:45 GMT"}, now=NOW)
    assert (result.kind, result.retry_after) == (ResultKind.TRANSIENT, 45.0)


def test_redact_removes_secrets_and_cuts_long_text() -> None:
    text = redact(f"bad key {SECRET} " + "x" * 1000, [SECRET])
    assert SECRET not in text and "[redacted]" in text
    assert len(text) == 500 and text.endswith("…")


def test_a_4xx_without_the_recipient_is_permanent_but_not_a_bad_mailbox() -> None:
    result = classify_response(400, detail="Invalid JSON", recipients=[RECIPIENT])
    assert (result.kind, result.enhanced_code, result.server_fault) == (ResultKind.PERMANENT, None, False)


def test_a_4xx_naming_the_recipient_is_a_bad_mailbox() -> None:
    result = classify_response(422, detail=f"{RECIPIENT.upper()} bounced before", recipients=[RECIPIENT])
    assert (result.kind, result.enhanced_code) == (ResultKind.PERMANENT, "5.1.1")


def test_parts_of_a_plain_text_only_message() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = RECIPIENT
    msg["Subject"] = "=?utf-8?q?Gr=C3=BC=C3=9Fe?="
    msg.set_content("only text")
    parts = extract_parts(msg.as_bytes())
    assert (parts.text, parts.html, parts.attachments) == ("only text\n", None, ())
    assert parts.subject == "Grüße"


def test_attached_message_and_non_ascii_filename_are_kept_whole() -> None:
    inner = EmailMessage()
    inner["Subject"] = "forwarded"
    inner.set_content("inner body")
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = RECIPIENT
    msg["Subject"] = "fw"
    msg.set_content("see attached")
    msg.add_attachment(inner)
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="Übersicht.png")
    parts = extract_parts(msg.as_bytes())
    forwarded, image = parts.attachments
    assert forwarded.content_type == "message/rfc822"
    assert b"inner body" in forwarded.content
    assert (image.filename, image.content) == ("Übersicht.png", PNG)


def test_routing_headers_never_become_custom_headers() -> None:
    raw = make_message().replace(b"X-Campaign: spring", b"X-Mailconsole-Stream: broadcast\nX-Campaign: spring")
    headers = dict(extract_parts(raw).headers)
    assert "X-Mailconsole-Stream" not in headers and headers["X-Campaign"] == "spring"


def test_unknown_charset_degrades_instead_of_failing_the_message() -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nHall\xc3\xb6\r\n"
    )
    assert extract_parts(raw).text == "Hallö\r\n"


def test_accepted_message_id_takes_the_first_non_empty_field_of_a_2xx_json_object() -> None:
    ok = httpx.Response(200, json={"MessageID": "", "TransactionID": "tx-1"})
    assert accepted_message_id(ok, "MessageID", "TransactionID") == "tx-1"
    assert accepted_message_id(httpx.Response(202, json={"id": "<m@x>"}), "id") == "<m@x>"
    assert accepted_message_id(httpx.Response(200, json={}), "id") is None
    assert accepted_message_id(httpx.Response(200, json=["id"]), "id") is None  # not an object
    assert accepted_message_id(httpx.Response(200, content=b"not json"), "id") is None
    assert accepted_message_id(httpx.Response(400, json={"id": "m-1"}), "id") is None  # refused
