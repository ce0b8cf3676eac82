"""SendGrid's signed Event Webhook: ECDSA P-256 over timestamp + payload."""

from __future__ import annotations

import json

import pytest

from mailconsole.feedback import metrics
from mailconsole.runtime import Runtime
from mailconsole.store.models import FeedbackEvent
from tests.feedback.helpers import contact_events, contact_status, count, feedback_rows, seed_message
from tests.feedback.webhook_kit import SendGridKit, client, sendgrid_kit


@pytest.fixture
def sendgrid(runtime: Runtime) -> SendGridKit:
    kit = sendgrid_kit()
    runtime.settings.sendgrid_webhook_public_key = kit.public_key_b64
    return kit


def _batch() -> bytes:
    return json.dumps(
        [
            {"email": "alice@example.com", "event": "bounce", "type": "bounce", "status": "5.1.1",
             "reason": "550 5.1.1 The email account that you tried to reach does not exist",
             "sg_event_id": "ev-1", "sg_message_id": "sgmsg1.filter0001.16648.5515E0B88.0"},
            {"email": "bob@slow.example.net", "event": "deferred", "response": "451 4.3.0 try later",
             "sg_event_id": "ev-2", "sg_message_id": "sgmsg2.filter0001.1.2.0"},
            {"email": "olivia@yahoo.com", "event": "spamreport", "sg_event_id": "ev-3",
             "sg_message_id": "sgmsg3.filter0001.1.2.0"},
            {"email": "carol@example.org", "event": "delivered", "sg_event_id": "ev-4"},
            {"email": "dave@example.org", "event": "dropped", "reason": "Bounced Address", "sg_event_id": "ev-5"},
        ]
    ).encode()


async def test_signed_sendgrid_batch_maps_bounce_deferral_spam_and_drop(
    runtime: Runtime, sendgrid: SendGridKit
) -> None:
    alice = await seed_message(runtime, "alice@example.com", provider_message_id="sgmsg1")
    body = _batch()
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=body, headers=sendgrid.headers(body))
    assert response.status_code == 200
    assert response.json() == {"recorded": 4, "duplicates": 0}  # "delivered" says nothing about a contact
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"
    assert await contact_status(runtime, "dave@example.org") == "blocklisted"
    assert [e.kind for e in await contact_events(runtime, "bob@slow.example.net")] == ["soft_bounce"]
    rows = {r.recipient: r for r in await feedback_rows(runtime)}
    assert rows["alice@example.com"].message_id == alice  # matched by the X-Message-Id prefix


async def test_retried_sendgrid_batch_is_counted_once(runtime: Runtime, sendgrid: SendGridKit) -> None:
    body = _batch()
    async with client(runtime) as http:
        await http.post("/webhooks/sendgrid", content=body, headers=sendgrid.headers(body))
        again = await http.post("/webhooks/sendgrid", content=body, headers=sendgrid.headers(body, "1772442999"))
    assert again.json() == {"recorded": 0, "duplicates": 4}
    assert await count(runtime, FeedbackEvent) == 4


async def test_tampered_sendgrid_payload_is_refused(runtime: Runtime, sendgrid: SendGridKit) -> None:
    body = _batch()
    headers = sendgrid.headers(body)
    before = metrics.refused_count("sendgrid")
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=body.replace(b"alice", b"mallory"), headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert metrics.refused_count("sendgrid") == before + 1
    assert await count(runtime, FeedbackEvent) == 0


async def test_sendgrid_request_signed_by_another_key_is_refused(runtime: Runtime, sendgrid: SendGridKit) -> None:
    body = _batch()
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=body, headers=sendgrid_kit().headers(body))
    assert response.status_code == 403


async def test_unsigned_sendgrid_request_gets_401(runtime: Runtime, sendgrid: SendGridKit) -> None:
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=_batch())
    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "missing X-Twilio-Email-Event-Webhook-Signature or X-Twilio-Email-Event-Webhook-Timestamp"
    )


async def test_sendgrid_without_a_configured_key_refuses_everything(runtime: Runtime) -> None:
    body = _batch()
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=body, headers=sendgrid_kit().headers(body))
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "not_configured", "message": "SendGrid webhooks are not configured on this server"},
    }
