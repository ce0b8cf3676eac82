"""`domains check` SPF: RFC 7208 check_host() for each active server, as receivers evaluate it.

Against a DNS server on 127.0.0.1; the reasons are the exact text `domains check` prints and
the Config > Domains pane shows. The records are the false passes issue #18 found in the old
set-of-networks evaluation (term order, qualifiers, syntax errors, macros, ptr).
"""

from __future__ import annotations

import pytest

from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.dns_checks import Verdict
from mailconsole.senders.domains import add_domain, check_domain
from mailconsole.store.models import SendingServer
from tests.senders.dns_server import ZoneServer

DOMAIN = "doeinc.com"


async def _spf(rt: Runtime, zone: ZoneServer, record: str, host: str = "192.0.2.10") -> Verdict:
    """The SPF verdict for ``record`` with one SMTP server at ``host``."""
    await add_domain(rt, DOMAIN, "s1", actor=SYSTEM)
    async with rt.sessions.begin() as session:
        session.add(SendingServer(name="mx-out", type="smtp", settings={"host": host}))
    zone.add(DOMAIN, "TXT", record)
    return (await check_domain(rt, DOMAIN)).verdicts[0]


async def test_mx_authorises_a_server_that_is_one_of_the_mx_hosts(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add(DOMAIN, "MX", "20 mx2.doeinc.com.", "10 mx1.doeinc.com.")
    zone.add("mx1.doeinc.com", "A", "192.0.2.9")
    zone.add("mx2.doeinc.com", "A", "192.0.2.10")
    spf = await _spf(dns_runtime, zone, "v=spf1 mx -all")
    assert (spf.status, spf.reason, spf.fix) == ("pass", "check_host() passes mx-out (192.0.2.10) by mx", "")


async def test_mx_that_does_not_cover_the_server_names_the_deciding_term_and_the_fix(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    zone.add(DOMAIN, "MX", "10 mx1.doeinc.com.")
    zone.add("mx1.doeinc.com", "A", "192.0.2.9")
    spf = await _spf(dns_runtime, zone, "v=spf1 mx -all")
    assert (spf.status, spf.reason) == ("fail", "receivers will not authenticate mx-out (192.0.2.10): fail by -all")
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 mx -all"'


async def test_a_with_a_prefix_length_authorises_the_neighbourhood(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("relay.doeinc.com", "A", "192.0.2.99")
    spf = await _spf(dns_runtime, zone, "v=spf1 a:relay.doeinc.com/24 -all")
    assert (spf.status, spf.reason) == ("pass", "check_host() passes mx-out (192.0.2.10) by a:relay.doeinc.com/24")


@pytest.mark.parametrize(
    ("record", "result"),
    [
        ("v=spf1 -ip4:192.0.2.10 ip4:192.0.2.0/24 -all", "fail by -ip4:192.0.2.10"),
        ("v=spf1 -all ip4:192.0.2.10", "fail by -all"),
        ("v=spf1 ~all redirect=_spf.doeinc.com", "softfail by ~all"),
        ("v=spf1 -include:corp.doeinc.com -all", "fail by -include:corp.doeinc.com"),
        ("v=spf1 ?ip4:192.0.2.10 -all", "neutral by ?ip4:192.0.2.10"),
    ],
)
async def test_term_order_and_qualifiers_decide_as_receivers_evaluate(
    dns_runtime: Runtime, zone: ZoneServer, record: str, result: str
) -> None:
    zone.add("_spf.doeinc.com", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    zone.add("corp.doeinc.com", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    spf = await _spf(dns_runtime, zone, record)
    assert (spf.status, spf.reason) == ("fail", f"receivers will not authenticate mx-out (192.0.2.10): {result}")
    assert spf.fix.startswith(f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 ')


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ("v=spf1 ip4:192.0.2.10 -all moo", "Unknown mechanism found: moo"),
        ("v=spf1 ip4:192.0.2.10/032 -all", "Invalid IP4 address: ip4:192.0.2.10/032"),
        ("v=spf1 redirect:_spf.doeinc.com", "Unknown mechanism found: redirect:_spf.doeinc.com"),
        ("v=spf1 ip4:192.0.2.10 -all 1bad=x", "Unknown mechanism found: 1bad=x"),
        ("v=spf1 exists:%(ir).allow.doeinc.com -all", "invalid-macro-char : %(ir)"),
        ("v=spf1 ip4:192.0.2.10 exists:allow.doeinc.com% -all", "Invalid domain found (use FQDN): allow.doeinc.com%"),
    ],
)
async def test_syntax_errors_are_permerror_as_receivers_answer(
    dns_runtime: Runtime, zone: ZoneServer, record: str, problem: str
) -> None:
    spf = await _spf(dns_runtime, zone, record)
    assert (spf.status, spf.reason) == (
        "fail",
        f"the SPF record of {DOMAIN} is broken, receivers return permerror: {problem}",
    )
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 ~all"'


async def test_a_colon_and_slash_inside_a_name_are_part_of_the_name(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("foo:bar/baz.doeinc.com", "A", "192.0.2.10")
    spf = await _spf(dns_runtime, zone, "v=spf1 a:foo:bar/baz.doeinc.com -all")
    assert (spf.status, spf.reason) == ("pass", "check_host() passes mx-out (192.0.2.10) by a:foo:bar/baz.doeinc.com")


async def test_an_exists_macro_is_expanded_for_the_servers_ip(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("10.2.0.192.allow.doeinc.com", "A", "127.0.0.2")
    spf = await _spf(dns_runtime, zone, "v=spf1 exists:%{ir}.allow.doeinc.com -all")
    assert (spf.status, spf.reason) == (
        "pass",
        "check_host() passes mx-out (192.0.2.10) by exists:%{ir}.allow.doeinc.com",
    )


async def test_an_exists_macro_without_the_servers_name_fails(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 exists:%{i}.allow.doeinc.com -all")
    assert (spf.status, spf.reason) == ("fail", "receivers will not authenticate mx-out (192.0.2.10): fail by -all")


async def test_ptr_is_evaluated_with_the_forward_check(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("10.2.0.192.in-addr.arpa", "PTR", "out.doeinc.com.")
    zone.add("out.doeinc.com", "A", "192.0.2.10")
    spf = await _spf(dns_runtime, zone, "v=spf1 ptr -all")
    assert (spf.status, spf.reason) == ("pass", "check_host() passes mx-out (192.0.2.10) by ptr")


async def test_an_ipv4_mapped_host_is_checked_as_ipv4(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 ip4:192.0.2.10 -all", host="::ffff:192.0.2.10")
    assert (spf.status, spf.reason) == ("pass", "check_host() passes mx-out (192.0.2.10) by ip4:192.0.2.10")


async def test_spf_over_the_lookup_limit_because_of_mx_is_permerror(dns_runtime: Runtime, zone: ZoneServer) -> None:
    for i in range(11):
        zone.add(f"e{i}.doeinc.com", "MX", "10 in.doeinc.com.")
    zone.add("in.doeinc.com", "A", "192.0.2.9")
    record = "v=spf1 " + " ".join(f"mx:e{i}.doeinc.com" for i in range(11)) + " -all"
    spf = await _spf(dns_runtime, zone, record)
    assert (spf.status, spf.reason) == (
        "fail",
        f"the SPF record of {DOMAIN} is broken, receivers return permerror: Too many DNS lookups "
        "(replace includes with ip4/ip6 ranges)",
    )


async def test_an_mx_with_more_than_ten_hosts_is_permerror(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add(DOMAIN, "MX", *(f"{10 + i} m{i}.doeinc.com." for i in range(11)))
    spf = await _spf(dns_runtime, zone, "v=spf1 mx ip4:192.0.2.10 -all")
    assert (spf.status, spf.reason) == (
        "fail",
        f"the SPF record of {DOMAIN} is broken, receivers return permerror: More than 10 MX records returned "
        "(an mx term may name at most 10 hosts; list them as ip4/ip6)",
    )


async def test_more_than_two_void_lookups_are_permerror(dns_runtime: Runtime, zone: ZoneServer) -> None:
    record = "v=spf1 a:gone1.doeinc.com mx:gone2.doeinc.com exists:gone3.doeinc.com ip4:192.0.2.10 -all"
    spf = await _spf(dns_runtime, zone, record)
    assert (spf.status, spf.reason) == (
        "fail",
        f"the SPF record of {DOMAIN} is broken, receivers return permerror: Void lookup limit of 2 exceeded "
        "(remove the terms for names that do not exist)",
    )
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 ~all"'


async def test_two_void_lookups_are_within_the_limit(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 a:gone1.doeinc.com mx:gone2.doeinc.com ip4:192.0.2.10 -all")
    assert (spf.status, spf.reason) == ("pass", "check_host() passes mx-out (192.0.2.10) by ip4:192.0.2.10")


async def test_exists_on_a_name_with_an_address_lets_anyone_send(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("always.doeinc.com", "A", "127.0.0.2")
    spf = await _spf(dns_runtime, zone, "v=spf1 exists:always.doeinc.com -all")
    assert (spf.status, spf.reason) == (
        "fail",
        "the SPF record of doeinc.com passes 240.0.0.1, an address no one sends from "
        "(pass by exists:always.doeinc.com): it lets anyone send as doeinc.com",
    )


async def test_plus_all_is_reported_as_a_risk_although_check_host_passes(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 ip4:192.0.2.10 +all")
    assert (spf.status, spf.reason) == (
        "fail",
        "the SPF record of doeinc.com passes 240.0.0.1, an address no one sends from (pass by +all): "
        "it lets anyone send as doeinc.com",
    )
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 ~all"'


async def test_an_esp_is_checked_with_an_address_it_publishes(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await add_domain(dns_runtime, DOMAIN, "s1", actor=SYSTEM)
    async with dns_runtime.sessions.begin() as session:
        session.add(SendingServer(name="ses-eu", type="ses", settings={"region": "eu-west-1"}))
    zone.add("amazonses.com", "TXT", "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 -all")
    zone.add(DOMAIN, "TXT", "v=spf1 include:amazonses.com -all")
    spf = (await check_domain(dns_runtime, DOMAIN)).verdicts[0]
    assert (spf.status, spf.reason) == ("pass", "check_host() passes ses-eu (199.255.192.0) by include:amazonses.com")


async def test_a_server_that_reads_its_bounces_is_checked_on_the_bounce_domain(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    import dataclasses

    dns_runtime.settings = dataclasses.replace(dns_runtime.settings, bounce_domain="bounce.doeinc.com")
    await add_domain(dns_runtime, DOMAIN, "s1", actor=SYSTEM)
    async with dns_runtime.sessions.begin() as session:
        session.add(
            SendingServer(
                name="mx-out", type="smtp", settings={"host": "192.0.2.10"}, bounce_handler={"kind": "imap"}
            )
        )
    zone.add(DOMAIN, "TXT", "v=spf1 -all")
    zone.add("bounce.doeinc.com", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    spf = (await check_domain(dns_runtime, DOMAIN)).verdicts[0]
    assert (spf.status, spf.reason) == (
        "pass",
        "check_host() passes mx-out via bounce.doeinc.com (192.0.2.10) by ip4:192.0.2.10",
    )


async def test_a_server_host_name_is_checked_at_each_of_its_addresses(dns_runtime: Runtime, zone: ZoneServer) -> None:
    zone.add("relay.doeinc.com", "A", "192.0.2.10", "192.0.2.11")
    spf = await _spf(dns_runtime, zone, "v=spf1 ip4:192.0.2.10 -all", host="relay.doeinc.com")
    assert (spf.status, spf.reason) == ("fail", "receivers will not authenticate mx-out (192.0.2.11): fail by -all")
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 a:relay.doeinc.com ip4:192.0.2.10 -all"'


async def test_a_server_host_without_addresses_fails_naming_it(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 a:gone.doeinc.com -all", host="gone.doeinc.com")
    assert (spf.status, spf.reason) == (
        "fail",
        "receivers will not authenticate mx-out: its host gone.doeinc.com has no A/AAAA record, so it cannot send",
    )


async def test_an_esp_that_publishes_no_address_ranges_is_unknown(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await add_domain(dns_runtime, DOMAIN, "s1", actor=SYSTEM)
    async with dns_runtime.sessions.begin() as session:
        session.add(SendingServer(name="sg", type="sendgrid", settings={}))
    zone.add("sendgrid.net", "TXT", "v=spf1 exists:%{i}.sg.sendgrid.net -all")
    zone.add(DOMAIN, "TXT", "v=spf1 include:sendgrid.net -all")
    spf = (await check_domain(dns_runtime, DOMAIN)).verdicts[0]
    assert (spf.status, spf.reason) == (
        "unknown",
        "cannot tell whether receivers authenticate every server: sendgrid.net publishes no ip4/ip6 range "
        "to check sg with",
    )


async def test_an_include_of_a_domain_without_spf_is_permerror(dns_runtime: Runtime, zone: ZoneServer) -> None:
    spf = await _spf(dns_runtime, zone, "v=spf1 ip4:192.0.2.10 include:nospf.doeinc.com -all")
    assert spf.status == "fail"
    assert spf.reason.startswith(f"the SPF record of {DOMAIN} is broken, receivers return permerror: ")
    assert "nospf.doeinc.com" in spf.reason
