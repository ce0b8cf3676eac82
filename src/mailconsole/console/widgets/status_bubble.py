"""A contact's status as a small coloured bubble, with its details as the hover tooltip.

All words and colours come from ``domain.bubbles.bubble_for``; this widget only draws them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from mailconsole.domain.bubbles import Bubble


class StatusBubble(Static):
    DEFAULT_CSS = """
    StatusBubble {
        width: 18;
        height: 1;
        padding: 0 0;
    }
    """

    def __init__(self, bubble: Bubble | None = None, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.bubble: Bubble | None = None
        if bubble is not None:
            self.show(bubble)

    def show(self, bubble: Bubble | None) -> None:
        self.bubble = bubble
        if bubble is None:
            self.update("")
            self.tooltip = None
            return
        text = Text()
        text.append("\u25cf ", style=bubble.colour)  # the coloured dot
        text.append(f" {bubble.label} ", style=f"bold white on {bubble.colour}")
        self.update(text)
        self.tooltip = bubble.tooltip
