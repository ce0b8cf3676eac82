"""/healthz says whether the database answers and an engine runs; /metrics moves with the mail."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mailconsole import metrics
from mailconsole.api.app import create_app
from mailconsole.clock import FixedClock
from mailconsole.delivery.queue import enqueue
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.db import create_engine, session_factory
from mailconsole.store.models import DeliveryAttempt, EngineHeartbeat, SendingServer
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return _samples(resp.text)


async def test_healthz_is_503_naming_the_engine_when_none_runs(client: httpx.AsyncClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json() == {
        "status": "unavailable",
        "checks": {
            "database": {"ok": True, "detail": "sqlite reachable"},
            "engine": {"ok": False, "detail": "no engine is running"},
        },
    }


async def test_healthz_is_200_with_a_fresh_engine_heartbeat_and_503_when_it_goes_stale(
    client: httpx.AsyncClient, runtime: Runtime, clock: FixedClock
) -> None:
    async with runtime.sessions.begin() as session:
        session.add(EngineHeartbeat(owner="e1", started_at=clock.now(), seen_at=clock.now(), state="running"))
    resp = await client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    clock.advance(hours=1)
    assert (await client.get("/healthz")).status_code == 503


async def test_healthz_trusts_the_in_process_engines_running_flag(runtime: Runtime) -> None:
    class Engine:
        running = True

    engine = Engine()
    app = create_app(runtime, engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.get("/healthz")
        engine.running = False
        stopped = await client.get("/healthz")
    assert ok.status_code == 200
    assert ok.json()["checks"]["engine"] == {"ok": True, "detail": "in-process engine running"}
    assert stopped.status_code == 503


async def test_healthz_is_503_when_the_database_is_unreachable(runtime: Runtime) -> None:
    # A PostgreSQL URL on a loopback port nobody listens on: connecting is refused.
    engine = create_engine("postgresql+asyncpg://mc:mc@127.0.0.1:1/mailconsole")
    down = dataclasses.replace(runtime, engine=engine, sessions=session_factory(engine))
    app = create_app(down)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            resp = await client.get("/healthz")
    finally:
        await engine.dispose()
    assert resp.status_code == 503
    database = resp.json()["checks"]["database"]
    assert database["ok"] is False
    assert database["detail"]  # the connection error, for the operator


async def test_metrics_parse_and_queue_depth_moves_when_mail_is_enqueued(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    before = await _scrape(client)
    queued = ("mailconsole_queue_messages", (("state", "queued"),))
    accepted = ("mailconsole_api_messages_accepted_total", (("stream", "transactional"),))
    assert before[queued] == 0
    resp = await client.post("/v1/emails", json={**MINIMAL, "to": ["a@example.org", "b@example.org"]},
                             headers=bearer(keys.send))
    assert resp.status_code == 202
    after = await _scrape(client)
    assert after[queued] == 2
    assert after[accepted] - before.get(accepted, 0) == 2


async def test_metrics_count_rejections_by_code(client: httpx.AsyncClient, keys: Keys) -> None:
    name = ("mailconsole_api_rejections_total", (("code", "invalid_stream"),))
    before = (await _scrape(client)).get(name, 0)
    await client.post("/v1/emails", json={**MINIMAL, "stream": "nope"}, headers=bearer(keys.send))
    assert (await _scrape(client))[name] - before == 1


async def test_metrics_show_server_state_cap_usage_and_send_rate(
    client: httpx.AsyncClient, runtime: Runtime, clock: FixedClock
) -> None:
    account_id = await default_account_id(runtime)
    [mid] = await enqueue(runtime, account_id=account_id, envelope_from="a@example.com",
                          recipients=["b@example.org"], raw=b"Subject: x\r\n\r\nx\r\n")
    async with runtime.sessions.begin() as session:
        server = SendingServer(name="smtp1", type="smtp", speed_mode="hour", speed_limit=100, state="failing",
                               consecutive_failures=3)
        session.add(server)
        await session.flush()
        for outcome in ("accepted", "accepted", "transient"):
            session.add(DeliveryAttempt(message_id=mid, server_id=server.id, at=clock.now(), outcome=outcome))
        session.add(DeliveryAttempt(message_id=mid, server_id=server.id,
                                    at=clock.now() - dt.timedelta(hours=2), outcome="accepted"))
        daily = SendingServer(name="ses1", type="ses", speed_mode="day", speed_limit=1000)
        session.add(daily)
        await session.flush()
        for hours_ago in (0, 5, 23, 25):  # the last one is outside the rolling day
            session.add(DeliveryAttempt(message_id=mid, server_id=daily.id,
                                        at=clock.now() - dt.timedelta(hours=hours_ago), outcome="accepted"))
    snap = await _scrape(client)
    assert snap[("mailconsole_server_state", (("server", "smtp1"), ("state", "failing")))] == 1
    assert snap[("mailconsole_server_state", (("server", "smtp1"), ("state", "healthy")))] == 0
    assert snap[("mailconsole_server_consecutive_failures", (("server", "smtp1"),))] == 3
    assert snap[("mailconsole_server_cap_used", (("server", "smtp1"), ("window", "hour")))] == 3
    assert snap[("mailconsole_server_cap_limit", (("server", "smtp1"), ("window", "hour")))] == 100
    rate = ("mailconsole_server_attempts_last_hour", (("outcome", "accepted"), ("server", "smtp1")))
    assert snap[rate] == 2
    assert snap[("mailconsole_server_cap_used", (("server", "ses1"), ("window", "day")))] == 3
    assert snap[("mailconsole_server_cap_limit", (("server", "ses1"), ("window", "day")))] == 1000
    assert snap[("mailconsole_server_state", (("server", "ses1"), ("state", "healthy")))] == 1


async def test_counters_other_areas_increment_appear_in_the_scrape(client: httpx.AsyncClient) -> None:
    sends = ("mailconsole_sends_total", (("outcome", "accepted"), ("server", "smtp-test")))
    relay = ("mailconsole_relay_rejections_total", (("code", "stream_not_allowed"),))
    hooks = ("mailconsole_webhook_events_total", (("source", "ses"), ("verdict", "accepted")))
    sessions = ("mailconsole_relay_sessions_total", ())
    before = await _scrape(client)
    metrics.record_send("smtp-test", "accepted")
    metrics.record_relay_rejection("stream_not_allowed")
    metrics.record_webhook_event("ses", "accepted")
    metrics.record_relay_session()
    after = await _scrape(client)
    for name in (sends, relay, hooks, sessions):
        assert after[name] - before.get(name, 0) == 1, name


async def test_feedback_areas_own_counters_are_exported_too(client: httpx.AsyncClient) -> None:
    from mailconsole.feedback import metrics as feedback_metrics

    name = ("mailconsole_webhook_refused_total", (("provider", "ses"), ("reason", "bad_signature")))
    before = (await _scrape(client)).get(name, 0)
    feedback_metrics.WEBHOOK_REFUSED.labels("ses", "bad_signature").inc()
    assert (await _scrape(client))[name] - before == 1
