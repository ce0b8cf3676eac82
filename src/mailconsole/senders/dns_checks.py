"""The three authentication checks: SPF, DKIM, DMARC. Each gives pass / fail / unknown.

A fail always comes with the reason and the record that fixes it; a DNS error or timeout is
unknown (it says nothing about the domain). The checks take the resolver as an argument so
tests point them at a DNS server they run on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import dns.asyncresolver

from mailconsole.domain.dmarc import DmarcRecord, looks_like_dmarc, parse_record
from mailconsole.senders import spf_verdict
from mailconsole.senders.dkim import dkim_record_name, dkim_record_value
from mailconsole.senders.dns_lookup import DnsUnknown, txt_records
from mailconsole.senders.org_domain import organisational_domain
from mailconsole.senders.spf import SpfRequirement, build_spf_record
from mailconsole.senders.spf_check import SPF_DEADLINE_QUERIES

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    check: str  # spf | dkim | dmarc
    status: str  # pass | fail | unknown
    reason: str
    checked_at: dt.datetime
    fix: str = ""  # the record to publish: "NAME TXT value"
    # SPF only: what check_host() answered for each server's address (JSON "check_host")
    check_host: tuple[spf_verdict.Answer, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat()
        return data


def _txt(name: str, value: str) -> str:
    return f'{name} TXT "{value}"'


async def check_spf(
    resolver: dns.asyncresolver.Resolver,
    domain: str,
    requirements: list[SpfRequirement],
    now: dt.datetime,
) -> Verdict:
    """RFC 7208 ``check_host()`` for each active server's sending IPs (``spf_verdict``).

    pyspf bounds each evaluation by a deadline of its own (``spf_check``); the walk over the
    servers has one too, so a resolver answering every query just in time still ends as unknown.
    """
    budget = max(resolver.lifetime, 0.1) * SPF_DEADLINE_QUERIES * 2
    try:
        async with asyncio.timeout(budget):
            outcome = await spf_verdict.evaluate(resolver, domain, requirements)
    except TimeoutError:
        reason = f"DNS took longer than {budget:g} s to evaluate the SPF record of {domain}"
        return Verdict("spf", UNKNOWN, reason, now, _txt(domain, build_spf_record(requirements)))
    return Verdict("spf", outcome.status, outcome.reason, now, outcome.fix, outcome.answers)


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags[key.strip().lower()] = "".join(value.split())
    return tags


async def check_dkim(
    resolver: dns.asyncresolver.Resolver,
    domain: str,
    selector: str,
    public_b64: str | None,
    now: dt.datetime,
) -> Verdict:
    """The selector's TXT record exists and its p= key is the one we sign with."""
    name = dkim_record_name(selector, domain)
    fix = _txt(name, dkim_record_value(public_b64)) if public_b64 else ""
    try:
        records = [r for r in await txt_records(resolver, name) if "p=" in r]
    except DnsUnknown as exc:
        return Verdict("dkim", UNKNOWN, str(exc), now, fix)
    if not records:
        return Verdict("dkim", FAIL, f"no DKIM key published at {name}", now, fix)
    if len(records) > 1:
        return Verdict("dkim", FAIL, f"{len(records)} DKIM records at {name}; publish one", now, fix)
    published = _tags(records[0]).get("p", "")
    if not published:
        return Verdict("dkim", FAIL, f"the DKIM key at {name} is revoked (empty p=)", now, fix)
    if public_b64 is None:
        return Verdict("dkim", PASS, f"a DKIM key is published at {name}", now)
    if published != public_b64:
        return Verdict(
            "dkim",
            FAIL,
            f"the DKIM key at {name} is not the key mailconsole signs with (publish ours)",
            now,
            fix,
        )
    return Verdict("dkim", PASS, f"the DKIM key at {name} matches ours", now)


def dmarc_starter(domain: str, rua: str) -> str:
    return f"v=DMARC1; p=none; rua=mailto:{rua}"


