"""DMARC of a subdomain: its own record, or its organisational domain's (RFC 7489 §6.6.3).

Checked through the real resolver path against a DNS server on 127.0.0.1; the reasons are
the exact text the CLI and the Config > Domains pane show.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from mailconsole.console.screens.config_domains import DomainsPane
from mailconsole.domain.roles import SYSTEM, Role
from mailconsole.runtime import Runtime
from mailconsole.senders.domains import add_domain, check_domain, get_domain
from mailconsole.senders.org_domain import organisational_domain
from mailconsole.store.models import SendingServer
from tests.senders.dns_server import ZoneServer
from tests.senders.pane_app import PaneApp

SUB = "mail.acme.co.uk"
ORG = "acme.co.uk"


async def _setup(rt: Runtime, zone: ZoneServer, domain: str = SUB) -> None:
    """SPF and DKIM pass for ``domain``, so only DMARC is in question."""
    view = await add_domain(rt, domain, "s1", actor=SYSTEM)
    async with rt.sessions.begin() as session:
        session.add(SendingServer(name="mx-out", type="smtp", settings={"host": "192.0.2.10"}))
    zone.add(domain, "TXT", "v=spf1 ip4:192.0.2.10 -all")
    zone.add(f"s1._domainkey.{domain}", "TXT", f"v=DKIM1; k=rsa; p={view.public_key}")


async def test_the_organisational_domain_comes_from_the_public_suffix_list() -> None:
    assert await organisational_domain("mail.acme.co.uk") == "acme.co.uk"
    assert await organisational_domain("a.b.acme.example") == "acme.example"
    assert await organisational_domain("acme.com") == "acme.com"


async def test_subdomain_without_a_record_inherits_the_sp_policy(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await _setup(dns_runtime, zone)
    zone.add(f"_dmarc.{ORG}", "TXT", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@acme.co.uk")
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "pass",
        f"no record at _dmarc.{SUB}; inherited from _dmarc.{ORG}, sp=quarantine (failures go to spam)",
    )
    assert (f"_dmarc.{SUB}", "TXT") in zone.queries and (f"_dmarc.{ORG}", "TXT") in zone.queries
    stored = await get_domain(dns_runtime, SUB)
    assert stored.dmarc == ("pass", dmarc.reason)


async def test_subdomain_inherits_p_when_the_org_record_has_no_sp(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await _setup(dns_runtime, zone)
    zone.add(f"_dmarc.{ORG}", "TXT", "v=DMARC1; p=reject")
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert dmarc.reason == (
        f"no record at _dmarc.{SUB}; inherited from _dmarc.{ORG}, p=reject (no sp= tag, so p= applies; "
        "failures are rejected)"
    )


async def test_an_inherited_strict_policy_fails_when_nothing_aligns_naming_the_record(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    await add_domain(dns_runtime, SUB, "s1", actor=SYSTEM)
    zone.add(f"_dmarc.{ORG}", "TXT", "v=DMARC1; p=none; sp=reject")
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "fail",
        f"DMARC policy sp=reject inherited from _dmarc.{ORG} while neither SPF nor DKIM passes: "
        "receivers will reject your mail",
    )


async def test_subdomain_with_its_own_record_uses_it_not_the_org_record(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await _setup(dns_runtime, zone)
    zone.add(f"_dmarc.{SUB}", "TXT", "v=DMARC1; p=none; rua=mailto:d@acme.co.uk")
    zone.add(f"_dmarc.{ORG}", "TXT", "v=DMARC1; p=reject; sp=reject")
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "pass",
        f"DMARC policy p=none at _dmarc.{SUB} (monitoring only; failures are still delivered)",
    )
    assert (f"_dmarc.{ORG}", "TXT") not in zone.queries


async def test_subdomain_and_org_domain_without_records_fail_naming_both(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    await _setup(dns_runtime, zone)
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "fail",
        f"no DMARC record at _dmarc.{SUB} nor at _dmarc.{ORG}, the organisational domain's record it would inherit",
    )
    assert dmarc.fix == f'_dmarc.{SUB} TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{SUB}"'


async def test_org_domain_without_a_record_fails_without_looking_further(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    await _setup(dns_runtime, zone, ORG)
    dmarc = (await check_domain(dns_runtime, ORG)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == ("fail", f"no DMARC record at _dmarc.{ORG}")
    assert [q for q in zone.queries if q[0].startswith("_dmarc")] == [(f"_dmarc.{ORG}", "TXT")]


async def test_an_invalid_inherited_sp_fails_naming_the_record(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await _setup(dns_runtime, zone)
    zone.add(f"_dmarc.{ORG}", "TXT", "v=DMARC1; p=reject; sp=junk")
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "fail",
        f"the DMARC record at _dmarc.{ORG} (inherited by {SUB}) has sp=junk (not none, quarantine or reject) "
        "and no valid rua=: receivers apply no DMARC policy (use none, quarantine or reject)",
    )


async def test_a_silent_resolver_on_the_org_lookup_gives_unknown(dns_runtime: Runtime, zone: ZoneServer) -> None:
    await _setup(dns_runtime, zone)
    zone.add(f"_dmarc.{SUB}", "TXT", "unrelated")  # answered, but no DMARC record: look at the org
    zone.unanswered.add((f"_dmarc.{ORG}", "TXT"))
    dmarc = (await check_domain(dns_runtime, SUB)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == ("unknown", f"DNS timed out looking up _dmarc.{ORG} TXT")


async def test_the_domains_pane_shows_which_record_applied_after_a_recheck(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    await _setup(dns_runtime, zone)
    zone.add(f"_dmarc.{ORG}", "TXT", "v=DMARC1; p=reject; sp=quarantine")
    app = PaneApp(dns_runtime, Role.ADMIN, DomainsPane, own_engine=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        await pilot.press("r")
        await _settle(pilot)
        await _settle(pilot)
        detail = str(app.query_one("#domain-text", Static).render())
    assert (
        f"  DMARC pass    no record at _dmarc.{SUB}; inherited from _dmarc.{ORG}, sp=quarantine (failures go to spam)\n"
    ) in detail


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
