"""Relay fixtures from real parts: a self-signed certificate in tmp, the relay on an
ephemeral loopback port, a client TLS context that trusts exactly that certificate."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import create_key
from mailconsole.intake.throttle import AuthThrottle
from mailconsole.intake.tls import generate_self_signed
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id


@dataclass
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    d = tmp_path_factory.mktemp("tls")
    files = TlsFiles(cert=d / "cert.pem", key=d / "key.pem")
    generate_self_signed(files.cert, files.key, hostname="localhost")
    return files


@pytest.fixture
def client_ctx(tls_files: TlsFiles) -> ssl.SSLContext:
    return tls_files.client_context()


@pytest.fixture
async def relay(runtime: Runtime, tls_files: TlsFiles) -> AsyncIterator[RelayServer]:
    server = RelayServer(
        runtime,
        host="127.0.0.1",
        port=0,
        ssl_context=tls_files.server_context(),
        auth_throttle=AuthThrottle(delay_after=3, block_after=6, base_delay=0.01, max_delay=0.02),
        hostname="relay.test",
        handshake_timeout=1.0,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def account_id(runtime: Runtime) -> int:
    return await default_account_id(runtime)


@pytest.fixture
async def api_key(runtime: Runtime, account_id: int) -> str:
    _, plaintext = await create_key(runtime, account_id=account_id, name="test app", actor=SYSTEM)
    return plaintext
