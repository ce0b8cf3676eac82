"""The ESP webhook routes, mounted by the HTTP server under ``/webhooks``.

``routes(runtime)`` gives ``/ses``, ``/sendgrid``, ``/mailgun``, ``/postmark`` and
``/elasticemail``. Each request is verified first (SNS topic we configured, then signature and
certificate; SendGrid ECDSA; Mailgun HMAC; Postmark basic auth; the Elastic Email URL secret);
anything unsigned, badly signed or from a topic we did not name is refused (401/403) and
counted in ``mailconsole_webhook_refused_total`` without touching the contacts. Verified events become
FeedbackReports recorded through the feedback service, so a retried webhook, or a DSN and a
webhook for the same bounce, change the contact once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from cryptography import x509
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailconsole.feedback import metrics, replay, service
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers import elasticemail, mailgun, postmark, sendgrid, ses
from mailconsole.feedback.providers.common import WebhookRefused
from mailconsole.store.models import SendingServer

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024

# A route's work: verify, then the reports, and what undoes a replay claim if recording fails.
Release = Callable[[], Awaitable[None]]
Work = Callable[[Request, bytes], Awaitable[tuple[list[FeedbackReport], Release | None]]]


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise WebhookRefused(413, "too_large", "the body is larger than 5 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


async def configured_topics(runtime: Runtime) -> set[str]:
    """The SNS topics we accept: ``ses_topic_arns`` plus every SES server's ``feedback_topic_arn``
    (recorded when the operator configures that server's feedback). Read per request, so a
    topic added in the console is accepted at once and a removed one refused at once."""
    topics = {t for t in runtime.settings.ses_topic_arns if t}
    async with runtime.sessions() as session:
        rows = (await session.execute(select(SendingServer.settings).where(SendingServer.type == "ses"))).all()
    for (server_settings,) in rows:
        topic = (server_settings or {}).get("feedback_topic_arn")
        if topic:
            topics.add(str(topic))
    return topics


def routes(
    runtime: Runtime,
    *,
    sns_fetcher: ses.Fetcher | None = None,
    sns_trusted_cas: Sequence[x509.Certificate] | None = None,
) -> list[BaseRoute]:
    """The webhook routes; ``sns_fetcher``/``sns_trusted_cas`` let tests supply their own CA."""
    settings = runtime.settings
    verifier = ses.SnsVerifier(sns_fetcher, sns_trusted_cas, now=runtime.clock.now)

    def endpoint(provider: str, work: Work) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            try:
                body = await _read_body(request)
                found, release = await work(request, body)
            except WebhookRefused as exc:
                metrics.WEBHOOK_REFUSED.labels(provider, exc.reason).inc()
                client = request.client.host if request.client else "?"
                log.warning("refused %s webhook from %s: %s", provider, client, exc.reason)
                headers = {"WWW-Authenticate": 'Basic realm="mailconsole"'} if exc.status == 401 else None
                refusal = {"error": {"code": exc.reason, "message": exc.message}}
                return JSONResponse(refusal, exc.status, headers=headers)
            recorded = duplicates = 0
            try:
                for report in found:
                    result = await service.record_report(runtime, report)
                    duplicates += result.duplicate
                    recorded += not result.duplicate
            except BaseException:
                if release is not None:  # let the provider's retry, same signature, through
                    await release()
                raise
            return JSONResponse({"recorded": recorded, "duplicates": duplicates})

        return handle

    async def ses_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], None]:
        message = ses.parse_envelope(body)
        topic = str(message.get("TopicArn", ""))
        # Before the signature: any AWS account can produce a genuinely signed message, so
        # the signature proves only that it came from SNS, not that the topic is ours.
        if topic not in await configured_topics(runtime):
            log.warning(
                "refused SNS message for topic %r: not in ses_topic_arns nor any SES server's "
                "feedback_topic_arn (add it there if it is yours); no subscription confirmed", topic[:300],
            )
            raise WebhookRefused(
                403, "unknown_topic",
                "the SNS topic is not configured (ses_topic_arns or an SES server's feedback_topic_arn)",
            )
        await verifier.verify(message)
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

    async def mailgun_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], Release]:
        payload = mailgun.parse(body)
        now = runtime.clock.now()
        max_age = float(settings.webhook_max_age_seconds)
        token, stamp = mailgun.verify(
            settings.mailgun_webhook_signing_key, payload, now=now.timestamp(), max_age=max_age
        )
        found = mailgun.reports(payload)
        # Kept until the timestamp is stale anyway: then the age check refuses it on its own.
        expires = dt.datetime.fromtimestamp(stamp + max_age, dt.UTC)
        if not await replay.claim(runtime, "mailgun", token, max(expires, now)):
            raise WebhookRefused(403, "replayed", "this signature token was already used")

        async def release() -> None:
            await replay.release(runtime, "mailgun", token)

        return found, release

    async def postmark_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], None]:
        postmark.verify(
            settings.postmark_webhook_user, settings.postmark_webhook_password, request.headers.get("authorization", "")
        )
        return postmark.reports(body), None

    async def elasticemail_work(request: Request, body: bytes) -> tuple[list[FeedbackReport], None]:
        params = dict(request.query_params)
        given = params.pop(elasticemail.SECRET_PARAMETER, "")
        elasticemail.verify(settings.elasticemail_webhook_secret, given)
        if request.method == "POST" and body:
            try:
                params.update(parse_qsl(body.decode(), keep_blank_values=True))
            except UnicodeDecodeError:
                raise WebhookRefused(400, "malformed", "the body is not form-encoded text") from None
        return elasticemail.reports(params), None

    return [
        Route("/elasticemail", endpoint("elasticemail", elasticemail_work), methods=["GET", "POST"]),
        Route("/ses", endpoint("ses", ses_work), methods=["POST"]),
        Route("/sendgrid", endpoint("sendgrid", sendgrid_work), methods=["POST"]),
        Route("/mailgun", endpoint("mailgun", mailgun_work), methods=["POST"]),
        Route("/postmark", endpoint("postmark", postmark_work), methods=["POST"]),
    ]
