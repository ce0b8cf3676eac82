"""Amazon SES through SNS: verify the SNS signature with the signing certificate, confirm
subscriptions, and read Bounce / Complaint / DeliveryDelay notifications.

The certificate URL must be https on ``sns.<region>.amazonaws.com`` (the check AWS's own
message validators make); certificates are fetched through an injectable async fetcher and
cached by URL. When trust anchors are given (tests, or an operator pinning Amazon's CAs) the
certificate must chain to one of them; otherwise trust comes from the HTTPS fetch from the
verified host, as in the AWS SDK validators.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailconsole.feedback.dsn import normalize_status
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers.common import WebhookRefused, bad_signature, load_json, unsigned

Fetcher = Callable[[str], Awaitable[bytes]]

_HOST_RE = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_MAX_CERT_BYTES = 64 * 1024


async def https_fetch(url: str) -> bytes:
    """The production fetcher: HTTPS with certificate verification, no redirects, size-capped."""
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
        response = await client.get(url)
        response.raise_for_status()
        if len(response.content) > _MAX_CERT_BYTES:
            raise ValueError("response too large")
        return response.content


def check_aws_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not _HOST_RE.match(parts.hostname or ""):
        raise bad_signature(f"{what} is not an https URL on sns.<region>.amazonaws.com")


def string_to_sign(message: dict[str, Any]) -> bytes:
    keys = _NOTIFICATION_KEYS if message.get("Type") == "Notification" else _SUBSCRIPTION_KEYS
    return "".join(f"{k}\n{message[k]}\n" for k in keys if k in message and message[k] is not None).encode()


class SnsVerifier:
    def __init__(
        self,
        fetcher: Fetcher | None = None,
        trusted_cas: Sequence[x509.Certificate] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.fetcher = fetcher or https_fetch
        self.trusted_cas = list(trusted_cas or [])
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self._certs: dict[str, x509.Certificate] = {}

    def _chains_to_trust(self, chain: list[x509.Certificate]) -> bool:
        current, rest = chain[0], chain[1:]
        for _ in range(6):
            for ca in self.trusted_cas:
                try:
                    current.verify_directly_issued_by(ca)
                    return True
                except (ValueError, TypeError, InvalidSignature):
                    continue
            issuer = None
            for candidate in rest:
                try:
                    current.verify_directly_issued_by(candidate)
                    issuer = candidate
                    break
                except (ValueError, TypeError, InvalidSignature):
                    continue
            if issuer is None:
                return False
            rest = [c for c in rest if c is not issuer]
            current = issuer
        return False

    async def certificate(self, url: str) -> x509.Certificate:
        check_aws_url(url, "SigningCertURL")
        if url in self._certs:
            cert = self._certs[url]
        else:
            try:
                chain = x509.load_pem_x509_certificates(await self.fetcher(url))
            except WebhookRefused:
                raise
            except Exception as exc:
                raise WebhookRefused(403, "bad_certificate", f"cannot load the signing certificate: {exc}") from None
            if self.trusted_cas and not self._chains_to_trust(chain):
                raise WebhookRefused(403, "bad_certificate", "the signing certificate is not from a trusted CA")
            cert = chain[0]
            self._certs[url] = cert
        now = self.now()
        if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
            raise WebhookRefused(403, "bad_certificate", "the signing certificate is expired or not yet valid")
        return cert

    async def verify(self, message: dict[str, Any]) -> None:
        signature = message.get("Signature")
        version = str(message.get("SignatureVersion", ""))
        cert_url = message.get("SigningCertURL") or message.get("SigningCertUrl")
        if not signature or not cert_url:
            raise unsigned("the SNS message has no Signature or SigningCertURL")
        if version not in ("1", "2"):
            raise bad_signature(f"unsupported SignatureVersion {version!r}")
        cert = await self.certificate(str(cert_url))
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise WebhookRefused(403, "bad_certificate", "the signing certificate does not hold an RSA key")
        algorithm: hashes.HashAlgorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        try:
            key.verify(base64.b64decode(str(signature)), string_to_sign(message), padding.PKCS1v15(), algorithm)
        except (InvalidSignature, ValueError):
            raise bad_signature() from None


def parse_envelope(body: bytes) -> dict[str, Any]:
    message = load_json(body)
    if not isinstance(message, dict) or "Type" not in message:
        raise WebhookRefused(400, "malformed", "not an SNS message")
    return message


def reports(notification: dict[str, Any], *, event_key: str) -> list[FeedbackReport]:
    """Bounce, Complaint and DeliveryDelay notifications (both the SNS notification and the
    event-publishing shapes); every other type says nothing about the contact."""
    kind = str(notification.get("notificationType") or notification.get("eventType") or "")
    mail = notification.get("mail") or {}
    provider_id = str(mail.get("messageId", ""))
    out: list[FeedbackReport] = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        bounce_type = str(bounce.get("bounceType", ""))
        for r in bounce.get("bouncedRecipients") or []:
            diagnostic = str(r.get("diagnosticCode") or bounce.get("bounceSubType") or "")
            status = normalize_status(str(r.get("status") or "")) or normalize_status(diagnostic)
            effect = None  # Undetermined: the status code decides
            if bounce_type == "Permanent":
                effect = "hard_bounce"
            elif bounce_type == "Transient":
                rejected = bounce.get("bounceSubType") in ("ContentRejected", "AttachmentRejected")
                effect = "policy_block" if rejected else "soft_bounce"
            out.append(
                FeedbackReport("ses", "bounce", str(r.get("emailAddress", "")), status, diagnostic,
                               effect=effect, provider_message_id=provider_id, event_key=event_key)
            )
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        for r in complaint.get("complainedRecipients") or []:
            not_spam = feedback_type == "not-spam"
            out.append(
                FeedbackReport("ses", "unknown" if not_spam else "complaint", str(r.get("emailAddress", "")),
                               diagnostic=f"complaint: {feedback_type}", effect="none" if not_spam else "complaint",
                               provider_message_id=provider_id, event_key=event_key)
            )
    elif kind == "DeliveryDelay":
        delay = notification.get("deliveryDelay") or {}
        for r in delay.get("delayedRecipients") or []:
            diagnostic = str(r.get("diagnosticCode") or delay.get("delayType") or "")
            out.append(
                FeedbackReport("ses", "delay", str(r.get("emailAddress", "")),
                               normalize_status(str(r.get("status") or "")), diagnostic,
                               provider_message_id=provider_id, event_key=event_key)
            )
    return [r for r in out if r.recipient]


def notification_body(message: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(str(message.get("Message", "")))
    except ValueError:
        raise WebhookRefused(400, "malformed", "the SNS Message is not SES JSON") from None
    if not isinstance(body, dict):
        raise WebhookRefused(400, "malformed", "the SNS Message is not SES JSON")
    return body
