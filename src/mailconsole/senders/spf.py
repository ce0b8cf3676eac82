"""SPF: the record that covers the account's sending servers, and whether the published one does.

Requirements come from the active sending servers: an SMTP server's host (its IP as ip4/ip6,
or ``a:host``), an ESP's published include domain. The evaluation walks the published record
(includes and redirects, recursively) as a receiver would: a, mx and exists are resolved, and
the DNS lookups (10), the address lookups per mx (10) and the void lookups (2) RFC 7208
limits are counted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver

from mailconsole.senders.dns_lookup import DnsUnknown, addresses, mx_hosts, txt_records

# The include domain each ESP documents for SPF.
ESP_SPF_INCLUDES: dict[str, str] = {
    "ses": "amazonses.com",
    "sendgrid": "sendgrid.net",
    "mailgun": "mailgun.org",
    "postmark": "spf.mtasv.net",
    "elasticemail": "_spf.elasticemail.com",
}
MAX_LOOKUPS = 10  # RFC 7208 §4.6.4: include, a, mx, ptr, exists and redirect together
MAX_MX_HOSTS = 10  # ... and at most 10 address lookups for the names of one mx
MAX_VOID_LOOKUPS = 2  # ... and at most 2 queries that find nothing (NXDOMAIN or no records)
_CIDR = re.compile(r"^(?:/(\d{1,2}))?(?://(\d{1,3}))?$")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class SpfRequirement:
    """What one sending server needs from SPF. ``kind``: ip | host | include | unknown."""

    server: str
    kind: str
    value: str

    @property
    def mechanism(self) -> str:
        if self.kind == "ip":
            return ("ip6:" if ":" in self.value else "ip4:") + self.value
        if self.kind == "host":
            return f"a:{self.value}"
        if self.kind == "include":
            return f"include:{self.value}"
        return ""


def requirement_for(server_name: str, server_type: str, settings: dict[str, Any]) -> SpfRequirement:
    """The SPF mechanism a server needs, from its type and settings."""
    if server_type in ESP_SPF_INCLUDES:
        return SpfRequirement(server_name, "include", ESP_SPF_INCLUDES[server_type])
    host = str(settings.get("host") or "").strip().lower().rstrip(".")
    if server_type == "smtp" and host:
        try:
            return SpfRequirement(server_name, "ip", str(ipaddress.ip_address(host)))
        except ValueError:
            return SpfRequirement(server_name, "host", host)
    # sendmail (or an SMTP server without a host) sends from this machine: its address is
    # not known here, so the operator must add it by hand.
    return SpfRequirement(server_name, "unknown", server_type)


def build_spf_record(requirements: list[SpfRequirement]) -> str:
    """``v=spf1 <mechanisms> ~all``: softfail to start, tighten to -all once reports are clean."""
    mechanisms: list[str] = []
    for req in requirements:
        if req.mechanism and req.mechanism not in mechanisms:
            mechanisms.append(req.mechanism)
    return " ".join(["v=spf1", *mechanisms, "~all"])


def spf_records(txts: list[str]) -> list[str]:
    return [t for t in txts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


@dataclass
class SpfTree:
    """What a published SPF record (with its includes) authorises, and what evaluating it costs."""

    lookups: int = 0
    voids: list[str] = field(default_factory=list)  # terms whose query found no records
    networks: list[IpNetwork] = field(default_factory=list)
    a_hosts: set[str] = field(default_factory=set)
    includes: set[str] = field(default_factory=set)
    plus_all: bool = False
    open_exists: str = ""  # a passing exists: whose name has an address, so it matches every sender
    unresolved: list[str] = field(default_factory=list)  # passing terms with macros (depend on the message)
    errors: list[str] = field(default_factory=list)

    @property
    def resolving(self) -> bool:
        """Past the lookup limit we only count (a lower bound): that bounds the queries we make."""
        return self.lookups <= MAX_LOOKUPS


def _cidr(term: str, text: str) -> tuple[int, int]:
    """``/24//64`` -> (24, 64); the defaults are one address (32, 128)."""
    match = _CIDR.match(text)
    if match is None:
        raise ValueError(f"{term!r} has an invalid prefix length")
    v4 = int(match.group(1)) if match.group(1) else 32
    v6 = int(match.group(2)) if match.group(2) else 128
    if v4 > 32 or v6 > 128:
        raise ValueError(f"{term!r} has an invalid prefix length")
    return v4, v6


def _networks(ips: list[str], v4: int, v6: int) -> list[IpNetwork]:
    out: list[IpNetwork] = []
    for ip in ips:
        addr = ipaddress.ip_address(ip)
        out.append(ipaddress.ip_network(f"{addr}/{v4 if addr.version == 4 else v6}", strict=False))
    return out


async def _resolve_a(
    resolver: dns.asyncresolver.Resolver, tree: SpfTree, term: str, host: str, cidr: tuple[int, int], passing: bool
) -> None:
    found = await addresses(resolver, host)
    if not found:
        tree.voids.append(term)
    elif passing:
        tree.networks.extend(_networks(found, *cidr))


