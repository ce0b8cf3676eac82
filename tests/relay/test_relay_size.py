"""A message over 25 MiB is refused with 552 and the relay never holds much more than the limit."""

from __future__ import annotations

import asyncio
import base64
import ssl
import tracemalloc

from mailconsole.domain.policy import MAX_MESSAGE_BYTES
from mailconsole.relay.server import RelayServer
from mailconsole.runtime import Runtime

from .clients import counts

LINE = b"QUFB" * 19 + b"\r\n"  # a 78-byte base64 line, like an attachment
OVERSIZE = 26 * 1024 * 1024 + 1024


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if line[3:4] != b"-":
            return line.strip()


async def test_oversize_message_is_refused_with_552_and_memory_stays_bounded(
    relay: RelayServer, runtime: Runtime, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    reader, writer = await asyncio.open_connection("localhost", relay.port, ssl=client_ctx)
    token = base64.b64encode(b"\0apikey\0" + api_key.encode())
    await _reply(reader)
    for command in (b"EHLO client.test", b"AUTH PLAIN " + token, b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@x.net>"):
        writer.write(command + b"\r\n")
        assert (await _reply(reader))[:1] == b"2"
    writer.write(b"DATA\r\n")
    assert (await _reply(reader)).startswith(b"354")

    tracemalloc.start()
    try:
        chunk = b"Subject: big\r\n\r\n" + LINE * 800
        sent = 0
        while sent < OVERSIZE:
            writer.write(chunk)
            sent += len(chunk)
            await writer.drain()
            chunk = LINE * 800
        writer.write(b".\r\n")
        await writer.drain()
        reply = await _reply(reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    writer.write(b"QUIT\r\n")
    await _reply(reader)
    writer.close()
    assert reply == b"552 5.3.4 message_too_large: message exceeds the size limit of 26214400 bytes"
    print(f"sent {sent} bytes, peak traced {peak} bytes")
    # one buffer up to the limit, then nothing: a few MiB of slack for TLS and growth
    assert peak < MAX_MESSAGE_BYTES + 8 * 1024 * 1024
    assert await counts(runtime) == (0, 0)
