"""``GET /v1/emails/{id}``: where one message is, for the key's own account only.

Another account's id answers 404 exactly like an id that does not exist, so ids cannot be
probed across tenants.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse

from mailconsole.api.auth import require_key
from mailconsole.api.errors import ApiError
from mailconsole.runtime import Runtime
from mailconsole.store.models import DeliveryAttempt, Message

MAX_ID = 2**63 - 1


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _not_found(raw_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no message with id {raw_id[:40]!r} in this account")


async def email_status(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    key = await require_key(runtime, request)
    raw_id = request.path_params["id"]
    if not (raw_id.isascii() and raw_id.isdigit()) or int(raw_id) > MAX_ID:
        raise _not_found(raw_id)
    async with runtime.reads() as session:
        msg = (
            await session.execute(
                select(Message).where(Message.id == int(raw_id), Message.account_id == key.account_id)
            )
        ).scalar_one_or_none()
        if msg is None:
            raise _not_found(raw_id)
        last = (
            await session.execute(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.message_id == msg.id, DeliveryAttempt.outcome != "reserved")
                .order_by(DeliveryAttempt.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    last_reply: dict[str, Any] | None = None
    if msg.last_code or msg.last_text:
        last_reply = {"code": msg.last_code, "text": msg.last_text, "at": _iso(last.at) if last else None}
    elif last is not None:
        code = str(last.smtp_code or (f"HTTP {last.http_status}" if last.http_status else ""))
        last_reply = {"code": code, "text": last.text, "at": _iso(last.at)}
    return JSONResponse(
        {
            "id": msg.id,
            "state": msg.state,
            "state_reason": msg.state_reason,
            "stream": msg.stream,
            "from": msg.envelope_from,
            "recipient": msg.recipient,
            "subject": msg.subject,
            "attempts": msg.attempts,
            "next_attempt_at": _iso(msg.next_attempt_at) if msg.state in ("queued", "deferred") else None,
            "last_reply": last_reply,
            "provider_message_id": msg.provider_message_id,
            "created_at": _iso(msg.created_at),
            "updated_at": _iso(msg.updated_at),
        }
    )
