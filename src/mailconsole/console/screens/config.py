"""Config: one tab per area (identity, domains, servers, API keys); each tab is its own pane."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import DataTable, TabbedContent, TabPane

from mailconsole.console.screens.config_api_keys import ApiKeysPane
from mailconsole.console.screens.config_domains import DomainsPane
from mailconsole.console.screens.config_identity import IdentityPane
from mailconsole.console.screens.config_servers import ServerFormsPane

TAB_IDS = ("config-identity", "config-domains", "config-servers", "config-api-keys")


class ConfigPane(Container):
    """Tabs of configuration panes: left/right on the tab bar, or [ and ] from inside a tab.

    Switching tab puts the focus in the tab's table, so its keys (a, e, c, x…) work at once
    and show in the footer.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "cycle_tab(-1)", "Prev tab", key_display="["),
        Binding("right_square_bracket", "cycle_tab(1)", "Next tab", key_display="]"),
    ]

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="config-identity"):
            with TabPane("Identity", id="config-identity"):
                yield IdentityPane(id="identity-pane")
            with TabPane("Domains", id="config-domains"):
                yield DomainsPane(id="domains-pane")
            with TabPane("Servers", id="config-servers"):
                yield ServerFormsPane(id="server-forms-pane")
            with TabPane("API keys", id="config-api-keys"):
                yield ApiKeysPane(id="api-keys-pane")

    def show_tab(self, tab_id: str) -> None:
        """Used by the command palette to jump straight to one tab."""
        self.query_one(TabbedContent).active = tab_id
        self.call_after_refresh(self._focus_table, tab_id)

    def action_cycle_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        index = TAB_IDS.index(tabs.active) if tabs.active in TAB_IDS else 0
        tabs.active = TAB_IDS[(index + step) % len(TAB_IDS)]
        self._focus_table(tabs.active)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id and not self.query_one(TabbedContent).has_focus_within:
            self._focus_table(event.pane.id)

    def focus_default(self) -> None:
        """Entering Config focuses the open tab's content, not the tab bar, so its keys work."""
        self._focus_table(self.query_one(TabbedContent).active)

    def _focus_table(self, tab_id: str) -> None:
        tab = self.query_one(f"#{tab_id}", TabPane)
        tables = tab.query(DataTable)
        if tables:
            tables.first().focus()
            return
        for child in tab.children:  # a tab without a table (Identity) knows where to start
            target = getattr(child, "focus_default", None)
            if callable(target):
                target()
                return
