"""Real engine processes against one database, and the few helpers every reliability test needs.

Shared by the tests in this folder and by ``benchmarks/scaleout.py``: start ``mailconsole
serve`` as a subprocess (headless, as an operator would on another machine), store many
messages in one transaction, add an SMTP server pointing at a sink, read the queue's states.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import func, insert, select

from mailconsole.delivery import servers
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import DeliveryAttempt, Message, MessageBody, SendingServer


def serve(
    data_dir: Path, database_url: str, *, lease_seconds: float = 30.0, relay: bool = False,
    extra_env: dict[str, str] | None = None, poll_interval: float = 0.05,
) -> subprocess.Popen[bytes]:
    """``mailconsole serve`` in its own process (no HTTP; relay only when asked)."""
    env = {**os.environ, "MAILCONSOLE_LEASE_SECONDS": str(lease_seconds), **(extra_env or {})}
    args = [sys.executable, "-m", "mailconsole", "--data-dir", str(data_dir), "--database-url", database_url,
            "serve", "--no-http", "--poll-interval", str(poll_interval)]
    if not relay:
        args.append("--no-relay")
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(procs: Sequence[subprocess.Popen[bytes]], *, timeout: float = 30.0) -> list[int]:
    """SIGTERM every still-running process, wait, SIGKILL stragglers; return the exit codes."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait(timeout=10))
    return codes


def stderr_of(proc: subprocess.Popen[bytes]) -> str:
    """The tail of a finished process's stderr, for assertion messages."""
    if proc.stderr is None or proc.poll() is None:
        return ""
    return proc.stderr.read().decode(errors="replace")[-2000:]


def message_bytes(i: int, size: int = 600) -> bytes:
    head = f"From: app@example.com\r\nTo: user{i}@example.net\r\nSubject: message {i}\r\n\r\n".encode()
    return head + b"x" * max(0, size - len(head) - 2) + b"\r\n"


def recipient(i: int) -> str:
    return f"user{i}@example.net"


async def bulk_enqueue(runtime: Runtime, n: int, *, batch: int = 1000, size: int = 600) -> None:
    """Store ``n`` queued messages (one recipient each, unique) in a few transactions."""
    account = await default_account_id(runtime)
    for base in range(0, n, batch):
        count = min(batch, n - base)
        now = runtime.clock.now()
        async with runtime.sessions.begin() as session:
            body_ids = (
                await session.scalars(
                    insert(MessageBody).returning(MessageBody.id, sort_by_parameter_order=True),
                    [{"raw": message_bytes(base + k, size), "size": size, "created_at": now} for k in range(count)],
                )
            ).all()
            await session.execute(insert(Message), [
                {"account_id": account, "stream": "transactional", "tracking": False,
                 "envelope_from": "bounce@example.com", "recipient": recipient(base + k),
                 "subject": f"message {base + k}", "body_id": body_id, "state": "queued", "attempts": 0,
                 "next_attempt_at": now, "created_at": now, "updated_at": now, "state_reason": "",
                 "last_code": "", "last_text": ""}
                for k, body_id in enumerate(body_ids)
            ])


async def add_smtp(
    runtime: Runtime, port: int, *, name: str, speed_mode: str = "unlimited", speed_limit: int | None = None,
    concurrency: int = 8, reply_timeout: float = 5.0,
) -> SendingServer:
    return await servers.add_server(
        runtime, name=name, type="smtp",
        fields={"host": "127.0.0.1", "port": str(port), "encryption": "none", "timeout": str(reply_timeout)},
        speed_mode=speed_mode, speed_limit=speed_limit, concurrency=concurrency, actor=SYSTEM
    )


async def states(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(Message.state, func.count()).group_by(Message.state))).all()
    return {state: int(count) for state, count in rows}


async def attempts_by_server(runtime: Runtime, outcome: str = "accepted") -> dict[str, int]:
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(SendingServer.name, func.count())
                .join(DeliveryAttempt, DeliveryAttempt.server_id == SendingServer.id)
                .where(DeliveryAttempt.outcome == outcome)
                .group_by(SendingServer.name)
            )
        ).all()
    return {name: int(count) for name, count in rows}


async def wait_until(
    check: Callable[[], object], *, within: float, interval: float = 0.1,
    alive: Sequence[subprocess.Popen[bytes]] = (),
) -> bool:
    """Poll an async (or plain) predicate until true or timeout; fail fast if a process died."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        for proc in alive:
            if proc.poll() is not None:
                raise AssertionError(f"engine process exited with {proc.returncode}: {stderr_of(proc)}")
        await asyncio.sleep(interval)
    return False
