"""``Idempotency-Key``: a retried send returns the first answer and enqueues nothing twice.

The record and the messages are written in ONE transaction: ``IdempotentWrite`` is handed to
the shared intake as its writer, claims the key by inserting the record first (the unique
constraint on account and key makes a concurrent twin wait, then fail), writes the messages
with the relay's ``batcher.write`` and stores the answer before the commit. So either the
messages and the answer are on disk together, or neither is, and a retry finds the answer.

Refusals enqueue nothing; they are stored afterwards (best effort) so a retry is told the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mailconsole.api.errors import ApiError
from mailconsole.domain.errors import Refused
from mailconsole.intake.batcher import EnqueueBatcher, Submission, write
from mailconsole.runtime import Runtime
from mailconsole.store.models import IdempotencyRecord

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
    if not key or len(key) > MAX_KEY_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise ApiError(
            400,
            "invalid_field",
            f"Idempotency-Key: must be 1 to {MAX_KEY_LENGTH} printable characters",
        )
    return key


def accepted_body(ids: list[int], recipients: list[str]) -> dict[str, Any]:
    return {
        "ids": ids,
        "messages": [{"id": mid, "recipient": rcpt} for mid, rcpt in zip(ids, recipients, strict=True)],
    }


async def lookup(runtime: Runtime, account_id: int, key: str, digest: str) -> Replay | None:
    """The stored answer for this key, None if unused; 422 if used with another body."""
    async with runtime.sessions() as session:
        record = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
                )
            )
        ).scalar_one_or_none()
    if record is None:
        return None
    if record.request_hash != digest:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body",
        )
    return Replay(status=record.status_code, body=dict(record.response))


class KeyTaken(Refused):
    """Another request stored this key first (between our lookup and our write)."""


class IdempotentWrite(EnqueueBatcher):
    """The intake's writer for one keyed request: record and messages in one transaction."""

    def __init__(self, runtime: Runtime, *, key: str, digest: str) -> None:
        super().__init__(runtime)
        self.key = key
        self.digest = digest

    async def submit(self, item: Submission) -> list[int]:
        runtime = self.runtime
        try:
            async with runtime.sessions.begin() as session:
                session.add(
                    IdempotencyRecord(
                        account_id=item.message.account_id,
                        key=self.key,
                        request_hash=self.digest,
                        status_code=202,
                        response={},
                        created_at=runtime.clock.now(),
                    )
                )
                await session.flush()  # claims the key now: a concurrent twin fails here
                [result] = await write(runtime, session, [item])
                if isinstance(result, Exception):
                    raise result  # rolls back the claim too; the caller stores the refusal
                await session.execute(
                    update(IdempotencyRecord)
                    .where(IdempotencyRecord.account_id == item.message.account_id, IdempotencyRecord.key == self.key)
                    .values(response=accepted_body(result, list(item.message.recipients)))
                )
        except IntegrityError:
            raise KeyTaken() from None
        return result


async def store_refusal(runtime: Runtime, account_id: int, key: str, digest: str, exc: ApiError) -> None:
    """Remember a refusal so the retry hears the same; a lost race here changes nothing."""
    try:
        async with runtime.sessions.begin() as session:
            session.add(
                IdempotencyRecord(
                    account_id=account_id,
                    key=key,
                    request_hash=digest,
                    status_code=exc.status,
                    response=exc.body(),
                    created_at=runtime.clock.now(),
                )
            )
    except IntegrityError:
        pass
