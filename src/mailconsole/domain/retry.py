"""When to try a deferred message again, and when to give up on it.

Capped exponential backoff with "equal jitter": the delay is at least half the exponential
step, so retries never collapse to zero, and the other half is random, so a burst of
messages deferred together (a receiver's 451 storm) does not come back as one burst.
A message older than the maximum age fails as expired instead of being retried.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

_RNG = random.Random()


@dataclass(frozen=True)
class RetryDecision:
    expired: bool
    at: dt.datetime | None  # next attempt time when not expired


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay after the ``attempt``-th failed attempt (1-based)."""
    step = min(cap, base * (2 ** max(0, attempt - 1)))
    jitter = (rng or _RNG).uniform(0, step / 2)
    return step / 2 + jitter


def next_attempt(
    *,
    now: dt.datetime,
    created_at: dt.datetime,
    attempt: int,
    base: float,
    cap: float,
    max_age: dt.timedelta,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Retry time for a transient failure, or expired once the message reached its maximum age.

    The last retry is pulled in to the deadline, so a message gets one final try at its
    maximum age rather than being dropped early.
    """
    deadline = created_at + max_age
    if now >= deadline:
        return RetryDecision(True, None)
    at = now + dt.timedelta(seconds=backoff_seconds(attempt, base=base, cap=cap, rng=rng))
    return RetryDecision(False, min(at, deadline))
