"""Pausing a server from the Servers pane stops the in-process engine dispatching through it."""

from __future__ import annotations

import asyncio

from mailconsole.clock import SystemClock
from mailconsole.console.app import MailConsoleApp
from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.delivery.queue import counts_by_state, enqueue
from mailconsole.domain.roles import SYSTEM, Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureSink
from mailconsole.store.bootstrap import default_account_id

RAW = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\n\r\nhi\r\n"


async def _wait_sent(runtime: Runtime, n: int) -> int:
    for _ in range(100):
        sent = (await counts_by_state(runtime))["sent"]
        if sent >= n:
            return sent
        await asyncio.sleep(0.1)
    return (await counts_by_state(runtime))["sent"]


async def test_pausing_a_server_in_the_console_stops_dispatch(settings: Settings, sink: CaptureSink) -> None:
    async with Runtime.open(settings, clock=SystemClock()) as runtime:
        await servers.add_server(runtime, name="only", type="smtp",
                                 fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none"},
                                                                          actor=SYSTEM)
        account = await default_account_id(runtime)
        engine = Engine(runtime, poll_interval=0.1)
        await engine.start()
        try:
            app = MailConsoleApp(runtime, Role.ADMIN, engine)
            async with app.run_test(size=(100, 30)) as pilot:
                await enqueue(runtime, account_id=account, envelope_from="a@example.com",
                              recipients=["one@example.org"], raw=RAW)
                assert await _wait_sent(runtime, 1) == 1
                await pilot.press("2")
                await pilot.pause(0.5)
                await pilot.press("p")
                await pilot.pause()
                await pilot.press("y")
                await pilot.pause(1.0)
                assert (await servers.find_server(runtime, "only")).state == "paused"
                before = len(sink.handler.messages)
                await enqueue(runtime, account_id=account, envelope_from="a@example.com",
                              recipients=[f"r{i}@example.org" for i in range(5)], raw=RAW)
                await asyncio.sleep(1.5)
                assert len(sink.handler.messages) == before
                assert (await counts_by_state(runtime))["queued"] == 5
                app.workers.cancel_all()
        finally:
            await engine.stop(grace=2)
