"""The bulk DATA reader gives back exactly what the client meant, whatever the chunking.

Property test against the RFC 5321 definition: lines that begin with a dot are stuffed by the
client and unstuffed by us; the section ends at a line holding a single dot; nothing after
that line is consumed (a pipelined command stays for the command loop).
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailconsole.relay.data_reader import TooLarge, read_data

# Line content: anything but the CRLF pair (bare CR and bare LF included), dots favoured.
_line = st.lists(st.sampled_from([b".", b"\r", b"\n", b"a", b"Z", b" ", b"\x00", b"\xff", b".."]), max_size=12).map(
    b"".join
).filter(lambda b: b"\r\n" not in b)


def _wire(lines: list[bytes]) -> bytes:
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines) + b".\r\n"


async def _read(wire: bytes, *, cut: list[int], limit: int = 64, size_limit: int = 10_000) -> tuple[bytes, bytes]:
    reader = asyncio.StreamReader(limit=limit)

    async def feed() -> None:
        start = 0
        for end in [*sorted({c % (len(wire) + 1) for c in cut}), len(wire)]:
            reader.feed_data(wire[start:end])
            start = end
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = asyncio.ensure_future(feed())
    content = await read_data(reader, size_limit)
    await feeder
    return content, await reader.read()


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_line, max_size=8), cut=st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_any_message_in_any_chunking_reads_back_exactly(lines: list[bytes], cut: list[int]) -> None:
    wire = _wire(lines) + b"QUIT\r\n"
    content, after = asyncio.run(_read(wire, cut=cut, limit=8))
    assert content == b"".join(line + b"\r\n" for line in lines)
    assert after == b"QUIT\r\n"


async def test_an_empty_message_is_just_the_dot() -> None:
    assert await _read(b".\r\nRSET\r\n", cut=[]) == (b"", b"RSET\r\n")


async def test_a_message_of_one_empty_line() -> None:
    assert await _read(b"\r\n.\r\n", cut=[1, 2, 3]) == (b"\r\n", b"")


async def test_lines_far_longer_than_the_reader_limit_are_kept_whole() -> None:
    body = b"x" * 5000 + b"\r\n.." + b"y" * 3000 + b"\r\n"
    content, _ = await _read(body + b".\r\n", cut=[100, 4999, 5001], limit=64)
    assert content == b"x" * 5000 + b"\r\n." + b"y" * 3000 + b"\r\n"


async def test_more_than_the_limit_is_read_to_the_end_and_refused_without_keeping_it() -> None:
    wire = (b"z" * 999 + b"\r\n") * 20 + b".\r\nQUIT\r\n"
    reader = asyncio.StreamReader(limit=64)
    reader.feed_data(wire)
    reader.feed_eof()
    with pytest.raises(TooLarge):
        await read_data(reader, 10_000)
    assert await reader.read() == b"QUIT\r\n"  # the session can answer 552 and go on


async def test_a_client_that_hangs_up_mid_message_is_an_incomplete_read() -> None:
    reader = asyncio.StreamReader(limit=64)
    reader.feed_data(b"Subject: cut\r\n\r\nhalf a bo")
    reader.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError):
        await read_data(reader, 10_000)
