"""DMARC records read as RFC 7489 §6.3/§6.4/§6.6.3 (and checkdmarc) read them.

Each case publishes TXT records at ``_dmarc.doeinc.com`` (SPF and DKIM pass, so only the
record decides) and asks ``check_domain`` through a DNS server on 127.0.0.1. The reasons are
the exact text `domains check` prints; each names the record that applied.
"""

from __future__ import annotations

import pytest

from mailconsole.domain.dmarc import parse_record
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.domains import add_domain, check_domain
from mailconsole.store.models import SendingServer
from tests.senders.dns_server import ZoneServer

DOMAIN = "doeinc.com"
AT = f"_dmarc.{DOMAIN}"
REJECT = f"DMARC policy p=reject at {AT} (failures are rejected)"
QUARANTINE = f"DMARC policy p=quarantine at {AT} (failures go to spam)"
NONE = f"DMARC policy p=none at {AT} (monitoring only; failures are still delivered)"
NO_P_BUT_RUA = (
    f"the DMARC record at {AT} has no p= tag; it has a valid rua=, so receivers apply p=none "
    "(monitoring only; failures are still delivered)"
)
IGNORED = "must start with exactly v=DMARC1, so receivers ignore it)"

CASES = [
    # whitespace the grammar allows around "=" and ";" (dmarc-sep = *WSP ";" *WSP)
    (["v = DMARC1; p = reject"], "pass", REJECT),
    (["v=DMARC1;p=quarantine"], "pass", QUARANTINE),
    (["v=DMARC1 ;\tp=reject ; rua=mailto:d@doeinc.com ;"], "pass", REJECT),
    (["v=DMARC1; p=Reject"], "pass", REJECT),  # keyword values are case-insensitive in ABNF
    (["V=DMARC1; p=none"], "pass", NONE),  # so is the tag name "v"
    # exactly DMARC1 (%x44 %x4d %x41 %x52 %x43 %x31: case-sensitive)
    (["v=dmarc1; p=reject"], "fail", f"no DMARC record at {AT} ('v=dmarc1; p=reject' is not one: it {IGNORED}"),
    (["v=DMARC2; p=reject"], "fail", f"no DMARC record at {AT} ('v=DMARC2; p=reject' is not one: it {IGNORED}"),
    (["p=reject; v=DMARC1"], "fail", f"no DMARC record at {AT}"),  # v= must be the first tag
    (["v=DMARC1p=reject"], "fail", f"no DMARC record at {AT} ('v=DMARC1p=reject' is not one: it {IGNORED}"),
    # §6.6.3 step 6: no valid p= with a valid rua= is p=none; without one, no policy at all
    (["v=DMARC1; rua=mailto:d@doeinc.com"], "pass", NO_P_BUT_RUA),
    (["v=DMARC1; rua=mailto:d@doeinc.com!10m, https://r.example/dmarc"], "pass", NO_P_BUT_RUA),
    (
        ["v=DMARC1; p=block; rua=mailto:d@doeinc.com"],
        "pass",
        f"the DMARC record at {AT} has p=block (not none, quarantine or reject); it has a valid rua=, so "
        "receivers apply p=none (monitoring only; failures are still delivered)",
    ),
    (
        ["v=DMARC1"],
        "fail",
        f"the DMARC record at {AT} has no p= tag and no valid rua=: receivers apply no DMARC policy "
        "(use none, quarantine or reject)",
    ),
    (
        ["v=DMARC1; rua=d@doeinc.com"],
        "fail",
        f"the DMARC record at {AT} has no p= tag and no valid rua=: receivers apply no DMARC policy "
        "(use none, quarantine or reject)",
    ),
    # unknown tags are ignored (§6.3); other TXT records at the name are not DMARC records
    (["v=DMARC1; p=reject; foo=bar; pct=100"], "pass", REJECT),
    (["v=spf1 -all", "v=DMARC1; p=quarantine"], "pass", QUARANTINE),
    # several records: no DMARC processing at all (§6.6.3 step 5)
    (["v=DMARC1; p=reject", "v=DMARC1; p=none"], "fail", f"2 DMARC records at {AT}; receivers ignore them all"),
    ([], "fail", f"no DMARC record at {AT}"),
]


@pytest.mark.parametrize(("records", "status", "reason"), CASES)
async def test_dmarc_record_is_read_as_receivers_read_it(
    dns_runtime: Runtime, zone: ZoneServer, records: list[str], status: str, reason: str
) -> None:
    view = await add_domain(dns_runtime, DOMAIN, "s1", actor=SYSTEM)
    async with dns_runtime.sessions.begin() as session:
        session.add(SendingServer(name="mx-out", type="smtp", settings={"host": "192.0.2.10"}))
    zone.add(DOMAIN, "TXT", "v=spf1 ip4:192.0.2.10 -all")
    zone.add(f"s1._domainkey.{DOMAIN}", "TXT", f"v=DKIM1; k=rsa; p={view.public_key}")
    if records:
        zone.add(AT, "TXT", *records)
    else:
        zone.add(f"www.{DOMAIN}", "A", "192.0.2.80")  # the domain exists, _dmarc does not
    dmarc = (await check_domain(dns_runtime, DOMAIN)).verdicts[2]
    assert (dmarc.status, dmarc.reason) == (status, reason)


def test_an_inherited_record_with_an_invalid_sp_and_a_valid_rua_applies_p_none() -> None:
    record = parse_record("v=DMARC1; p=reject; sp=junk; rua=mailto:d@acme.example")
    assert record is not None
    assert record.applied(subdomain=True) == ("p", "none")
    assert record.applied(subdomain=False) == ("p", "reject")


def test_sp_applies_only_to_a_subdomain() -> None:
    record = parse_record("v=DMARC1; p=reject; sp=none")
    assert record is not None
    assert (record.applied(subdomain=True), record.applied(subdomain=False)) == (("sp", "none"), ("p", "reject"))
