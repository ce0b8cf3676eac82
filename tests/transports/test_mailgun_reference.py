"""The Mailgun upload checked against Mailgun's own API reference (OpenAPI 3.1 "Mailgun API",
https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages/post-v3--domain-name--messages-mime,
and the maintainers' sample ``mailgun/documentation`` source/samples/send-mime-message.rst:
``curl --user 'api:KEY' https://api.mailgun.net/v3/DOMAIN/messages.mime -F to=… -F message=@file``).

Transcribed operation: ``POST /v3/{domain_name}/messages.mime``, basic auth ``api:<key>``,
``multipart/form-data`` with ``to`` (required, string, repeatable) and ``message`` (required,
binary file: the MIME); every other field a send option whose name starts with ``o:``, ``h:``,
``v:`` or ``t:``, "limited to 16KB total".
"""

from __future__ import annotations

import base64
import re

import httpx

from mailconsole.transports.base import Envelope
from mailconsole.transports.mailgun import MailgunTransport
from tests.transports.esp_cases import RECIPIENT, SECRET, Recorder, make_message, multipart_fields

OPERATION = re.compile(r"^/v3/(?P<domain_name>[^/]+)/messages\.mime$")
OPTION_PREFIXES = ("o:", "h:", "v:", "t:")
OPTIONS_LIMIT = 16 * 1024


def reference_problems(request: httpx.Request) -> list[str]:
    problems = []
    if request.method != "POST" or not OPERATION.match(request.url.path):
        problems.append(f"not POST /v3/{{domain_name}}/messages.mime: {request.method} {request.url.path}")
    if request.headers.get("authorization") != "Basic " + base64.b64encode(f"api:{SECRET}".encode()).decode():
        problems.append("basic auth must be api:<key>")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        problems.append("body must be multipart/form-data")
        return problems
    fields = multipart_fields(request)
    if not fields.get("to"):
        problems.append("to is required")
    message = fields.get("message", [])
    if len(message) != 1 or message[0][1] is None:
        problems.append("message is required, once, as a file")
    options = 0
    for name, values in fields.items():
        if name in ("to", "message"):
            continue
        if not name.startswith(OPTION_PREFIXES):
            problems.append(f"{name!r} is neither to, message nor an o:/h:/v:/t: option")
        options += sum(len(name) + len(value) for value, _, _ in values)
    if options > OPTIONS_LIMIT:
        problems.append(f"send options are {options} bytes, over 16KB")
    return problems


async def test_mailgun_mime_upload_matches_the_api_reference() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"id": "<1@mg.example.com>", "message": "Queued."}))
    transport = MailgunTransport(api_key=SECRET, domain="mg.example.com", http_transport=recorder.transport)
    envelope = Envelope(sender="b@x.com", recipients=(RECIPIENT,), tracking=True, message_id=9)
    await transport.send(envelope, make_message(attachment=True))
    await transport.close()
    assert reference_problems(recorder.last) == []
    fields = multipart_fields(recorder.last)
    assert fields["message"][0][0] == make_message(attachment=True)  # the MIME, byte for byte


def test_the_reference_check_catches_a_field_mailgun_does_not_document() -> None:
    request = httpx.Request(
        "POST", "https://api.mailgun.net/v3/mg.example.com/messages.mime",
        headers={"Authorization": "Basic " + base64.b64encode(f"api:{SECRET}".encode()).decode()},
        files={"message": ("m.eml", b"x", "message/rfc822")}, data={"to": RECIPIENT, "tracking": "yes"},
    )
    request.read()
    assert reference_problems(request) == ["'tracking' is neither to, message nor an o:/h:/v:/t: option"]
