"""``Idempotency-Key``: a retried send returns the first answer and enqueues nothing twice.

The key is claimed *before* the message is submitted, by inserting a pending record (status
0) under the unique constraint (account, key) in its own committed transaction. Whoever wins
the insert submits; a concurrent or later retry finds the record and either replays the
stored answer, answers 409 while the first request is still running, or 422 when the body
differs. Refusals that will not change on retry (4xx) are stored and replayed too;
unexpected failures release the key so the client can retry for real.

The one window this leaves: a process that dies after the queue commit and before the
answer is stored keeps the key pending, and retries get 409 rather than the ids — the mail
is still enqueued exactly once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from mailconsole.api.errors import ApiError
from mailconsole.runtime import Runtime
from mailconsole.store.models import IdempotencyRecord

PENDING = 0
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def request_hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def check_key(value: str) -> str:
    key = value.strip()
    if not key or len(key) > MAX_KEY_LENGTH or any(ord(c) < 32 for c in key):
        raise ApiError(
            400,
            "invalid_field",
            f"Idempotency-Key: must be 1 to {MAX_KEY_LENGTH} printable characters",
        )
    return key


def _answer(record: IdempotencyRecord, digest: str) -> Replay:
    if record.request_hash != digest:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body",
        )
    if record.status_code == PENDING:
        raise ApiError(
            409,
            "idempotency_in_progress",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
    return Replay(status=record.status_code, body=dict(record.response))


async def claim(runtime: Runtime, account_id: int, key: str, digest: str) -> Replay | None:
    """None if this request now owns the key; otherwise the answer to give (or ApiError)."""
    for _ in range(3):
        async with runtime.sessions.begin() as session:
            existing = (
                await session.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                return _answer(existing, digest)
        try:
            async with runtime.sessions.begin() as session:
                session.add(
                    IdempotencyRecord(
                        account_id=account_id,
                        key=key,
                        request_hash=digest,
                        status_code=PENDING,
                        response={},
                        created_at=runtime.clock.now(),
                    )
                )
            return None
        except IntegrityError:
            continue  # another request inserted it between our read and write: read again
    raise ApiError(409, "idempotency_in_progress", "could not claim the Idempotency-Key; retry")


async def store(runtime: Runtime, account_id: int, key: str, status: int, body: dict[str, Any]) -> None:
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key)
            .values(status_code=status, response=body)
        )


async def release(runtime: Runtime, account_id: int, key: str) -> None:
    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status_code == PENDING,
            )
        )
