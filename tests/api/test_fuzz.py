"""Schemathesis generates requests from the OpenAPI document: the server never answers 500.

The server runs for real (uvicorn on 127.0.0.1, its own event loop in a thread, a real SQLite
file) because schemathesis' pytest integration calls synchronously; every generated request
carries a valid API key so the send path itself is exercised, not only the 401.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from mailconsole.api.openapi import build_document
from mailconsole.api.server import HttpServer
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import create_key
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.bootstrap import default_account_id

schema = schemathesis.openapi.from_dict(build_document())


@schemathesis.serializer("message/rfc822")
def _raw_mime(ctx: object, value: object) -> bytes:
    """Generated text after a valid envelope header, so the raw path reaches the intake."""
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
    return b"From: app@example.com\r\nTo: ada@example.org\r\n" + data


class _RunningEngine:
    """The in-process engine interface healthz reads; the fuzz run has no delivery engine."""

    running = True


@dataclass
class Live:
    url: str
    key: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    ready: dict[str, str] = {}
    started = threading.Event()
    holder: dict[str, asyncio.AbstractEventLoop | asyncio.Event] = {}

    async def main() -> None:
        settings_ = Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / 'f.db'}")
        async with Runtime.open(settings_) as runtime:
            _, key = await create_key(runtime, account_id=await default_account_id(runtime), actor=SYSTEM)
            server = HttpServer(runtime, _RunningEngine(), host="127.0.0.1", port=0)
            await server.start()
            stop = asyncio.Event()
            holder["loop"], holder["stop"] = asyncio.get_running_loop(), stop
            ready.update(url=server.url, key=key)
            started.set()
            await stop.wait()
            await server.stop()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert started.wait(30), "server did not start"
    yield Live(url=ready["url"], key=ready["key"])
    loop, stop = holder["loop"], holder["stop"]
    assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event)
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_server_error(case: schemathesis.Case, live: Live) -> None:
    headers = {"Authorization": f"Bearer {live.key}"} if case.operation.path.startswith("/v1/") else {}
    case.call_and_validate(
        base_url=live.url,
        headers=headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        timeout=30,
    )
