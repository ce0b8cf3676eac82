"""A tiny App that mounts the contact panes on their own, so their tests do not depend on the
shell. It opens its own Runtime on load (snapshot tests run the app in their own event loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import ContentSwitcher, Footer

import mailconsole.console.app as console_app
from mailconsole.clock import FixedClock
from mailconsole.console.screens.contacts import ContactsPane
from mailconsole.console.screens.reviews import ReviewsPane
from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings


class PaneApp(App[None]):
    CSS_PATH = str(Path(console_app.__file__).with_name("app.tcss"))
    TOOLTIP_DELAY = 0.05
    BINDINGS = [("f3", "show('contacts')", "Contacts"), ("f4", "show('reviews')", "Reviews")]

    def __init__(self, settings: Settings, clock: FixedClock, role: Role = Role.ADMIN,
                 runtime: Runtime | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self.role = role
        self._given = runtime
        self._opened: Any = None
        self.runtime: Runtime = runtime  # type: ignore[assignment]

    async def on_load(self) -> None:
        if self._given is None:
            self._opened = Runtime.open(self.settings, clock=self.clock)
            self.runtime = await self._opened.__aenter__()

    async def on_unmount(self) -> None:
        if self._opened is not None:
            await self._opened.__aexit__(None, None, None)

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="contacts", id="panes"):
            yield ContactsPane(id="contacts", classes="pane")
            yield ReviewsPane(id="reviews", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ContactsPane).focus()

    def action_show(self, pane: str) -> None:
        self.query_one(ContentSwitcher).current = pane
        target = self.query_one(f"#{pane}")
        focus = getattr(target, "focus_default", None)
        if callable(focus):
            focus()