_MEANING = {
    "none": "monitoring only; failures are still delivered",
    "quarantine": "failures go to spam",
    "reject": "failures are rejected",
}


async def _dmarc_records(resolver: dns.asyncresolver.Resolver, name: str) -> tuple[list[DmarcRecord], list[str]]:
    """The DMARC records at ``name`` (RFC 7489 §6.6.3 step 4), and TXT records that only look like one."""
    txts = await txt_records(resolver, name)
    records = [r for r in (parse_record(t) for t in txts) if r is not None]
    return records, [t for t in txts if looks_like_dmarc(t)]


def _lookalike_note(lookalikes: list[str]) -> str:
    if not lookalikes:
        return ""
    return f" ({lookalikes[0]!r} is not one: it must start with exactly v=DMARC1, so receivers ignore it)"


async def check_dmarc(
    resolver: dns.asyncresolver.Resolver,
    domain: str,
    rua: str,
    now: dt.datetime,
    *,
    spf_status: str,
    dkim_status: str,
) -> Verdict:
    """The DMARC policy receivers apply; a strict policy while nothing aligns is a fail.

    RFC 7489 §6.6.3 (not DMARCbis's DNS tree walk; see docs/authentication.md): without a record of
    its own, a subdomain gets the record of its organisational domain (Public Suffix List),
    whose sp= (or, without sp=, p=) applies. Parsing is ``domain.dmarc``. The reason names the
    record that applied, so the operator knows which one to change.
    """
    name = f"_dmarc.{domain}"
    fix = _txt(name, dmarc_starter(domain, rua))
    applied, inherited = name, False
    try:
        records, lookalikes = await _dmarc_records(resolver, name)
        org = await organisational_domain(domain)
        if not records and org != domain:
            applied, inherited = f"_dmarc.{org}", True
            records, org_lookalikes = await _dmarc_records(resolver, applied)
            lookalikes += org_lookalikes
    except DnsUnknown as exc:
        return Verdict("dmarc", UNKNOWN, str(exc), now, fix)
    if not records:
        also = f" nor at {applied}, the organisational domain's record it would inherit" if inherited else ""
        return Verdict("dmarc", FAIL, f"no DMARC record at {name}{also}{_lookalike_note(lookalikes)}", now, fix)
    where = f"{applied} (inherited by {domain})" if inherited else applied
    if len(records) > 1:
        return Verdict("dmarc", FAIL, f"{len(records)} DMARC records at {where}; receivers ignore them all", now, fix)
    record = records[0]
    chosen = record.applied(subdomain=inherited)
    problem = record.p_problem
    if inherited and record.sp_invalid:
        problem = f"has sp={record.tags['sp']} (not none, quarantine or reject)"
    if chosen is None:
        return Verdict(
            "dmarc",
            FAIL,
            f"the DMARC record at {where} {problem} and no valid rua=: receivers apply no DMARC policy "
            "(use none, quarantine or reject)",
            now,
            fix,
        )
    tag, policy = chosen
    source = f" inherited from {applied}" if inherited else f" at {applied}"
    if policy != "none" and PASS not in (spf_status, dkim_status):
        return Verdict(
            "dmarc",
            FAIL,
            f"DMARC policy {tag}={policy}{source} while neither SPF nor DKIM passes: receivers will "
            f"{'reject' if policy == 'reject' else 'junk'} your mail",
            now,
        )
    if problem:
        return Verdict(
            "dmarc",
            PASS,
            f"the DMARC record at {where} {problem}; it has a valid rua=, so receivers apply p=none "
            f"({_MEANING['none']})",
            now,
            fix,
        )
    if not inherited:
        return Verdict("dmarc", PASS, f"DMARC policy p={policy} at {applied} ({_MEANING[policy]})", now)
    why = _MEANING[policy] if tag == "sp" else f"no sp= tag, so p= applies; {_MEANING[policy]}"
    return Verdict("dmarc", PASS, f"no record at {name}; inherited from {applied}, {tag}={policy} ({why})", now)
