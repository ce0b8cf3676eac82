"""An account's daily cap: no more than that many of its messages go out per rolling day,
across all servers of its group; the rest wait in the queue and go when the window rolls."""

from __future__ import annotations

from sqlalchemy import update

from mailconsole.clock import FixedClock
from mailconsole.delivery import queue
from mailconsole.delivery.engine import Engine
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Account

from .conftest import add_sink_server, send


def _states(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


async def test_daily_cap_holds_across_two_servers_and_the_rest_waits_for_the_rolling_day(
    runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    await _capped_day(runtime, clock, sink)


async def test_daily_cap_on_postgresql_locks_and_counts_the_same(
    pg_runtime: Runtime, clock: FixedClock, sink: CaptureSink
) -> None:
    await _capped_day(pg_runtime, clock, sink)


async def _capped_day(runtime: Runtime, clock: FixedClock, sink: CaptureSink) -> None:
    account = await default_account_id(runtime)
    async with runtime.sessions.begin() as session:
        await session.execute(update(Account).where(Account.id == account).values(daily_cap=3))
    with CaptureSink(CaptureHandler()) as other:
        await add_sink_server(runtime, sink.port, name="a", concurrency=5)
        await add_sink_server(runtime, other.port, name="b", concurrency=5)
        await send(runtime, *(f"r{i}@example.test" for i in range(7)))
        engine = Engine(runtime)
        await engine.run_until_idle()
        assert len(sink.handler.messages) + len(other.handler.messages) == 3
        assert _states(await queue.counts_by_state(runtime)) == {"sent": 3, "queued": 4}

        clock.advance(hours=23)  # still inside the day of the first three
        await engine.run_until_idle()
        assert _states(await queue.counts_by_state(runtime)) == {"sent": 3, "queued": 4}

        clock.advance(hours=1, seconds=1)
        await engine.run_until_idle()
        assert _states(await queue.counts_by_state(runtime)) == {"sent": 6, "queued": 1}
        clock.advance(days=1, seconds=1)
        await engine.run_until_idle()
        await engine.stop()
        delivered = sorted(r for s in (sink, other) for m in s.handler.messages for r in m.rcpt_tos)
    assert delivered == sorted(f"r{i}@example.test" for i in range(7))  # each once, none dropped


async def test_account_without_cap_is_not_limited(runtime: Runtime, sink: CaptureSink) -> None:
    await add_sink_server(runtime, sink.port)
    await send(runtime, *(f"r{i}@example.test" for i in range(12)))
    await Engine(runtime).run_until_idle()
    assert len(sink.handler.messages) == 12
