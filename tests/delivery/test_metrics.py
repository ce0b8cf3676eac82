"""Attempts finished by the engine show up on the HTTP app's /metrics as mailconsole_sends_total."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mailconsole.api.app import create_app
from mailconsole.delivery.engine import Engine
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureSink

from .conftest import add_sink_server, send


def _sends(text: str, server: str) -> dict[str, float]:
    """outcome -> value of mailconsole_sends_total for one server, parsed like Prometheus would."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "mailconsole_sends_total" and sample.labels.get("server") == server:
                out[sample.labels["outcome"]] = sample.value
    return out


async def test_engine_attempts_move_the_sends_counter_on_the_metrics_endpoint(
    runtime: Runtime, sink: CaptureSink
) -> None:
    # A name no other test uses: the counters are process-wide, so compare before and after.
    await add_sink_server(runtime, sink.port, name="metrics-sink")
    sink.handler.rcpt_replies["gone@example.test"] = "550 5.1.1 <gone@example.test>: no such user"
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        before = _sends((await client.get("/metrics")).text, "metrics-sink")
        await send(runtime, "ann@example.test", "ben@example.test", "gone@example.test")
        engine = Engine(runtime)
        await engine.run_until_idle()
        await engine.stop()
        after = _sends((await client.get("/metrics")).text, "metrics-sink")
    assert after.get("accepted", 0) - before.get("accepted", 0) == 2
    assert after.get("permanent", 0) - before.get("permanent", 0) == 1
    assert after.get("transient", 0) - before.get("transient", 0) == 0
