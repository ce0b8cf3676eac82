"""POST /v1/emails: every answer a client can get, and what is (not) stored behind it."""

from __future__ import annotations

import asyncio
import base64
import email
from collections.abc import AsyncIterator
from email.policy import default as default_policy

import httpx
from sqlalchemy import select

from mailconsole.domain import policy
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import list_keys, revoke_key
from mailconsole.runtime import Runtime
from mailconsole.store.models import Account, IdempotencyRecord, Message, MessageBody
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer, message_count


async def _messages(runtime: Runtime) -> list[Message]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(Message).order_by(Message.id))).scalars())


async def _body(runtime: Runtime, body_id: int) -> email.message.EmailMessage:
    async with runtime.sessions() as session:
        body = await session.get(MessageBody, body_id)
        assert body is not None
        parsed = email.message_from_bytes(body.raw, policy=default_policy)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed


async def test_json_send_queues_one_message_per_recipient_and_answers_202_with_ids(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    payload = {
        "from": "App <app@example.com>",
        "to": ["ada@example.org", "Bob <bob@example.org>"],
        "cc": "carol@example.org",
        "bcc": ["dave@example.org"],
        "reply_to": "help@example.com",
        "subject": "Your receipt",
        "text": "Thanks!",
        "html": "<p>Thanks!</p>",
        "attachments": [
            {"filename": "r.pdf", "content": base64.b64encode(b"%PDF-1").decode(), "content_type": "application/pdf"}
        ],
        "headers": {"X-Order": "42"},
    }
    resp = await client.post("/v1/emails", json=payload, headers=bearer(keys.send))
    assert resp.status_code == 202, resp.text
    rows = await _messages(runtime)
    assert resp.json() == {
        "ids": [r.id for r in rows],
        "messages": [{"id": r.id, "recipient": r.recipient} for r in rows],
    }
    assert [r.recipient for r in rows] == [
        "ada@example.org",
        "bob@example.org",
        "carol@example.org",
        "dave@example.org",
    ]
    assert {(r.account_id, r.stream, r.tracking, r.envelope_from, r.state) for r in rows} == {
        (keys.account_id, "transactional", False, "app@example.com", "queued")
    }
    msg = await _body(runtime, rows[0].body_id)
    assert msg["Subject"] == "Your receipt"
    assert msg["Reply-To"] == "help@example.com"
    assert msg["X-Order"] == "42"
    assert msg["Bcc"] is None and b"dave@" not in msg.as_bytes()  # Bcc stays in the envelope
    assert msg.get_body(("plain",)).get_content().strip() == "Thanks!"  # type: ignore[union-attr]
    assert msg.get_body(("html",)).get_content().strip() == "<p>Thanks!</p>"  # type: ignore[union-attr]
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "r.pdf" and att.get_content() == b"%PDF-1"


async def test_stream_and_tracking_fields_become_the_relays_routing_decision(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    payload = {**MINIMAL, "stream": "broadcast", "tracking": False}
    resp = await client.post("/v1/emails", json=payload, headers=bearer(keys.send))
    assert resp.status_code == 202, resp.text
    [row] = await _messages(runtime)
    assert (row.stream, row.tracking) == ("broadcast", False)
    msg = await _body(runtime, row.body_id)
    assert msg["X-Mailconsole-Stream"] is None  # routing headers never go out
    assert msg["X-Mailconsole-Tracking-Enabled"] is None


async def test_missing_key_is_401_and_nothing_is_queued(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post("/v1/emails", json=MINIMAL)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert resp.json() == {
        "error": {
            "code": "invalid_api_key",
            "message": "missing Authorization header; send 'Authorization: Bearer <API key>'",
        }
    }
    assert await message_count(runtime) == 0


async def test_wrong_key_is_401(client: httpx.AsyncClient, keys: Keys) -> None:
    resp = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send[:-2] + "xx"))
    assert resp.status_code == 401
    assert resp.json()["error"] == {
        "code": "invalid_api_key",
        "message": "the API key is not valid or has been revoked",
    }


async def test_key_without_send_scope_is_403_missing_scope(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.no_scope))
    assert resp.status_code == 403
    assert resp.json() == {
        "error": {"code": "missing_scope", "message": "this API key lacks the mail:send scope"}
    }
    assert await message_count(runtime) == 0


