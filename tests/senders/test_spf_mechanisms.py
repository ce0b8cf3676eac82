"""SPF a, mx and exists: resolved as a receiver would, within RFC 7208 §4.6.4's limits.

Against a DNS server on 127.0.0.1; the reasons are the exact text `domains check` prints and
the Config > Domains pane shows.
"""

from __future__ import annotations

from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.dns_checks import Verdict
from mailconsole.senders.domains import add_domain, check_domain
from mailconsole.store.models import SendingServer
from tests.senders.dns_server import ZoneServer

DOMAIN = "doeinc.com"


async def _spf(rt: Runtime, zone: ZoneServer, record: str) -> Verdict:
    """The SPF verdict for ``record`` with one SMTP server at 192.0.2.10."""
    await add_domain(rt, DOMAIN, "s1", actor=SYSTEM)
    async with rt.sessions.begin() as session:
        session.add(SendingServer(name="mx-out", type="smtp", settings={"host": "192.0.2.10"}))
    zone.add(DOMAIN, "TXT", record)
    return (await check_domain(rt, DOMAIN)).verdicts[0]


async def test_mx_authorises_a_server_that_is_one_of_the_mx_hosts(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add(DOMAIN, "MX", "20 mx2.doeinc.com.", "10 mx1.doeinc.com.")
    zone.add("mx1.doeinc.com", "A", "192.0.2.9")
    zone.add("mx2.doeinc.com", "A", "192.0.2.10")
    spf = await _spf(dns_runtime, zone, "v=spf1 mx -all")
    assert (spf.status, spf.reason) == (
        "pass",
        "one SPF record, 1 DNS lookups, authorises all 1 checkable active servers",
    )


async def test_mx_that_does_not_cover_the_server_names_it(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add(DOMAIN, "MX", "10 mx1.doeinc.com.")
    zone.add("mx1.doeinc.com", "A", "192.0.2.9")
    spf = await _spf(dns_runtime, zone, "v=spf1 mx -all")
    assert (spf.status, spf.reason) == ("fail", "the SPF record does not authorise mx-out (ip4:192.0.2.10)")


async def test_a_with_a_prefix_length_authorises_the_neighbourhood(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("relay.doeinc.com", "A", "192.0.2.99")
    spf = await _spf(dns_runtime, zone, "v=spf1 a:relay.doeinc.com/24 -all")
    assert spf.status == "pass"


async def test_spf_over_the_lookup_limit_because_of_mx_fails_and_stops_resolving(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    for i in range(11):
        zone.add(f"e{i}.doeinc.com", "MX", "10 in.doeinc.com.")
    zone.add("in.doeinc.com", "A", "192.0.2.10")
    record = "v=spf1 " + " ".join(f"mx:e{i}.doeinc.com" for i in range(11)) + " -all"
    spf = await _spf(dns_runtime, zone, record)
    assert (spf.status, spf.reason) == (
        "fail",
        "the SPF record needs at least 11 DNS lookups; the limit is 10 (replace includes with ip4/ip6 ranges)",
    )
    assert sum(1 for _, rdtype in zone.queries if rdtype == "MX") == 10  # counted past the limit, not asked


async def test_an_mx_with_more_than_ten_hosts_fails_the_address_lookup_limit(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    zone.add(DOMAIN, "MX", *(f"{10 + i} m{i}.doeinc.com." for i in range(11)))
    spf = await _spf(dns_runtime, zone, "v=spf1 mx ip4:192.0.2.10 -all")
    assert (spf.status, spf.reason) == (
        "fail",
        "the SPF record is broken: mx:doeinc.com has 11 MX hosts, each needing an address lookup; "
        "the limit is 10 per mx",
    )
    assert not any(rdtype in ("A", "AAAA") for _, rdtype in zone.queries)


async def test_more_than_two_void_lookups_fail_naming_them(dns_runtime: Runtime, zone: ZoneServer) -> None:
    record = "v=spf1 ip4:192.0.2.10 a:gone1.doeinc.com mx:gone2.doeinc.com exists:gone3.doeinc.com -all"
    spf = await _spf(dns_runtime, zone, record)
    assert (spf.status, spf.reason) == (
        "fail",
        "the SPF record makes 3 DNS lookups that find nothing (a:gone1.doeinc.com, mx:gone2.doeinc.com, "
        "exists:gone3.doeinc.com); the limit is 2, receivers return permerror "
        "(remove the terms for names that do not exist)",
    )
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 ~all"'


async def test_two_void_lookups_are_within_the_limit(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 ip4:192.0.2.10 a:gone1.doeinc.com mx:gone2.doeinc.com -all")
    assert (spf.status, spf.reason) == (
        "pass",
        "one SPF record, 2 DNS lookups, authorises all 1 checkable active servers",
    )


async def test_exists_with_macros_cannot_be_verified_and_says_why(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 exists:%{i}._spf.doeinc.com -all")
    assert (spf.status, spf.reason) == (
        "pass",
        "one SPF record, 1 DNS lookups, authorises all 0 checkable active servers; cannot verify mx-out "
        "(exists:%{i}._spf.doeinc.com depends on each message)",
    )


async def test_exists_on_a_name_with_an_address_lets_anyone_send(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("always.doeinc.com", "A", "127.0.0.2")
    spf = await _spf(dns_runtime, zone, "v=spf1 exists:always.doeinc.com -all")
    assert (spf.status, spf.reason) == (
        "fail",
        "the SPF record's exists:always.doeinc.com always matches: it lets anyone send as doeinc.com",
    )
