"""A DNS server on 127.0.0.1 that serves one scenario of the OpenSPF YAML test suites.

The suites (tests/data/spf/, see its README) describe each scenario's zone as a map of names
to records: ``TXT``, ``SPF`` (type 99), ``A``, ``AAAA``, ``MX``, ``PTR``, ``CNAME``, plus two
markers their drivers interpret. This server does what they describe on the wire:

- ``TIMEOUT`` in a name's list: queries for that name time out (no answer is sent) unless a
  record of the queried type comes before the marker; ``TYPE: TIMEOUT``: that type times out.
- ``TXT: NONE``: the name has no TXT records, and SPF records are not copied to TXT.
  Otherwise a name with SPF records and no TXT record gets each SPF record as TXT too (the
  suite's "auto-magic duplication", so RFC 4408-era scenarios test TXT-only checkers).
- CNAME: the answer carries the chain and the target's records, as a recursive resolver
  gives them; a loop ends the chain.
- A record with no strings at all (``SPF: []``) cannot be carried by DNS; it is served as one
  empty string, the nearest record a real zone can hold.
"""

from __future__ import annotations

from typing import Any

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

from tests.senders.dns_server import ZoneServer, name_text

TIMEOUT = "TIMEOUT"
Entry = tuple[str, Any] | str  # (type, value) or the TIMEOUT marker


def zone_entries(zonedata: dict[str, list[Any]]) -> dict[str, list[Entry]]:
    """The YAML ``zonedata`` as entries per lower-cased name, SPF copied to TXT as the suite says."""
    zone: dict[str, list[Entry]] = {}
    for name, records in zonedata.items():
        entries: list[Entry] = []
        has_txt = False
        spf: list[Entry] = []
        for record in records:
            if record == TIMEOUT:
                entries.append(TIMEOUT)
                continue
            for rdtype, value in record.items():
                if rdtype == "TXT":
                    has_txt = True
                if value == "NONE":
                    continue
                entries.append((rdtype, value))
                if rdtype == "SPF":
                    spf.append(("TXT", value))
        if not has_txt:
            entries.extend(spf)
        zone[name.lower().rstrip(".")] = entries
    return zone


def _strings(value: Any) -> list[bytes]:
    parts = [value] if isinstance(value, str) else list(value)
    out: list[bytes] = []
    for part in parts:
        raw = str(part).encode("utf-8")
        out.extend(raw[i : i + 255] for i in range(0, len(raw), 255)) if raw else out.append(b"")
    return out or [b""]


def _absolute(value: str) -> dns.name.Name:
    return dns.name.from_text(value.rstrip(".") + "." if value.strip(".") else ".")


def _rdata(rdtype: str, value: Any) -> dns.rdata.Rdata:
    cls, typ = dns.rdataclass.IN, dns.rdatatype.from_text(rdtype)
    if rdtype in ("TXT", "SPF"):
        return dns.rdtypes.ANY.TXT.TXT(cls, typ, _strings(value)) if rdtype == "TXT" else _spf_rdata(value)
    if rdtype == "MX":
        preference, exchange = value
        return dns.rdata.from_text(cls, typ, f"{int(preference)} {_absolute(str(exchange))}")
    if rdtype in ("PTR", "CNAME"):
        return dns.rdata.from_text(cls, typ, _absolute(str(value)).to_text())
    return dns.rdata.from_text(cls, typ, str(value))


def _spf_rdata(value: Any) -> dns.rdata.Rdata:
    from dns.rdtypes.ANY.SPF import SPF

    return SPF(dns.rdataclass.IN, dns.rdatatype.SPF, _strings(value))


class SuiteZoneServer(ZoneServer):
    """Serves ``zone`` (set per scenario with :meth:`load`) the way the YAML describes."""

    def __init__(self) -> None:
        super().__init__()
        self.zone: dict[str, list[Entry]] = {}

    def load(self, zonedata: dict[str, list[Any]]) -> None:
        self.zone = zone_entries(zonedata)

    def _records(self, name: str, rdtype: str) -> list[Any] | None:
        """Values of ``rdtype`` at ``name``; None when the question must time out."""
        found: list[Any] = []
        for entry in self.zone[name]:
            if entry == TIMEOUT:
                return found or None
            kind, value = entry
            if kind == rdtype:
                if value == TIMEOUT:
                    return None
                found.append(value)
        return found

    def respond(self, query: dns.message.Message, name: str, rdtype: str) -> dns.message.Message | None:
        response = dns.message.make_response(query)
        owner = query.question[0].name
        seen: set[str] = set()
        while True:
            if name not in self.zone:
                if not response.answer:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            values = self._records(name, rdtype)
            if values is None:
                return None
            if values:
                rdatas = [_rdata(rdtype, v) for v in values]
                response.answer.append(dns.rrset.from_rdata_list(owner, 300, rdatas))
                return response
            cnames = self._records(name, "CNAME") if rdtype != "CNAME" else []
            if not cnames or name in seen:
                return response
            seen.add(name)
            target = _absolute(str(cnames[0]))
            response.answer.append(dns.rrset.from_rdata_list(owner, 300, [_rdata("CNAME", str(cnames[0]))]))
            owner, name = target, name_text(target)
