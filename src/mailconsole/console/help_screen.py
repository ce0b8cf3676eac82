"""`?`: every key that works right now, generated from the live bindings so it cannot lie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

MOVING = "Moving around"


@dataclass(frozen=True)
class HelpRow:
    group: str
    key: str
    description: str
    enabled: bool


def collect_help(app: App[Any], pane_title: str) -> list[HelpRow]:
    """Rows for the help screen from the bindings active on the current screen.

    Bindings declared on the app are "Everywhere"; the rest belong to the focused pane (or
    the widget inside it). Hidden bindings are listed too when they have a description.
    """
    rows: list[HelpRow] = []
    seen: set[tuple[str, str]] = set()
    for key, active in app.screen.active_bindings.items():
        binding = active.binding
        description = binding.description or binding.tooltip
        if not description or binding.system:
            continue
        # App and screen bindings work on every pane; Textual's own widgets bring the moving
        # keys (listed after the pane's own); the rest belong to the focused pane.
        if active.node is app or isinstance(active.node, Screen):
            group = "Everywhere"
        elif type(active.node).__module__.startswith("textual."):
            group = MOVING
        else:
            group = pane_title
        display = app.get_key_display(binding)
        if (group, description) in seen:  # several keys for one action: list the first
            continue
        seen.add((group, description))
        rows.append(HelpRow(group, display or key, description, active.enabled))
    order = {pane_title: 0, MOVING: 1, "Everywhere": 2}
    rows.sort(key=lambda r: order.get(r.group, 0))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, rows: list[HelpRow], pane_title: str) -> None:
        super().__init__(classes="modal")
        self.rows = rows
        self.pane_title = pane_title

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
        table.add_column("key", style="bold", no_wrap=True, width=12)
        table.add_column("what it does")
        group = None
        for row in self.rows:
            if row.group != group:
                if group is not None:
                    table.add_row("", "")
                table.add_row(Text(row.group, style="bold underline"), "")
                group = row.group
            description = Text(row.description, style="" if row.enabled else "dim")
            if not row.enabled:
                description.append(" (not available here)", style="dim italic")
            table.add_row(Text(row.key, style="bold cyan"), description)
        with VerticalScroll(id="help-box", classes="dialog") as box:
            box.border_title = f"Keys · {self.pane_title}"
            box.border_subtitle = "escape closes"
            yield Static(table, id="help-table")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
