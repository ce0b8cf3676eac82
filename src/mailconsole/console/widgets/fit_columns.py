"""Column widths that make a table's row fit its width, so an 80-column terminal never has to
scroll sideways: short columns get a fixed width, the long ones share what is left.

Cells built with ``cell`` end in an ellipsis when cut, and keep their whole text (a detail line
or a test can still read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

SCROLLBAR = 2  # the vertical scrollbar's room is kept even before it shows: widths stay put


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # fixed; None: shares the room left, never below ``least``
    least: int = 10


def fit_widths(columns: tuple[Column, ...], table_width: int, *, cell_padding: int = 1) -> dict[str, int]:
    """Each column's content width. Flexible columns first get their ``least``, then an even
    share of what remains (the last one takes the odd cells)."""
    widths = {c.key: c.width for c in columns if c.width is not None}
    flexible = [c for c in columns if c.width is None]
    room = table_width - SCROLLBAR - 2 * cell_padding * len(columns) - sum(widths.values())
    spare = max(0, room - sum(c.least for c in flexible))
    for index, c in enumerate(flexible):
        share = spare // len(flexible)
        if index == len(flexible) - 1:
            share = spare - share * (len(flexible) - 1)
        widths[c.key] = c.least + share
    return widths


def add_columns(table: DataTable[Any], columns: tuple[Column, ...], widths: dict[str, int]) -> None:
    for c in columns:
        table.add_column(c.label, width=widths[c.key], key=c.key)


def cell(value: str, style: str = "") -> Text:
    """A cell that ends in an ellipsis when its column is narrower (its text stays whole)."""
    return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")
