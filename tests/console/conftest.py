"""Console fixtures: a seeded SQLite file, and apps built on it that run in Textual's own loop.

Snapshot tests are synchronous (pytest-textual-snapshot runs the app with ``App.run``), so
the database is seeded with ``asyncio.run`` first and the app gets a fresh Runtime whose
connections are opened inside the app's loop and disposed when the app unmounts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mailconsole.clock import FixedClock
from mailconsole.console.app import MailConsoleApp
from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.db import create_engine, session_factory
from mailconsole.store.secrets import SecretBox

FIXED_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class ConsoleTestApp(MailConsoleApp):
    """The real app; it also disposes the test's database engine when it closes."""

    async def on_unmount(self) -> None:
        self.workers.cancel_all()
        await self.runtime.engine.dispose()


def fresh_runtime(settings: Settings, clock: FixedClock) -> Runtime:
    """A Runtime on an already migrated database, usable from whichever loop runs first."""
    engine = create_engine(settings.effective_database_url)
    return Runtime(settings=settings, engine=engine, sessions=session_factory(engine),
                   secrets=SecretBox.from_data_dir(settings.data_dir), clock=clock)


@pytest.fixture
def console_settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    return Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / 'console.db'}",
                    dns_nameservers=["127.0.0.1:1"], dns_timeout=0.5)


AppFactory = Callable[..., ConsoleTestApp]


@pytest.fixture
def make_app(console_settings: Settings) -> AppFactory:
    """Migrate (and optionally seed) the database, then build apps on it."""
    seeded: list[bool] = []

    def factory(role: Role = Role.ADMIN, seed: Callable[[Runtime], object] | None = None,
                engine: object = None) -> ConsoleTestApp:
        clock = FixedClock(FIXED_NOW)
        if not seeded:
            async def prepare() -> None:
                async with Runtime.open(console_settings, clock=clock) as rt:
                    if seed is not None:
                        await seed(rt)  # type: ignore[misc]
            # In a thread: async tests already run a loop, snapshot tests do not.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, prepare()).result()
            seeded.append(True)
        return ConsoleTestApp(fresh_runtime(console_settings, clock), role, engine)

    return factory
