"""One synchronous SQLite connection owned by one thread, for group-commit writers.

Through the async stack every statement costs a hand-off to aiosqlite's thread and back, plus
SQLAlchemy's session and greenlet layers; a relay batch of a few statements paid that several
times per commit, on the event loop's thread. Here the whole transaction (BEGIN IMMEDIATE,
reads, inserts, COMMIT) runs as one function call on a dedicated thread: one hand-off per
batch, and the event loop stays free for SMTP sessions while SQLite works. It is a second
connection to the same file, with the same pragmas and the same ``BEGIN IMMEDIATE``, so it
takes part in SQLite's single-writer locking like every other connection.

Only for SQLite files; PostgreSQL (and in-memory SQLite, which a second connection could not
see) keep using the async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from mailconsole.store.db import sqlite_on_begin, sqlite_on_connect

T = TypeVar("T")


def supports(url: str) -> bool:
    """True for an SQLite database in a file (a second connection sees the same data)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


class WriterThread:
    """Runs ``fn(connection, *args)`` inside one transaction on the writer thread."""

    def __init__(self, url: str) -> None:
        if not supports(url):
            raise ValueError("WriterThread needs an SQLite database file")
        sync_url = make_url(url).set(drivername="sqlite+pysqlite")
        # The thread is the only user, so one pooled connection; pysqlite's same-thread check
        # stays on as a guard that nothing else touches it.
        self._engine: Engine = create_engine(sync_url, pool_size=1, max_overflow=0, connect_args={"timeout": 30})
        event.listen(self._engine, "connect", sqlite_on_connect)
        event.listen(self._engine, "begin", sqlite_on_begin)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    def _in_transaction(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._engine.begin() as connection:
            return fn(connection, *args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in one committed transaction; its result once committed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._in_transaction, fn, args)

    async def close(self) -> None:
        """Wait for the transaction in progress, then close the connection and the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._engine.dispose)
        self._executor.shutdown(wait=True)

