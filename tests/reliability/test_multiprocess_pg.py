"""Three headless engine processes share one PostgreSQL queue.

Promise: every message is delivered exactly once (none lost, none twice: claims use
``FOR UPDATE SKIP LOCKED``), a server's speed cap holds across all processes (it is counted in
the database under a row lock on the server), and a console attached to the same database
with no engine of its own shows the engines running elsewhere (their heartbeats).

N is 3,000 here to keep the suite fast on 2 cores; ``benchmarks/scaleout.py`` runs 20,000.
"""

from __future__ import annotations

import collections

import pytest

from mailconsole.console.app import MailConsoleApp
from mailconsole.console.widgets.app_header import AppHeader
from mailconsole.domain.ratelimit import SpeedLimit
from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink

from .engines import add_smtp, attempts_by_server, bulk_enqueue, recipient, serve, states, stop, wait_until

pytestmark = pytest.mark.postgres

N = 20_000  # the figure; about 20 s with three engines on 2 cores
CAP_PER_HOUR = 200  # smoothing allows ceil(200 / 10) = 20 in the first slice of 6 minutes


async def test_three_engines_deliver_every_message_once_and_hold_the_cap_globally(
    live_pg: Runtime, pg_settings: Settings
) -> None:
    burst = SpeedLimit("hour", CAP_PER_HOUR).burst
    with CaptureSink(CaptureHandler()) as bulk_sink, CaptureSink(CaptureHandler()) as capped_sink:
        await add_smtp(live_pg, capped_sink.port, name="capped", speed_mode="hour", speed_limit=CAP_PER_HOUR)
        await add_smtp(live_pg, bulk_sink.port, name="bulk")
        await bulk_enqueue(live_pg, N)
        engines = [serve(pg_settings.data_dir, pg_settings.database_url) for _ in range(3)]
        try:
            async def all_sent() -> bool:
                return (await states(live_pg)).get("sent", 0) == N

            assert await wait_until(all_sent, within=240, interval=0.25, alive=engines), await states(live_pg)

            # A console on the same database, without an engine, sees the three headless ones.
            app = MailConsoleApp(live_pg, Role.VIEWER, engine=None)
            async with app.run_test(size=(100, 30)) as pilot:
                header = app.query_one(AppHeader)
                for _ in range(50):
                    if header.engine_state != "off":
                        break
                    await pilot.pause(0.05)
                assert header.engine_state == "running (3 elsewhere)"
        finally:
            codes = stop(engines)
        assert codes == [0, 0, 0]

    received = collections.Counter(r for sink in (bulk_sink, capped_sink) for m in sink.handler.messages
                                   for r in m.rcpt_tos)
    assert set(received) == {recipient(i) for i in range(N)}
    assert max(received.values()) == 1, "a message was delivered twice"
    by_server = await attempts_by_server(live_pg)
    # The cap is shared: all three processes together sent exactly one slice's burst.
    assert len(capped_sink.handler.messages) == by_server["capped"] == burst
    assert by_server["bulk"] == N - burst
    assert await attempts_by_server(live_pg, "reserved") == {}
