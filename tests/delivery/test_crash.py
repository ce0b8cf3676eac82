"""A real `mailconsole serve` process killed with SIGKILL mid-run, then restarted.

Promise: every message is delivered at least once; duplicates are bounded by what the killed
engine had in flight (claimed and not yet recorded: at most concurrency x prefetch).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink

from .conftest import add_sink_server, send

N = 150
CONCURRENCY = 4
PREFETCH = 2  # Engine default: claimed messages per server = concurrency x prefetch


def _serve(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MAILCONSOLE_LEASE_SECONDS": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "mailconsole", "--data-dir", str(settings.data_dir),
         "--database-url", settings.database_url, "serve", "--no-relay", "--no-http", "--poll-interval", "0.05"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _sent(db: Path) -> int:
    with sqlite3.connect(db, timeout=10) as conn:
        return int(conn.execute("SELECT count(*) FROM messages WHERE state = 'sent'").fetchone()[0])


def test_sigkill_mid_run_then_restart_delivers_everything_at_least_once(settings: Settings) -> None:
    sink = CaptureSink(CaptureHandler(delay=0.03)).start()
    settings = dataclasses.replace(settings, lease_seconds=2)
    db = Path(settings.database_url.split("///", 1)[1])
    try:
        async def setup() -> None:
            async with Runtime.open(settings) as runtime:
                await add_sink_server(runtime, sink.port, concurrency=CONCURRENCY)
                await send(runtime, *[f"r{i}@example.test" for i in range(N)])

        asyncio.run(setup())
        first = _serve(settings)
        deadline = time.monotonic() + 60
        while len(sink.handler.messages) < N // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        got_before_kill = len(sink.handler.messages)
        assert 0 < got_before_kill < N, "the kill must land mid-run"

        second = _serve(settings)
        deadline = time.monotonic() + 90
        while _sent(db) < N and time.monotonic() < deadline:
            time.sleep(0.1)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, second.stderr.read().decode() if second.stderr else ""

        assert _sent(db) == N
        per_rcpt = collections.Counter(r for m in sink.handler.messages for r in m.rcpt_tos)
        assert set(per_rcpt) == {f"r{i}@example.test" for i in range(N)}
        duplicates = sum(count - 1 for count in per_rcpt.values())
        assert duplicates <= CONCURRENCY * PREFETCH
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM delivery_attempts WHERE outcome = 'reserved'").fetchone()[0] == 0
            assert conn.execute("SELECT state FROM engine_heartbeats ORDER BY id").fetchall()[-1] == ("stopped",)
    finally:
        sink.stop()
