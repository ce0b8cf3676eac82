"""Unsubscribes reported by the ESPs stop broadcast mail to that contact, like our RFC 8058
link: the status stays (transactional mail still goes), ``unsubscribed_at`` is set, once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mailconsole.runtime import Runtime
from mailconsole.store.models import Contact
from tests.feedback.helpers import contact_events, seed_message
from tests.feedback.webhook_kit import (
    MAILGUN_KEY,
    POSTMARK_PASSWORD,
    POSTMARK_USER,
    SendGridKit,
    basic,
    client,
    mailgun_body,
    sendgrid_kit,
)


async def _unsubscribed(runtime: Runtime, address: str) -> bool | None:
    async with runtime.sessions() as session:
        row = (await session.execute(select(Contact.unsubscribed_at).where(Contact.address == address))).first()
        return None if row is None else row[0] is not None


@pytest.fixture
def sendgrid(runtime: Runtime) -> SendGridKit:
    kit = sendgrid_kit()
    runtime.settings.sendgrid_webhook_public_key = kit.public_key_b64
    return kit


@pytest.mark.parametrize(
    "event",
    [
        {"event": "unsubscribe"},
        {"event": "group_unsubscribe", "asm_group_id": 42},
        {"event": "dropped", "reason": "Unsubscribed Address"},
    ],
)
async def test_sendgrid_unsubscribe_marks_only_that_contact_unsubscribed(
    runtime: Runtime, sendgrid: SendGridKit, event: dict[str, object]
) -> None:
    await seed_message(runtime, "alice@example.com", provider_message_id="sgmsg1")
    await seed_message(runtime, "bob@example.com", provider_message_id="sgmsg2")
    body = json.dumps([{"email": "alice@example.com", "sg_event_id": "ev-u1",
                        "sg_message_id": "sgmsg1.filter0001.1.2.0", "timestamp": 1772442000, **event}]).encode()
    async with client(runtime) as http:
        first = await http.post("/webhooks/sendgrid", content=body, headers=sendgrid.headers(body))
        again = await http.post("/webhooks/sendgrid", content=body, headers=sendgrid.headers(body))
    assert first.json() == {"recorded": 1, "duplicates": 0}
    assert again.json() == {"recorded": 0, "duplicates": 1}
    assert await _unsubscribed(runtime, "alice@example.com") is True
    assert await _unsubscribed(runtime, "bob@example.com") is None
    (entry,) = await contact_events(runtime, "alice@example.com")
    assert (entry.kind, entry.status_from, entry.status_to) == ("unsubscribed", "active", "active")
    assert entry.actor == "feedback:sendgrid"


async def test_mailgun_unsubscribed_event_marks_the_contact(runtime: Runtime) -> None:
    runtime.settings.mailgun_webhook_signing_key = MAILGUN_KEY
    stamp = int(runtime.clock.now().timestamp())
    body = mailgun_body(
        {"event": "unsubscribed", "id": "mg-u1", "recipient": "carol@example.org",
         "message": {"headers": {"message-id": "20260302.mg@sender.test"}}},
        timestamp=stamp, token="tok-unsub-1",
    )
    async with client(runtime) as http:
        response = await http.post("/webhooks/mailgun", content=body, headers={"Content-Type": "application/json"})
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await _unsubscribed(runtime, "carol@example.org") is True


async def test_postmark_subscription_change_by_the_recipient_is_an_unsubscribe(runtime: Runtime) -> None:
    runtime.settings.postmark_webhook_user = POSTMARK_USER
    runtime.settings.postmark_webhook_password = POSTMARK_PASSWORD
    # Shape from Postmark's "Subscription change webhook" documentation example.
    change = {"RecordType": "SubscriptionChange", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
              "ServerID": 123456, "MessageStream": "broadcast", "ChangedAt": "2026-03-02T09:00:00Z",
              "Recipient": "dave@example.org", "Origin": "Recipient", "SuppressSending": True,
              "SuppressionReason": "ManualSuppression", "Tag": "welcome-email", "Metadata": {}}
    by_customer = dict(change, Recipient="erin@example.org", Origin="Customer", ChangedAt="2026-03-02T09:01:00Z")
    async with client(runtime) as http:
        for payload in (change, by_customer):
            response = await http.post("/webhooks/postmark", content=json.dumps(payload),
                                       headers=basic(POSTMARK_USER, POSTMARK_PASSWORD))
            assert response.status_code == 200
    assert await _unsubscribed(runtime, "dave@example.org") is True
    assert await _unsubscribed(runtime, "erin@example.org") is None  # not the recipient's own choice
