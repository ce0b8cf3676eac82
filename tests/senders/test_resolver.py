"""Nameservers come from settings (host[:port]); a bad entry is refused naming it."""

from __future__ import annotations

import pytest

from mailconsole.senders.resolver import ResolverConfigError, make_resolver, parse_nameserver
from mailconsole.settings import load_settings


def test_nameserver_entries_accept_ipv4_ipv6_and_ports() -> None:
    assert parse_nameserver("10.0.0.53") == ("10.0.0.53", 53)
    assert parse_nameserver("10.0.0.53:5353") == ("10.0.0.53", 5353)
    assert parse_nameserver("[::1]:5300") == ("::1", 5300)
    assert parse_nameserver("::1") == ("::1", 53)


def test_bad_nameserver_port_is_refused_naming_the_entry() -> None:
    with pytest.raises(ResolverConfigError) as info:
        parse_nameserver("10.0.0.53:dns")
    assert str(info.value) == "DNS nameserver '10.0.0.53:dns': port 'dns' is not a number"


def test_environment_nameservers_reach_the_resolver_with_the_timeout() -> None:
    settings = load_settings(
        env={"MAILCONSOLE_DNS_NAMESERVERS": "127.0.0.1:5353, 10.1.1.1", "MAILCONSOLE_DNS_TIMEOUT": "1.5"}
    )
    resolver = make_resolver(settings)
    assert [(ns.address, ns.port) for ns in resolver.nameservers] == [  # type: ignore[union-attr]
        ("127.0.0.1", 5353),
        ("10.1.1.1", 53),
    ]
    assert resolver.lifetime == 1.5

