"""The one place DNS resolvers are built, so every lookup honours ``settings.dns_nameservers``.

Operators often must use internal resolvers (split-horizon DNS, egress rules), and tests point
this at a DNS server they start on 127.0.0.1. Entries are ``host[:port]`` (``[v6]:port`` for
IPv6); an empty list means the system's resolvers from /etc/resolv.conf.
"""

from __future__ import annotations

import ipaddress
import socket

import dns.asyncresolver
import dns.nameserver
import dns.resolver

from mailconsole.domain.errors import ConfigError
from mailconsole.settings import Settings


class ResolverConfigError(ConfigError, ValueError):
    """A nameserver entry that cannot be used; the message names it."""


def parse_nameserver(entry: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``[::1]:53``, ``::1`` or ``dns.internal:53`` -> (ip, port)."""
    text = entry.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(entry, rest[1:])
    elif text.count(":") == 1:
        host, _, raw_port = text.partition(":")
        port = _port(entry, raw_port)
    if not host:
        raise ResolverConfigError(f"DNS nameserver {entry!r}: no host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = str(socket.getaddrinfo(host, port, proto=socket.IPPROTO_UDP)[0][4][0])
        except OSError as exc:
            raise ResolverConfigError(f"DNS nameserver {entry!r}: cannot resolve ({exc})") from None
    return host, port


def _port(entry: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise ResolverConfigError(f"DNS nameserver {entry!r}: port {raw!r} is not a number") from None
    if not 0 < port < 65536:
        raise ResolverConfigError(f"DNS nameserver {entry!r}: port {port} is out of range")
    return port


def make_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """An async resolver with the configured nameservers and the configured timeout.

    ``lifetime`` bounds the whole query (all retries), so a dead resolver costs at most
    ``dns_timeout`` per lookup and the check reports "unknown" instead of hanging.
    """
    if settings.dns_nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(e)) for e in settings.dns_nameservers]
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ResolverConfigError(
                "no system DNS resolvers (/etc/resolv.conf); set MAILCONSOLE_DNS_NAMESERVERS"
            ) from None
    resolver.timeout = settings.dns_timeout
    resolver.lifetime = settings.dns_timeout
    resolver.cache = None
    return resolver


def sync_twin(resolver: dns.resolver.BaseResolver) -> dns.resolver.Resolver:
    """A blocking resolver with the same nameservers, timeout and lifetime as ``resolver``.

    pyspf (``spf_check``) asks DNS synchronously from a worker thread; building its resolver
    from the async one keeps one source of truth for the settings, including a resolver a
    test or the console passed in.
    """
    twin = dns.resolver.Resolver(configure=False)
    twin.nameservers = list(resolver.nameservers)
    twin.timeout = resolver.timeout
    twin.lifetime = resolver.lifetime
    twin.cache = None
    return twin
