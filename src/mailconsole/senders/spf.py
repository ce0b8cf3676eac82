"""SPF: what each active sending server needs from the record, and the record that covers them.

Requirements come from the active sending servers: an SMTP server's host (its IP as ip4/ip6,
or ``a:host``), an ESP's published include domain. Whether the published record authorises
them is not decided here but by RFC 7208 ``check_host()`` (``spf_check``, ``spf_verdict``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver

from mailconsole.senders.dns_lookup import txt_records

# The include domain each ESP documents for SPF.
ESP_SPF_INCLUDES: dict[str, str] = {
    "ses": "amazonses.com",
    "sendgrid": "sendgrid.net",
    "mailgun": "mailgun.org",
    "postmark": "spf.mtasv.net",
    "elasticemail": "_spf.elasticemail.com",
}
MAX_LOOKUPS = 10  # RFC 7208 §4.6.4: records we read to learn an ESP's sending addresses


@dataclass(frozen=True, slots=True)
class SpfRequirement:
    """What one sending server needs from SPF. ``kind``: ip | host | include | unknown.

    ``envelope_domain`` is the domain of the MAIL FROM the server sends with when it is not
    the sending domain (VERP on the bounce domain): receivers check SPF on that domain.
    """

    server: str
    kind: str
    value: str
    envelope_domain: str = ""

    @property
    def mechanism(self) -> str:
        if self.kind == "ip":
            return ("ip6:" if ":" in self.value else "ip4:") + self.value
        if self.kind == "host":
            return f"a:{self.value}"
        if self.kind == "include":
            return f"include:{self.value}"
        return ""


def requirement_for(
    server_name: str, server_type: str, settings: dict[str, Any], envelope_domain: str = ""
) -> SpfRequirement:
    """The SPF mechanism a server needs, from its type and settings."""
    if server_type in ESP_SPF_INCLUDES:
        return SpfRequirement(server_name, "include", ESP_SPF_INCLUDES[server_type])
    host = str(settings.get("host") or "").strip().lower().rstrip(".")
    if server_type == "smtp" and host:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return SpfRequirement(server_name, "host", host, envelope_domain)
        # ::ffff:192.0.2.1 connects as 192.0.2.1 (RFC 7208 §5): it needs ip4, not ip6
        mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
        return SpfRequirement(server_name, "ip", str(mapped or addr), envelope_domain)
    # sendmail (or an SMTP server without a host) sends from this machine: its address is
    # not known here, so the operator must add it by hand.
    return SpfRequirement(server_name, "unknown", server_type, envelope_domain)


def build_spf_record(requirements: list[SpfRequirement]) -> str:
    """``v=spf1 <mechanisms> ~all``: softfail to start, tighten to -all once reports are clean."""
    mechanisms: list[str] = []
    for req in requirements:
        if req.mechanism and req.mechanism not in mechanisms:
            mechanisms.append(req.mechanism)
    return " ".join(["v=spf1", *mechanisms, "~all"])


def spf_records(txts: list[str]) -> list[str]:
    return [t for t in txts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


def _plus_networks(record: str) -> tuple[list[str], list[str]]:
    """The ``ip4``/``ip6`` networks a record passes, and the domains it includes (in order)."""
    networks: list[str] = []
    includes: list[str] = []
    for term in record.split()[1:]:
        if term[:1] in "-~?":
            continue
        term = term.lstrip("+")
        name, _, arg = term.partition(":")
        if name.lower() in ("ip4", "ip6") and arg:
            networks.append(arg)
        elif name.lower() == "include" and arg and "%" not in arg:
            includes.append(arg.lower().rstrip("."))
    return networks, includes


async def published_sending_ips(resolver: dns.asyncresolver.Resolver, domain: str) -> list[str]:
    """One address from each network an ESP's SPF record (and its includes) passes, in order.

    An ESP does not tell us which address will send our next message, but it publishes the
    ones it sends from: checking one of them against our record asks what a receiver asks.
    Bounded: at most MAX_LOOKUPS records are read, and no record twice.
    """
    found: list[str] = []
    pending, seen = [domain], set[str]()
    while pending and len(seen) < MAX_LOOKUPS:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        records = spf_records(await txt_records(resolver, name))
        if len(records) != 1:
            continue
        networks, includes = _plus_networks(records[0])
        for net in networks:
            try:
                found.append(str(ipaddress.ip_network(net, strict=False).network_address))
            except ValueError:
                continue
        pending.extend(includes)
    return found


__all__ = [
    "ESP_SPF_INCLUDES",
    "MAX_LOOKUPS",
    "SpfRequirement",
    "build_spf_record",
    "published_sending_ips",
    "requirement_for",
    "spf_records",
]
