"""A tiny real DNS server on 127.0.0.1 for Check again tests: answers from a dict.

Names absent from the dict get NXDOMAIN; present names without the asked type get an empty
answer (NOERROR/NODATA), exactly what a real authoritative server would say.
"""

from __future__ import annotations

import asyncio

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, records: dict[str, dict[str, list[str]]]) -> None:
        self.records = records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.DatagramTransport) -> None:  # type: ignore[override]
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            answers = self.records[name].get(rdtype, [])
            if answers:
                response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", rdtype, answers))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


class DnsServer:
    def __init__(self, records: dict[str, dict[str, list[str]]]) -> None:
        self.records = records
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> DnsServer:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self.records), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
