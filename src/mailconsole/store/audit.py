"""The audit log: who did what, in which role, from which interface, and when.

Services call ``record`` inside the transaction that makes the change, so a change and its
audit row commit together or not at all.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.clock import Clock
from mailconsole.domain.roles import Actor
from mailconsole.store.models import AuditEntry


def record(session: AsyncSession, clock: Clock, actor: Actor, action: str, detail: str = "") -> None:
    session.add(AuditEntry(at=clock.now(), os_user=actor.who, role=actor.role.value,
                           interface=actor.interface.value, action=action, detail=detail))
