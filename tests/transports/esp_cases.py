"""Shared material for the ESP adapter tests: messages, request recorders and one case per
provider that knows how its API documents the send request and a success answer."""

from __future__ import annotations

import base64
import email
import email.policy
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from mailconsole.transports.base import Envelope, Transport
from mailconsole.transports.elasticemail import ElasticEmailTransport
from mailconsole.transports.mailgun import MailgunTransport
from mailconsole.transports.postmark import PostmarkTransport
from mailconsole.transports.sendgrid import SendGridTransport
from mailconsole.transports.ses import SesTransport

SECRET = "sk-test-SUPERSECRET-0123456789abcdef"
AKID = "AKIDEXAMPLE0000000"
RECIPIENT = "rcpt@example.net"
SENDER = "news@example.com"
ENVELOPE = Envelope(sender="bounce+1@bounces.example.com", recipients=(RECIPIENT,), message_id=42)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@functools.cache
def make_message(*, subject: str = "Hello", attachment: bool = False, html: bool = True) -> bytes:
    """A typical message; cached so two calls give the same bytes (MIME boundaries are random)."""
    msg = EmailMessage()
    msg["From"] = f"News Desk <{SENDER}>"
    msg["To"] = f"Ana Rcpt <{RECIPIENT}>"
    msg["Reply-To"] = "Help <help@example.com>"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@example.com>"
    msg["List-Unsubscribe"] = "<https://example.com/u/1>"
    msg["X-Campaign"] = "spring"
    msg.set_content("Plain body\n")
    if html:
        msg.add_alternative("<p>HTML body</p>\n", subtype="html")
    if attachment:
        msg.add_attachment(PNG, maintype="image", subtype="png", filename="chart.png")
    return msg.as_bytes()


class Recorder:
    """A MockTransport handler that records every request and answers from a script."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._respond(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def json_body(request: httpx.Request) -> Any:
    assert request.headers["content-type"] == "application/json"
    return json.loads(request.content.decode("utf-8"))


def multipart_fields(request: httpx.Request) -> dict[str, list[tuple[bytes, str | None, str]]]:
    return parse_multipart(request.headers["content-type"], request.content)


def parse_multipart(content_type: str, body: bytes) -> dict[str, list[tuple[bytes, str | None, str]]]:
    """Parse a multipart/form-data body (RFC 7578) byte-exactly:
    name -> [(value bytes, filename, content type)]."""
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    chunks = body.split(b"--" + boundary)
    assert chunks[-1].startswith(b"--"), "multipart body must end with the closing boundary"
    out: dict[str, list[tuple[bytes, str | None, str]]] = {}
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, value = chunk[2:-2].partition(b"\r\n\r\n")
        headers = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.HTTP)
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_param("filename", header="content-disposition")
        ctype = headers.get_content_type() if "content-type" in headers else "text/plain"
        out.setdefault(str(name), []).append((value, str(filename) if filename else None, ctype))
    return out


@dataclass
class Case:
    """How one provider's send request must look and what its success answer is."""

    type_name: str
    build: Callable[[httpx.AsyncBaseTransport], Transport]
    check_send_request: Callable[[httpx.Request], None]
    success: Callable[[], httpx.Response]
    message_id: str
    check_url: str

    def __str__(self) -> str:
        return self.type_name


def _ses_send(request: httpx.Request) -> None:
    assert request.method == "POST"
    assert str(request.url) == "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails"
    assert request.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AKID}/")
    assert "x-amz-date" in request.headers
    body = json_body(request)
    assert base64.b64decode(body["Content"]["Raw"]["Data"]) == make_message()
    assert body["Destination"] == {"ToAddresses": [RECIPIENT]}


def _sendgrid_send(request: httpx.Request) -> None:
    assert request.method == "POST"
    assert str(request.url) == "https://api.sendgrid.com/v3/mail/send"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    body = json_body(request)
    assert body["personalizations"] == [{"to": [{"email": RECIPIENT, "name": "Ana Rcpt"}]}]
    assert body["from"] == {"email": SENDER, "name": "News Desk"}
    assert body["subject"] == "Hello"


def _mailgun_send(request: httpx.Request) -> None:
    assert request.method == "POST"
    assert str(request.url) == "https://api.mailgun.net/v3/mg.example.com/messages.mime"
    expected = base64.b64encode(f"api:{SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    fields = multipart_fields(request)
    assert fields["to"] == [(RECIPIENT.encode(), None, "text/plain")]
    [(data, filename, _ctype)] = fields["message"]
    assert data == make_message() and filename


def _postmark_send(request: httpx.Request) -> None:
    assert request.method == "POST"
    assert str(request.url) == "https://api.postmarkapp.com/email"
    assert request.headers["x-postmark-server-token"] == SECRET
    assert request.headers["accept"] == "application/json"
    body = json_body(request)
    assert body["From"] == f"News Desk <{SENDER}>"
    assert body["To"] == f"Ana Rcpt <{RECIPIENT}>"
    assert body["MessageStream"] == "outbound"


def _elastic_send(request: httpx.Request) -> None:
    assert request.method == "POST"
    assert str(request.url) == "https://api.elasticemail.com/v4/emails/transactional"
    assert request.headers["x-elasticemail-apikey"] == SECRET
    body = json_body(request)
    assert body["Recipients"] == {"To": [f"Ana Rcpt <{RECIPIENT}>"]}
    assert body["Content"]["From"] == f"News Desk <{SENDER}>"
    assert body["Content"]["Subject"] == "Hello"


CASES = [
    Case(
        "ses",
        lambda t: SesTransport(access_key_id=AKID, secret_access_key=SECRET, region="eu-west-1", http_transport=t),
        _ses_send,
        lambda: httpx.Response(200, json={"MessageId": "ses-0001"}),
        "ses-0001",
        "https://email.eu-west-1.amazonaws.com/v2/email/account",
    ),
    Case(
        "sendgrid",
        lambda t: SendGridTransport(api_key=SECRET, http_transport=t),
        _sendgrid_send,
        lambda: httpx.Response(202, headers={"X-Message-Id": "sg-0001"}),
        "sg-0001",
        "https://api.sendgrid.com/v3/scopes",
    ),
    Case(
        "mailgun",
        lambda t: MailgunTransport(api_key=SECRET, domain="mg.example.com", http_transport=t),
        _mailgun_send,
        lambda: httpx.Response(200, json={"id": "<mg-0001@mg.example.com>", "message": "Queued. Thank you."}),
        "mg-0001@mg.example.com",
        "https://api.mailgun.net/v3/domains/mg.example.com",
    ),
    Case(
        "postmark",
        lambda t: PostmarkTransport(server_token=SECRET, http_transport=t),
        _postmark_send,
        lambda: httpx.Response(200, json={"To": RECIPIENT, "MessageID": "pm-0001", "ErrorCode": 0, "Message": "OK"}),
        "pm-0001",
        "https://api.postmarkapp.com/server",
    ),
    Case(
        "elasticemail",
        lambda t: ElasticEmailTransport(api_key=SECRET, http_transport=t),
        _elastic_send,
        lambda: httpx.Response(200, json={"TransactionID": "tx-1", "MessageID": "ee-0001"}),
        "ee-0001",
        "https://api.elasticemail.com/v4/domains",
    ),
]
