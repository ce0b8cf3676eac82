"""Relay throughput: messages/s accepted over TLS + AUTH + durable enqueue, beside a bare
aiosmtpd TLS server that accepts AUTH and discards, measured in the same run.

    python benchmarks/relay.py [--quick] [--clients N] [--messages M]

Both servers run in this process on loopback; the clients run in a separate process (so client
CPU does not count against the servers) and keep one connection each, sending M messages.
Bare and relay are measured in turn for ``--rounds`` rounds (default 3) and their medians
compared, so one unlucky round on a shared machine does not decide the ratio. The last line
is one JSON object: relay_msgs_s, bare_msgs_s, relay_ratio (target >= 0.5), and each round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP, AuthResult

from mailconsole.domain.roles import SYSTEM

MESSAGE = (
    b"From: app@example.com\r\nTo: user@example.net\r\nSubject: benchmark\r\n"
    b"X-Mailconsole-Stream: transactional\r\n\r\n" + b"Hello, this is a benchmark message.\r\n" * 50
)


# --- client side (separate process) -----------------------------------------------------


async def _client(port: int, ctx: ssl.SSLContext, key: str, count: int) -> int:
    sent = 0
    async with aiosmtplib.SMTP(hostname="localhost", port=port, use_tls=True, tls_context=ctx, timeout=60) as smtp:
        await smtp.login("apikey", key)
        for i in range(count):
            await smtp.sendmail("app@example.com", [f"user{i}@example.net"], MESSAGE)
            sent += 1
    return sent


async def _clients_main(port: int, cafile: str, key: str, clients: int, messages: int) -> None:
    ctx = ssl.create_default_context(cafile=cafile)
    start = time.perf_counter()
    counts = await asyncio.gather(*(_client(port, ctx, key, messages) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    print(json.dumps({"sent": sum(counts), "seconds": elapsed}))


# --- server side ------------------------------------------------------------------------


class _Discard:
    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        return "250 OK"


def _accept_any(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=True)


async def _bare_server(ctx: ssl.SSLContext) -> asyncio.AbstractServer:
    import warnings

    def factory() -> SMTP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SMTP(
                _Discard(),
                hostname="bare.test",
                data_size_limit=26214400,
                auth_required=True,
                auth_require_tls=False,
                authenticator=_accept_any,
            )

    return await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0, ssl=ctx)


async def _run_clients(port: int, cafile: Path, key: str, clients: int, messages: int) -> float:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client", str(port), str(cafile), key, str(clients), str(messages),
        stdout=subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=300)
    result = json.loads(out.decode().strip().splitlines()[-1])
    if result["sent"] != clients * messages:
        raise RuntimeError(f"clients sent {result['sent']} of {clients * messages}")
    return float(result["sent"]) / float(result["seconds"])


async def main(clients: int, messages: int, rounds: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from mailconsole.intake.keys import create_key
    from mailconsole.intake.tls import generate_self_signed
    from mailconsole.relay.server import RelayServer
    from mailconsole.runtime import Runtime
    from mailconsole.settings import Settings
    from mailconsole.store.bootstrap import default_account_id
    from mailconsole.store.models import Message

    logging.getLogger("mail.log").setLevel(logging.ERROR)
    bare_rates: list[float] = []
    relay_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cert, keyfile = d / "cert.pem", d / "key.pem"
        generate_self_signed(cert, keyfile, hostname="localhost")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(cert), str(keyfile))
        async with Runtime.open(Settings(data_dir=d / "data")) as runtime:
            _, key = await create_key(runtime, account_id=await default_account_id(runtime), name="bench", actor=SYSTEM)
            bare = await _bare_server(ctx)
            bare_port = bare.sockets[0].getsockname()[1]
            relay = RelayServer(runtime, host="127.0.0.1", port=0, ssl_context=ctx, hostname="relay.test")
            await relay.start()
            try:
                # warm up both (TLS, imports, SQLite pages), then measure them in turn, several
                # rounds, and compare medians: on a shared 2-core box one round can be unlucky.
                await _run_clients(bare_port, cert, key, 2, 5)
                await _run_clients(relay.port, cert, key, 2, 5)
                before = (relay.batcher.batches, relay.batcher.items)
                for _ in range(rounds):
                    bare_rates.append(await _run_clients(bare_port, cert, key, clients, messages))
                    relay_rates.append(await _run_clients(relay.port, cert, key, clients, messages))
                batches = relay.batcher.batches - before[0]
                items = relay.batcher.items - before[1]
            finally:
                await relay.stop()
                bare.close()
            async with runtime.sessions() as session:
                stored = int(await session.scalar(select(func.count(Message.id))) or 0)
    expected = (clients * messages * rounds) + 10
    if stored != expected:
        raise RuntimeError(f"queue holds {stored} messages, expected {expected}")
    relay_rate, bare_rate = statistics.median(relay_rates), statistics.median(bare_rates)
    return {
        "clients": clients,
        "messages_per_client": messages,
        "rounds": rounds,
        "relay_msgs_s": round(relay_rate, 1),
        "bare_msgs_s": round(bare_rate, 1),
        "relay_ratio": round(relay_rate / bare_rate, 3),
        "relay_rounds_msgs_s": [round(r, 1) for r in relay_rates],
        "bare_rounds_msgs_s": [round(r, 1) for r in bare_rates],
        "queued_verified": stored,
        "messages_per_commit": round(items / max(batches, 1), 2),
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, cafile, key, clients, messages = sys.argv[2:7]
        asyncio.run(_clients_main(int(port), cafile, key, int(clients), int(messages)))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run that finishes well under a minute")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server; medians compared")
    args = parser.parse_args()
    clients = args.clients or (16 if args.quick else 32)
    messages = args.messages or (40 if args.quick else 100)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = asyncio.run(main(clients, messages, args.rounds))
    print(f"relay {result['relay_msgs_s']} msg/s, bare aiosmtpd {result['bare_msgs_s']} msg/s, "
          f"ratio {result['relay_ratio']} (target >= 0.5)")
    print(json.dumps(result))
