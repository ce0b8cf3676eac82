"""Everything a running mailconsole process shares: settings, database, secrets, clock.

The console, the relay, the HTTP API and the engine all take a Runtime, so a test can build
one on a temporary SQLite file with a controlled clock and exercise the real services.
Opening one migrates and makes the store's default rows; what the areas need at start and
which parts run is ``mailconsole.boot``'s job (the composition root), not this module's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mailconsole.clock import Clock, SystemClock
from mailconsole.settings import Settings
from mailconsole.store.bootstrap import ensure_defaults
from mailconsole.store.db import create_engine, read_session_factory, session_factory
from mailconsole.store.migrate import upgrade
from mailconsole.store.secrets import SecretBox


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    secrets: SecretBox
    clock: Clock

    @cached_property
    def reads(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for reading only (``store.db.read_session_factory``): they never wait for
        a writer on SQLite. Hot read paths (AUTH, status lookups) use these."""
        return read_session_factory(self.engine)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, *, clock: Clock | None = None, migrate: bool = True
    ) -> AsyncIterator[Runtime]:
        engine = create_engine(settings.effective_database_url)
        try:
            if migrate:
                await upgrade(engine)
            runtime = cls(
                settings=settings,
                engine=engine,
                sessions=session_factory(engine),
                secrets=SecretBox.from_data_dir(settings.data_dir),
                clock=clock or SystemClock(),
            )
            if migrate:
                await ensure_defaults(runtime.sessions, runtime.clock)
            yield runtime
        finally:
            await engine.dispose()
