"""Breadcrumb-style bar of panes with their keys, the current one highlighted (k9s habit)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from mailconsole.console.screens import PANES


class NavBar(Widget):
    DEFAULT_CSS = """
    NavBar { height: 1; background: $boost; }
    """

    current: reactive[str] = reactive("queue")
    detail: reactive[str] = reactive("")

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for spec in PANES:
            selected = spec.id == self.current
            text.append(" ")
            text.append(spec.key, style="bold reverse" if selected else "bold cyan")
            text.append(f" {spec.title} ", style="bold reverse" if selected else "")
        if self.detail:
            text.append(f" > {self.detail}", style="dim")
        return text
