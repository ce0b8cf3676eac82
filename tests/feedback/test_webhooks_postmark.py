"""Postmark bounce and spam-complaint webhooks behind basic auth credentials from settings."""

from __future__ import annotations

import pytest

from mailconsole.feedback import metrics
from mailconsole.runtime import Runtime
from mailconsole.store.models import FeedbackEvent
from tests.feedback.helpers import contact_status, count, feedback_rows, seed_message
from tests.feedback.webhook_kit import POSTMARK_PASSWORD, POSTMARK_USER, basic, client

HARD = {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Email": "alice@example.com",
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "BouncedAt": "2026-03-02T09:00:00Z",
}


@pytest.fixture(autouse=True)
def _credentials(runtime: Runtime) -> None:
    runtime.settings.postmark_webhook_user = POSTMARK_USER
    runtime.settings.postmark_webhook_password = POSTMARK_PASSWORD


async def test_postmark_hard_bounce_with_credentials_blocklists(runtime: Runtime) -> None:
    message_id = await seed_message(runtime, "alice@example.com", provider_message_id=HARD["MessageID"])
    async with client(runtime) as http:
        response = await http.post("/webhooks/postmark", json=HARD, headers=basic(POSTMARK_USER, POSTMARK_PASSWORD))
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    (row,) = await feedback_rows(runtime)
    assert (row.message_id, row.status_code) == (message_id, "5.1.1")


async def test_postmark_spam_complaint(runtime: Runtime) -> None:
    complaint = {"RecordType": "SpamComplaint", "ID": 42, "Type": "SpamComplaint", "Email": "olivia@yahoo.com",
                 "MessageID": "abc"}
    async with client(runtime) as http:
        await http.post("/webhooks/postmark", json=complaint, headers=basic(POSTMARK_USER, POSTMARK_PASSWORD))
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"


async def test_postmark_retry_is_recorded_once(runtime: Runtime) -> None:
    async with client(runtime) as http:
        for _ in range(3):
            await http.post("/webhooks/postmark", json=HARD, headers=basic(POSTMARK_USER, POSTMARK_PASSWORD))
    assert await count(runtime, FeedbackEvent) == 1


async def test_postmark_without_credentials_gets_401_with_a_challenge(runtime: Runtime) -> None:
    async with client(runtime) as http:
        response = await http.post("/webhooks/postmark", json=HARD)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="mailconsole"'


async def test_postmark_wrong_password_is_refused_and_counted(runtime: Runtime) -> None:
    before = metrics.refused_count("postmark", "bad_credentials")
    async with client(runtime) as http:
        response = await http.post("/webhooks/postmark", json=HARD, headers=basic(POSTMARK_USER, "guess"))
    assert response.status_code == 403
    assert response.json() == {"error": {"code": "bad_credentials", "message": "the basic auth credentials are wrong"}}
    assert metrics.refused_count("postmark", "bad_credentials") == before + 1
    assert await count(runtime, FeedbackEvent) == 0


async def test_postmark_without_configured_credentials_refuses_everything(runtime: Runtime) -> None:
    runtime.settings.postmark_webhook_password = ""
    async with client(runtime) as http:
        response = await http.post("/webhooks/postmark", json=HARD, headers=basic(POSTMARK_USER, ""))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_configured"
