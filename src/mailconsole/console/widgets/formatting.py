"""Small text helpers shared by panes: relative times against the runtime clock, state colours."""

from __future__ import annotations

import datetime as dt

from rich.text import Text

STATE_STYLE: dict[str, str] = {
    "queued": "cyan", "sending": "bold cyan", "deferred": "yellow", "held": "magenta",
    "sent": "green", "failed": "bold red", "cancelled": "dim", "suppressed": "red",
    "healthy": "green", "failing": "bold red", "paused": "yellow",
}


def state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLE.get(state, ""))


def relative(when: dt.datetime | None, now: dt.datetime) -> str:
    """'in 4m', '2h ago', 'now': short enough for a table column, exact in the detail view."""
    if when is None:
        return "-"
    seconds = int((when - now).total_seconds())
    future = seconds > 0
    seconds = abs(seconds)
    if seconds < 5:
        return "now"
    if seconds < 60:
        amount = f"{seconds}s"
    elif seconds < 3600:
        amount = f"{seconds // 60}m"
    elif seconds < 86400:
        amount = f"{seconds // 3600}h"
    else:
        amount = f"{seconds // 86400}d"
    return f"in {amount}" if future else f"{amount} ago"


def stamp(when: dt.datetime | None) -> str:
    return "-" if when is None else when.strftime("%Y-%m-%d %H:%M:%S UTC")


SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"


def mini_sparkline(values: list[int], width: int) -> str:
    """Squeeze a series into ``width`` block characters (sum per bucket) for a table cell."""
    if not values or width <= 0:
        return ""
    size = max(1, -(-len(values) // width))
    buckets = [sum(values[i:i + size]) for i in range(0, len(values), size)]
    top = max(buckets)
    if top == 0:
        return SPARK_BLOCKS[1] * len(buckets)
    return "".join(SPARK_BLOCKS[max(1, round(b / top * 8))] if b else SPARK_BLOCKS[1] for b in buckets)
