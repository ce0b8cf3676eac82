"""Config: one tab per area (identity, domains, servers, API keys); each tab is its own pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import TabbedContent, TabPane

from mailconsole.console.screens.config_api_keys import ApiKeysPane
from mailconsole.console.screens.config_domains import DomainsPane
from mailconsole.console.screens.config_identity import IdentityPane
from mailconsole.console.screens.config_servers import ServerFormsPane


class ConfigPane(Container):
    """Tabs of configuration panes; the tabs are reachable with left/right from the tab bar."""

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
