"""The console shell: header, pane navigation, help, palette, and the operator's actor.

Panes hold no business logic; they call the services with the app's ``Actor``, and the
services check the permission and write the audit row in the same transaction as the
change. Panes only show refusals (``context.refuse``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Input

from mailconsole.access import os_user
from mailconsole.console.commands import NavigationCommands
from mailconsole.console.help_screen import HelpScreen, collect_help
from mailconsole.console.screens import PANES, PANES_BY_ID
from mailconsole.console.widgets.app_header import AppHeader, database_label
from mailconsole.console.widgets.nav_bar import NavBar
from mailconsole.delivery.heartbeats import engines_running
from mailconsole.domain.roles import Actor, Interface, Role
from mailconsole.runtime import Runtime

HEARTBEAT_FRESH = dt.timedelta(seconds=30)


class MailConsoleApp(App[None]):
    # Absolute, so subclasses (tests, demo) defined elsewhere find the same stylesheet.
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "mailconsole"
    COMMANDS = App.COMMANDS | {NavigationCommands}
    COMMAND_PALETTE_DISPLAY = ":"

    BINDINGS: ClassVar[list[BindingType]] = [
        *[Binding(spec.key, f"show_pane('{spec.id}')", spec.title, show=False) for spec in PANES],
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("colon", "command_palette", "Jump", key_display=":", show=False),
        Binding("escape", "go_back", "Back", show=False),
        # Listed by ?, not in the footer: at 80 columns the footer is for the pane's own keys.
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
    ]

    def __init__(self, runtime: Runtime, actor: Actor | Role, engine: Any = None, *,
                 refresh_seconds: float = 1.0) -> None:
        super().__init__()
        self.runtime = runtime
        # Every service call from a pane carries this actor (``context.actor_of``).
        self.actor = actor if isinstance(actor, Actor) else Actor(os_user(), Role(actor), Interface.CONSOLE)
        self.role = self.actor.role
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self.current_pane = "queue"
        self._history: list[str] = []

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader(self.role, database_label(self.runtime.settings.effective_database_url),
                        id="app-header")
        yield NavBar(id="nav-bar")
        with ContentSwitcher(initial=self.current_pane, id="panes"):
            for spec in PANES:
                yield spec.build()
        yield Footer(id="footer", compact=True)  # compact: a pane's keys fit in 80 columns

    def on_mount(self) -> None:
        self._focus_pane(self.current_pane)
        self.refresh_engine_state()
        self.set_interval(max(self.refresh_seconds, 1.0) * 2, self.refresh_engine_state)

    # --- navigation ---------------------------------------------------------------------

    def pane(self, pane_id: str | None = None) -> Widget:
        return self.query_one(f"#panes > #{pane_id or self.current_pane}", Widget)

    def action_show_pane(self, pane_id: str) -> None:
        if pane_id not in PANES_BY_ID:
            return
        if self.screen is not self.screen_stack[0]:
            # Palette or a modal is open: go back to the main screen first.
            while len(self.screen_stack) > 1:
                self.pop_screen()
        if pane_id != self.current_pane:
            self._history.append(self.current_pane)
            del self._history[:-20]
        self._switch(pane_id)

    def _switch(self, pane_id: str) -> None:
        self.current_pane = pane_id
        self.query_one(ContentSwitcher).current = pane_id
        self.query_one(NavBar).current = pane_id
        self._focus_pane(pane_id)
        self.refresh_bindings()

    def _focus_pane(self, pane_id: str) -> None:
        """Give focus to the pane (its preferred widget, else its first focusable one)."""
        pane = self.pane(pane_id)
        target = getattr(pane, "focus_default", None)
        if callable(target):
            target()
            return
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return
        self.screen.set_focus(None)

    def show_config_tab(self, tab_id: str) -> None:
        self.action_show_pane("config")
        show = getattr(self.pane("config"), "show_tab", None)
        if callable(show):
            show(tab_id)

    def action_go_back(self) -> None:
        """escape: leave the filter box, else go back to the previous pane."""
        focused = self.focused
        if isinstance(focused, Input):
            if focused.value:
                focused.value = ""
            if focused.id == "filter":
                self._focus_pane(self.current_pane)
            else:
                self.screen.set_focus(None)
            return
        if self._history:
            self._switch(self._history.pop())

    def _filter_target(self) -> Any:
        pane = self.pane()
        action = getattr(pane, "action_filter", None)
        if callable(action):
            return action
        # Only a filter box on the visible part of the pane (Config's other tabs have theirs).
        for box in pane.query("#filter"):
            if all(node.display for node in box.ancestors if isinstance(node, Widget)):
                return box
        return None

    def action_filter(self) -> None:
        target = self._filter_target()
        if target is None:
            self.notify("This pane has no filter.", severity="warning", timeout=3)
        elif isinstance(target, Widget):
            target.focus()
        else:
            target()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            try:
                return True if self._filter_target() is not None else None
            except Exception:
                return None
        return True

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = PANES_BY_ID[self.current_pane].title
        self.push_screen(HelpScreen(collect_help(self, title), title))

    # --- shutdown -----------------------------------------------------------------------

    async def _on_exit_app(self) -> None:
        """Let in-flight database workers finish (bounded) before Textual cancels them.

        Textual cancels a widget's workers on unmount without waiting. A worker cancelled in
        the middle of an aiosqlite call leaves SQLAlchemy a ``_terminate_graceful_close`` task
        and a connection thread that nobody closes: the loop then dies with "Task was
        destroyed but it is pending" and whoever disposes the engine next (a test's runtime
        fixture, ``Runtime.open``'s exit) can wait forever. Workers that wait on a dialog
        (groups ending in ``-form``) are not waited for.
        """
        for _ in range(40):  # at most ~2 s
            busy = [w for w in self.workers if w.is_running and not w.group.endswith("-form")
                    and w.group != "default"]
            if not busy:
                break
            await asyncio.sleep(0.05)
        await super()._on_exit_app()

    # --- engine state -------------------------------------------------------------------

    @work(exclusive=True, group="engine-state", exit_on_error=False)
    async def refresh_engine_state(self) -> None:
        self.query_one(AppHeader).engine_state = await self._engine_state()

    async def _engine_state(self) -> str:
        if self.engine is not None:
            state = getattr(self.engine, "state", None)
            if isinstance(state, str) and state:
                return state
            return "running" if getattr(self.engine, "running", True) else "stopped"
        # No engine in this process: is one running elsewhere on this database?
        count = await engines_running(self.runtime, fresh=HEARTBEAT_FRESH)
        return f"running ({count} elsewhere)" if count else "off"
