"""What the JSON providers receive over real loopback HTTP, checked against each provider's
documented request shape: the message's own Message-ID and Date (and Cc where the API has a
display-only header slot), repeated headers where the API takes a list, every Reply-To address.

Shapes checked (field names and types as the providers document them):
- SendGrid v3 Mail Send: ``personalizations[].to[] {email, name?}``, ``from {email, name?}``,
  ``subject``, ``content[] {type, value}``, ``headers`` an object of strings without the reserved
  names (x-sg-id, x-sg-eid, received, dkim-signature, content-type, content-transfer-encoding,
  to, from, subject, reply-to, cc, bcc); ``reply_to_list[]`` for several Reply-To addresses.
- Postmark /email: ``From``, ``To`` strings, ``Headers[] {Name, Value}``, ``ReplyTo`` string.
- Elastic Email v4 /emails/transactional: ``Recipients.To[]`` strings, ``Content.From``,
  ``Content.Headers`` an object of strings, ``Content.ReplyTo`` string.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope
from mailconsole.transports.elasticemail import ElasticEmailTransport
from mailconsole.transports.postmark import PostmarkTransport
from mailconsole.transports.sendgrid import SendGridTransport

RECIPIENT = "ana@example.net"
ENVELOPE = Envelope(sender="bounce+7@bounces.example.com", recipients=(RECIPIENT,), message_id=7)
MESSAGE_ID = "<2026-03-02.order-77@shop.example.com>"
DATE = "Mon, 02 Mar 2026 09:00:00 +0000"
CC = "Boss <boss@example.org>, audit@example.org"
SENDGRID_RESERVED = {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
                     "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}


def _message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Shop <orders@shop.example.com>"
    msg["To"] = f"Ana <{RECIPIENT}>, Ben <ben@example.net>"
    msg["Cc"] = CC
    msg["Reply-To"] = "Help <help@shop.example.com>, billing@shop.example.com"
    msg["Subject"] = "Your order"
    msg["Date"] = DATE
    msg["Message-ID"] = MESSAGE_ID
    msg["Comments"] = "first"
    msg["Comments"] = "second"
    msg.set_content("Thanks\n")
    return msg.as_bytes()


def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _check_sendgrid(body: dict[str, Any]) -> list[str]:
    problems = []
    for p in body.get("personalizations", []):
        if not all(isinstance(a, dict) and isinstance(a.get("email"), str) for a in p.get("to", [])):
            problems.append("personalizations[].to[] must be {email, name?}")
    if not isinstance(body.get("from", {}).get("email"), str):
        problems.append("from.email missing")
    if not all({"type", "value"} <= set(c) for c in body.get("content", [])) or not body.get("content"):
        problems.append("content[] must be {type, value}")
    headers = body.get("headers", {})
    if not _is_str_map(headers):
        problems.append("headers must be an object of strings")
    elif SENDGRID_RESERVED & {k.lower() for k in headers}:
        problems.append(f"reserved headers sent: {SENDGRID_RESERVED & {k.lower() for k in headers}}")
    return problems


def _check_postmark(body: dict[str, Any]) -> list[str]:
    problems = [f"{k} must be a string" for k in ("From", "To", "Subject") if not isinstance(body.get(k), str)]
    if not all(isinstance(h, dict) and set(h) == {"Name", "Value"} for h in body.get("Headers", [])):
        problems.append("Headers[] must be {Name, Value}")
    return problems


def _check_elastic(body: dict[str, Any]) -> list[str]:
    problems = []
    to = body.get("Recipients", {}).get("To")
    if not (isinstance(to, list) and all(isinstance(a, str) for a in to)):
        problems.append("Recipients.To must be a list of strings")
    content = body.get("Content", {})
    if not isinstance(content.get("From"), str):
        problems.append("Content.From missing")
    if not _is_str_map(content.get("Headers", {})):
        problems.append("Content.Headers must be an object of strings")
    return problems


@pytest.fixture
async def provider() -> AsyncIterator[tuple[str, dict[str, dict[str, Any]]]]:
    received: dict[str, dict[str, Any]] = {}

    def route(path: str, check: Any, answer: dict[str, Any], status: int) -> Route:
        async def handle(request: Request) -> Response:
            body = json.loads(await request.body())
            problems = check(body)
            if problems:  # what the provider would refuse, as a 400 the test will see
                return JSONResponse({"errors": problems}, status_code=400)
            received[path] = body
            return JSONResponse(answer, status_code=status, headers={"X-Message-Id": "sg-wire-1"})

        return Route(path, handle, methods=["POST"])

    app = Starlette(routes=[
        route("/v3/mail/send", _check_sendgrid, {}, 202),
        route("/email", _check_postmark, {"MessageID": "pm-wire-1", "ErrorCode": 0, "Message": "OK"}, 200),
        route("/v4/emails/transactional", _check_elastic, {"TransactionID": "t-1", "MessageID": "ee-wire-1"}, 200),
    ])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", received
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)
        sock.close()


async def test_sendgrid_receives_message_id_and_date_and_every_reply_to(
    provider: tuple[str, dict[str, dict[str, Any]]],
) -> None:
    base, received = provider
    transport = SendGridTransport(api_key="SG.test-key", base_url=base, timeout=5)
    result = await transport.send(ENVELOPE, _message())
    await transport.close()
    assert (result.kind, result.provider_message_id) == (ResultKind.ACCEPTED, "sg-wire-1"), result.text
    body = received["/v3/mail/send"]
    assert body["headers"]["Message-ID"] == MESSAGE_ID
    assert body["headers"]["Date"] == DATE
    assert body["reply_to_list"] == [{"email": "help@shop.example.com", "name": "Help"},
                                     {"email": "billing@shop.example.com"}]
    # SendGrid reserves Cc and delivers to personalizations' cc: the copy goes to Ana only.
    assert body["personalizations"] == [{"to": [{"email": RECIPIENT, "name": "Ana"}]}]


@pytest.mark.parametrize("kind", ["postmark", "elasticemail"])
async def test_message_id_date_and_cc_arrive_as_the_provider_documents_them(
    provider: tuple[str, dict[str, dict[str, Any]]], kind: str
) -> None:
    base, received = provider
    if kind == "postmark":
        transport: PostmarkTransport | ElasticEmailTransport = PostmarkTransport(
            server_token="pm-test-token", base_url=base, timeout=5
        )
    else:
        transport = ElasticEmailTransport(api_key="ee-test-key", base_url=base, timeout=5)
    result = await transport.send(ENVELOPE, _message())
    await transport.close()
    assert result.kind is ResultKind.ACCEPTED, result.text
    if kind == "postmark":
        body = received["/email"]
        assert result.provider_message_id == "pm-wire-1"
        headers = [(h["Name"], h["Value"]) for h in body["Headers"]]
        assert ("Message-ID", MESSAGE_ID) in headers and ("Date", DATE) in headers and ("Cc", CC) in headers
        assert [v for n, v in headers if n == "Comments"] == ["first", "second"]  # a list keeps repeats
        assert body["ReplyTo"] == "Help <help@shop.example.com>, billing@shop.example.com"
        assert body["To"] == f"Ana <{RECIPIENT}>" and "Cc" not in body  # delivered to Ana only
    else:
        body = received["/v4/emails/transactional"]
        assert result.provider_message_id == "ee-wire-1"  # what its webhooks name the message by
        headers = body["Content"]["Headers"]
        assert (headers["Message-ID"], headers["Date"], headers["Cc"]) == (MESSAGE_ID, DATE, CC)
        assert body["Content"]["ReplyTo"] == "Help <help@shop.example.com>, billing@shop.example.com"
        assert body["Recipients"] == {"To": [f"Ana <{RECIPIENT}>"]}
