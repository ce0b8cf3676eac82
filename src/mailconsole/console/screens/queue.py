"""Queue: counts by state and a keyset-paginated window of messages, with operator actions.

Only the rows around the cursor are ever fetched (``list_messages`` with ``after_id`` /
``before_id``), so a queue of a million messages costs the same as one of fifty. Moving past
the last row (or page down) fetches the next window; the window is re-read every second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import DataTable, Input, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.confirm import ConfirmScreen
from mailconsole.console.widgets.formatting import STATE_STYLE, relative, state_text
from mailconsole.console.widgets.message_detail import MessageDetailScreen
from mailconsole.delivery import queue as queue_service
from mailconsole.domain.roles import Permission, PermissionDenied

STATE_FILTERS: tuple[str | None, ...] = (None, "queued", "sending", "deferred", "held", "sent",
                                         "failed", "cancelled", "suppressed")
COUNT_ORDER = ("queued", "sending", "deferred", "held", "sent", "failed", "cancelled", "suppressed")

# action name -> (service function name, verb for people, past tense)
QUEUE_ACTIONS: dict[str, tuple[str, str, str]] = {
    "hold": ("hold", "Hold", "held"),
    "release": ("release", "Release", "released"),
    "retry": ("retry_now", "Retry now", "queued for retry"),
    "cancel": ("cancel", "Cancel", "cancelled"),
}


class QueueTable(DataTable[Any]):
    """A DataTable whose edges fetch the neighbouring window instead of stopping."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown", "next_window", "Next page", show=False),
        Binding("pageup", "previous_window", "Previous page", show=False),
    ]

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.pane.turn_page(+1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.pane.turn_page(-1)
        else:
            super().action_cursor_up()

    def action_next_window(self) -> None:
        self.pane.turn_page(+1)

    def action_previous_window(self) -> None:
        self.pane.turn_page(-1)

    @property
    def pane(self) -> QueuePane:
        return self.query_ancestor(QueuePane)


class QueuePane(Container):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail", show=False),
        Binding("h", "queue_action('hold')", "Hold"),
        Binding("r", "queue_action('release')", "Release"),
        Binding("t", "queue_action('retry')", "Retry"),
        Binding("c", "queue_action('cancel')", "Cancel"),
        Binding("s", "cycle_state", "State"),
    ]

    def __init__(self, *, page_size: int = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self.state_filter: str | None = None
        self.search: str = ""
        self.anchor_after: int | None = None  # the window starts after this id (None: the start)
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="queue-counts", classes="summary")
        yield Input(placeholder="filter by recipient or subject, enter to apply", id="filter")
        table = QueueTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        table.add_column("ID", key="id", width=6)
        table.add_column("State", key="state", width=10)
        table.add_column("Recipient", key="recipient", width=26)
        table.add_column("Server", key="server", width=10)
        table.add_column("Att", key="attempts", width=3)
        table.add_column("Next", key="next", width=8)
        yield table

    def on_mount(self) -> None:
        self.refresh_window()
        self.set_interval(getattr(self.app, "refresh_seconds", 1.0), self._tick)

    def focus_default(self) -> None:
        self.query_one(QueueTable).focus()

    def _tick(self) -> None:
        # Hidden panes do not poll: the database work follows what a person can see.
        if self.display and self.parent is not None and getattr(self.parent, "current", None) == self.id:
            self.refresh_window()

    # --- data ---------------------------------------------------------------------------

    @work(exclusive=True, group="queue-refresh", exit_on_error=False)
    async def refresh_window(self, direction: int = 0) -> None:
        """Re-read the window (direction 0) or move to the older (+1) / newer (-1) one.

        The service lists newest first: ``after_id`` gives older rows, ``before_id`` newer.
        ``anchor_after`` is the after_id the current window was read with (None: the top).
        """
        runtime = runtime_of(self)
        table = self.query_one(QueueTable)
        anchor = self.anchor_after
        search = self.search or None
        common: dict[str, Any] = {"state": self.state_filter, "search": search, "limit": self.page_size}
        cursor_to: int | None = None
        if direction > 0 and self.rows:
            rows = await queue_service.list_messages(runtime, after_id=self.rows[-1].id, **common)
            if not rows:
                self.app.notify("End of the queue.", timeout=2)
                return
            anchor, cursor_to = self.rows[-1].id, 0
        elif direction < 0 and self.rows:
            rows = await queue_service.list_messages(runtime, before_id=self.rows[0].id, **common)
            if not rows:
                return
            cursor_to = len(rows) - 1
            if len(rows) < self.page_size:  # reached the newest: the window is the top again
                anchor = None
                rows = await queue_service.list_messages(runtime, **common)
                ids = [r.id for r in rows]
                first = self.rows[0].id
                cursor_to = max(0, ids.index(first) - 1) if first in ids else len(rows) - 1
            else:
                anchor = rows[0].id + 1
        else:
            rows = await queue_service.list_messages(runtime, after_id=anchor, **common)
        counts = await queue_service.counts_by_state(runtime)
        self.anchor_after = anchor
        self._show_counts(counts)
        self._show_rows(rows, table, cursor_to)

    def _show_counts(self, counts: dict[str, int]) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for state in COUNT_ORDER:
            text.append(f"{state} ", style="dim")
            text.append(str(counts.get(state, 0)), style=STATE_STYLE.get(state, "bold"))
            text.append("  ")
        label = f"[{self.state_filter or 'all'}"
        label += f" ~{self.search}]" if self.search else "]"
        text.append(label, style="bold")
        self.query_one("#queue-counts", Static).update(text)

    def _show_rows(self, rows: list[Any], table: QueueTable, cursor_to: int | None) -> None:
        now = runtime_of(self).clock.now()
        keep_id = self.selected_id()
        self.rows = rows
        table.clear()
        for row in rows:
            table.add_row(
                str(row.id), state_text(row.state), row.recipient, row.server_name or "-",
                str(row.attempts),
                relative(row.next_attempt_at, now) if row.state in ("queued", "deferred") else "",
                key=str(row.id),
            )
        if not rows:
            return
        if cursor_to is None:
            ids = [r.id for r in rows]
            cursor_to = ids.index(keep_id) if keep_id in ids else 0
        table.move_cursor(row=min(cursor_to, len(rows) - 1))

    def turn_page(self, direction: int) -> None:
        self.refresh_window(direction)

    def selected_id(self) -> int | None:
        table = self.query_one(QueueTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return int(self.rows[table.cursor_row].id)

    # --- filter -------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("visible")
        box.focus()

    @on(Input.Submitted, "#filter")
    def _apply_filter(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        if not self.search:
            event.input.remove_class("visible")
        self.anchor_after = None
        self.refresh_window()
        self.focus_default()

    @on(Input.Changed, "#filter")
    def _filter_cleared(self, event: Input.Changed) -> None:
        if not event.value and self.search:
            self.search = ""
            event.input.remove_class("visible")
            self.anchor_after = None
            self.refresh_window()

    def action_cycle_state(self) -> None:
        index = STATE_FILTERS.index(self.state_filter)
        self.state_filter = STATE_FILTERS[(index + 1) % len(STATE_FILTERS)]
        self.anchor_after = None
        self.refresh_window()

    # --- actions ------------------------------------------------------------------------

    def action_detail(self) -> None:
        message_id = self.selected_id()
        if message_id is not None:
            self.app.push_screen(MessageDetailScreen(message_id))

    @on(DataTable.RowSelected, "#queue-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_detail()

    def action_queue_action(self, name: str) -> None:
        if not authorize(self, Permission.QUEUE_ACTION):
            return
        message_id = self.selected_id()
        if message_id is None:
            self.app.notify("No message selected.", severity="warning", timeout=3)
            return
        _func, verb, _past = QUEUE_ACTIONS[name]
        row = self.rows[self.query_one(QueueTable).cursor_row]

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action(name, message_id)

        self.app.push_screen(
            ConfirmScreen(f"{verb} message {message_id} to {row.recipient}?", yes_label=verb),
            answered)

    @work(group="queue-action", exit_on_error=False)
    async def _run_action(self, name: str, message_id: int) -> None:
        func_name, _verb, past = QUEUE_ACTIONS[name]
        func: Callable[..., Awaitable[int]] = getattr(queue_service, func_name)
        app: Any = self.app
        try:
            # The service checks the permission and states and writes the audit row.
            changed = await func(app.runtime, [message_id], actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except Exception as exc:  # the service's words, shown as they are
            app.notify(str(exc), title=f"Could not {name}", severity="error", timeout=6)
            return
        if changed:
            app.notify(f"Message {message_id} {past}.", timeout=3)
        else:
            app.notify(f"Message {message_id} was not in a state that allows {name}.",
                       severity="warning", timeout=4)
        self.refresh_window()
