"""HTTP send -> queue -> the real engine -> a capture SMTP sink, watched through the API."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mailconsole.api.app import create_app
from mailconsole.delivery import servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureSink
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise KeyError(name, labels)


async def test_mail_sent_through_the_api_is_delivered_and_moves_status_and_metrics(
    runtime: Runtime, keys: Keys, sink: CaptureSink
) -> None:
    await servers.add_server(
        runtime, name="sink", type="smtp",
        fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none", "timeout": "5"}, actor=SYSTEM
    )
    engine = Engine(runtime, poll_interval=0.05)
    app = create_app(runtime, engine)
    await engine.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
            before = (await client.get("/metrics")).text
            sent = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))
            assert sent.status_code == 202
            mid = sent.json()["ids"][0]
            state = ""
            for _ in range(200):  # up to ~10 s
                state = (await client.get(f"/v1/emails/{mid}", headers=bearer(keys.send))).json()["state"]
                if state == "sent":
                    break
                await asyncio.sleep(0.05)
            assert state == "sent"
            status = (await client.get(f"/v1/emails/{mid}", headers=bearer(keys.send))).json()
            after = (await client.get("/metrics")).text
    finally:
        await engine.stop()
    assert status["attempts"] == 1
    assert status["last_reply"] is not None and status["last_reply"]["code"].startswith("250")
    assert [m.rcpt_tos for m in sink.handler.messages] == [["ada@example.org"]]
    assert _value(after, "mailconsole_queue_messages", state="queued") == 0
    assert _value(after, "mailconsole_queue_messages", state="sending") == 0
    accepted = {"server": "sink", "outcome": "accepted"}
    assert _value(before, "mailconsole_server_attempts_last_hour", **accepted) == 0
    assert _value(after, "mailconsole_server_attempts_last_hour", **accepted) == 1
