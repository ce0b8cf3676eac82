"""Mailgun webhooks: HMAC-SHA256 of timestamp + token; stale and replayed tokens refused."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mailconsole.clock import FixedClock
from mailconsole.feedback import metrics, service
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.models import FeedbackEvent
from tests.feedback.helpers import contact_status, count, feedback_rows, seed_message
from tests.feedback.webhook_kit import MAILGUN_KEY, client, mailgun_body


@pytest.fixture(autouse=True)
def _key(runtime: Runtime) -> None:
    runtime.settings.mailgun_webhook_signing_key = MAILGUN_KEY


def _failed(recipient: str = "alice@example.com", severity: str = "permanent") -> dict[str, Any]:
    return {
        "event": "failed",
        "id": f"mg-{severity}",
        "severity": severity,
        "reason": "bounce",
        "recipient": recipient,
        "message": {"headers": {"message-id": "20260302090003.1.ABC@mg.sender.test"}},
        "delivery-status": {"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist"},
    }


def _now(runtime: Runtime) -> int:
    return int(runtime.clock.now().timestamp())


async def test_signed_mailgun_permanent_failure_blocklists(runtime: Runtime) -> None:
    message_id = await seed_message(
        runtime, "alice@example.com", provider_message_id="<20260302090003.1.ABC@mg.sender.test>"
    )
    body = mailgun_body(_failed(), timestamp=_now(runtime), token="tok-1")
    async with client(runtime) as http:
        response = await http.post("/webhooks/mailgun", content=body)
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    (row,) = await feedback_rows(runtime)
    assert (row.source, row.message_id, row.status_code) == ("mailgun", message_id, "5.1.1")


async def test_mailgun_temporary_failure_is_a_soft_bounce(runtime: Runtime) -> None:
    body = mailgun_body(_failed(severity="temporary"), timestamp=_now(runtime), token="tok-2")
    async with client(runtime) as http:
        await http.post("/webhooks/mailgun", content=body)
    (row,) = await feedback_rows(runtime)
    assert (row.kind, row.outcome) == ("delay", "soft_bounce")
    assert await contact_status(runtime, "alice@example.com") == "active"


async def test_mailgun_complaint_marks_spam_complaint(runtime: Runtime) -> None:
    data = {"event": "complained", "id": "mg-c", "recipient": "olivia@yahoo.com", "message": {"headers": {}}}
    async with client(runtime) as http:
        await http.post("/webhooks/mailgun", content=mailgun_body(data, timestamp=_now(runtime), token="tok-c"))
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"


async def test_mailgun_bad_signature_is_refused_and_not_logged_with_the_key(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    body = mailgun_body(_failed(), timestamp=_now(runtime), token="tok-3", key="not-the-key")
    before = metrics.refused_count("mailgun", "bad_signature")
    with caplog.at_level(logging.DEBUG):
        async with client(runtime) as http:
            response = await http.post("/webhooks/mailgun", content=body)
    assert response.status_code == 403
    assert metrics.refused_count("mailgun", "bad_signature") == before + 1
    assert MAILGUN_KEY not in caplog.text
    assert "refused mailgun webhook from 127.0.0.1: bad_signature" in caplog.text
    assert await count(runtime, FeedbackEvent) == 0


async def test_stale_mailgun_timestamp_is_refused(runtime: Runtime) -> None:
    body = mailgun_body(_failed(), timestamp=_now(runtime) - 3600, token="tok-4")
    async with client(runtime) as http:
        response = await http.post("/webhooks/mailgun", content=body)
    assert response.status_code == 403
    assert response.json() == {"error": {"code": "stale", "message": "the signature timestamp is too old"}}


async def test_replayed_mailgun_token_is_refused(runtime: Runtime) -> None:
    body = mailgun_body(_failed(), timestamp=_now(runtime), token="tok-5")
    async with client(runtime) as http:
        first = await http.post("/webhooks/mailgun", content=body)
        replay = await http.post("/webhooks/mailgun", content=body)
    assert first.status_code == 200
    assert replay.status_code == 403
    assert replay.json()["error"]["code"] == "replayed"
    assert await count(runtime, FeedbackEvent) == 1


async def test_mailgun_body_without_signature_gets_401(runtime: Runtime) -> None:
    async with client(runtime) as http:
        response = await http.post("/webhooks/mailgun", json={"event-data": _failed()})
    assert response.status_code == 401


async def test_replayed_token_is_refused_by_another_engine_on_the_same_database(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    body = mailgun_body(_failed(), timestamp=_now(runtime), token="tok-two-engines")
    async with Runtime.open(settings, clock=clock) as other:  # a second process's runtime
        other.settings.mailgun_webhook_signing_key = MAILGUN_KEY
        async with client(runtime) as first_engine, client(other) as second_engine:
            first = await first_engine.post("/webhooks/mailgun", content=body)
            replay = await second_engine.post("/webhooks/mailgun", content=body)
    assert first.status_code == 200
    assert (replay.status_code, replay.json()["error"]["code"]) == (403, "replayed")
    assert await count(runtime, FeedbackEvent) == 1


async def test_subaccount_event_verified_by_the_parent_signature(runtime: Runtime) -> None:
    """Mailgun signs a subaccount's webhook with the subaccount's key (``signature``) and adds
    ``parent-signature`` made with the parent's key, the one configured here."""
    stamp = _now(runtime)
    parent = json.loads(mailgun_body(_failed(), timestamp=stamp, token="tok-parent"))
    own = json.loads(mailgun_body(_failed(), timestamp=stamp, token="tok-sub", key="key-subaccount-other"))
    body = json.dumps({"signature": own["signature"], "parent-signature": parent["signature"],
                       "event-data": _failed()}).encode()
    async with client(runtime) as http:
        accepted = await http.post("/webhooks/mailgun", content=body)
        replayed = await http.post("/webhooks/mailgun", content=body)
    assert accepted.status_code == 200
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    assert replayed.json()["error"]["code"] == "replayed"


async def test_mailgun_token_is_given_back_when_recording_fails(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = mailgun_body(_failed(), timestamp=_now(runtime), token="tok-retry")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "record_report", broken)
    async with client(runtime) as http:
        with pytest.raises(RuntimeError):
            await http.post("/webhooks/mailgun", content=body)
    monkeypatch.undo()
    async with client(runtime) as http:
        retried = await http.post("/webhooks/mailgun", content=body)  # Mailgun's retry, same signature
    assert retried.status_code == 200
    assert await count(runtime, FeedbackEvent) == 1
