"""HTTP send API throughput and /metrics scrape cost, each against a same-run baseline.

    python benchmarks/api.py [--quick] [--clients N] [--messages M]

1. Sends/s through POST /v1/emails (auth, JSON -> MIME, policy, durable enqueue) on the real
   uvicorn server, beside a bare Starlette endpoint on uvicorn that reads the body and answers
   202, both driven by the same httpx clients in this process. Target: api_ratio >= 0.2.
2. /metrics scrape time with a large queue vs a small one (database-sampled gauges), so the
   cost of a scrape as the queue grows is visible. Target: scrape_ratio <= 20 for 100x rows.

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mailconsole.api.server import HttpServer
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import create_key
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Message, MessageBody

PAYLOAD = {
    "from": "App <app@example.com>",
    "to": "user@example.net",
    "subject": "benchmark",
    "text": "Hello, this is a benchmark message.\n" * 50,
}


async def _drive(url: str, headers: dict[str, str], clients: int, messages: int) -> float:
    async def one(client: httpx.AsyncClient) -> None:
        for _ in range(messages):
            resp = await client.post(url, json=PAYLOAD, headers=headers)
            assert resp.status_code == 202, resp.text

    conns = [httpx.AsyncClient(timeout=60) for _ in range(clients)]
    try:
        start = time.perf_counter()
        await asyncio.gather(*(one(c) for c in conns))
        return clients * messages / (time.perf_counter() - start)
    finally:
        for c in conns:
            await c.aclose()


async def _bare_rate(clients: int, messages: int) -> float:
    async def accept(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ids": [1]}, status_code=202)

    app = Starlette(routes=[Route("/v1/emails", accept, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # bounded: up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        return await _drive(f"http://127.0.0.1:{port}/v1/emails", {}, clients, messages)
    finally:
        server.should_exit = True
        await task


async def _fill(runtime: Runtime, count: int) -> None:
    account = await default_account_id(runtime)
    now = runtime.clock.now()
    async with runtime.sessions.begin() as session:
        body_id = (
            await session.execute(
                insert(MessageBody).returning(MessageBody.id), [{"raw": b"x", "size": 1, "created_at": now}]
            )
        ).scalar_one()
        states = ("queued", "sent", "deferred", "failed")
        for start in range(0, count, 10_000):
            rows = [
                {"account_id": account, "envelope_from": "a@example.com", "recipient": f"u{i}@example.net",
                 "body_id": body_id, "state": states[i % 4], "next_attempt_at": now, "created_at": now,
                 "updated_at": now, "stream": "transactional", "tracking": False, "subject": "",
                 "state_reason": "", "attempts": 0, "last_code": "", "last_text": ""}
                for i in range(start, min(count, start + 10_000))
            ]
            await session.execute(insert(Message), rows)


async def _scrape_ms(data_dir: Path, rows: int, repeats: int) -> float:
    settings = Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / f'm{rows}.db'}")
    async with Runtime.open(settings) as runtime:
        await _fill(runtime, rows)
        server = HttpServer(runtime, host="127.0.0.1", port=0)
        await server.start()
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                await client.get(server.url + "/metrics")  # warm
                start = time.perf_counter()
                for _ in range(repeats):
                    assert (await client.get(server.url + "/metrics")).status_code == 200
                return (time.perf_counter() - start) / repeats * 1000
        finally:
            await server.stop()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / 'api.db'}")
        async with Runtime.open(settings) as runtime:
            _, key = await create_key(runtime, account_id=await default_account_id(runtime), actor=SYSTEM)
            server = HttpServer(runtime, host="127.0.0.1", port=0)
            await server.start()
            try:
                api = await _drive(server.url + "/v1/emails", {"Authorization": f"Bearer {key}"},
                                   args.clients, args.messages)
            finally:
                await server.stop()
        bare = await _bare_rate(args.clients, args.messages)
        small, large = (1_000, 100_000) if not args.quick else (1_000, 20_000)
        small_ms = await _scrape_ms(data_dir, small, 5)
        large_ms = await _scrape_ms(data_dir, large, 5)
    return {
        "api_msgs_s": round(api, 1),
        "bare_msgs_s": round(bare, 1),
        "api_ratio": round(api / bare, 3),
        f"scrape_ms_{small}": round(small_ms, 2),
        f"scrape_ms_{large}": round(large_ms, 2),
        "scrape_ratio": round(large_ms / small_ms, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages and rows")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--messages", type=int, default=None, help="messages per client")
    ns = parser.parse_args()
    if ns.messages is None:
        ns.messages = 20 if ns.quick else 100
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(main(ns))
    for name, value in result.items():
        print(f"{name:>20}: {value}")
    print(json.dumps(result))
