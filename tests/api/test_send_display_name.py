"""POST /v1/emails with ``"from": "Name <addr>"``: the address is the envelope sender, the name is in From:."""

from __future__ import annotations

import email
from email.policy import default as default_policy

import httpx
from sqlalchemy import select

from mailconsole.runtime import Runtime
from mailconsole.store.models import Message, MessageBody
from tests.api.conftest import Keys
from tests.api.support import bearer


async def _stored(runtime: Runtime) -> tuple[Message, email.message.EmailMessage]:
    async with runtime.sessions() as session:
        [row] = list((await session.execute(select(Message))).scalars())
        body = await session.get(MessageBody, row.body_id)
        assert body is not None
    parsed = email.message_from_bytes(body.raw, policy=default_policy)
    assert isinstance(parsed, email.message.EmailMessage)
    return row, parsed


async def test_json_from_with_a_display_name_stores_the_address_as_envelope_sender(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    payload = {"from": "Jane Doe <jane@example.com>", "to": "ada@example.org", "subject": "Hi", "text": "Hello"}
    resp = await client.post("/v1/emails", json=payload, headers=bearer(keys.send))
    assert resp.status_code == 202, resp.text
    row, msg = await _stored(runtime)
    assert row.envelope_from == "jane@example.com"
    sender = msg["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Jane Doe", "jane@example.com")


async def test_raw_mime_from_query_with_a_display_name_stores_the_address(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    raw = b"From: Jane Doe <jane@example.com>\r\nTo: ada@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"
    resp = await client.post(
        "/v1/emails",
        params=[("from", "Bounces <bounces@example.com>")],
        content=raw,
        headers={**bearer(keys.send), "Content-Type": "message/rfc822"},
    )
    assert resp.status_code == 202, resp.text
    row, msg = await _stored(runtime)
    assert row.envelope_from == "bounces@example.com"
    assert str(msg["From"]) == "Jane Doe <jane@example.com>"
