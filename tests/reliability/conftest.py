"""Reliability fixtures: a PostgreSQL database with a real-clock Runtime (engines in other
processes write heartbeats and leases with the wall clock, so the test must read with it too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailconsole.runtime import Runtime
from mailconsole.settings import Settings


@pytest.fixture
def pg_settings(pg_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=pg_url, dns_nameservers=["127.0.0.1:1"],
                    dns_timeout=0.5)


@pytest.fixture
async def live_pg(pg_settings: Settings) -> AsyncIterator[Runtime]:
    async with Runtime.open(pg_settings) as rt:
        yield rt
