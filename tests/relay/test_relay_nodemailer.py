"""Nodemailer (the usual Node.js mailer) against the relay over implicit TLS.

`.ci/run` installs it with npm into tests/relay/nodemailer; where node or the package is
missing the tests skip and say so.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime

from .clients import counts, stored
from .conftest import TlsFiles

NODE_DIR = Path(__file__).parent / "nodemailer"
SKIP = (
    "node is not installed" if shutil.which("node") is None
    else "nodemailer is not installed: run `npm install --prefix tests/relay/nodemailer`"
    if not (NODE_DIR / "node_modules" / "nodemailer").is_dir()
    else None
)
pytestmark = pytest.mark.skipif(SKIP is not None, reason=str(SKIP))


async def _nodemailer(port: int, key: str, tls: TlsFiles, stream: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        "node", str(NODE_DIR / "send.js"), str(port), key, str(tls.cert), stream,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode(errors="replace")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_nodemailer_sends_over_implicit_tls_and_the_message_is_queued(
    relay: RelayServer, runtime: Runtime, api_key: str, tls_files: TlsFiles
) -> None:
    result = await _nodemailer(relay.port, api_key, tls_files, "transactional")
    assert result["ok"] is True, result
    assert result["response"].startswith("250 2.0.0 OK queued as")
    [(message, raw)] = await stored(runtime)
    assert (message.recipient, message.subject, message.stream) == (
        "user@example.net", "from nodemailer", "transactional",
    )
    assert b"X-Mailconsole-Stream" not in raw and b"hello from node" in raw


async def test_nodemailer_with_a_bad_stream_sees_the_policy_550_and_nothing_is_stored(
    relay: RelayServer, runtime: Runtime, api_key: str, tls_files: TlsFiles
) -> None:
    result = await _nodemailer(relay.port, api_key, tls_files, "promo")
    assert result == {
        "ok": False,
        "code": 550,
        "response": "550 5.6.0 invalid_stream: X-Mailconsole-Stream must be transactional or broadcast, not 'promo'",
    }
    assert await counts(runtime) == (0, 0)


async def test_nodemailer_with_a_wrong_key_is_refused_with_535(
    relay: RelayServer, runtime: Runtime, tls_files: TlsFiles
) -> None:
    result = await _nodemailer(relay.port, "mc_nope_wrong", tls_files, "transactional")
    assert result["ok"] is False and result["code"] == 535, result
    assert await counts(runtime) == (0, 0)
