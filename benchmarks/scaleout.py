"""Dispatch rate with 1, 2 and 3 engine processes sharing one PostgreSQL queue.

    python benchmarks/scaleout.py [--quick] [--messages N] [--concurrency C]

For each engine count k: a fresh database on a throwaway PostgreSQL (initdb in a temp dir,
loopback, see tests/support/postgres.py), one SMTP server with C connections pointing at a
capture sink running in its own process (``mailconsole sink``), k ``mailconsole serve``
processes started and idle, then N messages committed in one transaction. The clock runs
from the end of that commit until every message is ``sent``. Rates are printed side by side; the last
line is one JSON object: rate_1, rate_2, rate_3, scale_2_over_1, scale_3_over_1, messages,
cpus. On a machine with few cores the engines, PostgreSQL and the sink share them, so the
scaling figure says more about the engine's efficiency than about a real cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from tests.reliability.engines import add_smtp, bulk_enqueue, serve, stop  # noqa: E402
from tests.support.postgres import PostgresServer, start_postgres  # noqa: E402

from mailconsole.runtime import Runtime  # noqa: E402
from mailconsole.settings import Settings  # noqa: E402
from mailconsole.store.models import EngineHeartbeat, Message  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sink(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "mailconsole", "sink", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("sink did not start")


async def count(runtime: Runtime, query: object) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]


async def one_run(pg: PostgresServer, engines: int, n: int, concurrency: int, sink_port: int, work: Path) -> float:
    url = pg.create_database(f"scaleout_{engines}_{int(time.time() * 1000) % 10**9}")
    settings = Settings(data_dir=work / f"data{engines}", database_url=url, dns_nameservers=["127.0.0.1:1"])
    async with Runtime.open(settings) as runtime:
        await add_smtp(runtime, sink_port, name="sink", concurrency=concurrency)
        procs = [serve(settings.data_dir, url) for _ in range(engines)]
        try:
            running = select(func.count()).select_from(EngineHeartbeat).where(EngineHeartbeat.state == "running")
            deadline = time.monotonic() + 60
            while await count(runtime, running) < engines:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise SystemExit("engines did not start")
                await asyncio.sleep(0.1)
            await bulk_enqueue(runtime, n, batch=n)  # one commit: engines see all N at once
            start = time.perf_counter()
            sent = select(func.count()).select_from(Message).where(Message.state == "sent")
            deadline = time.monotonic() + 600
            while await count(runtime, sent) < n:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{engines} engine(s) did not finish {n} messages in 10 minutes")
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - start
        finally:
            stop(procs)
    return n / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 messages per run (under a minute)")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    n = args.messages or (3000 if args.quick else 20000)
    pg = start_postgres()
    sink_port = free_port()
    sink = start_sink(sink_port)
    rates: dict[int, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp:
            for engines in (1, 2, 3):
                rates[engines] = await one_run(pg, engines, n, args.concurrency, sink_port, Path(tmp))
                print(f"{engines} engine(s): {rates[engines]:8.0f} msg/s", file=sys.stderr, flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        pg.stop()
    print(f"{'engines':>8} {'1':>8} {'2':>8} {'3':>8}")
    print(f"{'msg/s':>8} " + " ".join(f"{rates[k]:8.0f}" for k in (1, 2, 3)))
    print(f"{'x 1':>8} " + " ".join(f"{rates[k] / rates[1]:8.2f}" for k in (1, 2, 3)))
    print(json.dumps({
        "rate_1": round(rates[1], 1), "rate_2": round(rates[2], 1), "rate_3": round(rates[3], 1),
        "scale_2_over_1": round(rates[2] / rates[1], 3), "scale_3_over_1": round(rates[3] / rates[1], 3),
        "messages": n, "concurrency": args.concurrency, "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    asyncio.run(main())
