"""Telling a locked SQLite database from an unreachable one, and waiting out the lock.

SQLite has one writer. Another process holding the write lock longer than the busy timeout
(a long import, an operator's ``sqlite3`` shell inside BEGIN) makes a write fail with
"database is locked": nothing is wrong with the database, it is busy. Callers that must not
lose the write (the engine's outcome writer, its lease heartbeat) retry with backoff; the CLI
says what happened instead of "cannot reach the database".
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mailconsole.domain.retry import backoff_seconds

T = TypeVar("T")
log = logging.getLogger(__name__)

LOCKED_MESSAGE = "the database is locked by another process; try again"
# Backoff between tries after SQLite's own busy timeout gave up (seconds, capped, jittered).
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 2.0

_LOCK_TEXTS = ("database is locked", "database table is locked", "database schema is locked")


def is_locked(exc: BaseException) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED, raw or wrapped by SQLAlchemy (``exc.orig``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError) and any(t in str(current).lower() for t in _LOCK_TEXTS):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


async def retry_locked(operation: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run ``operation`` (a fresh transaction each call) until it is not refused for a lock.

    Without a limit: what is retried must not be lost while this process runs; stopping the
    process cancels the wait. Any other error is raised at once.
    """
    tries = 0
    while True:
        try:
            return await operation()
        except Exception as exc:
            if not is_locked(exc):
                raise
            tries += 1
            delay = backoff_seconds(tries, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)
            log.warning("%s: %s (try %d; next in %.2f s)", what, LOCKED_MESSAGE, tries, delay)
            await asyncio.sleep(delay)
