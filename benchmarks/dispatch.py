"""Queue and dispatch throughput, each beside a same-run baseline without mailconsole.

    python benchmarks/dispatch.py [--quick] [--enqueue N] [--dispatch M] [--concurrency C]

Enqueue: N messages of 2 KB through ``queue.enqueue_many`` (batches of 1000, one transaction
each) against raw ``sqlite3.executemany`` of the same rows into an equivalent table, same
batch size, same journal settings. Target enqueue_ratio >= 0.3.

Dispatch: M queued messages sent by the real Engine through the SMTP transport (C pooled
connections) into a capture sink running in another process, against a bare aiosmtplib loop
with the same C connections and no database. Target dispatch_ratio >= 0.5.

The last line is one JSON object: dispatch_msgs_s, bare_msgs_s, dispatch_ratio,
enqueue_msgs_s, raw_msgs_s, enqueue_ratio, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib

from mailconsole.delivery import queue, servers
from mailconsole.delivery.engine import Engine
from mailconsole.delivery.events import MessageEvent
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.bootstrap import default_account_id

BATCH = 1000


def message(i: int) -> bytes:
    head = f"From: app@example.com\r\nTo: user{i}@example.net\r\nSubject: benchmark {i}\r\n\r\n".encode()
    line = b"x" * 76 + b"\r\n"
    body = line * ((2048 - len(head)) // len(line))
    return head + body + b"y" * (2048 - len(head) - len(body) - 2) + b"\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def bench_enqueue(runtime: Runtime, n: int) -> float:
    account = await default_account_id(runtime)
    start = time.perf_counter()
    for base in range(0, n, BATCH):
        await queue.enqueue_many(runtime, [
            queue.Outgoing(account, "app@example.com", [f"user{i}@example.net"], message(i))
            for i in range(base, min(n, base + BATCH))
        ])
    return n / (time.perf_counter() - start)


def bench_raw(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE bodies (id INTEGER PRIMARY KEY, raw BLOB, size INTEGER, created_at TEXT)")
    conn.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, account_id INTEGER, stream TEXT, envelope_from TEXT, "
        "recipient TEXT, subject TEXT, body_id INTEGER, state TEXT, next_attempt_at TEXT, created_at TEXT)"
    )
    conn.execute("CREATE INDEX ix_state_next ON messages (state, next_attempt_at)")
    conn.execute("CREATE INDEX ix_state_id ON messages (state, id)")
    start = time.perf_counter()
    now = "2026-01-01 00:00:00"
    for base in range(0, n, BATCH):
        ids = range(base, min(n, base + BATCH))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO bodies (id, raw, size, created_at) VALUES (?, ?, ?, ?)",
                         [(i + 1, message(i), 2048, now) for i in ids])
        conn.executemany(
            "INSERT INTO messages (account_id, stream, envelope_from, recipient, subject, body_id, state, "
            "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(1, "transactional", "app@example.com", f"user{i}@example.net", f"benchmark {i}", i + 1, "queued",
              now, now) for i in ids],
        )
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def start_sink(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailconsole", "sink", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("sink did not start")


async def bench_bare(port: int, m: int, connections: int) -> float:
    async def worker(count: int) -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=30) as smtp:
            for i in range(count):
                await smtp.sendmail("app@example.com", [f"user{i}@example.net"], message(i))

    per = [m // connections + (1 if i < m % connections else 0) for i in range(connections)]
    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in per))
    return m / (time.perf_counter() - start)


async def bench_dispatch(runtime: Runtime, port: int, m: int, connections: int) -> float:
    await servers.add_server(
        runtime, name="bench", type="smtp",
        fields={"host": "127.0.0.1", "port": str(port), "encryption": "none"}, concurrency=connections, actor=SYSTEM
    )
    account = await default_account_id(runtime)
    for base in range(0, m, BATCH):
        await queue.enqueue_many(runtime, [
            queue.Outgoing(account, "app@example.com", [f"user{i}@example.net"], message(i))
            for i in range(base, min(m, base + BATCH))
        ])
    engine = Engine(runtime, poll_interval=0.01, prefetch=4)
    events = engine.events.subscribe(maxsize=m * 4)  # sized so no event is dropped
    start = time.perf_counter()
    await engine.start()
    sent = 0
    try:
        while sent < m:
            event = await asyncio.wait_for(events.get(), timeout=60)
            if isinstance(event, MessageEvent) and event.state == "sent":
                sent += 1
    finally:
        elapsed = time.perf_counter() - start
        await engine.stop()
    counts = await queue.counts_by_state(runtime)
    if counts["sent"] != m:
        raise SystemExit(f"dispatch incomplete: {counts}")
    return m / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--enqueue", type=int, default=None)
    parser.add_argument("--dispatch", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    n = args.enqueue or (10_000 if args.quick else 100_000)
    m = args.dispatch or (2_000 if args.quick else 20_000)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw_rate = bench_raw(root / "raw.db", n)
        settings = Settings(data_dir=root / "data", database_url=f"sqlite+aiosqlite:///{root / 'enqueue.db'}")
        async with Runtime.open(settings) as runtime:
            enqueue_rate = await bench_enqueue(runtime, n)
        print(f"enqueue {n} x 2 KB: mailconsole {enqueue_rate:,.0f} msg/s, raw executemany {raw_rate:,.0f} msg/s, "
              f"ratio {enqueue_rate / raw_rate:.2f}")
        port = free_port()
        sink = start_sink(port)
        try:
            bare_rate = await bench_bare(port, m, args.concurrency)
            settings = Settings(data_dir=root / "data", database_url=f"sqlite+aiosqlite:///{root / 'dispatch.db'}")
            async with Runtime.open(settings) as runtime:
                dispatch_rate = await bench_dispatch(runtime, port, m, args.concurrency)
        finally:
            sink.terminate()
            sink.wait(timeout=10)
        print(f"dispatch {m} via SMTP ({args.concurrency} connections): engine {dispatch_rate:,.0f} msg/s, "
              f"bare aiosmtplib {bare_rate:,.0f} msg/s, ratio {dispatch_rate / bare_rate:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "dispatch_msgs_s": round(dispatch_rate, 1), "bare_msgs_s": round(bare_rate, 1),
        "dispatch_ratio": round(dispatch_rate / bare_rate, 3), "enqueue_msgs_s": round(enqueue_rate, 1),
        "raw_msgs_s": round(raw_rate, 1), "enqueue_ratio": round(enqueue_rate / raw_rate, 3),
        "peak_rss_mb": round(peak, 1), "enqueue_n": n, "dispatch_n": m, "concurrency": args.concurrency,
    }))


if __name__ == "__main__":
    asyncio.run(main())
