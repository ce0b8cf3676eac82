"""A tiny Textual app that mounts one senders pane with ``runtime`` and ``role`` set.

The panes only rely on ``app.runtime`` and ``app.role``, so they are tested without the shell.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widget import Widget

from mailconsole.clock import FixedClock
from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.db import create_engine, session_factory
from mailconsole.store.secrets import SecretBox

FIXED_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class PaneApp(App[None]):
    def __init__(self, runtime: Runtime, role: Role, pane: type[Widget], *, own_engine: bool) -> None:
        super().__init__()
        self.runtime = runtime
        self.role = role
        self._pane = pane
        self._own_engine = own_engine

    def compose(self) -> ComposeResult:
        yield self._pane(id="pane")

    async def on_unmount(self) -> None:
        if self._own_engine:
            await self.runtime.engine.dispose()


def seeded_app(
    tmp_path: Path,
    pane: type[Widget],
    role: Role = Role.ADMIN,
    seed: Callable[[Runtime], Awaitable[None]] | None = None,
) -> PaneApp:
    """Migrate and seed a fresh SQLite file, then build an app whose Runtime opens in its loop."""
    data_dir = tmp_path / "data"
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'panes.db'}",
        dns_nameservers=["127.0.0.1:1"],
        dns_timeout=0.5,
    )

    async def prepare() -> None:
        async with Runtime.open(settings, clock=FixedClock(FIXED_NOW)) as rt:
            if seed is not None:
                await seed(rt)

    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever the caller runs in
        pool.submit(asyncio.run, prepare()).result()
    engine = create_engine(settings.effective_database_url)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        secrets=SecretBox.from_data_dir(data_dir),
        clock=FixedClock(FIXED_NOW),
    )
    return PaneApp(runtime, role, pane, own_engine=True)
