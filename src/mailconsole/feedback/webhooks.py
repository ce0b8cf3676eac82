"""The ESP webhook routes, mounted by the HTTP server under ``/webhooks``.

``routes(runtime)`` gives ``/ses``, ``/sendgrid``, ``/mailgun`` and ``/postmark``. Each
request is verified first (SNS signature and certificate, SendGrid ECDSA, Mailgun HMAC,
Postmark basic auth); anything unsigned or badly signed is refused (401/403) and counted in
``mailconsole_webhook_refused_total`` without touching the database. Verified events become
FeedbackReports recorded through the feedback service, so a retried webhook, or a DSN and a
webhook for the same bounce, change the contact once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailconsole.feedback import metrics, service
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers import mailgun, postmark, sendgrid, ses
from mailconsole.feedback.providers.common import WebhookRefused

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024

Work = Callable[[Request, bytes], Awaitable[tuple[list[FeedbackReport], Callable[[], None] | None]]]


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise WebhookRefused(413, "too_large", "the body is larger than 5 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def routes(
    runtime: Runtime,
    *,
    sns_fetcher: ses.Fetcher | None = None,
    sns_trusted_cas: Sequence[x509.Certificate] | None = None,
) -> list[BaseRoute]:
    """The webhook routes; ``sns_fetcher``/``sns_trusted_cas`` let tests supply their own CA."""
    settings = runtime.settings
    verifier = ses.SnsVerifier(sns_fetcher, sns_trusted_cas, now=runtime.clock.now)
    mailgun_tokens = mailgun.TokenCache()

    def endpoint(provider: str, work: Work) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            try:
                body = await _read_body(request)
                found, after = await work(request, body)
            except WebhookRefused as exc:
                metrics.WEBHOOK_REFUSED.labels(provider, exc.reason).inc()
                client = request.client.host if request.client else "?"
                log.warning("refused %s webhook from %s: %s", provider, client, exc.reason)
                headers = {"WWW-Authenticate": 'Basic realm="mailconsole"'} if exc.status == 401 else None
                refusal = {"error": {"code": exc.reason, "message": exc.message}}
                return JSONResponse(refusal, exc.status, headers=headers)
            recorded = duplicates = 0
            for report in found:
                result = await service.record_report(runtime, report)
                duplicates += result.duplicate
                recorded += not result.duplicate
            if after is not None:
                after()
            return JSONResponse({"recorded": recorded, "duplicates": duplicates})

        return handle

    async def ses_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], None]:
        message = ses.parse_envelope(body)
        await verifier.verify(message)
        topic = str(message.get("TopicArn", ""))
        if settings.ses_topic_arns and topic not in settings.ses_topic_arns:
            raise WebhookRefused(403, "unknown_topic", "the SNS topic is not one of ses_topic_arns")
        kind = message.get("Type")
        if kind == "SubscriptionConfirmation":
            url = str(message.get("SubscribeURL", ""))
            ses.check_aws_url(url, "SubscribeURL")
            try:
                await verifier.fetcher(url)
            except Exception as exc:
                raise WebhookRefused(502, "confirm_failed", f"could not confirm the subscription: {exc}") from None
            log.info("confirmed SNS subscription to %s", topic)
            return [], None
        if kind != "Notification":
            return [], None  # UnsubscribeConfirmation: nothing to do
        found = ses.reports(ses.notification_body(message), event_key=str(message.get("MessageId", "")))
        return found, None

    async def sendgrid_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], None]:
        sendgrid.verify(settings.sendgrid_webhook_public_key, dict(request.headers), body)
        return sendgrid.reports(body), None

    async def mailgun_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], Callable[[], None]]:
        payload = mailgun.parse(body)
        now = runtime.clock.now().timestamp()
        max_age = float(settings.webhook_max_age_seconds)
        token, stamp = mailgun.verify(
            settings.mailgun_webhook_signing_key, payload, now=now, max_age=max_age, tokens=mailgun_tokens
        )
        found = mailgun.reports(payload)
        return found, lambda: mailgun_tokens.remember(token, stamp + max_age, now)

    async def postmark_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], None]:
        postmark.verify(
            settings.postmark_webhook_user, settings.postmark_webhook_password, request.headers.get("authorization", "")
        )
        return postmark.reports(body), None

    return [
        Route("/ses", endpoint("ses", ses_work), methods=["POST"]),
        Route("/sendgrid", endpoint("sendgrid", sendgrid_work), methods=["POST"]),
        Route("/mailgun", endpoint("mailgun", mailgun_work), methods=["POST"]),
        Route("/postmark", endpoint("postmark", postmark_work), methods=["POST"]),
    ]
