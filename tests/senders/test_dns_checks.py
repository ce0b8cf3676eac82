"""SPF, DKIM and DMARC checks against a real DNS server on 127.0.0.1 started by the test."""

from __future__ import annotations

import time

from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.domains import add_domain, check_domain, dns_records, get_domain
from mailconsole.store.models import SendingServer
from tests.senders.dns_server import ZoneServer

DOMAIN = "doeinc.com"


async def _setup(rt: Runtime, zone: ZoneServer, *, ses: bool = False) -> str:
    """Domain with a DKIM key, one SMTP server at 192.0.2.10 (and SES); returns our DKIM key."""
    view = await add_domain(rt, DOMAIN, "s1", actor=SYSTEM)
    async with rt.sessions.begin() as session:
        session.add(SendingServer(name="mx-out", type="smtp", settings={"host": "192.0.2.10"}))
        if ses:
            session.add(SendingServer(name="ses-eu", type="ses", settings={"region": "eu-west-1"}))
    assert view.public_key is not None
    return view.public_key


def _publish_all(zone: ZoneServer, key: str, *, dmarc: str = "v=DMARC1; p=none") -> None:
    zone.add(DOMAIN, "TXT", "v=spf1 ip4:192.0.2.0/24 ~all", "google-site-verification=abc")
    zone.add(f"s1._domainkey.{DOMAIN}", "TXT", f"v=DKIM1; k=rsa; p={key}")
    zone.add(f"_dmarc.{DOMAIN}", "TXT", dmarc)


async def test_all_three_pass_when_the_records_are_published(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone)
    _publish_all(zone, key)
    result = await check_domain(dns_runtime, DOMAIN)
    assert [(v.check, v.status) for v in result.verdicts] == [
        ("spf", "pass"),
        ("dkim", "pass"),
        ("dmarc", "pass"),
    ]
    assert result.verdicts[1].reason == f"the DKIM key at s1._domainkey.{DOMAIN} matches ours"
    stored = await get_domain(dns_runtime, DOMAIN)
    assert stored.authenticated and stored.warning == ""
    assert stored.checked_at == dns_runtime.clock.now()
    assert stored.dmarc == (
        "pass",
        "DMARC policy p=none at _dmarc.doeinc.com (monitoring only; failures are still delivered)",
    )


async def test_missing_records_fail_with_the_record_that_fixes_them(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone)
    zone.add("other.doeinc.com", "TXT", "unrelated")
    spf, dkim, dmarc = (await check_domain(dns_runtime, DOMAIN)).verdicts
    assert (spf.status, spf.reason) == ("fail", f"{DOMAIN} has no SPF (v=spf1) record")
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 ip4:192.0.2.10 ~all"'
    assert (dkim.status, dkim.reason) == ("fail", f"no DKIM key published at s1._domainkey.{DOMAIN}")
    assert key in dkim.fix
    assert (dmarc.status, dmarc.reason) == ("fail", f"no DMARC record at _dmarc.{DOMAIN}")
    assert dmarc.fix == f'_dmarc.{DOMAIN} TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{DOMAIN}"'
    stored = await get_domain(dns_runtime, DOMAIN)
    assert stored.warning == (
        f"{DOMAIN} is not authenticated (SPF fail, DKIM fail, DMARC fail): deliverability may be "
        "severely impacted; publish the records below"
    )


async def test_two_spf_records_fail(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone)
    _publish_all(zone, key)
    zone.add(DOMAIN, "TXT", "v=spf1 include:sendgrid.net -all")
    spf = (await check_domain(dns_runtime, DOMAIN)).verdicts[0]
    assert (spf.status, spf.reason) == (
        "fail",
        f"the SPF record of {DOMAIN} is broken, receivers return permerror: Two or more type TXT spf records "
        "found. (merge them into one)",
    )


async def test_spf_that_does_not_cover_a_server_names_it(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone, ses=True)
    _publish_all(zone, key)
    zone.add("amazonses.com", "TXT", "v=spf1 ip4:199.255.192.0/22 -all")
    spf = (await check_domain(dns_runtime, DOMAIN)).verdicts[0]
    assert (spf.status, spf.reason) == (
        "fail",
        "receivers will not authenticate ses-eu (199.255.192.0): softfail by ~all",
    )
    assert spf.fix == f'{DOMAIN} TXT "v=spf1 include:amazonses.com ip4:192.0.2.0/24 ~all"'


