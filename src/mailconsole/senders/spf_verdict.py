"""The SPF verdict of ``domains check``: ``check_host()`` for every active server's sending IPs.

Each server is asked as a receiver asks: its sending address(es) - an SMTP server's IP or its
host's A/AAAA records, one address from each network an ESP publishes - with the envelope
sender it uses (``postmaster@`` the sending domain, or the bounce domain for VERP). The
verdict is pass only when every checkable server gets ``pass``; the reason names each
server's result and the term that decided it, and the fix is the record with the missing
mechanisms first (terms are evaluated left to right, so that is where they take effect).

One deliberate difference from the verdict of ``check_host`` alone: a record that passes an
address nobody sends from (``+all``, ``ip4:0.0.0.0/0``, an ``exists`` that always matches) is
reported as a fail, because it lets anyone send as the domain. ``check_host`` itself is
unchanged by this; ``SpfVerdictDetail.results`` carries its answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.asyncresolver
import dns.resolver

from mailconsole.senders.dns_lookup import DnsUnknown, addresses, txt_records
from mailconsole.senders.resolver import sync_twin
from mailconsole.senders.spf import SpfRequirement, build_spf_record, published_sending_ips, spf_records
from mailconsole.senders.spf_check import SpfResult, check_host

# 240.0.0.0/4 is reserved (RFC 1112 §4): no mail is ever sent from it, so a record that passes
# it passes anyone.
NOBODY = "240.0.0.1"
NOBODY_SENDER_LOCAL = "postmaster"
# What to do about pyspf's most common permerrors (a phrase in its message -> the fix).
_PERMERROR_HINTS = (
    ("Void lookup limit", "remove the terms for names that do not exist"),
    ("DNS lookups", "replace includes with ip4/ip6 ranges"),
    ("MX records returned", "an mx term may name at most 10 hosts; list them as ip4/ip6"),
    ("Two or more type TXT spf records", "merge them into one"),
)


@dataclass(frozen=True, slots=True)
class ServerSpf:
    """What ``check_host`` answered for one server: per address, or why it could not be asked."""

    requirement: SpfRequirement
    results: tuple[tuple[str, SpfResult], ...] = ()  # (ip, result)
    problem: str = ""  # set when no address could be checked
    unknown: bool = False  # the problem is DNS, not the configuration
    sender: str = ""  # the envelope sender asked with
    broken: bool = False  # the problem is the server's own configuration: a fail

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.result == "pass" for _, r in self.results)

    @property
    def temperror(self) -> bool:
        return any(r.result == "temperror" for _, r in self.results)


@dataclass(frozen=True, slots=True)
class Answer:
    """One ``check_host()`` call as ``domains check --json`` reports it."""

    server: str
    ip: str
    sender: str
    result: str
    term: str


@dataclass(frozen=True, slots=True)
class SpfOutcome:
    status: str  # pass | fail | unknown
    reason: str
    fix: str
    answers: tuple[Answer, ...] = ()


def _describe(result: SpfResult) -> str:
    if result.result in ("permerror", "temperror"):
        return f"{result.result} ({result.term})"
    if result.term:
        return f"{result.result} by {result.term}"
    return f"{result.result} (no term matched)"


def _where(req: SpfRequirement, domain: str) -> str:
    return f" via {req.envelope_domain}" if req.envelope_domain and req.envelope_domain != domain else ""


async def _server(
    resolver: dns.asyncresolver.Resolver, domain: str, req: SpfRequirement, sync: dns.resolver.Resolver
) -> ServerSpf:
    if req.kind == "unknown":
        return ServerSpf(req, problem=f"{req.server} sends from this machine (add this machine's address)")
    try:
        if req.kind == "ip":
            ips = [req.value]
        elif req.kind == "host":
            ips = await addresses(resolver, req.value)
            if not ips:
                problem = f"{req.server}: its host {req.value} has no A/AAAA record, so it cannot send"
                return ServerSpf(req, problem=problem, broken=True)
        else:
            ips = (await published_sending_ips(resolver, req.value))[:1]
            if not ips:
                return ServerSpf(
                    req, problem=f"{req.value} publishes no ip4/ip6 range to check {req.server} with", unknown=True
                )
    except DnsUnknown as exc:
        return ServerSpf(req, problem=str(exc), unknown=True)
    sender = f"postmaster@{req.envelope_domain or domain}"
    answers = await asyncio.gather(*(check_host(sync, ip, sender) for ip in ips))
    return ServerSpf(req, tuple(zip(ips, answers, strict=True)), sender=sender)


def _fixed_record(current: str | None, missing: list[SpfRequirement], requirements: list[SpfRequirement]) -> str:
    """The published record with the missing mechanisms right after ``v=spf1``; ours if none.

    Terms are evaluated left to right, so an earlier ``-all`` or ``-ip4:`` would still decide;
    the same mechanism further on (with any qualifier) is dropped rather than repeated.
    """
    if current is None:
        return build_spf_record(requirements)
    add = [m for m in dict.fromkeys(r.mechanism for r in missing) if m]
    wanted = {m.lower() for m in add}
    terms = current.split()
    rest = [t for t in terms[1:] if t.lstrip("+-~?").lower() not in wanted]
    return " ".join([terms[0], *add, *rest])


async def evaluate(
    resolver: dns.asyncresolver.Resolver, domain: str, requirements: list[SpfRequirement]
) -> SpfOutcome:
    """Ask ``check_host`` for every server (and for an address nobody uses) and sum it up."""
    servers: list[ServerSpf] = []
    outcome = await _evaluate(resolver, domain, requirements, servers)
    answers = tuple(
        Answer(s.requirement.server, ip, s.sender, r.result, r.term) for s in servers for ip, r in s.results
    )
    return SpfOutcome(outcome.status, outcome.reason, outcome.fix, answers)


async def _evaluate(
    resolver: dns.asyncresolver.Resolver, domain: str, requirements: list[SpfRequirement], servers: list[ServerSpf]
) -> SpfOutcome:
    sync = sync_twin(resolver)
    ours = f'{domain} TXT "{build_spf_record(requirements)}"'
    try:
        published = spf_records(await txt_records(resolver, domain))
    except DnsUnknown as exc:
        return SpfOutcome("unknown", str(exc), ours)
    current = published[0] if len(published) == 1 else None
    servers.extend(await asyncio.gather(*(_server(resolver, domain, req, sync) for req in requirements)))
    nobody = await check_host(sync, NOBODY, f"{NOBODY_SENDER_LOCAL}@{domain}")
    own = [r for s in servers if not _where(s.requirement, domain) for _, r in s.results]
    broken = next((r for r in [nobody, *own] if r.result in ("permerror", "none")), None)
    if broken is not None and broken.result == "none":
        return SpfOutcome("fail", f"{domain} has no SPF (v=spf1) record", ours)
    if broken is not None:
        hint = next((h for k, h in _PERMERROR_HINTS if k in broken.term), "")
        reason = f"the SPF record of {domain} is broken, receivers return permerror: {broken.term}"
        return SpfOutcome("fail", reason + (f" ({hint})" if hint else ""), ours)

    failing = [s for s in servers if s.broken or (s.results and not s.passed and not s.temperror)]
    if failing:
        parts = [
            f"{s.requirement.server}{_where(s.requirement, domain)} ({ip}): {_describe(r)}"
            for s in failing
            for ip, r in s.results
            if r.result != "pass"
        ] + [s.problem for s in failing if s.broken]
        missing = [s.requirement for s in failing if s.results and not _where(s.requirement, domain)]
        fix = f'{domain} TXT "{_fixed_record(current, missing, requirements)}"' if missing else ""
        return SpfOutcome("fail", "receivers will not authenticate " + "; ".join(parts), fix)
    if nobody.result == "pass":
        reason = (
            f"the SPF record of {domain} passes {NOBODY}, an address no one sends from "
            f"({_describe(nobody)}): it lets anyone send as {domain}"
        )
        return SpfOutcome("fail", reason, ours)
    doubtful = [s for s in servers if s.temperror or s.unknown]
    if doubtful or nobody.result == "temperror":
        why = [s.problem or next(f"{s.requirement.server}: {_describe(r)}" for _, r in s.results
                                 if r.result == "temperror") for s in doubtful]
        if not why:
            why = [_describe(nobody)]
        return SpfOutcome("unknown", "cannot tell whether receivers authenticate every server: " + "; ".join(why), ours)

    checked = [s for s in servers if s.results]
    unverifiable = [s.problem for s in servers if not s.results and not s.broken]
    reason = "check_host() passes " + ", ".join(
        f"{s.requirement.server}{_where(s.requirement, domain)} ({ip}) by {r.term}"
        for s in checked
        for ip, r in s.results
    )
    if not checked:
        reason = "one valid SPF record; no active server it could be checked against"
    if unverifiable:
        reason += "; cannot verify " + "; ".join(unverifiable)
    return SpfOutcome("pass", reason, "")


__all__ = ["NOBODY", "Answer", "ServerSpf", "SpfOutcome", "evaluate"]
