"""Test keys and signers for the ESP webhooks: the fixture SNS CA and signing certificate, a
SendGrid ECDSA key, a Mailgun HMAC key, and an in-process ASGI client for the routes.

The SNS chain in ``tests/data/sns/`` was made once with the ``openssl`` command line (``openssl
req -x509`` for the CA, ``openssl ca -startdate 20260101000000Z`` for the leaf; the CA key was
then deleted), not by any code of ours. Messages are signed here from AWS's own description of
the string to sign (Amazon SNS Developer Guide, "Verifying the signatures of Amazon SNS
messages"), written out below, never by importing the production ``string_to_sign``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from starlette.applications import Starlette
from starlette.routing import Mount

from mailconsole.feedback import webhooks
from mailconsole.runtime import Runtime

SNS_FIXTURES = Path(__file__).resolve().parents[1] / "data" / "sns"

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-feedback"
MAILGUN_KEY = "key-mailgun-test-signing-0123456789"
POSTMARK_USER = "postmark-hook"
POSTMARK_PASSWORD = "pm-pass-test-only-987"


# AWS: "Notification message: Message, MessageId, Subject (if included in the message),
# Timestamp, TopicArn, Type"; "SubscriptionConfirmation and UnsubscribeConfirmation: Message,
# MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type"; each name and value followed by a
# newline character, in that (byte) order.
_AWS_NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
_AWS_CONFIRMATION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def aws_string_to_sign(message: dict[str, Any]) -> bytes:
    fields = _AWS_NOTIFICATION_FIELDS if message["Type"] == "Notification" else _AWS_CONFIRMATION_FIELDS
    lines = []
    for name in fields:
        if name == "Subject" and name not in message:
            continue
        lines.append(f"{name}\n{message[name]}\n")
    return "".join(lines).encode("utf-8")


@dataclass
class SnsKit:
    ca: x509.Certificate
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    fetched: list[str] = field(default_factory=list)
    served: dict[str, bytes] = field(default_factory=dict)

    async def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url in self.served:
            return self.served[url]
        if url.endswith(".pem"):
            return self.cert.public_bytes(serialization.Encoding.PEM)
        return b"<ConfirmSubscriptionResponse/>"

    def sign(self, message: dict[str, Any], version: str = "1", key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
        message = dict(message, SignatureVersion=version, SigningCertURL=message.get("SigningCertURL", CERT_URL))
        algorithm: hashes.HashAlgorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = (key or self.key).sign(aws_string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message


def sns_kit(leaf: str = "signing") -> SnsKit:
    """The openssl-made fixture chain (see the module doc); ``leaf="untrusted"`` is a
    self-signed certificate (``openssl req -x509``) that chains to no CA we trust."""
    ca = x509.load_pem_x509_certificate((SNS_FIXTURES / "ca.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((SNS_FIXTURES / f"{leaf}.pem").read_bytes())
    key = serialization.load_pem_private_key((SNS_FIXTURES / f"{leaf}.key").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return SnsKit(ca, key, cert)


def ses_notification(ses_body: dict[str, Any], *, message_id: str = "sns-msg-1") -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(ses_body),
        "Timestamp": "2026-03-02T09:00:00.000Z",
    }


def ses_bounce(recipient: str, provider_id: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
            ],
            "timestamp": "2026-03-02T09:00:00.000Z",
            "feedbackId": "0100-feedback",
        },
        "mail": {"messageId": provider_id, "destination": [recipient]},
    }


@dataclass
class SendGridKit:
    key: ec.EllipticCurvePrivateKey

    @property
    def public_key_b64(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: str = "1772442000") -> dict[str, str]:
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json",
        }


def sendgrid_kit() -> SendGridKit:
    return SendGridKit(ec.generate_private_key(ec.SECP256R1()))


def mailgun_body(event_data: dict[str, Any], *, timestamp: int, token: str, key: str = MAILGUN_KEY) -> bytes:
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {"signature": {"timestamp": str(timestamp), "token": token, "signature": signature}, "event-data": event_data}
    ).encode()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def client(runtime: Runtime, sns: SnsKit | None = None, *, trust: bool = True) -> httpx.AsyncClient:
    """The webhook routes mounted as the HTTP server mounts them, driven in-process."""
    routes = webhooks.routes(
        runtime,
        sns_fetcher=sns.fetch if sns else None,
        sns_trusted_cas=[sns.ca] if (sns and trust) else None,
    )
    app = Starlette(routes=[Mount("/webhooks", routes=routes)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
