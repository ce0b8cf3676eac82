"""Speed-limit arithmetic: how many sends a server may start now, from what it already sent.

Counts come from recorded ``DeliveryAttempt`` rows over the real (sliding) window, never from
process memory, so a restart or a second engine process cannot reset or double a cap. The
caller does the counting and the reservation in one transaction; this module only says how
many more are allowed.

Smoothing: a cap of N per window is also enforced over a shorter *slice*, so N per hour is
spread over the hour instead of bursting at its start. The slice is chosen so the burst
allowed per slice, repeated, is exactly N per window: burst = ceil(N / SLICES) and
slice = window * burst / N (10/hour -> 1 every 6 minutes; 1000/hour -> 100 every 6 minutes).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Literal

from mailconsole.domain.errors import InputError

SpeedMode = Literal["unlimited", "hour", "day"]
SLICES = 10

_WINDOWS: dict[str, dt.timedelta] = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
_SPEED_RE = re.compile(r"^\s*(\d+)\s*/\s*(hour|h|day|d)\s*$", re.IGNORECASE)


class SpeedError(InputError, ValueError):
    """A speed limit a person typed cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class SpeedLimit:
    mode: SpeedMode = "unlimited"
    limit: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.mode == "unlimited" or not self.limit

    @property
    def window(self) -> dt.timedelta:
        return _WINDOWS.get(self.mode, dt.timedelta(hours=1))

    @property
    def burst(self) -> int:
        """Sends allowed per smoothing slice."""
        assert self.limit
        return max(1, math.ceil(self.limit / SLICES))

    @property
    def slice(self) -> dt.timedelta:
        assert self.limit
        return self.window * self.burst / self.limit

    @property
    def label(self) -> str:
        return "unlimited" if self.unlimited else f"{self.limit}/{self.mode}"


def parse_speed(text: str) -> SpeedLimit:
    """``unlimited``, ``N/hour`` or ``N/day`` (N >= 1) -> SpeedLimit, else SpeedError."""
    raw = (text or "").strip()
    if raw.lower() == "unlimited":
        return SpeedLimit()
    match = _SPEED_RE.match(raw)
    if not match or int(match.group(1)) < 1:
        raise SpeedError(f"speed must be unlimited, N/hour or N/day with N >= 1, got {text!r}")
    mode: SpeedMode = "hour" if match.group(2).lower().startswith("h") else "day"
    return SpeedLimit(mode, int(match.group(1)))


def speed_of(mode: str, limit: int | None) -> SpeedLimit:
    """The SpeedLimit of stored columns (``speed_mode``, ``speed_limit``)."""
    if mode in ("hour", "day") and limit:
        return SpeedLimit(mode, int(limit))  # type: ignore[arg-type]
    return SpeedLimit()


def allowance(speed: SpeedLimit, in_window: int, in_slice: int) -> int | None:
    """How many more sends may start now; None means no limit.

    ``in_window``: attempts recorded since ``now - window``; ``in_slice``: since ``now - slice``.
    """
    if speed.unlimited:
        return None
    assert speed.limit is not None
    return max(0, min(speed.limit - in_window, speed.burst - in_slice))


def window_starts(speed: SpeedLimit, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(window start, slice start): attempts strictly after each are counted."""
    return now - speed.window, now - speed.slice
