"""Wrong bearer keys are throttled per (source, key prefix) with 429 and Retry-After; a valid
key from the same address is never refused."""

from __future__ import annotations

import httpx

from mailconsole import metrics
from mailconsole.runtime import Runtime
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer, message_count


def _failures(interface: str) -> float:
    return metrics.COUNTERS.get_sample_value("mailconsole_auth_failures_total", {"interface": interface}) or 0.0


async def test_repeated_wrong_keys_get_429_with_retry_after_and_a_valid_key_still_sends(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    before = _failures("http")
    statuses = []
    retry_after = None
    for _ in range(8):
        response = await client.post("/v1/emails", json=MINIMAL, headers=bearer("mc_wrongkey_guess"))
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_after = response.headers["Retry-After"]
            assert response.json()["error"]["code"] == "too_many_failed_attempts"
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429] * 5
    assert retry_after is not None and int(retry_after) >= 1
    ok = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))
    assert ok.status_code == 202
    assert await message_count(runtime) == 1
    assert _failures("http") - before == 8


async def test_a_burst_of_different_wrong_keys_slows_only_the_failing_attempts(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    statuses = [
        (await client.post("/v1/emails", json=MINIMAL, headers=bearer(f"mc_gs{i:06d}_x"))).status_code
        for i in range(25)
    ]
    # Each key prefix is new, but the source's own count passes its threshold (20) too.
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    ok = await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.send))
    assert ok.status_code == 202
