"""``POST /v1/emails``: JSON or raw MIME in, message ids out once they are on disk.

The handler only translates HTTP to the shared intake (``intake.submit.submit_message``) and
back: the same policy module refuses the same things with the same words as the SMTP relay,
and a 202 is only sent after the queue transaction has committed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mailconsole import metrics
from mailconsole.api import idempotency
from mailconsole.api.auth import require_key, unauthorized
from mailconsole.api.body import BodyTooLarge, read_limited
from mailconsole.api.errors import ApiError
from mailconsole.api.mime import build_mime, raw_envelope
from mailconsole.api.schemas import parse_send_request
from mailconsole.domain import policy
from mailconsole.intake.batcher import EnqueueBatcher
from mailconsole.intake.submit import KeyRevoked, decide, submit_message
from mailconsole.runtime import Runtime
from mailconsole.store.models import ApiKey

log = logging.getLogger(__name__)

JSON_TYPES = ("application/json",)
RAW_TYPES = ("message/rfc822",)
# JSON carries attachments as base64 (4/3 of the raw size) plus a little structure.
MAX_JSON_BYTES = policy.MAX_MESSAGE_BYTES * 4 // 3 + 64 * 1024


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _violation(exc: policy.PolicyViolation) -> ApiError:
    return ApiError(exc.http_status, exc.code, exc.message)


async def _read(request: Request, media: str) -> bytes:
    limit = policy.MAX_MESSAGE_BYTES if media in RAW_TYPES else MAX_JSON_BYTES
    try:
        return await read_limited(request, limit)
    except BodyTooLarge:
        raise _violation(policy.message_too_large()) from None


def _prepare(runtime: Runtime, request: Request, media: str, body: bytes) -> tuple[str, list[str], bytes]:
    """(envelope from, recipients, raw MIME) from either body form; 400 naming the field."""
    if media in RAW_TYPES:
        sender, rcpts = raw_envelope(
            body, request.query_params.get("from"), request.query_params.getlist("to")
        )
        return sender, rcpts, body  # Bcc is dropped by the intake, on every path
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"body: not valid JSON ({exc})") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "body: JSON nested too deeply") from None
    send = parse_send_request(data)
    return send.envelope_from, send.recipients, build_mime(send, runtime.clock)


async def _submit(
    runtime: Runtime,
    key: ApiKey,
    sender: str,
    rcpts: list[str],
    raw: bytes,
    writer: EnqueueBatcher | None = None,
) -> dict[str, Any]:
    try:
        ids = await submit_message(runtime, key, mail_from=sender, recipients=rcpts, raw=raw, batcher=writer)
    except policy.PolicyViolation as exc:
        raise _violation(exc) from None
    except KeyRevoked as exc:
        raise unauthorized(str(exc)) from None
    except (ApiError, idempotency.KeyTaken):
        raise
    except Exception:  # not stored: like the relay's 451, tell the client to retry
        log.exception("api: enqueue failed")
        raise ApiError(
            503, "temporary_failure", "Temporary failure, try again later", headers={"Retry-After": "30"}
        ) from None
    metrics.record_api_send(decide(key, raw).stream, len(ids))
    return idempotency.accepted_body(ids, rcpts)


async def send_email(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        return await _send(runtime, request)
    except ApiError as exc:
        metrics.record_api_rejection(exc.code)
        raise


async def _send(runtime: Runtime, request: Request) -> JSONResponse:
    key = await require_key(runtime, request)
    try:
        policy.check_scope(key.scopes)
    except policy.PolicyViolation as exc:
        raise _violation(exc) from None
    media = _media_type(request)
    if media not in JSON_TYPES + RAW_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            "Content-Type must be application/json or message/rfc822",
        )
    body = await _read(request, media)
    sender, rcpts, raw = _prepare(runtime, request, media, body)

    idem_header = request.headers.get("idempotency-key")
    if idem_header is None:
        batcher: EnqueueBatcher = request.app.state.batcher
        return JSONResponse(await _submit(runtime, key, sender, rcpts, raw, batcher), status_code=202)

    idem_key = idempotency.check_key(idem_header)
    digest = idempotency.request_hash(media, str(request.query_params), body)
    for _ in range(2):
        replay = await idempotency.lookup(runtime, key.account_id, idem_key, digest)
        if replay is not None:
            return JSONResponse(replay.body, status_code=replay.status, headers={"Idempotency-Replayed": "true"})
        writer = idempotency.IdempotentWrite(runtime, key=idem_key, digest=digest)
        try:
            answer = await _submit(runtime, key, sender, rcpts, raw, writer)
        except idempotency.KeyTaken:
            continue  # a concurrent twin committed first: its answer is ours
        except ApiError as exc:
            if exc.status < 500:  # a refusal is the answer; a temporary failure is not
                await idempotency.store_refusal(runtime, key.account_id, idem_key, digest, exc)
            raise
        return JSONResponse(answer, status_code=202)
    raise ApiError(409, "idempotency_in_progress", "a request with this Idempotency-Key is still being processed")