async def test_spf_with_more_than_ten_lookups_fails(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone)
    _publish_all(zone, key)
    zone.records[(DOMAIN, "TXT")] = [
        "v=spf1 ip4:192.0.2.10 " + " ".join(f"include:n{i}.doeinc.com" for i in range(6)) + " -all"
    ]
    for i in range(6):
        zone.add(f"n{i}.doeinc.com", "TXT", "v=spf1 a mx -all")
        zone.add(f"n{i}.doeinc.com", "A", "192.0.2.99")
        zone.add(f"n{i}.doeinc.com", "MX", f"10 n{i}.doeinc.com.")
    spf = (await check_domain(dns_runtime, DOMAIN)).verdicts[0]
    assert (spf.status, spf.reason) == (
        "fail",
        f"the SPF record of {DOMAIN} is broken, receivers return permerror: Too many DNS lookups "
        "(replace includes with ip4/ip6 ranges)",
    )


async def test_wrong_dkim_key_fails(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone)
    _publish_all(zone, key)
    zone.records[(f"s1._domainkey.{DOMAIN}", "TXT")] = [
        "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrong"
    ]
    dkim = (await check_domain(dns_runtime, DOMAIN)).verdicts[1]
    assert (dkim.status, dkim.reason) == (
        "fail",
        f"the DKIM key at s1._domainkey.{DOMAIN} is not the key mailconsole signs with (publish ours)",
    )


async def test_dmarc_reject_passes_when_mail_aligns_and_fails_when_nothing_does(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    key = await _setup(dns_runtime, zone)
    _publish_all(zone, key, dmarc="v=DMARC1; p=reject; rua=mailto:d@doeinc.com")
    dmarc = (await check_domain(dns_runtime, DOMAIN)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "pass",
        "DMARC policy p=reject at _dmarc.doeinc.com (failures are rejected)",
    )

    del zone.records[(DOMAIN, "TXT")]
    del zone.records[(f"s1._domainkey.{DOMAIN}", "TXT")]
    dmarc = (await check_domain(dns_runtime, DOMAIN)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (
        "fail",
        "DMARC policy p=reject at _dmarc.doeinc.com while neither SPF nor DKIM passes: receivers will reject your mail",
    )


async def test_a_dns_server_that_never_answers_gives_unknown_within_the_timeout(
    dns_runtime: Runtime, zone: ZoneServer
) -> None:
    key = await _setup(dns_runtime, zone)
    _publish_all(zone, key)
    zone.silent = True
    started = time.monotonic()
    result = await check_domain(dns_runtime, DOMAIN)
    elapsed = time.monotonic() - started
    assert [v.status for v in result.verdicts] == ["unknown", "unknown", "unknown"]
    assert result.verdicts[0].reason == f"DNS timed out looking up {DOMAIN} TXT"
    assert zone.queries  # the server was asked, it just never answered
    # SPF and DKIM run together, DMARC after: two timeouts of 0.5 s plus slack, not a hang.
    assert elapsed < 3.0
    stored = await get_domain(dns_runtime, DOMAIN)
    assert stored.spf == ("unknown", f"DNS timed out looking up {DOMAIN} TXT")


async def test_records_to_publish_cover_dkim_spf_and_dmarc(dns_runtime: Runtime, zone: ZoneServer) -> None:
    key = await _setup(dns_runtime, zone, ses=True)
    records = [(r.purpose, r.name, r.value) for r in await dns_records(dns_runtime, DOMAIN)]
    assert records == [
        ("DKIM", f"s1._domainkey.{DOMAIN}", f"v=DKIM1; k=rsa; p={key}"),
        ("SPF", DOMAIN, "v=spf1 ip4:192.0.2.10 include:amazonses.com ~all"),
        ("DMARC", f"_dmarc.{DOMAIN}", f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{DOMAIN}"),
    ]
