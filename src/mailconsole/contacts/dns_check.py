"""Does an address look deliverable? Syntax, known-bad lists, the domain, MX or A records.

Three answers, because a person must know the difference: ``pass`` (the address looks fine),
``reject`` (verified and it is not fine: the contact stays blocked) and ``error`` (we could not
find out, e.g. the DNS server is unreachable: nothing about the contact changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
from disposable_email_domains import blocklist as DISPOSABLE

from mailconsole.domain.addresses import AddressError, normalize_address
from mailconsole.settings import Settings

Verdict = Literal["pass", "reject", "error"]


@dataclass(frozen=True, slots=True)
class AddressCheck:
    verdict: Verdict
    detail: str


def _host_port(entry: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``[::1]:5353`` or a bare IPv6 address."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, int(port)
    return entry, 53


def make_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """A resolver on ``settings.dns_nameservers`` (host[:port]) or the system's, with our timeout."""
    if settings.dns_nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        servers: list[str | dns.nameserver.Nameserver] = []
        for entry in settings.dns_nameservers:
            host, port = _host_port(entry.strip())
            servers.append(dns.nameserver.Do53Nameserver(host, port))
        resolver.nameservers = servers
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.timeout = settings.dns_timeout
    resolver.lifetime = settings.dns_timeout
    return resolver


async def _lookup(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> list[str] | None:
    """Records of one type; None when the name does not exist, [] when it has none of this type."""
    try:
        answer = await resolver.resolve(name, rdtype, search=False)
    except dns.resolver.NXDOMAIN:
        return None
    except dns.resolver.NoAnswer:
        return []
    return [rr.to_text() for rr in answer]


async def check_address(address: str, settings: Settings) -> AddressCheck:
    try:
        normal = normalize_address(address)
    except AddressError as exc:
        return AddressCheck("reject", f"invalid address: {exc.message}")
    domain = normal.rsplit("@", 1)[1]
    labels = domain.split(".")
    if any(".".join(labels[i:]) in DISPOSABLE for i in range(len(labels) - 1)):
        return AddressCheck("reject", f"{domain} is a disposable-address service")
    resolver = make_resolver(settings)
    try:
        mx = await _lookup(resolver, domain, "MX")
        if mx is None:
            return AddressCheck("reject", f"the domain {domain} does not exist")
        hosts = [r.split()[-1] for r in mx]
        if hosts and all(h == "." for h in hosts):
            return AddressCheck("reject", f"{domain} accepts no mail (null MX)")
        if hosts:
            return AddressCheck("pass", f"{domain} has MX {', '.join(sorted(hosts))}")
        a = await _lookup(resolver, domain, "A")
        if a:
            return AddressCheck("pass", f"{domain} has no MX but an A record {a[0]}")
        return AddressCheck("reject", f"the domain {domain} has no MX or A record")
    except (dns.exception.Timeout, dns.resolver.NoNameservers, OSError) as exc:
        name = type(exc).__name__
        return AddressCheck("error", f"DNS could not be reached ({name}); try again later")
    except dns.exception.DNSException as exc:
        return AddressCheck("error", f"DNS lookup failed: {exc}")
