"""The real uvicorn server on 127.0.0.1 with an ephemeral port: start, serve, stop."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest

from mailconsole.api.server import HttpServer
from mailconsole.intake.tls import generate_self_signed
from mailconsole.runtime import Runtime
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer, message_count


async def test_uvicorn_server_serves_the_api_on_loopback_and_stops(runtime: Runtime, keys: Keys) -> None:
    server = HttpServer(runtime, host="127.0.0.1", port=0)
    await server.start()
    try:
        assert server.port != 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            sent = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))
            assert sent.status_code == 202
            status = await client.get(f"/v1/emails/{sent.json()['ids'][0]}", headers=bearer(keys.send))
            assert status.json()["state"] == "queued"
        # Declares 26 MiB, sends 1 KiB: the answer comes without waiting for the rest.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /v1/emails HTTP/1.1\r\nHost: t\r\nContent-Type: message/rfc822\r\n"
            + f"Authorization: Bearer {keys.send}\r\nContent-Length: {26 * 2**20}\r\n\r\n".encode()
            + b"x" * 1024
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        writer.close()
        assert status_line.startswith(b"HTTP/1.1 413 ")
    finally:
        await server.stop()
    assert await message_count(runtime) == 1
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as client:
            await client.get(f"http://127.0.0.1:{server.port}/healthz")


async def test_server_defaults_to_the_settings_loopback_address(runtime: Runtime) -> None:
    server = HttpServer(runtime)
    assert (server.host, server.port) == ("127.0.0.1", runtime.settings.http_port)


async def test_server_speaks_https_with_the_relays_certificate_settings(
    runtime: Runtime, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    generate_self_signed(cert, key, hostname="localhost")
    runtime.settings.tls_cert, runtime.settings.tls_key = str(cert), str(key)
    server = HttpServer(runtime, host="127.0.0.1", port=0)
    await server.start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=trust, timeout=10) as client:
            resp = await client.get(server.url + "/openapi.json")
        assert resp.status_code == 200
        async with httpx.AsyncClient(timeout=10) as plain:
            with pytest.raises(httpx.HTTPError):
                await plain.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await server.stop()


async def test_concurrent_sends_through_the_served_app_each_get_their_own_committed_ids(
    runtime: Runtime, keys: Keys
) -> None:
    server = HttpServer(runtime, host="127.0.0.1", port=0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/v1/emails", json={**MINIMAL, "to": f"u{i}@example.org"}, headers=bearer(keys.send))
                    for i in range(12)
                )
            )
    finally:
        await server.stop()
    assert [a.status_code for a in answers] == [202] * 12
    recipients = {a.json()["messages"][0]["recipient"] for a in answers}
    assert recipients == {f"u{i}@example.org" for i in range(12)}
    assert len({a.json()["ids"][0] for a in answers}) == 12
    assert await message_count(runtime) == 12
    assert server.app.state.batcher.items == 12  # went through the group-commit writer
