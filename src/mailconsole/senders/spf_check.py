"""RFC 7208 ``check_host()`` by pyspf, the reference implementation, over our resolver settings.

Why pyspf and not our own evaluator: SPF is a small language with many sharp edges (term order
and qualifiers, macros and their syntax errors, ``ptr`` validation, ``redirect``/``exp``, the
lookup and void-lookup limits, permerror for every syntax slip). pyspf is what the OpenSPF test
suite was written against and passes it; a hand-written walk that got these wrong told admins
"authenticated" for records that receivers fail (issue #18).

pyspf is synchronous and asks DNS through one module-level function, ``spf.DNSLookup``. We
install :func:`_lookup` there once; it sends the query through the ``dns.resolver.Resolver``
bound to the current context by :func:`check_host` (settings' nameservers and timeout), and
falls back to pyspf's own lookup when no resolver is bound, so other users of the module are
unaffected. Each check runs in a worker thread (``asyncio.to_thread`` copies the context), so
the event loop - and the console on it - stays live while DNS answers.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import spf as pyspf

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
# RFC 7208 §4.6.4 suggests at least 20 s for the whole evaluation; we bound it by the resolver's
# lifetime instead (SPF_DEADLINE_QUERIES lifetimes), so an admin's check never hangs.
SPF_DEADLINE_QUERIES = 15

_bound: contextvars.ContextVar[dns.resolver.Resolver | None] = contextvars.ContextVar("spf_resolver", default=None)
_pyspf_lookup = pyspf.DNSLookup


@dataclass(frozen=True, slots=True)
class SpfResult:
    """What ``check_host()`` answered for one IP and sender.

    ``term`` is the term that decided it: the matching mechanism as written (``-all``,
    ``ip4:192.0.2.0/24``), ``""`` when nothing matched (the default, neutral), or for
    permerror/temperror the problem pyspf found (``Unknown mechanism found: moo``).
    """

    result: str
    term: str
    explanation: str = ""


def _answers(resolver: dns.resolver.Resolver, name: str, qtype: str, lifetime: float) -> Iterator[tuple[Any, Any]]:
    answer = resolver.resolve(name, qtype, lifetime=lifetime, raise_on_no_answer=False, search=False)
    if answer.rrset is None:
        return
    key = (name, qtype)
    for rdata in answer.rrset:
        if qtype in ("A", "AAAA"):
            yield key, rdata.address
        elif qtype == "MX":
            yield key, (rdata.preference, rdata.exchange)
        elif qtype == "PTR":
            yield key, rdata.target.to_text(True)
        elif qtype in ("TXT", "SPF"):
            yield key, tuple(rdata.strings)


def _lookup(name: str, qtype: str, strict: object = True, timeout: float = 20.0) -> list[tuple[Any, Any]]:
    """pyspf's DNSLookup contract: ``[((name, qtype), value), ...]``; TempError when DNS fails.

    "No such name" and "no records" are both an empty answer (pyspf counts it as a void
    lookup); a name DNS cannot even carry (a label over 63 bytes, over 255 in all) has no
    records either. Timeouts, SERVFAIL and unreachable servers are a TempError.
    """
    resolver = _bound.get()
    if resolver is None:
        return list(_pyspf_lookup(name, qtype, strict, timeout))
    lifetime = min(float(timeout or resolver.lifetime), resolver.lifetime)
    try:
        return list(_answers(resolver, name, qtype, lifetime))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.name.LabelTooLong, dns.name.NameTooLong, dns.name.EmptyLabel):
        return []
    except dns.resolver.LifetimeTimeout:
        raise pyspf.TempError(f"DNS timed out looking up {name} {qtype}") from None
    except dns.exception.DNSException as exc:
        raise pyspf.TempError(f"DNS error looking up {name} {qtype}: {exc}") from None
    except UnicodeError as exc:  # a non-ASCII name the IDNA codec refuses
        raise pyspf.PermError(f"invalid domain name {name!r}: {exc}") from None


pyspf.DNSLookup = _lookup


class _Query(pyspf.query):  # pyspf is untyped (Any)
    """pyspf's query with one correction, RFC 7208 §5.5's rule for validating ``ptr`` names.

    "If a DNS error occurs while doing an A RR lookup, then that domain name is skipped and the
    search continues." pyspf lets the error end the whole check as temperror instead (the
    suite's ``ptr-cname-loop`` case: a PTR name whose CNAME loops).
    """

    def validated_ptrs(self) -> list[str]:
        validated: list[str] = []
        for name in self.dns_ptr(self.i)[: pyspf.MAX_PTR]:
            try:
                if self.cidrmatch(self.dns_a(name, self.A), self.cidrmax):
                    validated.append(name)
            except pyspf.TempError:
                continue
        return validated


def _check(resolver: dns.resolver.Resolver, ip: str, sender: str, helo: str) -> SpfResult:
    _bound.set(resolver)
    budget = max(resolver.lifetime, 0.1) * SPF_DEADLINE_QUERIES
    query = _Query(i=ip, s=sender, h=helo, timeout=resolver.lifetime, querytime=budget)
    result, _code, explanation = query.check()
    result = {"unknown": "permerror", "error": "temperror"}.get(result, result)
    if result in ("permerror", "temperror"):
        problem = str(getattr(query, "prob", "") or explanation)
        where = [str(m) for m in getattr(query, "mech", []) if m]
        return SpfResult(result, f"{problem}: {where[-1]}" if where else problem, explanation)
    return SpfResult(result, str(query.mechanism or ""), explanation)


async def check_host(resolver: dns.resolver.Resolver, ip: str, sender: str, helo: str = "") -> SpfResult:
    """RFC 7208 §4 ``check_host(ip, domain of sender, sender)`` asked through ``resolver``.

    ``sender`` is the envelope sender (MAIL FROM); ``helo`` is used only when it is empty,
    as receivers do. An IP that is not an address at all is a permerror, as pyspf reports.
    """
    try:
        return await asyncio.to_thread(_check, resolver, ip, sender, helo)
    except pyspf.PermError as exc:  # raised before evaluation (a bad IP)
        return SpfResult("permerror", str(exc))


__all__ = ["RESULTS", "SPF_DEADLINE_QUERIES", "SpfResult", "check_host"]
