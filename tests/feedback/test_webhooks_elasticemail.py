"""Elastic Email HTTP Web Notifications: a GET with the documented URL parameters (help centre,
"Notification Settings": from, to, date, subject, status, channel, account, category, messageid,
transaction), authenticated by the secret we put in the notification URL."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mailconsole.runtime import Runtime
from mailconsole.store.models import FeedbackEvent
from tests.feedback.helpers import contact_events, contact_status, count, feedback_rows, seed_message
from tests.feedback.webhook_kit import client

SECRET = "ee-hook-secret-test-only-4711"


@pytest.fixture(autouse=True)
def configured(runtime: Runtime) -> None:
    runtime.settings.elasticemail_webhook_secret = SECRET


def _notification(**fields: str) -> str:
    base = {"from": "orders@sender.test", "date": "3/2/2026 9:00:00 AM", "subject": "hi",
            "channel": "API", "account": "ops@sender.test", "transaction": "4a1f-txn"}
    return urlencode({**base, **fields})


async def test_elasticemail_bounce_blocklists_the_contact_of_the_message_it_names(runtime: Runtime) -> None:
    ours = await seed_message(runtime, "alice@example.com", provider_message_id="EEmsg-0001")
    await seed_message(runtime, "bob@example.com", provider_message_id="EEmsg-0002")
    query = _notification(to="alice@example.com", status="Error", category="NoMailbox", messageid="EEmsg-0001")
    async with client(runtime) as http:
        response = await http.get(f"/webhooks/elasticemail?secret={SECRET}&{query}")
    assert response.status_code == 200
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    assert await contact_status(runtime, "bob@example.com") is None
    (row,) = await feedback_rows(runtime)
    assert (row.source, row.kind, row.message_id) == ("elasticemail", "bounce", ours)
    assert "NoMailbox" in row.detail


async def test_elasticemail_greylisting_is_not_held_against_the_contact(runtime: Runtime) -> None:
    query = _notification(to="carol@example.com", status="Error", category="GreyListed", messageid="EEmsg-3")
    async with client(runtime) as http:
        response = await http.get(f"/webhooks/elasticemail?secret={SECRET}&{query}")
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "carol@example.com") is None


async def test_elasticemail_abuse_report_and_unsubscribe_as_form_post(runtime: Runtime) -> None:
    async with client(runtime) as http:
        abuse = await http.post(
            f"/webhooks/elasticemail?secret={SECRET}",
            content=_notification(to="olivia@yahoo.com", status="AbuseReport", messageid="EEmsg-4"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        unsub = await http.get(
            f"/webhooks/elasticemail?secret={SECRET}&"
            + _notification(to="dan@example.com", status="Unsubscribed", messageid="EEmsg-5")
        )
    assert (abuse.status_code, unsub.status_code) == (200, 200)
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"
    assert [e.kind for e in await contact_events(runtime, "dan@example.com")] == ["unsubscribed"]
    assert await contact_status(runtime, "dan@example.com") == "active"  # transactional still allowed


@pytest.mark.parametrize(
    ("secret", "status", "code"), [("", 401, "unsigned"), ("wrong", 403, "bad_credentials")]
)
async def test_elasticemail_notification_without_our_secret_is_refused(
    runtime: Runtime, secret: str, status: int, code: str
) -> None:
    query = _notification(to="alice@example.com", status="Error", category="NoMailbox", messageid="EEmsg-1")
    async with client(runtime) as http:
        response = await http.get(f"/webhooks/elasticemail?secret={secret}&{query}")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert SECRET not in response.text
    assert await count(runtime, FeedbackEvent) == 0
    assert await contact_status(runtime, "alice@example.com") is None


async def test_elasticemail_route_is_refused_until_a_secret_is_configured(runtime: Runtime) -> None:
    runtime.settings.elasticemail_webhook_secret = ""
    async with client(runtime) as http:
        response = await http.get("/webhooks/elasticemail?secret=&" + _notification(to="a@example.com", status="Sent"))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "not_configured", "message": "Elastic Email webhooks are not configured on this server"
    }
