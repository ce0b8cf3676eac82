"""An ESP's 429 Retry-After is honoured: the next attempt is never before now + Retry-After,
and never earlier than the normal backoff either (the later of the two wins)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from mailconsole.clock import FixedClock
from mailconsole.delivery import engine as engine_module
from mailconsole.delivery import queue, servers
from mailconsole.delivery.engine import Engine
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.store.models import SendingServer
from mailconsole.transports.base import Transport
from mailconsole.transports.sendgrid import SendGridTransport

from .conftest import send

API_KEY = "SG.test-key-0123456789abcdef"


class PacedEsp:
    """SendGrid answering 429 with the given Retry-After first, then 202 Accepted."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after
        self.calls = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            return httpx.Response(429, headers={"Retry-After": self.retry_after},
                                  json={"errors": [{"message": "too many requests"}]})
        return httpx.Response(202, headers={"X-Message-Id": f"sg-{self.calls}"})


@pytest.fixture
def esp(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> PacedEsp:
    paced = PacedEsp(request.param)
    mock = httpx.MockTransport(paced.handle)

    def load(rt: Runtime, server: SendingServer) -> Transport:
        return SendGridTransport(**dict(server.settings or {}), **rt.secrets.decrypt_json(server.secrets),
                                 http_transport=mock)

    monkeypatch.setattr(engine_module, "load_transport", load)
    return paced


async def _next_attempt(runtime: Runtime, mid: int) -> tuple[str, dt.datetime | None]:
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None
    return detail.message.state, detail.message.next_attempt_at


@pytest.mark.parametrize("esp", ["900"], indirect=True)
async def test_429_retry_after_longer_than_backoff_holds_the_message_until_then(
    runtime: Runtime, clock: FixedClock, esp: PacedEsp
) -> None:
    await servers.add_server(runtime, name="sendgrid", type="sendgrid", fields={"api_key": API_KEY}, actor=SYSTEM)
    (mid,) = await send(runtime, "bob@example.test")
    engine = Engine(runtime)
    start = clock.now()
    await engine.run_until_idle()
    assert await _next_attempt(runtime, mid) == ("deferred", start + dt.timedelta(seconds=900))

    clock.advance(seconds=899)  # backoff alone (30-60 s) would have retried long ago
    await engine.run_until_idle()
    assert esp.calls == 1 and (await _next_attempt(runtime, mid))[0] == "deferred"

    clock.advance(seconds=1)
    await engine.run_until_idle()
    await engine.stop()
    assert esp.calls == 2 and (await _next_attempt(runtime, mid))[0] == "sent"


@pytest.mark.parametrize("esp", ["5"], indirect=True)
async def test_429_retry_after_shorter_than_backoff_keeps_the_backoff(
    runtime: Runtime, clock: FixedClock, esp: PacedEsp
) -> None:
    await servers.add_server(runtime, name="sendgrid", type="sendgrid", fields={"api_key": API_KEY}, actor=SYSTEM)
    (mid,) = await send(runtime, "bob@example.test")
    engine = Engine(runtime)
    start = clock.now()
    await engine.run_until_idle()
    await engine.stop()
    state, at = await _next_attempt(runtime, mid)
    base = runtime.settings.retry_base_seconds
    assert state == "deferred" and at is not None
    assert start + dt.timedelta(seconds=base / 2) <= at <= start + dt.timedelta(seconds=base)
