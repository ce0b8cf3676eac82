"""Amazon SES via SNS: signatures (v1 SHA1 and v2 SHA256) checked with the signing
certificate from an amazonaws.com URL chained to a trusted CA; tampered, unsigned and
foreign-host requests refused and counted; subscription confirmation; duplicates once."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mailconsole.feedback import metrics
from mailconsole.feedback.mailbox import MaildirConfig
from mailconsole.feedback.poller import poll_once
from mailconsole.runtime import Runtime
from mailconsole.store.models import FeedbackEvent, SendingServer
from mailconsole.transports.ses import SesTransport
from tests.feedback.helpers import contact_events, contact_status, count, feedback_rows, sample, seed_message
from tests.feedback.webhook_kit import TOPIC, SnsKit, client, ses_bounce, ses_notification, sns_kit


@pytest.fixture(scope="module")
def sns() -> SnsKit:
    return sns_kit()


@pytest.fixture(autouse=True)
def our_topic(runtime: Runtime) -> None:
    """The operator named TOPIC; tests about other topics change this."""
    runtime.settings.ses_topic_arns = [TOPIC]


@pytest.mark.parametrize("version", ["1", "2"])
async def test_signed_ses_bounce_blocklists_the_contact(runtime: Runtime, sns: SnsKit, version: str) -> None:
    message_id = await seed_message(runtime, "alice@example.com", provider_message_id="ses-0001")
    body = sns.sign(ses_notification(ses_bounce("alice@example.com", "ses-0001")), version=version)
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 200
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    (row,) = await feedback_rows(runtime)
    assert (row.source, row.kind, row.message_id, row.status_code) == ("ses", "bounce", message_id, "5.1.1")


async def test_ses_complaint_marks_spam_complaint(runtime: Runtime, sns: SnsKit) -> None:
    complaint = {
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "olivia@yahoo.com"}], "complaintFeedbackType": "abuse"},
        "mail": {"messageId": "ses-0002"},
    }
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(sns.sign(ses_notification(complaint))))
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"


async def test_tampered_ses_message_is_refused_and_counted(runtime: Runtime, sns: SnsKit) -> None:
    body = sns.sign(ses_notification(ses_bounce("alice@example.com", "ses-0001")))
    body["Message"] = body["Message"].replace("alice@example.com", "victim@example.com")
    before = metrics.refused_count("ses", "bad_signature")
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 403
    assert response.json() == {"error": {"code": "bad_signature", "message": "the signature does not verify"}}
    assert metrics.refused_count("ses", "bad_signature") == before + 1
    assert await count(runtime, FeedbackEvent) == 0
    assert await contact_status(runtime, "victim@example.com") is None


async def test_unsigned_ses_message_is_refused_with_401(runtime: Runtime, sns: SnsKit) -> None:
    body = ses_notification(ses_bounce("alice@example.com", "ses-0001"))
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unsigned"


async def test_signing_cert_from_a_foreign_host_is_never_fetched(runtime: Runtime, sns: SnsKit) -> None:
    evil = "https://sns.us-east-1.amazonaws.com.evil.test/cert.pem"
    body = sns.sign(dict(ses_notification(ses_bounce("alice@example.com", "x")), SigningCertURL=evil))
    sns.fetched.clear()
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 403
    assert "sns.<region>.amazonaws.com" in response.json()["error"]["message"]
    assert sns.fetched == []


async def test_certificate_from_an_untrusted_ca_is_refused(runtime: Runtime, sns: SnsKit) -> None:
    other = sns_kit("untrusted")  # a real-looking certificate from no CA we trust
    other_url = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-other.pem"
    sns.served[other_url] = other.cert.public_bytes(serialization.Encoding.PEM)
    body = other.sign(dict(ses_notification(ses_bounce("alice@example.com", "x")), SigningCertURL=other_url))
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "bad_certificate", "message": "the signing certificate is not from a trusted CA"},
    }


async def test_subscription_confirmation_visits_the_subscribe_url(runtime: Runtime, sns: SnsKit) -> None:
    subscribe = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=abc"
    body = sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "sub-1",
            "Token": "abc",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": subscribe,
            "Timestamp": "2026-03-02T09:00:00.000Z",
        }
    )
    sns.fetched.clear()
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 200
    assert sns.fetched[-1] == subscribe  # after the certificate (unless cached from earlier)


async def test_topic_outside_the_allow_list_is_refused(runtime: Runtime, sns: SnsKit) -> None:
    runtime.settings.ses_topic_arns = ["arn:aws:sns:us-east-1:123456789012:other"]
    body = sns.sign(ses_notification(ses_bounce("alice@example.com", "x")))
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "unknown_topic"


async def test_retried_sns_notification_is_recorded_once(runtime: Runtime, sns: SnsKit) -> None:
    await seed_message(runtime, "bob@slow.example.net", provider_message_id="ses-0003")
    body = json.dumps(sns.sign(ses_notification(ses_bounce("bob@slow.example.net", "ses-0003", "Transient"))))
    async with client(runtime, sns) as http:
        first = await http.post("/webhooks/ses", content=body)
        second = await http.post("/webhooks/ses", content=body)
    assert first.json() == {"recorded": 1, "duplicates": 0}
    assert second.json() == {"recorded": 0, "duplicates": 1}
    assert [e.kind for e in await contact_events(runtime, "bob@slow.example.net")] == ["soft_bounce"]


async def test_dsn_and_ses_webhook_for_one_bounce_change_the_contact_once(
    runtime: Runtime, sns: SnsKit, tmp_path: Path
) -> None:
    message_id = await seed_message(runtime, "alice@example.com", provider_message_id="ses-0004")
    box = mailbox.Maildir(tmp_path / "m", create=True)
    box.add(sample("postfix_user_unknown.eml", message_id=message_id, verp_id=1042, signed_by=runtime.secrets))
    await poll_once(runtime, [MaildirConfig(str(tmp_path / "m"))])
    body = sns.sign(ses_notification(ses_bounce("alice@example.com", "ses-0004")))
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.json() == {"recorded": 1, "duplicates": 0}  # both reports are logged ...
    rows = await feedback_rows(runtime)
    assert [(r.source, r.message_id) for r in rows] == [("dsn", message_id), ("ses", message_id)]
    assert rows[1].outcome == "hard_bounce (already recorded from another report)"
    events = await contact_events(runtime, "alice@example.com")
    assert [e.kind for e in events] == ["hard_bounce"]  # ... but the contact changed once


async def test_topic_nobody_configured_is_refused_with_403_and_never_confirmed(
    runtime: Runtime, sns: SnsKit, caplog: pytest.LogCaptureFixture
) -> None:
    runtime.settings.ses_topic_arns = []  # the old default, which used to accept any topic
    foreign = "arn:aws:sns:us-east-1:999999999999:someone-elses-topic"
    subscribe = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    confirmation = sns.sign(
        {"Type": "SubscriptionConfirmation", "MessageId": "sub-9", "Token": "t", "TopicArn": foreign,
         "Message": "You have chosen to subscribe to the topic.", "SubscribeURL": subscribe,
         "Timestamp": "2026-03-02T09:00:00.000Z"}
    )
    bounce = sns.sign(dict(ses_notification(ses_bounce("victim@example.com", "ses-x")), TopicArn=foreign))
    sns.fetched.clear()
    async with client(runtime, sns) as http:
        confirmed = await http.post("/webhooks/ses", content=json.dumps(confirmation))
        bounced = await http.post("/webhooks/ses", content=json.dumps(bounce))
    assert (confirmed.status_code, bounced.status_code) == (403, 403)
    assert bounced.json()["error"]["code"] == "unknown_topic"
    assert subscribe not in sns.fetched  # no subscription was confirmed
    assert any(foreign in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert await count(runtime, FeedbackEvent) == 0
    assert await contact_status(runtime, "victim@example.com") is None


async def test_topic_recorded_on_an_ses_server_is_accepted(runtime: Runtime, sns: SnsKit) -> None:
    runtime.settings.ses_topic_arns = []
    async with runtime.sessions.begin() as session:
        session.add(SendingServer(name="ses-eu", type="ses", settings={"region": "us-east-1",
                                                                      "feedback_topic_arn": TOPIC}))
    await seed_message(runtime, "alice@example.com", provider_message_id="ses-0009")
    body = sns.sign(ses_notification(ses_bounce("alice@example.com", "ses-0009")))
    async with client(runtime, sns) as http:
        response = await http.post("/webhooks/ses", content=json.dumps(body))
    assert response.json() == {"recorded": 1, "duplicates": 0}
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"


def test_ses_server_form_refuses_a_topic_field_that_is_not_an_sns_arn() -> None:
    (spec,) = [f for f in SesTransport.FIELDS if f.name == "feedback_topic_arn"]
    assert spec.validator is not None
    assert spec.validator(TOPIC) is None
    message = spec.validator("ses-feedback")
    assert message is not None and "must be an SNS topic ARN" in message
