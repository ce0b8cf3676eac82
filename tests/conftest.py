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
