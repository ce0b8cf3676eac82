"""Webhook replay protection that holds across engines: nonces (Mailgun signature tokens)
claimed in the database.

A nonce is claimed *before* its events are recorded, by an insert the unique constraint makes
atomic, so two engines receiving the same replayed request cannot both act on it; if recording
then fails the claim is released, so the provider's own retry (same signature) still works.
Rows live until the signature would be refused as stale anyway, then are pruned.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from mailconsole.store.models import WebhookReplay

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime


async def claim(runtime: Runtime, provider: str, nonce: str, expires_at: dt.datetime) -> bool:
    """True when this request is the first to present ``nonce``; False for a replay."""
    now = runtime.clock.now()
    try:
        async with runtime.sessions.begin() as session:
            await session.execute(
                delete(WebhookReplay).where(WebhookReplay.provider == provider, WebhookReplay.expires_at < now)
            )
            session.add(WebhookReplay(provider=provider, nonce=nonce[:200], expires_at=expires_at))
    except IntegrityError:
        return False
    return True


async def release(runtime: Runtime, provider: str, nonce: str) -> None:
    """Give a nonce back after its events could not be recorded (the provider will retry)."""
    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(WebhookReplay).where(WebhookReplay.provider == provider, WebhookReplay.nonce == nonce[:200])
        )
