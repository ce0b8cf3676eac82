"""SIGKILL at random points: engines on PostgreSQL mid-dispatch, and the relay mid-DATA.

Promise: every message the system acknowledged (stored in the queue; for the relay, answered
250) is delivered at least once after a restart, duplicates are bounded by what the killed
process had in flight, and a message cut off mid-DATA is not stored at all (never half a
message). The SQLite engine kill is ``tests/delivery/test_crash.py``.
"""

from __future__ import annotations

import asyncio
import collections
import random
import signal
import smtplib
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import create_key
from mailconsole.intake.tls import SELF_SIGNED_CERT, generate_self_signed
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Message, MessageBody

from .engines import add_smtp, attempts_by_server, bulk_enqueue, recipient, serve, states, stop, wait_until

CONCURRENCY = 4
PREFETCH = 2  # the Engine's default: at most concurrency x prefetch claimed per server and process


@pytest.mark.postgres
async def test_engines_on_postgresql_killed_at_random_points_lose_nothing(
    live_pg: Runtime, pg_settings: Settings
) -> None:
    n, kills = 600, 3
    rng = random.Random(7)
    with CaptureSink(CaptureHandler(delay=0.02)) as sink:
        await add_smtp(live_pg, sink.port, name="sink", concurrency=CONCURRENCY)
        await bulk_enqueue(live_pg, n)
        def start() -> subprocess.Popen[bytes]:
            return serve(pg_settings.data_dir, pg_settings.database_url, lease_seconds=2)

        engines = [start(), start()]
        done_kills = 0
        try:
            for k in range(kills):
                # A random point in the k-th quarter of the run (by messages received).
                target = int(n * (k + rng.random()) / (kills + 1))
                def reached(t: int = target) -> bool:
                    return len(sink.handler.messages) >= t

                assert await wait_until(reached, within=60, interval=0.01, alive=engines)
                victim = engines.pop(rng.randrange(len(engines)))
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=10)
                done_kills += 1
                engines.append(start())

            async def all_sent() -> bool:
                return (await states(live_pg)).get("sent", 0) == n

            assert await wait_until(all_sent, within=60, interval=0.2, alive=engines), await states(live_pg)
        finally:
            codes = stop(engines)
        assert codes == [0, 0]
    assert done_kills == kills
    received = collections.Counter(r for m in sink.handler.messages for r in m.rcpt_tos)
    assert set(received) == {recipient(i) for i in range(n)}
    duplicates = sum(c - 1 for c in received.values())
    assert duplicates <= kills * CONCURRENCY * PREFETCH
    assert await attempts_by_server(live_pg, "reserved") == {}


# --- the relay killed during DATA -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("relay did not start listening")


def _body(i: int) -> bytes:
    return (f"From: app@example.com\r\nTo: {recipient(i)}\r\nSubject: relay {i}\r\n\r\n".encode()
            + b"line of the body\r\n" * 200)


def _client(port: int, ctx: ssl.SSLContext, key: str) -> smtplib.SMTP_SSL:
    client = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=10)
    client.login("apikey", key)
    return client


def test_relay_killed_during_data_delivers_every_message_it_answered_250(tmp_path: Path) -> None:
    """Each round: a few whole messages (250 each), then SIGKILL while a message is mid-DATA
    (cut after a random share of its bytes, or after the final dot but before the reply)."""
    data_dir = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data_dir / 'relay.db'}"
    settings = Settings(data_dir=data_dir, database_url=url, dns_nameservers=["127.0.0.1:1"], dns_timeout=0.5)
    generate_self_signed(data_dir / SELF_SIGNED_CERT, data_dir / "relay-selfsigned-key.pem", hostname="localhost")
    ctx = ssl.create_default_context(cafile=str(data_dir / SELF_SIGNED_CERT))
    ctx.check_hostname = False
    rng = random.Random(11)
    port = _free_port()
    env = {"MAILCONSOLE_RELAY_PORT": str(port), "MAILCONSOLE_RELAY_HOST": "127.0.0.1"}
    acknowledged: set[str] = set()
    cut_mid_data: set[str] = set()
    unknown: set[str] = set()  # final dot sent, killed before the reply: either outcome is allowed
    sink = CaptureSink(CaptureHandler()).start()
    try:
        async def setup() -> str:
            async with Runtime.open(settings) as rt:
                await add_smtp(rt, sink.port, name="sink")
                _, plaintext = await create_key(rt, account_id=await default_account_id(rt), name="crash", actor=SYSTEM)
                return plaintext

        key = asyncio.run(setup())
        i = 0
        for _ in range(3):
            proc = serve(data_dir, url, relay=True, extra_env=env, lease_seconds=1)
            try:
                _wait_listening(port, proc)
                client = _client(port, ctx, key)
                for _ in range(rng.randint(2, 6)):
                    client.sendmail("app@example.com", [recipient(i)], _body(i))  # raises unless 250
                    acknowledged.add(recipient(i))
                    i += 1
                client.mail("app@example.com")
                client.rcpt(recipient(i))
                code, _ = client.docmd("DATA")
                assert code == 354
                body = _body(i) + b"\r\n.\r\n"
                whole = rng.random() < 0.3
                assert client.sock is not None
                client.sock.sendall(body if whole else body[: rng.randrange(1, len(body) - 5)])
                (unknown if whole else cut_mid_data).add(recipient(i))
                i += 1
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                client.close()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        final = serve(data_dir, url, relay=True, extra_env=env, lease_seconds=1)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = {r for m in sink.handler.messages for r in m.rcpt_tos}
                if acknowledged <= got:
                    break
                assert final.poll() is None, final.stderr.read().decode() if final.stderr else ""
                time.sleep(0.1)
        finally:
            assert stop([final]) == [0]

        delivered = {r for m in sink.handler.messages for r in m.rcpt_tos}
        assert acknowledged and acknowledged <= delivered
        assert not (cut_mid_data & delivered), "a message cut off mid-DATA was delivered"

        async def stored() -> list[tuple[str, bytes]]:
            async with Runtime.open(settings) as rt, rt.sessions() as session:
                return [(r, b) for r, b in (await session.execute(
                    select(Message.recipient, MessageBody.raw).join(MessageBody, MessageBody.id == Message.body_id)
                )).all()]

        rows = asyncio.run(stored())
        assert not {r for r, _ in rows} & cut_mid_data
        for rcpt, raw in rows:  # whatever was stored is whole
            assert raw.rstrip().endswith(b"line of the body"), rcpt
            assert raw.count(b"line of the body") == 200
        assert {r for r, _ in rows} <= acknowledged | unknown
    finally:
        sink.stop()