async def test_unknown_stream_is_422_in_the_relays_words(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post("/v1/emails", json={**MINIMAL, "stream": "promo"}, headers=bearer(keys.send))
    assert resp.status_code == 422
    relay = policy.invalid_stream("promo")
    assert resp.json() == {"error": {"code": "invalid_stream", "message": relay.message}}
    assert resp.json()["error"]["message"] in relay.smtp_reply  # the relay's 550 says the same
    assert await message_count(runtime) == 0


async def test_stream_outside_the_keys_streams_is_403_stream_not_allowed(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post(
        "/v1/emails", json={**MINIMAL, "stream": "broadcast"}, headers=bearer(keys.transactional_only)
    )
    assert resp.status_code == 403
    assert resp.json() == {
        "error": {
            "code": "stream_not_allowed",
            "message": "this API key is not allowed to send to the broadcast stream",
        }
    }
    assert await message_count(runtime) == 0


async def test_sandbox_account_refuses_recipient_off_the_allow_list_with_403_naming_the_rule(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    async with runtime.sessions.begin() as session:
        account = await session.get(Account, keys.account_id)
        assert account is not None
        account.sandbox = True
        account.sandbox_allowlist = ["example.org"]
    ok = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))
    assert ok.status_code == 202
    resp = await client.post(
        "/v1/emails", json={**MINIMAL, "to": "eve@elsewhere.test"}, headers=bearer(keys.send)
    )
    assert resp.status_code == 403
    assert resp.json() == {
        "error": {
            "code": "sandbox_recipient_not_allowed",
            "message": "sandbox account may only send to its recipient allow-list; "
            "eve@elsewhere.test is not on it",
        }
    }
    assert await message_count(runtime) == 1


async def test_declared_body_over_25_mib_is_413_before_reading(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    consumed = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal consumed
        for _ in range(40):
            consumed += 1
            yield b"x" * (1024 * 1024)

    headers = {
        **bearer(keys.send),
        "Content-Type": "message/rfc822",
        "Content-Length": str(40 * 1024 * 1024),
    }
    resp = await client.post("/v1/emails", content=body(), headers=headers)
    assert resp.status_code == 413
    assert resp.json() == {
        "error": {
            "code": "message_too_large",
            "message": f"message exceeds the size limit of {policy.MAX_MESSAGE_BYTES} bytes",
        }
    }
    assert consumed <= 1
    assert await message_count(runtime) == 0


async def test_streamed_body_over_25_mib_is_413_without_reading_the_rest(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    consumed = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal consumed
        yield b"From: app@example.com\r\nTo: ada@example.org\r\n\r\n"
        for _ in range(40):  # 40 MiB offered, no Content-Length (chunked)
            consumed += 1
            yield b"x" * (1024 * 1024)

    headers = {**bearer(keys.send), "Content-Type": "message/rfc822"}
    resp = await client.post("/v1/emails", content=body(), headers=headers)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "message_too_large"
    assert consumed <= 26  # stopped at the limit, never held the remaining 14 MiB
    assert await message_count(runtime) == 0


async def test_malformed_json_is_400_invalid_json(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post(
        "/v1/emails",
        content=b'{"from": "app@example.com",',
        headers={**bearer(keys.send), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "invalid_json"
    assert error["message"].startswith("body: not valid JSON (")
    assert await message_count(runtime) == 0


async def test_bad_field_is_400_naming_the_field(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    cases = [
        ({**MINIMAL, "to": ["ada@example.org", "not-an-address"]}, "to[1]: 'not-an-address' is not an email address"),
        ({k: v for k, v in MINIMAL.items() if k != "from"}, "from: is required"),
        ({**MINIMAL, "text": None}, "text: text or html is required"),
        (
            {**MINIMAL, "attachments": [{"filename": "a", "content": "%%%"}]},
            "attachments[0].content: is not valid base64",
        ),
        (
            {**MINIMAL, "headers": {"Subject": "x"}},
            "headers.Subject: is set from its own field; remove it from headers",
        ),
        ({**MINIMAL, "tracking": "yes"}, "tracking: must be true or false"),
        ({**MINIMAL, "subjekt": "x"}, "subjekt: is not a known field"),
        (
            {**MINIMAL, "subject": "a\r\nBcc: x@example.org"},
            "subject: must not contain line breaks or control characters",
        ),
    ]
    for payload, message in cases:
        resp = await client.post("/v1/emails", json=payload, headers=bearer(keys.send))
        assert resp.status_code == 400, payload
        assert resp.json() == {"error": {"code": "invalid_field", "message": message}}
    assert await message_count(runtime) == 0


async def test_other_content_types_are_415(client: httpx.AsyncClient, keys: Keys) -> None:
    resp = await client.post(
        "/v1/emails", content=b"hello", headers={**bearer(keys.send), "Content-Type": "text/plain"}
    )
    assert resp.status_code == 415
    assert resp.json()["error"]["code"] == "unsupported_media_type"


RAW = (
    b"From: App <app@example.com>\r\n"
    b"To: ada@example.org, Bob <bob@example.org>\r\n"
    b"Bcc: secret@example.org\r\n"
    b"Subject: Raw hello\r\n"
    b"X-Mailconsole-Stream: transactional\r\n"
    b"\r\n"
    b"Hello from raw MIME\r\n"
)


async def test_raw_mime_send_takes_envelope_from_headers_and_drops_bcc(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post(
        "/v1/emails", content=RAW, headers={**bearer(keys.send), "Content-Type": "message/rfc822"}
    )
    assert resp.status_code == 202, resp.text
    rows = await _messages(runtime)
    assert [r.recipient for r in rows] == ["ada@example.org", "bob@example.org", "secret@example.org"]
    assert {r.envelope_from for r in rows} == {"app@example.com"}
    assert resp.json()["ids"] == [r.id for r in rows]
    async with runtime.sessions() as session:
        body = await session.get(MessageBody, rows[0].body_id)
        assert body is not None
    assert b"Bcc:" not in body.raw and b"X-Mailconsole-Stream" not in body.raw
    assert body.raw.endswith(b"\r\n\r\nHello from raw MIME\r\n")  # body bytes untouched


async def test_raw_mime_envelope_from_query_parameters_wins(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post(
        "/v1/emails",
        params=[("from", "bounces@example.com"), ("to", "only@example.org")],
        content=RAW,
        headers={**bearer(keys.send), "Content-Type": "message/rfc822"},
    )
    assert resp.status_code == 202, resp.text
    [row] = await _messages(runtime)
    assert (row.envelope_from, row.recipient) == ("bounces@example.com", "only@example.org")


async def test_raw_mime_with_unknown_stream_header_is_422(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    raw = RAW.replace(b"X-Mailconsole-Stream: transactional", b"X-Mailconsole-Stream: bulk")
    resp = await client.post(
        "/v1/emails", content=raw, headers={**bearer(keys.send), "Content-Type": "message/rfc822"}
    )
    assert resp.status_code == 422
    assert resp.json()["error"] == {"code": "invalid_stream", "message": policy.invalid_stream("bulk").message}
    assert await message_count(runtime) == 0


async def test_raw_mime_without_recipients_is_400(client: httpx.AsyncClient, keys: Keys) -> None:
    raw = b"From: app@example.com\r\nSubject: x\r\n\r\nhi\r\n"
    resp = await client.post(
        "/v1/emails", content=raw, headers={**bearer(keys.send), "Content-Type": "message/rfc822"}
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == {
        "code": "invalid_field",
        "message": "to: the message has no To, Cc or Bcc recipient and no ?to=",
    }


async def test_idempotent_retry_returns_the_first_answer_and_enqueues_once(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    headers = {**bearer(keys.send), "Idempotency-Key": "order-42"}
    first = await client.post("/v1/emails", json=MINIMAL, headers=headers)
    assert first.status_code == 202
    again = await client.post("/v1/emails", json=MINIMAL, headers=headers)
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert await message_count(runtime) == 1


async def test_concurrent_retries_with_one_idempotency_key_enqueue_once(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    headers = {**bearer(keys.send), "Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(client.post("/v1/emails", json=MINIMAL, headers=headers) for _ in range(5))
    )
    assert await message_count(runtime) == 1
    assert [a.status_code for a in answers] == [202] * 5
    assert all(a.json() == answers[0].json() for a in answers)
    assert sum(a.headers.get("idempotency-replayed") == "true" for a in answers) == 4


async def test_same_idempotency_key_with_a_different_body_is_422(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    headers = {**bearer(keys.send), "Idempotency-Key": "order-43"}
    assert (await client.post("/v1/emails", json=MINIMAL, headers=headers)).status_code == 202
    resp = await client.post("/v1/emails", json={**MINIMAL, "subject": "Other"}, headers=headers)
    assert resp.status_code == 422
    assert resp.json() == {
        "error": {
            "code": "idempotency_key_reused",
            "message": "this Idempotency-Key was already used with a different request body",
        }
    }
    assert await message_count(runtime) == 1


async def test_idempotency_keys_are_per_account(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    first = await client.post("/v1/emails", json=MINIMAL, headers={**bearer(keys.send), "Idempotency-Key": "k"})
    other = await client.post(
        "/v1/emails", json=MINIMAL, headers={**bearer(keys.other_account), "Idempotency-Key": "k"}
    )
    assert first.status_code == other.status_code == 202
    assert first.json()["ids"] != other.json()["ids"]
    assert await message_count(runtime) == 2


async def test_a_refusal_under_an_idempotency_key_is_replayed_not_retried(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    headers = {**bearer(keys.transactional_only), "Idempotency-Key": "b1"}
    payload = {**MINIMAL, "stream": "broadcast"}
    first = await client.post("/v1/emails", json=payload, headers=headers)
    again = await client.post("/v1/emails", json=payload, headers=headers)
    assert first.status_code == again.status_code == 403
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert await message_count(runtime) == 0


async def test_sandbox_refusal_inside_the_write_leaves_no_claim_and_is_replayed(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    async with runtime.sessions.begin() as session:
        account = await session.get(Account, keys.account_id)
        assert account is not None
        account.sandbox, account.sandbox_daily_cap, account.sandbox_allowlist = True, 1, ["example.org"]
    headers = {**bearer(keys.send), "Idempotency-Key": "cap"}
    payload = {**MINIMAL, "to": ["a@example.org", "b@example.org"]}
    first = await client.post("/v1/emails", json=payload, headers=headers)
    assert first.status_code == 403
    assert first.json()["error"]["code"] == "sandbox_daily_cap"
    again = await client.post("/v1/emails", json=payload, headers=headers)
    assert (again.status_code, again.json()) == (403, first.json())
    async with runtime.sessions() as session:
        records = list((await session.execute(select(IdempotencyRecord))).scalars())
    assert [(r.key, r.status_code) for r in records] == [("cap", 403)]
    assert await message_count(runtime) == 0


async def test_the_stored_answer_is_written_with_the_messages(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    resp = await client.post("/v1/emails", json=MINIMAL, headers={**bearer(keys.send), "Idempotency-Key": "k1"})
    async with runtime.sessions() as session:
        [record] = list((await session.execute(select(IdempotencyRecord))).scalars())
    assert (record.status_code, record.response) == (202, resp.json())


async def test_storage_failure_is_503_retry_later_and_leaves_the_idempotency_key_free(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    async with runtime.engine.begin() as conn:  # a real storage failure: the bodies table is gone
        await conn.exec_driver_sql("ALTER TABLE message_bodies RENAME TO message_bodies_away")
    headers = {**bearer(keys.send), "Idempotency-Key": "retry-me"}
    resp = await client.post("/v1/emails", json=MINIMAL, headers=headers)
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "30"
    assert resp.json() == {
        "error": {"code": "temporary_failure", "message": "Temporary failure, try again later"}
    }
    async with runtime.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE message_bodies_away RENAME TO message_bodies")
    again = await client.post("/v1/emails", json=MINIMAL, headers=headers)
    assert again.status_code == 202 and "idempotency-replayed" not in again.headers
    assert await message_count(runtime) == 1


async def test_json_whose_built_message_exceeds_25_mib_is_413(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    attachment = base64.b64encode(b"\0" * (19 * 1024 * 1024)).decode()  # ~26 MiB once encoded in MIME
    payload = {**MINIMAL, "attachments": [{"filename": "big.bin", "content": attachment}]}
    resp = await client.post("/v1/emails", json=payload, headers=bearer(keys.send))
    assert resp.status_code == 413
    assert resp.json()["error"] == {
        "code": "message_too_large",
        "message": f"message exceeds the size limit of {policy.MAX_MESSAGE_BYTES} bytes",
    }
    assert await message_count(runtime) == 0


async def test_a_key_revoked_after_use_cannot_send_again(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    assert (await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))).status_code == 202
    [info] = [k for k in await list_keys(runtime) if k.name == "app"]
    await revoke_key(runtime, info.id, actor=SYSTEM)
    resp = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))
    assert resp.status_code == 401
    assert resp.json()["error"] == {"code": "invalid_api_key", "message": "this API key has been revoked"}
    assert await message_count(runtime) == 1


async def test_deeply_nested_json_is_400_not_a_crash(client: httpx.AsyncClient, keys: Keys) -> None:
    deep = b'{"from": "a@example.com", "to": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = await client.post(
        "/v1/emails", content=deep, headers={**bearer(keys.send), "Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == {"code": "invalid_json", "message": "body: JSON nested too deeply"}


async def test_a_non_ascii_digit_message_id_is_404_not_a_crash(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    status = await client.get("/v1/emails/\u00b2", headers=bearer(keys.send))
    assert status.status_code == 404
    assert status.json()["error"]["code"] == "not_found"
