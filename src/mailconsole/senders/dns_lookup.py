"""TXT and address lookups that separate "the record is not there" from "DNS did not answer".

The distinction is the whole point of the checks: a missing record is a fail the operator can
fix by publishing it; a timeout or SERVFAIL says nothing about the domain and must show as
unknown, never fail.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from mailconsole.domain.errors import TemporaryError


class DnsUnknown(TemporaryError):
    """DNS gave no usable answer (timeout, SERVFAIL, no nameserver reachable)."""


async def txt_records(resolver: dns.asyncresolver.Resolver, name: str) -> list[str]:
    """Every TXT record at ``name`` (multi-string records joined); [] if none or no such name."""
    try:
        answer = await resolver.resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return []
    except dns.resolver.LifetimeTimeout:
        raise DnsUnknown(f"DNS timed out looking up {name} TXT") from None
    except dns.exception.DNSException as exc:
        raise DnsUnknown(f"DNS error looking up {name} TXT: {exc}") from None
    if answer.rrset is None:
        return []
    out: list[str] = []
    for rdata in answer.rrset:
        out.append(b"".join(rdata.strings).decode("utf-8", "replace"))
    return out


async def addresses(
    resolver: dns.asyncresolver.Resolver, host: str, rdtypes: tuple[str, ...] = ("A", "AAAA")
) -> list[str]:
    """A and AAAA addresses of ``host`` (or only ``rdtypes``); [] if it has none."""
    found: list[str] = []
    for rdtype in rdtypes:
        try:
            answer = await resolver.resolve(host, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        except dns.resolver.LifetimeTimeout:
            raise DnsUnknown(f"DNS timed out looking up {host} {rdtype}") from None
        except dns.exception.DNSException as exc:
            raise DnsUnknown(f"DNS error looking up {host} {rdtype}: {exc}") from None
        if answer.rrset is not None:
            found.extend(rdata.to_text() for rdata in answer.rrset)
    return found


async def mx_hosts(resolver: dns.asyncresolver.Resolver, name: str) -> list[str] | None:
    """The exchange names of ``name``'s MX records, lowest preference first.

    None when the name has no MX records at all (NXDOMAIN or an empty answer: what RFC 7208
    calls a void lookup); a null MX (``0 .``) is an answer, so it gives [] instead.
    """
    try:
        answer = await resolver.resolve(name, "MX", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return None
    except dns.resolver.LifetimeTimeout:
        raise DnsUnknown(f"DNS timed out looking up {name} MX") from None
    except dns.exception.DNSException as exc:
        raise DnsUnknown(f"DNS error looking up {name} MX: {exc}") from None
    if answer.rrset is None or len(answer.rrset) == 0:
        return None
    ranked = sorted(answer.rrset, key=lambda rdata: rdata.preference)
    return [r.exchange.to_text(omit_final_dot=True).lower() for r in ranked if r.exchange != dns.name.root]
