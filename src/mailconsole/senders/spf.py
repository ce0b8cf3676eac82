"""SPF: the record that covers the account's sending servers, and whether the published one does.

Requirements come from the active sending servers: an SMTP server's host (its IP as ip4/ip6,
or ``a:host``), an ESP's published include domain. The evaluation walks the published record
(includes and redirects, recursively) counting the DNS lookups RFC 7208 limits to 10.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver

from mailconsole.senders.dns_lookup import DnsUnknown, addresses, txt_records

# The include domain each ESP documents for SPF.
ESP_SPF_INCLUDES: dict[str, str] = {
    "ses": "amazonses.com",
    "sendgrid": "sendgrid.net",
    "mailgun": "mailgun.org",
    "postmark": "spf.mtasv.net",
    "elasticemail": "_spf.elasticemail.com",
}
MAX_LOOKUPS = 10
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
    """What a published SPF record (with its includes) authorises."""

    lookups: int = 0
    networks: list[IpNetwork] = field(default_factory=list)
    a_hosts: set[str] = field(default_factory=set)
    includes: set[str] = field(default_factory=set)
    plus_all: bool = False
    errors: list[str] = field(default_factory=list)


async def walk(resolver: dns.asyncresolver.Resolver, domain: str, record: str, tree: SpfTree, depth: int = 0) -> None:
    """Collect the mechanisms of ``record`` and, recursively, of its includes and redirect."""
    for term in record.split()[1:]:
        qualifier = "+"
        if term[:1] in "+-~?":
            qualifier, term = term[0], term[1:]
        name, sep, arg = term.partition(":")
        if not sep:
            name, sep, arg = term.partition("=")
            if sep and name.lower() != "redirect":
                continue  # exp= and unknown modifiers
        name = name.lower()
        if "/" in name:  # "a/24", "mx/24"
            name = name.split("/", 1)[0]
        target = arg.split("/", 1)[0].lower().rstrip(".")
        passing = qualifier == "+"
        if name in ("ip4", "ip6"):
            try:
                if passing:
                    tree.networks.append(ipaddress.ip_network(arg, strict=False))
            except ValueError:
                tree.errors.append(f"{term!r} is not a valid network")
        elif name == "all":
            tree.plus_all = tree.plus_all or passing
        elif name == "a":
            tree.lookups += 1
            if passing:
                tree.a_hosts.add(target or domain)
        elif name in ("mx", "ptr", "exists"):
            tree.lookups += 1
        elif name in ("include", "redirect"):
            tree.lookups += 1
            if not passing and name == "include":
                continue
            tree.includes.add(target)
            if "%" in target or depth >= MAX_LOOKUPS or tree.lookups > MAX_LOOKUPS:
                continue
            nested = spf_records(await txt_records(resolver, target))
            if len(nested) != 1:
                what = "no SPF record" if not nested else f"{len(nested)} SPF records"
                tree.errors.append(f"{name}:{target} has {what}")
                continue
            await walk(resolver, target, nested[0], tree, depth + 1)


async def authorised(resolver: dns.asyncresolver.Resolver, tree: SpfTree, req: SpfRequirement) -> bool | None:
    """Does the walked record authorise this server? None when it cannot be told from here."""
    if tree.plus_all:
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
    a_ips: set[str] = set()
    for host in sorted(tree.a_hosts):
        a_ips.update(await addresses(resolver, host))
    for ip in ips:
        addr = ipaddress.ip_address(ip)
        if not (ip in a_ips or any(addr in net for net in tree.networks)):
            return False
    return True


__all__ = [
    "ESP_SPF_INCLUDES",
    "MAX_LOOKUPS",
    "DnsUnknown",
    "SpfRequirement",
    "SpfTree",
    "authorised",
    "build_spf_record",
    "requirement_for",
    "spf_records",
    "walk",
]
