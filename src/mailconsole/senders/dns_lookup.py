"""TXT and address lookups that separate "the record is not there" from "DNS did not answer".

The distinction is the whole point of the checks: a missing record is a fail the operator can
fix by publishing it; a timeout or SERVFAIL says nothing about the domain and must show as
unknown, never fail.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.resolver


class DnsUnknown(Exception):
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


async def addresses(resolver: dns.asyncresolver.Resolver, host: str) -> list[str]:
    """A and AAAA addresses of ``host``; [] if it has none."""
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
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
