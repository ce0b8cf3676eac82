"""Mailgun: raw MIME upload, region base URLs, per-message tracking options, recipient errors."""

from __future__ import annotations

import httpx
import pytest

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope, FieldError
from mailconsole.transports.mailgun import MailgunTransport
from tests.transports.esp_cases import ENVELOPE, RECIPIENT, SECRET, Recorder, make_message, multipart_fields

OK = {"id": "<20260302.1@mg.example.com>", "message": "Queued. Thank you."}


@pytest.mark.parametrize(("region", "base"), [("us", "https://api.mailgun.net"), ("eu", "https://api.eu.mailgun.net")])
async def test_region_selects_the_documented_base_url(region: str, base: str) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=OK))
    transport = MailgunTransport(
        api_key=SECRET, domain="mg.example.com", region=region, http_transport=recorder.transport
    )
    result = await transport.send(ENVELOPE, make_message())
    await transport.check()
    await transport.close()
    assert result.provider_message_id == "20260302.1@mg.example.com"
    assert [str(r.url) for r in recorder.requests] == [
        f"{base}/v3/mg.example.com/messages.mime",
        f"{base}/v3/domains/mg.example.com",
    ]


@pytest.mark.parametrize(("tracking", "flag"), [(True, b"yes"), (False, b"no")])
async def test_tracking_options_follow_the_message(tracking: bool, flag: bytes) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=OK))
    transport = MailgunTransport(api_key=SECRET, domain="mg.example.com", http_transport=recorder.transport)
    envelope = Envelope(sender="b@x.com", recipients=(RECIPIENT, "two@example.org"), tracking=tracking, message_id=7)
    await transport.send(envelope, make_message())
    await transport.close()
    fields = multipart_fields(recorder.last)
    assert [value for value, _, _ in fields["to"]] == [RECIPIENT.encode(), b"two@example.org"]
    for name in ("o:tracking", "o:tracking-opens", "o:tracking-clicks"):
        assert fields[name][0][0] == flag
    assert fields["v:mailconsole_message_id"][0][0] == b"7"


async def test_invalid_to_is_permanent_for_the_recipient() -> None:
    recorder = Recorder(
        lambda r: httpx.Response(
            400, json={"message": "to parameter is not a valid address. please check documentation"}
        )
    )
    transport = MailgunTransport(api_key=SECRET, domain="mg.example.com", http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    await transport.close()
    assert (result.kind, result.enhanced_code) == (ResultKind.PERMANENT, "5.1.1")


async def test_unknown_domain_404_is_a_server_fault() -> None:
    recorder = Recorder(lambda r: httpx.Response(404, json={"message": "Domain not found: mg.example.com"}))
    transport = MailgunTransport(api_key=SECRET, domain="mg.example.com", http_transport=recorder.transport)
    result = await transport.send(ENVELOPE, make_message())
    check = await transport.check()
    await transport.close()
    assert (result.kind, result.server_fault) == (ResultKind.TRANSIENT, True)
    assert (
        check.detail
        == "Mailgun: not found (check domain, region or base URL) (HTTP 404) Domain not found: mg.example.com"
    )


def test_domain_and_region_fields_refuse_bad_values_in_plain_words() -> None:
    fields = {spec.name: spec for spec in MailgunTransport.FIELDS}
    with pytest.raises(FieldError) as domain_error:
        fields["domain"].parse("https://mg.example.com/")
    assert (
        domain_error.value.message == "must be a sending domain such as mg.example.com, got 'https://mg.example.com/'"
    )
    with pytest.raises(FieldError) as region_error:
        fields["region"].parse("asia")
    assert region_error.value.message == "Region must be one of us, eu, got 'asia'"
