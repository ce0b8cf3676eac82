"""Acknowledged means on disk: every connection commits with fsync (SQLite synchronous=FULL,
PostgreSQL synchronous_commit=on), and the files holding mail are created owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from mailconsole.clock import FixedClock
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.writer_thread import WriterThread

SQLITE_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


async def test_every_sqlite_connection_commits_with_synchronous_full(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        assert (await session.execute(text("PRAGMA synchronous"))).scalar() == SQLITE_FULL
    async with runtime.reads() as session:
        assert (await session.execute(text("PRAGMA synchronous"))).scalar() == SQLITE_FULL
    writer = WriterThread(runtime.settings.database_url)
    try:
        level = await writer.run(lambda conn: conn.exec_driver_sql("PRAGMA synchronous").scalar())
    finally:
        await writer.close()
    assert level == SQLITE_FULL


async def test_data_dir_and_database_file_are_created_owner_only(tmp_path: Path, clock: FixedClock) -> None:
    data_dir = tmp_path / "fresh" / "mailconsole"
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'mail.db'}",
        dns_nameservers=["127.0.0.1:1"],
    )
    async with Runtime.open(settings, clock=clock):
        pass
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "mail.db").stat().st_mode) == 0o600
    for extra in ("mail.db-wal", "mail.db-shm"):
        if (data_dir / extra).exists():
            assert stat.S_IMODE((data_dir / extra).stat().st_mode) & 0o077 == 0


@pytest.mark.postgres
async def test_postgresql_commits_synchronously_even_where_the_cluster_turned_it_off(pg_runtime: Runtime) -> None:
    # The test cluster runs with synchronous_commit=off (tests/support/postgres.py), as an
    # operator tuning for speed might; our sessions ask for it back.
    async with pg_runtime.sessions() as session:
        assert (await session.execute(text("SHOW synchronous_commit"))).scalar() == "on"
