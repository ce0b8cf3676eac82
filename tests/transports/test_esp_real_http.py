"""Two adapters over a real loopback HTTP server (uvicorn + starlette), so what is checked is
what actually went over the wire: SES's SigV4 signature verified server-side against the bytes
received, and Mailgun's multipart upload as received by a real HTTP server."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import botocore.auth
import pytest
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailconsole.domain.results import ResultKind
from mailconsole.transports.mailgun import MailgunTransport
from mailconsole.transports.ses import SesTransport
from tests.transports.esp_cases import AKID, ENVELOPE, RECIPIENT, SECRET, make_message, parse_multipart


@dataclass
class Seen:
    requests: list[dict[str, object]] = field(default_factory=list)


def _verify_sigv4(request: Request, body: bytes, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Recompute the signature from the received request with botocore at the claimed instant."""
    stamp = dt.datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: stamp)
    expected = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=body,
        headers={"Host": request.headers["host"], "Content-Type": request.headers["content-type"]},
    )
    SigV4Auth(Credentials(AKID, SECRET), "ses", "eu-west-1").add_auth(expected)
    monkeypatch.undo()
    return request.headers["authorization"] == expected.headers["Authorization"]


def make_app(seen: Seen, monkeypatch: pytest.MonkeyPatch) -> Starlette:
    async def ses_send(request: Request) -> Response:
        body = await request.body()
        seen.requests.append({"path": request.url.path, "sig_ok": _verify_sigv4(request, body, monkeypatch)})
        return JSONResponse({"MessageId": "ses-wire-1"})

    async def mailgun_send(request: Request) -> Response:
        fields = parse_multipart(request.headers["content-type"], await request.body())
        seen.requests.append(
            {
                "path": request.url.path,
                "to": [value for value, _, _ in fields["to"]],
                "message": fields["message"][0][0],
                "auth": request.headers["authorization"],
            }
        )
        return JSONResponse({"id": "<wire-1@mg.example.com>", "message": "Queued. Thank you."})

    async def echo_credentials(request: Request) -> Response:
        # A careless provider (or proxy) repeating the credentials it was sent.
        return JSONResponse({"message": f"rejected {request.headers['authorization']}"}, status_code=401)

    return Starlette(
        routes=[
            Route("/v3/echo.example.com/messages.mime", echo_credentials, methods=["POST"]),
            Route("/v2/email/outbound-emails", ses_send, methods=["POST"]),
            Route("/v3/mg.example.com/messages.mime", mailgun_send, methods=["POST"]),
        ]
    )


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(make_app(seen, monkeypatch), log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    for _ in range(200):
        if srv.started:
            break
        await asyncio.sleep(0.01)
    assert srv.started
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 5)
        sock.close()


async def test_ses_signature_verifies_against_the_bytes_on_the_wire(server: tuple[str, Seen]) -> None:
    base, seen = server
    ses = SesTransport(access_key_id=AKID, secret_access_key=SECRET, region="eu-west-1", base_url=base, timeout=5)
    result = await ses.send(ENVELOPE, make_message())
    await ses.close()
    assert (result.kind, result.provider_message_id) == (ResultKind.ACCEPTED, "ses-wire-1")
    assert seen.requests == [{"path": "/v2/email/outbound-emails", "sig_ok": True}]


async def test_mailgun_upload_arrives_byte_exact_over_real_http(server: tuple[str, Seen]) -> None:
    base, seen = server
    mailgun = MailgunTransport(api_key=SECRET, domain="mg.example.com", base_url=base, timeout=5)
    result = await mailgun.send(ENVELOPE, make_message(attachment=True))
    await mailgun.close()
    assert (result.kind, result.provider_message_id) == (ResultKind.ACCEPTED, "wire-1@mg.example.com")
    [request] = seen.requests
    assert request["to"] == [RECIPIENT.encode()]
    assert request["message"] == make_message(attachment=True)
    assert str(request["auth"]).startswith("Basic ")


async def test_echoed_credentials_reach_neither_result_nor_logs(
    server: tuple[str, Seen], caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = server
    caplog.set_level(logging.DEBUG)
    mailgun = MailgunTransport(api_key=SECRET, domain="echo.example.com", base_url=base, timeout=5)
    result = await mailgun.send(ENVELOPE, make_message())
    check = await mailgun.check()
    await mailgun.close()
    token = base64.b64encode(f"api:{SECRET}".encode()).decode()
    assert (result.kind, result.server_fault) == (ResultKind.TRANSIENT, True)
    assert result.text == "Mailgun HTTP 401: rejected Basic [redacted]"
    assert caplog.records, "debug logging was captured"
    for text in (result.text, check.detail, caplog.text):
        assert SECRET not in text and token not in text
