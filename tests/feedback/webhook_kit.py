"""Test keys and signers for the ESP webhooks: a test CA and SNS signing certificate, a
SendGrid ECDSA key, a Mailgun HMAC key, and an in-process ASGI client for the routes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.routing import Mount

from mailconsole.feedback import webhooks
from mailconsole.feedback.providers.ses import string_to_sign
from mailconsole.runtime import Runtime

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-feedback"
MAILGUN_KEY = "key-mailgun-test-signing-0123456789"
POSTMARK_USER = "postmark-hook"
POSTMARK_PASSWORD = "pm-pass-test-only-987"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("sns.amazonaws.com"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


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
        signature = (key or self.key).sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message


def sns_kit() -> SnsKit:
    ca_key, ca = make_ca("Test SNS Root CA")
    key, cert = make_leaf(ca_key, ca)
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
