"""``GET /metrics``: the process counters plus gauges sampled from the database on scrape.

prometheus-client collectors are synchronous and our database is async, so a scrape first
takes a ``Snapshot`` with a handful of aggregate queries (each served by an index), then
renders it. Gauges come from the database rather than process memory so they are true for
the whole installation however many engine processes share the queue.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from mailconsole import metrics
from mailconsole.api.health import HEARTBEAT_STALE_SECONDS
from mailconsole.runtime import Runtime
from mailconsole.store.models import DeliveryAttempt, EngineHeartbeat, Message, SendingServer

# Only the states mail waits in: counting them is an index range as big as the backlog, while
# the finished states (sent, failed …) grow forever and would make every scrape slower.
# Finished mail shows up as mailconsole_server_attempts_last_hour and mailconsole_sends_total.
QUEUE_STATES = ("queued", "sending", "deferred", "held")
SERVER_STATES = ("healthy", "failing", "paused")
ATTEMPT_OUTCOMES = ("reserved", "accepted", "transient", "permanent")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ServerSample:
    name: str
    state: str
    active: bool
    consecutive_failures: int
    speed_mode: str
    speed_limit: int | None
    cap_used: int = 0
    attempts_last_hour: dict[str, int] = field(default_factory=dict)


@dataclass
class Snapshot:
    queue: dict[str, int] = field(default_factory=dict)
    servers: list[ServerSample] = field(default_factory=list)
    live_engines: int = 0


async def sample(runtime: Runtime) -> Snapshot:
    now = runtime.clock.now()
    hour_ago = now - dt.timedelta(hours=1)
    day_ago = now - dt.timedelta(days=1)
    snap = Snapshot()
    async with runtime.reads() as session:
        for state in QUEUE_STATES:
            snap.queue[state] = int(
                await session.scalar(select(func.count(Message.id)).where(Message.state == state)) or 0
            )
        servers = (await session.execute(select(SendingServer).order_by(SendingServer.id))).scalars().all()
        # Per server, so each count is a range scan of ix_attempts_server_at, not a table scan.
        per_hour: dict[int, dict[str, int]] = {}
        per_day: dict[int, int] = {}
        for server in servers:
            hourly = await session.execute(
                select(DeliveryAttempt.outcome, func.count(DeliveryAttempt.id))
                .where(DeliveryAttempt.server_id == server.id, DeliveryAttempt.at >= hour_ago)
                .group_by(DeliveryAttempt.outcome)
            )
            per_hour[server.id] = {outcome: int(n) for outcome, n in hourly}
            if server.speed_mode == "day":
                per_day[server.id] = int(
                    await session.scalar(
                        select(func.count(DeliveryAttempt.id)).where(
                            DeliveryAttempt.server_id == server.id, DeliveryAttempt.at >= day_ago
                        )
                    )
                    or 0
                )
        snap.live_engines = int(
            await session.scalar(
                select(func.count(EngineHeartbeat.id)).where(
                    EngineHeartbeat.state == "running",
                    EngineHeartbeat.seen_at >= now - dt.timedelta(seconds=HEARTBEAT_STALE_SECONDS),
                )
            )
            or 0
        )
    for server in servers:
        hour = per_hour.get(server.id, {})
        snap.servers.append(
            ServerSample(
                name=server.name,
                state=server.state,
                active=server.active,
                consecutive_failures=server.consecutive_failures,
                speed_mode=server.speed_mode,
                speed_limit=server.speed_limit,
                cap_used=per_day.get(server.id, 0) if server.speed_mode == "day" else sum(hour.values()),
                attempts_last_hour=hour,
            )
        )
    return snap


class SnapshotCollector(Collector):
    """Renders the latest Snapshot; ``update`` is called right before each render."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def update(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        queue = GaugeMetricFamily(
            "mailconsole_queue_messages",
            "Messages waiting in the queue by state (queued, sending, deferred, held).",
            labels=["state"],
        )
        for name in QUEUE_STATES:
            queue.add_metric([name], snap.queue.get(name, 0))
        yield queue

        rate = GaugeMetricFamily(
            "mailconsole_server_attempts_last_hour",
            "Delivery attempts in the last hour by server and outcome (all engines): the send rate.",
            labels=["server", "outcome"],
        )
        used = GaugeMetricFamily(
            "mailconsole_server_cap_used",
            "Attempts counted against the server's speed limit in its window (rolling hour or day).",
            labels=["server", "window"],
        )
        limit = GaugeMetricFamily(
            "mailconsole_server_cap_limit",
            "The server's speed limit per window; absent for unlimited servers.",
            labels=["server", "window"],
        )
        state = GaugeMetricFamily(
            "mailconsole_server_state",
            "Circuit-breaker state of each server: 1 for its current state, 0 otherwise.",
            labels=["server", "state"],
        )
        failures = GaugeMetricFamily(
            "mailconsole_server_consecutive_failures",
            "Consecutive failures counted by the circuit breaker.",
            labels=["server"],
        )
        active = GaugeMetricFamily(
            "mailconsole_server_active", "1 if the server is active, 0 if disabled.", labels=["server"]
        )
        for server in snap.servers:
            for outcome in sorted(set(ATTEMPT_OUTCOMES) | set(server.attempts_last_hour)):
                rate.add_metric([server.name, outcome], server.attempts_last_hour.get(outcome, 0))
            window = "day" if server.speed_mode == "day" else "hour"
            used.add_metric([server.name, window], server.cap_used)
            if server.speed_mode in ("hour", "day") and server.speed_limit is not None:
                limit.add_metric([server.name, window], server.speed_limit)
            for name in sorted(set(SERVER_STATES) | {server.state}):
                state.add_metric([server.name, name], 1 if name == server.state else 0)
            failures.add_metric([server.name], server.consecutive_failures)
            active.add_metric([server.name], 1 if server.active else 0)
        yield from (rate, used, limit, state, failures, active)

        engines = GaugeMetricFamily(
            "mailconsole_engines_live",
            f"Engine processes with a heartbeat in the last {HEARTBEAT_STALE_SECONDS:.0f} s.",
        )
        engines.add_metric([], snap.live_engines)
        yield engines


# Areas that keep their own prometheus-client metrics at module level; their metric objects
# are re-exposed here when the module exists.
AREA_METRIC_MODULES = ("mailconsole.feedback.metrics",)


def _area_metrics() -> list[Collector]:
    found: list[Collector] = []
    for name in AREA_METRIC_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        found.extend(v for v in vars(module).values() if isinstance(v, MetricWrapperBase))
    return found


class _ProcessCounters(Collector):
    """Re-exposes ``mailconsole.metrics.COUNTERS`` and area metrics through each app's registry."""

    def __init__(self) -> None:
        self.area = _area_metrics()

    def collect(self) -> Iterator[Metric]:
        yield from metrics.COUNTERS.collect()
        for collector in self.area:
            yield from collector.collect()


class AppMetrics:
    """One registry per app (never the library's global one), so tests and apps stay apart."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.registry = CollectorRegistry()
        self.snapshot = SnapshotCollector()
        self.registry.register(self.snapshot)
        self.registry.register(_ProcessCounters())

    async def render(self) -> bytes:
        self.snapshot.update(await sample(self.runtime))
        return generate_latest(self.registry)


async def metrics_endpoint(request: Request) -> Response:
    app_metrics: AppMetrics = request.app.state.metrics
    return Response(await app_metrics.render(), media_type=CONTENT_TYPE)
