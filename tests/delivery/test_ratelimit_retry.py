"""Speed-limit arithmetic and the retry schedule (pure functions)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from mailconsole.domain.ratelimit import SpeedError, SpeedLimit, allowance, parse_speed
from mailconsole.domain.retry import backoff_seconds, next_attempt


def test_parse_speed_accepts_unlimited_hour_and_day() -> None:
    assert parse_speed("unlimited") == SpeedLimit()
    assert parse_speed("10/hour") == SpeedLimit("hour", 10)
    assert parse_speed("500/day") == SpeedLimit("day", 500)


@pytest.mark.parametrize("text", ["fast", "0/hour", "10/minute", "-3/day", ""])
def test_parse_speed_rejects_anything_else_with_one_clear_message(text: str) -> None:
    with pytest.raises(SpeedError) as info:
        parse_speed(text)
    assert str(info.value) == f"speed must be unlimited, N/hour or N/day with N >= 1, got {text!r}"


def test_ten_per_hour_is_spread_one_every_six_minutes() -> None:
    speed = SpeedLimit("hour", 10)
    assert speed.slice == dt.timedelta(minutes=6)
    assert allowance(speed, in_window=0, in_slice=0) == 1
    assert allowance(speed, in_window=3, in_slice=1) == 0
    assert allowance(speed, in_window=10, in_slice=0) == 0


def test_large_caps_allow_bursts_within_the_slice() -> None:
    speed = SpeedLimit("hour", 1000)
    assert allowance(speed, in_window=0, in_slice=0) == 100
    assert allowance(speed, in_window=950, in_slice=0) == 50


def test_unlimited_has_no_allowance_limit() -> None:
    assert allowance(SpeedLimit(), 10**9, 10**9) is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    first = [backoff_seconds(1, base=60, cap=3600, rng=rng) for _ in range(50)]
    assert all(30 <= d <= 60 for d in first) and len(set(first)) > 1
    assert all(1800 <= backoff_seconds(20, base=60, cap=3600, rng=rng) <= 3600 for _ in range(50))


def test_retry_expires_at_the_maximum_age_with_a_last_try_at_the_deadline() -> None:
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    age = dt.timedelta(hours=72)
    late = next_attempt(now=created + dt.timedelta(hours=71, minutes=59), created_at=created, attempt=30,
                        base=60, cap=3600, max_age=age)
    assert not late.expired and late.at == created + age
    assert next_attempt(now=created + age, created_at=created, attempt=31, base=60, cap=3600, max_age=age).expired
