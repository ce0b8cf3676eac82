"""The audit log: who did what from the console or CLI, with the OS user and time."""

from __future__ import annotations

import getpass

from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.clock import Clock
from mailconsole.store.models import AuditEntry


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def record(session: AsyncSession, clock: Clock, role: str, action: str, detail: str = "") -> None:
    session.add(AuditEntry(at=clock.now(), os_user=os_user(), role=role, action=action, detail=detail))
