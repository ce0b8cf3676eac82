"""Every ESP adapter keeps the same promises: documented request, classification by kind,
Retry-After honoured, credentials never blamed on the contact, secrets never shown."""

from __future__ import annotations

import base64

import httpx
import pytest

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import CheckResult, Transport, parse_fields
from mailconsole.transports.registry import build_transport, transport_class
from tests.transports.esp_cases import CASES, ENVELOPE, SECRET, Case, Recorder, make_message

pytestmark = pytest.mark.parametrize("case", CASES, ids=str)


async def _send(case: Case, respond) -> tuple[Recorder, object]:
    recorder = Recorder(respond)
    transport = case.build(recorder.transport)
    try:
        result = await transport.send(ENVELOPE, make_message())
    finally:
        await transport.close()
    return recorder, result


async def test_accepted_send_is_the_documented_request_and_keeps_provider_id(case: Case) -> None:
    recorder, result = await _send(case, lambda r: case.success())
    assert len(recorder.requests) == 1
    case.check_send_request(recorder.last)
    assert result.kind is ResultKind.ACCEPTED
    assert result.provider_message_id == case.message_id
    assert result.server_fault is False


async def test_429_is_transient_and_honours_retry_after_seconds(case: Case) -> None:
    _, result = await _send(
        case, lambda r: httpx.Response(429, headers={"Retry-After": "30"}, json={"message": "slow down"})
    )
    assert result.kind is ResultKind.TRANSIENT
    assert result.retry_after == 30.0
    assert result.http_status == 429
    assert result.server_fault is False


async def test_500_is_transient_and_counts_against_the_server(case: Case) -> None:
    _, result = await _send(case, lambda r: httpx.Response(500, text="internal error"))
    assert result.kind is ResultKind.TRANSIENT
    assert result.http_status == 500
    assert result.server_fault is True
    assert result.enhanced_code is None
    assert "internal error" in result.text


async def test_401_is_a_server_fault_never_the_recipients(case: Case) -> None:
    _, result = await _send(case, lambda r: httpx.Response(401, json={"message": "bad credentials"}))
    assert result.kind is ResultKind.TRANSIENT
    assert result.server_fault is True
    assert result.enhanced_code is None
    assert result.code_label == "HTTP 401"


async def test_403_is_a_server_fault(case: Case) -> None:
    _, result = await _send(case, lambda r: httpx.Response(403, json={"message": "forbidden"}))
    assert (result.kind, result.server_fault) == (ResultKind.TRANSIENT, True)


async def test_timeout_is_transient_and_blames_the_server(case: Case) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    _, result = await _send(case, hang)
    assert result.kind is ResultKind.TRANSIENT
    assert result.server_fault is True
    assert "timed out" in result.text


async def test_connect_error_is_transient_and_blames_the_server(case: Case) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    _, result = await _send(case, refuse)
    assert (result.kind, result.server_fault) == (ResultKind.TRANSIENT, True)


async def test_secret_never_appears_even_when_the_provider_echoes_it(case: Case) -> None:
    basic = base64.b64encode(f"api:{SECRET}".encode()).decode()
    echo = f"key {SECRET} / Basic {basic} is not allowed to send"
    _, result = await _send(case, lambda r: httpx.Response(400, json={"message": echo}))
    assert result.kind is ResultKind.PERMANENT
    assert SECRET not in result.text and basic not in result.text
    assert "[redacted]" in result.text

    _, result = await _send(case, lambda r: httpx.Response(401, text=echo))
    assert SECRET not in result.text

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timeout talking with key {SECRET}", request=request)

    _, result = await _send(case, boom)
    assert SECRET not in result.text

    recorder = Recorder(lambda r: httpx.Response(401, text=echo))
    transport = case.build(recorder.transport)
    check = await transport.check()
    await transport.close()
    assert SECRET not in check.detail and basic not in check.detail
    assert SECRET not in repr(transport) and SECRET not in str(transport)


async def test_check_calls_an_authenticated_read_and_reports_success(case: Case) -> None:
    payloads = {
        "ses": {"SendingEnabled": True, "ProductionAccessEnabled": True},
        "sendgrid": {"scopes": ["mail.send"]},
        "mailgun": {"domain": {"name": "mg.example.com", "state": "active"}},
        "postmark": {"Name": "Production"},
        "elasticemail": [{"Domain": "example.com"}],
    }
    recorder = Recorder(lambda r: httpx.Response(200, json=payloads[case.type_name]))
    transport = case.build(recorder.transport)
    result = await transport.check()
    await transport.close()
    assert result.ok, result.detail
    request = recorder.last
    assert request.method == "GET"
    assert str(request.url) == case.check_url
    auth_headers = {"authorization", "x-postmark-server-token", "x-elasticemail-apikey"}
    assert auth_headers & set(request.headers.keys())


async def test_check_with_rejected_credentials_says_so(case: Case) -> None:
    recorder = Recorder(lambda r: httpx.Response(401, json={"message": "Unauthorized"}))
    transport = case.build(recorder.transport)
    result = await transport.check()
    await transport.close()
    assert result == CheckResult(False, result.detail)
    assert "credentials rejected (HTTP 401)" in result.detail


def test_registry_builds_the_type_from_parsed_fields(case: Case) -> None:
    cls = transport_class(case.type_name)
    assert cls.TYPE == case.type_name
    raw = {spec.name: "x" * 20 for spec in cls.FIELDS if spec.required}
    if case.type_name == "mailgun":
        raw["domain"] = "mg.example.com"
    parsed = parse_fields(cls.FIELDS, raw)
    assert parsed.errors == {}
    assert all(spec.kind == "secret" for spec in cls.FIELDS if spec.name in parsed.secrets)
    transport = build_transport(case.type_name, parsed.settings, parsed.secrets)
    assert isinstance(transport, Transport)
    assert isinstance(transport, cls)
    assert any(spec.name == "base_url" for spec in cls.FIELDS)
    # The engine passes the server's concurrency cap to constructors that take it.
    assert isinstance(build_transport(case.type_name, {**parsed.settings, "concurrency": 3}, parsed.secrets), cls)


MISSING = {
    "ses": {"access_key_id": "Access key ID is required", "secret_access_key": "Secret access key is required"},
    "sendgrid": {"api_key": "API key is required"},
    "mailgun": {"api_key": "API key is required", "domain": "Sending domain is required"},
    "postmark": {"server_token": "Server API token is required"},
    "elasticemail": {"api_key": "API key is required"},
}


def test_missing_required_fields_give_readable_errors(case: Case) -> None:
    parsed = parse_fields(transport_class(case.type_name).FIELDS, {"base_url": "ftp://x", "pasword": "y"})
    assert parsed.errors == {
        **MISSING[case.type_name],
        "base_url": "must start with https:// (or http:// for a local proxy), got 'ftp://x'",
        "pasword": parsed.errors["pasword"],
    }
    assert parsed.errors["pasword"].startswith("unknown field 'pasword'; known fields: ")
    assert parsed.secrets == {}
