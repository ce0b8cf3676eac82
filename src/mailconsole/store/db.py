"""The async engine and session factory, with the SQLite settings every process must share.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the console, the relay
and the engine can share one file without "database is locked" errors under normal load.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from mailconsole.domain.errors import ConfigError
from mailconsole.store.private_files import create_private_file, make_private_dir

SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseError(ConfigError):
    """The database URL is malformed or the database cannot be reached; message is for people."""


def check_url(url: str) -> str:
    """Validate a database URL and return its backend name, or raise DatabaseError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"malformed database URL {url!r}: expected e.g. sqlite+aiosqlite:///path/to/file.db "
            "or postgresql+asyncpg://user:pass@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"unsupported database {backend!r} in URL: use sqlite or postgresql")
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        raise DatabaseError("SQLite URLs must use the async driver: sqlite+aiosqlite:///FILE")
    if backend == "postgresql" and parsed.drivername != "postgresql+asyncpg":
        raise DatabaseError("PostgreSQL URLs must use the async driver: postgresql+asyncpg://…")
    return backend


def sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Disable pysqlite's own transaction handling (aiosqlite and the writer thread alike) so that
    # BEGIN IMMEDIATE (issued in the begin hook) is what starts each transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # FULL, not WAL's usual NORMAL: every commit is fsync'd before it returns, so the 250/202
    # the intake answers after its commit survives a power cut (NORMAL may lose the last
    # commits). Group commit keeps this to one fsync per batch of messages.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


# Execution option marking an engine (and its sessions) as read-only; see read_session_factory.
READ_ONLY = "mailconsole_read_only"


def sqlite_on_begin(conn: Any) -> None:
    if conn.get_execution_options().get(READ_ONLY):
        # A deferred BEGIN reads a WAL snapshot and never waits for a writer.
        conn.exec_driver_sql("BEGIN")
        return
    # Take the write lock at BEGIN: a read that later upgrades to a write would otherwise
    # fail with SQLITE_BUSY immediately, ignoring the busy timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> AsyncEngine:
    backend = check_url(url)
    if backend == "sqlite":
        parsed = make_url(url)
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            make_private_dir(path.parent)
            create_private_file(path)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", sqlite_on_begin)
        return engine
    # synchronous_commit is PostgreSQL's default, but a cluster (or role) may turn it off for
    # speed; our acknowledgements promise durability, so every connection asks for it.
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"synchronous_commit": "on"}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that only read. Every SQLite write transaction takes the write lock at BEGIN
    (so it can never fail to upgrade), which would make a read queue behind the engine's and
    the relay's writes; these begin deferred instead and read a WAL snapshot at once. A write
    through one of them is a bug (on SQLite it may fail with "database is locked")."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    """Create the engine, apply migrations, yield (engine, sessions), dispose on exit."""
    from mailconsole.store.migrate import upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield engine, session_factory(engine)
    finally:
        await engine.dispose()
