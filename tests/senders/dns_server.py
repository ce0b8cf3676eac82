"""A real DNS server on 127.0.0.1 for the checks to query: UDP, answers from a dict.

``records`` maps (name, type) to a list of values (TXT values as plain text, split into
255-byte strings on the wire like a real zone would). ``silent = True`` makes it swallow
every query, so the checks meet a resolver that never answers; ``unanswered`` does the same
for chosen (name, type) questions only.
"""

from __future__ import annotations

import asyncio
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def _txt_rdata(value: str) -> str:
    raw = value.encode()
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    return " ".join('"' + c.decode().replace('"', '\\"') + '"' for c in chunks)


def name_text(name: dns.name.Name) -> str:
    """The name as its bytes read (no ``\\`` escapes for spaces or dots), lower-case, no final dot."""
    return ".".join(label.decode("utf-8", "surrogateescape") for label in name.labels if label).lower()


class ZoneServer(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.silent = False
        self.unanswered: set[tuple[str, str]] = set()
        self.queries: list[tuple[str, str]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    def add(self, name: str, rdtype: str, *values: str) -> None:
        self.records.setdefault((name.lower().rstrip("."), rdtype), []).extend(values)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = name_text(question.name)
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if self.silent or (name, rdtype) in self.unanswered or self.transport is None:
            return
        response = self.respond(query, name, rdtype)
        if response is not None:
            self.transport.sendto(response.to_wire(), addr)

    def respond(self, query: dns.message.Message, name: str, rdtype: str) -> dns.message.Message | None:
        """The answer to send for ``name``/``rdtype``, or None to stay silent (a timeout)."""
        question = query.question[0]
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        values = self.records.get((name, rdtype))
        if values:
            texts = [_txt_rdata(v) for v in values] if rdtype == "TXT" else values
            response.answer.append(dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN, rdtype, texts))
        elif not any(key[0] == name for key in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def start_zone_server(factory: type[ZoneServer] = ZoneServer) -> ZoneServer:
    loop = asyncio.get_running_loop()
    server = factory()
    transport, _ = await loop.create_datagram_endpoint(lambda: server, local_addr=("127.0.0.1", 0))
    server.port = transport.get_extra_info("sockname")[1]
    return server


class ThreadedZone:
    """The same server on a loop in a background thread, for sync tests (CLI runs its own loop)."""

    def __init__(self, factory: type[ZoneServer] = ZoneServer) -> None:
        import threading

        self._factory = factory
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server: ZoneServer = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)

    async def _start(self) -> ZoneServer:
        return await start_zone_server(self._factory)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