async def _resolve_mx(
    resolver: dns.asyncresolver.Resolver, tree: SpfTree, term: str, host: str, cidr: tuple[int, int], passing: bool
) -> None:
    """RFC 7208 §4.6.4: one lookup for the MX set, then at most 10 names, each an address lookup."""
    names = await mx_hosts(resolver, host)
    if names is None:
        tree.voids.append(term)
        return
    if len(names) > MAX_MX_HOSTS:
        tree.errors.append(
            f"{term} has {len(names)} MX hosts, each needing an address lookup; the limit is {MAX_MX_HOSTS} per mx"
        )
        return
    found = await asyncio.gather(*(addresses(resolver, name) for name in names))
    if passing:
        for ips in found:
            tree.networks.extend(_networks(ips, *cidr))


async def _resolve_exists(
    resolver: dns.asyncresolver.Resolver, tree: SpfTree, term: str, target: str, passing: bool
) -> None:
    """exists: matches when the name has an A record (RFC 7208 §5.7: A, whatever the sender's family)."""
    if not await addresses(resolver, target, ("A",)):
        tree.voids.append(term)
    elif passing:
        tree.open_exists = tree.open_exists or target


async def walk(resolver: dns.asyncresolver.Resolver, domain: str, record: str, tree: SpfTree, depth: int = 0) -> None:
    """Collect the mechanisms of ``record`` and, recursively, of its includes and redirect.

    a, mx and exists are resolved as a receiver would, counting the lookups and the void
    lookups RFC 7208 §4.6.4 limits. Terms with macros (``%{i}`` …) depend on each message:
    they are counted but cannot be resolved here.
    """
    for raw in record.split()[1:]:
        qualifier, term = "+", raw
        if term[:1] in "+-~?":
            qualifier, term = term[0], term[1:]
        name, sep, arg = term.partition(":")
        if not sep:
            name, sep, arg = term.partition("=")
            if sep and name.lower() != "redirect":
                continue  # exp= and unknown modifiers
        name = name.lower()
        cidr_text = ""
        if "/" in name:  # "a/24", "mx//64"
            name, cidr_text = name.split("/", 1)[0], name[name.index("/") :]
        elif name in ("a", "mx") and "/" in arg:
            arg, cidr_text = arg[: arg.index("/")], arg[arg.index("/") :]
        target = (arg.lower().rstrip(".") if name not in ("ip4", "ip6") else arg) or domain
        passing = qualifier == "+"
        shown = f"{name}:{target}"
        if name in ("ip4", "ip6"):
            try:
                if passing:
                    tree.networks.append(ipaddress.ip_network(arg, strict=False))
            except ValueError:
                tree.errors.append(f"{term!r} is not a valid network")
        elif name == "all":
            tree.plus_all = tree.plus_all or passing
        elif name in ("a", "mx", "exists", "ptr"):
            tree.lookups += 1
            if name == "a" and passing:
                tree.a_hosts.add(target)
            if name == "ptr" or not tree.resolving:
                continue
            if "%" in target:
                if passing:
                    tree.unresolved.append(shown)
                continue
            if name == "exists":
                await _resolve_exists(resolver, tree, shown, target, passing)
                continue
            try:
                cidr = _cidr(term, cidr_text)
            except ValueError as exc:
                tree.errors.append(str(exc))
                continue
            resolve = _resolve_a if name == "a" else _resolve_mx
            await resolve(resolver, tree, shown, target, cidr, passing)
        elif name in ("include", "redirect"):
            tree.lookups += 1
            if not passing and name == "include":
                continue
            tree.includes.add(target)
            if "%" in target:
                tree.unresolved.append(shown)
                continue
            if depth >= MAX_LOOKUPS or not tree.resolving:
                continue
            txts = await txt_records(resolver, target)
            if not txts:
                tree.voids.append(shown)
            nested = spf_records(txts)
            if len(nested) != 1:
                what = "no SPF record" if not nested else f"{len(nested)} SPF records"
                tree.errors.append(f"{name}:{target} has {what}")
                continue
            await walk(resolver, target, nested[0], tree, depth + 1)


async def authorised(resolver: dns.asyncresolver.Resolver, tree: SpfTree, req: SpfRequirement) -> bool | None:
    """Does the walked record authorise this server? None when it cannot be told from here."""
    if tree.plus_all or tree.open_exists:
        return True
    if req.kind == "include":
        return req.value in tree.includes
    if req.kind == "unknown":
        return None
    if req.kind == "host" and req.value in tree.a_hosts:
        return True
    ips = [req.value] if req.kind == "ip" else await addresses(resolver, req.value)
    if not ips:
        return False
    if all(any(ipaddress.ip_address(ip) in net for net in tree.networks) for ip in ips):
        return True
    return None if tree.unresolved else False


__all__ = [
    "ESP_SPF_INCLUDES",
    "MAX_LOOKUPS",
    "MAX_MX_HOSTS",
    "MAX_VOID_LOOKUPS",
    "DnsUnknown",
    "SpfRequirement",
    "SpfTree",
    "authorised",
    "build_spf_record",
    "requirement_for",
    "spf_records",
    "walk",
]
