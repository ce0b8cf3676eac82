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


# SendGrid's own test vector: sendgrid/sendgrid-python, test/unit/test_eventwebhook.py
# (PUBLIC_KEY, SIGNATURE, TIMESTAMP and the payload with its trailing CRLF, as published).
SDK_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+"
    "2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SDK_SIGNATURE = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
SDK_TIMESTAMP = "1600112502"
SDK_BAD_SIGNATURE = (
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0="
)
SDK_PAYLOAD = json.dumps(
    [{"email": "hello@world.com", "event": "dropped", "reason": "Bounced Address",
      "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
      "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
      "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>", "timestamp": 1600112492}],
    sort_keys=True, separators=(",", ":"),
).encode() + b"\r\n"


def _sdk_headers(signature: str = SDK_SIGNATURE, timestamp: str = SDK_TIMESTAMP) -> dict[str, str]:
    return {"X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}


async def test_sendgrids_published_test_vector_verifies_and_blocklists(runtime: Runtime) -> None:
    runtime.settings.sendgrid_webhook_public_key = SDK_PUBLIC_KEY
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=SDK_PAYLOAD, headers=_sdk_headers())
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "hello@world.com") == "blocklisted"


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        (SDK_PAYLOAD.replace(b"hello@world.com", b"victim@world.com"), _sdk_headers()),
        (SDK_PAYLOAD, _sdk_headers(timestamp="1600112503")),
        # the SDK's "bad signature" value
        (SDK_PAYLOAD, _sdk_headers(signature=SDK_BAD_SIGNATURE)),
    ],
    ids=["tampered-payload", "other-timestamp", "sdk-bad-signature"],
)
async def test_sendgrid_test_vector_altered_is_refused(
    runtime: Runtime, payload: bytes, headers: dict[str, str]
) -> None:
    runtime.settings.sendgrid_webhook_public_key = SDK_PUBLIC_KEY
    async with client(runtime) as http:
        response = await http.post("/webhooks/sendgrid", content=payload, headers=headers)
    assert response.status_code == 403
    assert await count(runtime, FeedbackEvent) == 0
