"""Read an SMTP DATA section (RFC 5321 §4.1.1.4) in bulk, without per-line work.

aiosmtpd reads DATA a line at a time (one ``readuntil`` and one list entry per line); for a
relay that is most of the CPU a message costs. Here the text between lines that start with a
dot is taken in one ``readuntil(b"\\r\\n.")`` per chunk, so a message without dot-stuffed lines
is read in one or a few calls. Nothing is ever read past the final ``.`` line: a client may
pipeline its next command behind it, and that belongs to the command loop.

The one subtlety is a line start that the bulk search cannot see because its CRLF was
consumed already (the very first line, and the line after a dot-stuffed line). There the
next bytes are read one at a time until the reader is safely inside a line again.
"""

from __future__ import annotations

import asyncio

from mailconsole.domain.errors import InputError

_DOT_LINE = b"\r\n."


class TooLarge(InputError):
    """The DATA section was longer than the limit; it was read to its end and dropped."""


async def _line_rest(reader: asyncio.StreamReader) -> bytes:
    """The rest of the current line including its CRLF, however long."""
    parts: list[bytes] = []
    while True:
        try:
            parts.append(await reader.readuntil(b"\r\n"))
            return b"".join(parts)
        except asyncio.LimitOverrunError as exc:
            parts.append(await reader.read(exc.consumed))


async def read_data(reader: asyncio.StreamReader, limit: int) -> bytes:
    """The message content (dot-unstuffed, ending with its last CRLF), after the 354.

    Raises ``TooLarge`` once more than ``limit`` bytes came in (after reading to the final
    dot, so the session can go on), and ``asyncio.IncompleteReadError`` if the client went
    away mid-message.
    """
    buffer = bytearray()
    received = 0
    too_large = False

    def take(data: bytes) -> None:
        nonlocal received, too_large, buffer
        received += len(data)
        if too_large:
            return
        if received > limit:
            too_large = True
            buffer = bytearray()  # release what was stored
            return
        buffer.extend(data)

    at_line_start = True  # after the 354, and after every dot-stuffed line
    last = b""
    while True:
        if at_line_start or last == b"\r":
            # The bulk search needs the CRLF that opens a line still unread; here it is not.
            byte = await reader.readexactly(1)
            if at_line_start and byte == b".":
                rest = await _line_rest(reader)
                if rest == b"\r\n":
                    break  # the final "."
                take(rest)  # a dot-stuffed line: the first dot is dropped
                at_line_start, last = True, b"\n"
                continue
            take(byte)
            at_line_start = last == b"\r" and byte == b"\n"
            last = byte
            continue
        try:
            chunk = await reader.readuntil(_DOT_LINE)
        except asyncio.LimitOverrunError as exc:
            # No line starting with a dot within the reader's limit: take what is safely
            # before any partial match and search on.
            chunk = await reader.read(exc.consumed)
            take(chunk)
            last = chunk[-1:]
            continue
        take(chunk[:-1])  # up to and including the CRLF before the dot
        rest = await _line_rest(reader)
        if rest == b"\r\n":
            break
        take(rest)
        at_line_start, last = True, b"\n"
    if too_large:
        raise TooLarge()
    return bytes(buffer)
