"""Elastic Email HTTP Web Notifications: a GET with the documented URL parameters (help centre,
"Notification Settings": from, to, date, subject, status, channel, account, category, messageid,
transaction), authenticated by the secret we put in the notification URL."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from mailconsole.delivery import queue, servers
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import FeedbackEvent, SendingServer
from mailconsole.transports.base import Transport
from mailconsole.transports.elasticemail import ElasticEmailTransport
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


async def test_id_elasticemail_returned_at_send_is_the_one_its_bounce_is_matched_by(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Engine -> Elastic Email adapter (answer shaped as the v4 ``EmailSend`` model documents:
    TransactionID, MessageID) -> the id stored on the message -> the notification naming it."""
    engine_module = pytest.importorskip("mailconsole.delivery.engine")
    await servers.add_server(runtime, name="ee", type="elasticemail", fields={"api_key": "ee-test-key"}, actor=SYSTEM)
    answer = {"TransactionID": "0e7d5a4c-txn", "MessageID": "EEmsg-from-send"}

    def load(rt: Runtime, server: SendingServer) -> Transport:
        mock = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
        return ElasticEmailTransport(**dict(server.settings or {}), **rt.secrets.decrypt_json(server.secrets),
                                     http_transport=mock)

    monkeypatch.setattr(engine_module, "load_transport", load)
    account = await default_account_id(runtime)
    raw = b"From: orders@sender.test\r\nTo: erin@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    (mid,) = await queue.enqueue(runtime, account_id=account, envelope_from="orders@sender.test",
                                 recipients=["erin@example.com"], raw=raw)
    engine = engine_module.Engine(runtime)
    try:
        await engine.run_until_idle(max_rounds=20)
    finally:
        await engine.stop()
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.provider_message_id == "EEmsg-from-send"

    query = _notification(to="erin@example.com", status="Error", category="NoMailbox", messageid="EEmsg-from-send")
    async with client(runtime) as http:
        response = await http.get(f"/webhooks/elasticemail?secret={SECRET}&{query}")
    assert response.json() == {"recorded": 1, "duplicates": 0}
    (row,) = await feedback_rows(runtime)
    assert row.message_id == mid
    assert await contact_status(runtime, "erin@example.com") == "blocklisted"
