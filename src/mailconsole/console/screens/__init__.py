"""Console panes, one per file, and the one table that names them.

The app, the navigation bar, the command palette and the help screen all read ``PANES``,
so a pane's key and title are declared once. Panes are imported lazily by module path: a
pane that fails to import shows its error in place instead of taking the console down.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from textual.widget import Widget
from textual.widgets import Static


@dataclass(frozen=True)
class PaneSpec:
    id: str
    title: str
    key: str
    description: str
    module: str
    class_name: str

    def build(self) -> Widget:
        """Instantiate the pane; a broken pane becomes a visible error, not a crash."""
        try:
            cls = getattr(importlib.import_module(self.module), self.class_name)
            widget: Widget = cls(id=self.id)
        except Exception as exc:  # another area's pane mid-change must not stop the console
            widget = Static(f"{self.title} could not be loaded: {exc}", id=self.id, classes="pane-error")
        widget.add_class("pane")
        return widget


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("queue", "Queue", "1", "Messages by state; hold, release, retry, cancel",
             "mailconsole.console.screens.queue", "QueuePane"),
    PaneSpec("servers", "Servers", "2", "Sending servers, rates and caps; pause, resume, test",
             "mailconsole.console.screens.servers", "ServersPane"),
    PaneSpec("contacts", "Contacts", "3", "Contacts and their status; check again, safelist",
             "mailconsole.console.screens.contacts", "ContactsPane"),
    PaneSpec("reviews", "Reviews", "4", "Safelist requests waiting for a decision",
             "mailconsole.console.screens.reviews", "ReviewsPane"),
    PaneSpec("config", "Config", "5", "Identity, domains, servers and API keys",
             "mailconsole.console.screens.config", "ConfigPane"),
    PaneSpec("events", "Events", "6", "What happened, live: deliveries, bounces, actions",
             "mailconsole.console.screens.events", "EventsPane"),
)

PANES_BY_ID: dict[str, PaneSpec] = {spec.id: spec for spec in PANES}
