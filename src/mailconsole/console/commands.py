"""Command palette (`:` or ctrl+p): jump to any pane or Config tab by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from mailconsole.console.screens import PANES

if TYPE_CHECKING:
    from mailconsole.console.app import MailConsoleApp

CONFIG_TABS: tuple[tuple[str, str], ...] = (
    ("config-identity", "Identity"),
    ("config-domains", "Domains"),
    ("config-servers", "Servers"),
    ("config-api-keys", "API keys"),
)


class NavigationCommands(Provider):
    """One command per pane, plus one per Config tab."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast("MailConsoleApp", self.app)
        out: list[tuple[str, Callable[[], object], str]] = []
        for spec in PANES:
            out.append((spec.title, partial(app.action_show_pane, spec.id),
                        f"{spec.description} (key {spec.key})"))
        for tab_id, title in CONFIG_TABS:
            out.append((f"Config > {title}", partial(app.show_config_tab, tab_id),
                        f"Open the {title} tab of Config"))
        out.append(("Help", app.action_help, "Every key available here (key ?)"))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
