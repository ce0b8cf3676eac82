"""The OpenSPF test suites (RFC 7208 and RFC 4408), each case against a real DNS server.

Every scenario's zone is served on 127.0.0.1 by ``SuiteZoneServer`` and every case is asked
through ``spf_check.check_host`` - the call ``domains check`` makes for each sending server -
with a resolver built from settings like the one ``domains check`` builds. A case passes when
the result is the expected one (or one of the expected, where the suite allows several) and,
where the suite names an explanation, the explanation is that text.

Not compared (deliberately, and not part of the verdict): the ``Received-SPF`` header and
``strict``/``receiver`` knobs of pyspf's own driver, which no receiver-facing answer depends on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.resolver
import pytest
import spf as pyspf
import yaml

from mailconsole.senders.resolver import make_resolver, sync_twin
from mailconsole.senders.spf_check import check_host
from mailconsole.settings import Settings
from tests.senders.dns_server import ThreadedZone
from tests.senders.spf_zone import SuiteZoneServer

DATA = Path(__file__).parent.parent / "data" / "spf"
SUITES = ("rfc7208-tests.yml", "rfc4408-tests.yml")
# The suite's zones mark a timeout by not answering; this bounds what each costs.
LOOKUP_TIMEOUT = 0.4


def _cases() -> Iterator[Any]:
    for suite in SUITES:
        with (DATA / suite).open("rb") as fh:
            for scenario in yaml.safe_load_all(fh):
                for name, case in scenario["tests"].items():
                    yield pytest.param(scenario["zonedata"], case, id=f"{suite.split('-')[0]}:{name}")


CASES = list(_cases())


@pytest.fixture(scope="module")
def suite_zone() -> Iterator[SuiteZoneServer]:
    zone = ThreadedZone(SuiteZoneServer)
    try:
        server = zone.server
        assert isinstance(server, SuiteZoneServer)
        yield server
    finally:
        zone.close()


@pytest.fixture(scope="module")
def suite_resolver(suite_zone: SuiteZoneServer) -> dns.resolver.Resolver:
    settings = Settings(dns_nameservers=[f"127.0.0.1:{suite_zone.port}"], dns_timeout=LOOKUP_TIMEOUT)
    return sync_twin(make_resolver(settings))


def test_the_suites_hold_every_case_of_both_rfcs() -> None:
    """203 cases of RFC 7208 and 191 of RFC 4408, as the suites' 2014 release ships them."""
    ids = [p.id for p in CASES]
    assert (sum(i.startswith("rfc7208:") for i in ids), sum(i.startswith("rfc4408:") for i in ids)) == (203, 191)


@pytest.mark.parametrize(("zonedata", "case"), CASES)
async def test_check_host_agrees_with_the_openspf_suite(
    suite_zone: SuiteZoneServer, suite_resolver: dns.resolver.Resolver, zonedata: dict[str, Any], case: dict[str, Any]
) -> None:
    suite_zone.load(zonedata)
    got = await check_host(suite_resolver, case["host"], case["mailfrom"], case["helo"])
    expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
    assert got.result in expected, f"{case.get('description', '')} ({case['spec']}): got {got}"
    explanation = case.get("explanation")
    if explanation == "DEFAULT":
        assert got.explanation == pyspf.EXPLANATIONS[got.result]
    elif explanation is not None:
        assert got.explanation == explanation
