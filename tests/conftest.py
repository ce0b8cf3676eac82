"""Shared fixtures built from real parts: a temporary SQLite file, a controlled clock,
an aiosmtpd capture sink on an ephemeral loopback port."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mailconsole.clock import FixedClock
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink


@pytest.fixture(autouse=True)
def _cli_user_is_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of the box an OS user with no role-table entry is a viewer; the suite runs the CLI
    as the admin who installed it. Tests of the role boundary set their own table."""
    monkeypatch.setenv("MAILCONSOLE_DEFAULT_ROLE", "admin")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'test.db'}",
        dns_nameservers=["127.0.0.1:1"],
        dns_timeout=0.5,
    )


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    async with Runtime.open(settings, clock=clock) as rt:
        yield rt


@pytest.fixture
def sink() -> Iterator[CaptureSink]:
    with CaptureSink(CaptureHandler()) as s:
        yield s


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One PostgreSQL server for the whole run; each test gets its own database."""
    from tests.support.postgres import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server: object, request: pytest.FixtureRequest) -> str:
    import re
    import uuid

    from tests.support.postgres import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:6]
    return postgres_server.create_database(name)


@pytest.fixture
async def pg_runtime(pg_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Runtime]:
    settings = Settings(data_dir=tmp_path / "pgdata", database_url=pg_url, dns_nameservers=["127.0.0.1:1"])
    async with Runtime.open(settings, clock=clock) as rt:
        yield rt
