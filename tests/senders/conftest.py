"""Fixtures for the senders tests: a DNS server on 127.0.0.1 and a Runtime that uses it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from mailconsole.clock import FixedClock
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from tests.senders.dns_server import ZoneServer, start_zone_server


@pytest.fixture
async def zone() -> AsyncIterator[ZoneServer]:
    server = await start_zone_server()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
async def dns_runtime(settings: Settings, clock: FixedClock, zone: ZoneServer) -> AsyncIterator[Runtime]:
    """A Runtime whose resolver is the test's DNS server, with a short timeout."""
    local = dataclasses.replace(settings, dns_nameservers=[f"127.0.0.1:{zone.port}"], dns_timeout=0.5)
    async with Runtime.open(local, clock=clock) as rt:
        yield rt
