"""Contacts fixtures: a real DNS server on loopback and helpers to put contacts in a state."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.runtime import Runtime
from tests.contacts.dnsserver import DnsServer

RECORDS: dict[str, dict[str, list[str]]] = {
    "example.com": {"MX": ["10 mx.example.com."]},
    "mx.example.com": {"A": ["192.0.2.10"]},
    "a-only.example": {"A": ["192.0.2.20"]},
    "nomail.example": {"TXT": ['"v=spf1 -all"']},
}


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await DnsServer(RECORDS).start()
    yield server
    server.close()


@pytest.fixture
async def dns_runtime(runtime: Runtime, dns_server: DnsServer) -> Runtime:
    """The runtime resolving through the test's DNS server (the default one is unreachable)."""
    runtime.settings.dns_nameservers = [dns_server.nameserver]
    runtime.settings.dns_timeout = 2.0
    return runtime


async def hard_bounce(runtime: Runtime, address: str, text: str = "550 5.1.1 user unknown") -> None:
    await record_delivery_outcome(runtime, account_id=1, recipient=address, effect="hard_bounce",
                                  reply_text=text, message_id=None)


async def complain(runtime: Runtime, address: str) -> None:
    await record_delivery_outcome(runtime, account_id=1, recipient=address, effect="complaint",
                                  reply_text="ARF abuse report", message_id=None)
