"""The HTTP API refuses what the wire cannot carry with the relay's words, never produces such
a message itself from JSON, and shows subjects as people wrote them."""

from __future__ import annotations

import httpx
import pytest

from mailconsole.domain.wire import MAX_LINE_OCTETS
from mailconsole.runtime import Runtime
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer, message_count

from .test_send import _body, _messages

RAW = "message/rfc822"


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        (b"From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n\r\n" + b"y" * 2000 + b"\r\n",
         "line_too_long", "line 5 is 2000 octets long, over the limit of 998"),
        (b"From: a@example.com\r\nTo: b@example.org\r\nSubject: a\rBcc: c@example.org\r\n\r\nhi\r\n",
         "bare_line_ending", "header line 3 contains a bare CR"),
    ],
    ids=["long-line", "bare-cr"],
)
async def test_raw_message_the_wire_cannot_carry_is_422_with_the_relays_words(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys, raw: bytes, code: str, words: str
) -> None:
    resp = await client.post("/v1/emails", content=raw, headers={**bearer(keys.send), "Content-Type": RAW})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == code
    assert words in resp.json()["error"]["message"]
    assert await message_count(runtime) == 0


async def test_json_with_a_100000_character_line_is_sent_encoded_never_as_a_long_line(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    text = "word " * 20_000  # one 100,000-character line
    resp = await client.post("/v1/emails", json={**MINIMAL, "text": text, "html": f"<p>{text}</p>"},
                             headers=bearer(keys.send))
    assert resp.status_code == 202
    [message] = await _messages(runtime)
    parsed = await _body(runtime, message.body_id)
    assert max(len(line) for line in parsed.as_bytes().splitlines()) <= MAX_LINE_OCTETS
    assert parsed.get_body(("plain",)).get_content().strip() == text.strip()


async def test_a_bcc_header_in_a_raw_message_is_envelope_only(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    raw = b"From: a@example.com\r\nTo: b@example.org\r\nBcc: hidden@example.org\r\nSubject: x\r\n\r\nhi\r\n"
    resp = await client.post("/v1/emails", content=raw, headers={**bearer(keys.send), "Content-Type": RAW})
    assert resp.status_code == 202
    messages = await _messages(runtime)
    assert sorted(m.recipient for m in messages) == ["b@example.org", "hidden@example.org"]
    for message in messages:
        assert (await _body(runtime, message.body_id))["Bcc"] is None


async def test_status_shows_the_subject_decoded_from_rfc_2047(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    raw = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: =?utf-8?q?caf=C3=A9_au_lait?=\r\n\r\nhi\r\n"
    resp = await client.post("/v1/emails", content=raw, headers={**bearer(keys.send), "Content-Type": RAW})
    assert resp.status_code == 202
    message_id = resp.json()["ids"][0]
    status = await client.get(f"/v1/emails/{message_id}", headers=bearer(keys.send))
    assert status.json()["subject"] == "café au lait"
