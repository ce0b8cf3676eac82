"""GET /v1/emails/{id}: state, attempts and last reply — for the key's own account only."""

from __future__ import annotations

import httpx

from mailconsole.runtime import Runtime
from mailconsole.store.models import DeliveryAttempt, Message
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer


async def _send(client: httpx.AsyncClient, key: str) -> int:
    resp = await client.post("/v1/emails", json=MINIMAL, headers=bearer(key))
    assert resp.status_code == 202, resp.text
    return int(resp.json()["ids"][0])


async def test_status_of_a_fresh_message_is_queued_with_no_reply(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    mid = await _send(client, keys.send)
    resp = await client.get(f"/v1/emails/{mid}", headers=bearer(keys.send))
    assert resp.status_code == 200
    body = resp.json()
    assert (body["id"], body["state"], body["attempts"], body["last_reply"]) == (mid, "queued", 0, None)
    assert (body["recipient"], body["from"], body["subject"]) == ("ada@example.org", "app@example.com", "Hello")


async def test_status_shows_attempts_and_the_last_reply_after_a_deferral(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    mid = await _send(client, keys.send)
    async with runtime.sessions.begin() as session:
        msg = await session.get(Message, mid)
        assert msg is not None
        msg.state, msg.attempts = "deferred", 2
        msg.last_code, msg.last_text = "451 4.3.0", "try later"
        session.add(DeliveryAttempt(message_id=mid, at=runtime.clock.now(), outcome="transient", smtp_code=451,
                                    enhanced_code="4.3.0", text="try later"))
    body = (await client.get(f"/v1/emails/{mid}", headers=bearer(keys.send))).json()
    assert (body["state"], body["attempts"]) == ("deferred", 2)
    assert body["last_reply"] == {"code": "451 4.3.0", "text": "try later", "at": runtime.clock.now().isoformat()}
    assert body["next_attempt_at"] is not None


async def test_another_accounts_message_is_404_like_a_missing_one(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    mid = await _send(client, keys.other_account)
    theirs = await client.get(f"/v1/emails/{mid}", headers=bearer(keys.send))
    missing = await client.get(f"/v1/emails/{mid + 1000}", headers=bearer(keys.send))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == {"error": {"code": "not_found", "message": f"no message with id '{mid}' in this account"}}
    assert (await client.get(f"/v1/emails/{mid}", headers=bearer(keys.other_account))).status_code == 200


async def test_status_needs_a_key_and_a_numeric_id(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await client.get("/v1/emails/1")).status_code == 401
    resp = await client.get("/v1/emails/abc", headers=bearer(keys.send))
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
