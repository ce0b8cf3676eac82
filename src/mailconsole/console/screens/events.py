"""Events pane: a live log of the feedback received (source, contact, outcome) and the
bounce-mailbox items we could not parse.

Only a window is held: the newest ``window`` events are read once, then every refresh asks
for events after the last id shown and drops the oldest rows past the window. Older events
are reached by keyset paging (``pageup`` loads the window before the first row shown).
The pane only calls ``mailconsole.feedback.service`` and the poller; it decides nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from mailconsole.console.context import authorize, role_of, runtime_of
from mailconsole.domain.roles import Permission, Role
from mailconsole.feedback import service
from mailconsole.feedback.poller import poll_once
from mailconsole.store import audit
from mailconsole.store.models import FeedbackEvent, UnparsedMail

WINDOW = 200

_OUTCOME_STYLE = {
    "hard_bounce": "bold red",
    "complaint": "bold magenta",
    "soft_bounce": "yellow",
}


class EventsPane(Vertical):
    """Keys: / filter, u unparsed items, enter or i show the item, p poll mailboxes now (admin),
    o older events, l back to the latest, r refresh."""

    can_focus = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "toggle_unparsed", "Unparsed"),
        Binding("i", "show_item", "Show"),
        Binding("p", "poll", "Poll now"),
        Binding("r", "refresh_log", "Refresh"),
        # Not pageup/home: the focused table takes those for moving inside the window.
        Binding("o", "older", "Older events", show=False),
        Binding("l", "latest", "Latest events", show=False),
        Binding("slash", "focus_filter", "Filter", key_display="/"),
    ]

    DEFAULT_CSS = """
    EventsPane #events-detail { height: auto; max-height: 10; padding: 0 1; border-top: solid $accent; }
    EventsPane #events-detail.hidden { display: none; }
    EventsPane DataTable.hidden { display: none; }
    """

    def __init__(self, *, window: int = WINDOW, refresh_seconds: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window
        self.refresh_seconds = refresh_seconds
        self.flt = service.EventFilter()
        self.showing_unparsed = False
        self.last_id = 0
        self.paged_back = False  # looking at older events: the live tail pauses
        self.unparsed_total = 0
        self.loads = 0  # completed loads (tests wait on it)
        self.polls = 0

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: recipient prefix, source:ses, kind:bounce", id="filter")
        yield Static("", id="events-summary", classes="summary", markup=False)
        events: DataTable[Any] = DataTable(id="events-table", cursor_type="row", zebra_stripes=True)
        events.add_columns("Time", "Source", "Kind", "Contact", "Status", "Outcome")
        yield events
        unparsed: DataTable[Any] = DataTable(id="unparsed-table", cursor_type="row", classes="hidden")
        unparsed.add_columns("#", "Time", "Mailbox", "Why it was kept")
        yield unparsed
        yield Static("", id="events-detail", classes="hidden", markup=False)

    def on_mount(self) -> None:
        self.load()
        seconds = self.refresh_seconds or float(getattr(self.app, "refresh_seconds", 1.0)) * 2
        self.set_interval(max(seconds, 0.5), self.tail)

    def focus_default(self) -> None:
        self._table().focus()

    # --- helpers ------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        return role_of(self)

    def _table(self) -> DataTable[Any]:
        table_id = "#unparsed-table" if self.showing_unparsed else "#events-table"
        return self.query_one(table_id, DataTable)

    @staticmethod
    def _event_cells(row: FeedbackEvent) -> tuple[Any, ...]:
        contact = row.recipient + ("" if row.contact_id else " (no contact)")
        return (
            row.at.strftime("%m-%d %H:%M:%S"),
            row.source,
            row.kind,
            Text(contact),
            row.status_code or "-",
            Text(row.outcome, style=_OUTCOME_STYLE.get(row.outcome, "")),
        )

    def _summary(self, shown: int) -> None:
        if self.showing_unparsed:
            text = f"{self.unparsed_total} unparseable mailbox item(s) kept (never deleted)  ·  u: back to events"
        else:
            mode = "older events (l: latest)" if self.paged_back else "live"
            flt = " ".join(
                p for p in (
                    f"source:{self.flt.source}" if self.flt.source else "",
                    f"kind:{self.flt.kind}" if self.flt.kind else "",
                    self.flt.recipient_prefix,
                ) if p
            )
            text = f"{shown} event(s) shown, {mode}  ·  {self.unparsed_total} unparseable kept (u)"
            if flt:
                text += f"  ·  filter: {flt}"
        self.query_one("#events-summary", Static).update(text)

    # --- loading ------------------------------------------------------------------------

    @work(exclusive=True, group="events-load", exit_on_error=False)
    async def load(self, before_id: int | None = None) -> None:
        runtime = runtime_of(self)
        self.unparsed_total = await service.unparsed_count(runtime)
        if self.showing_unparsed:
            items = await service.unparsed_items(runtime, limit=self.window)
            self._fill_unparsed(items)
            self._summary(len(items))
            self.loads += 1
            return
        rows = await service.recent_events(runtime, before_id=before_id, limit=self.window, flt=self.flt)
        if before_id is not None and not rows:
            self.loads += 1
            return  # nothing older: keep the window
        rows.reverse()  # oldest first, newest at the bottom like a log
        table = self.query_one("#events-table", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*self._event_cells(row), key=str(row.id))
        self.paged_back = before_id is not None
        if not self.paged_back:
            self.last_id = rows[-1].id if rows else 0
            if rows:
                table.move_cursor(row=len(rows) - 1)
        self._summary(table.row_count)
        self.loads += 1

    @work(exclusive=True, group="events-tail", exit_on_error=False)
    async def tail(self) -> None:
        """Append what arrived since the last refresh; drop rows beyond the window."""
        if self.showing_unparsed or self.paged_back:
            return
        runtime = runtime_of(self)
        new = await service.events_after(runtime, self.last_id, limit=self.window, flt=self.flt)
        self.unparsed_total = await service.unparsed_count(runtime)
        table = self.query_one("#events-table", DataTable)
        at_end = table.cursor_row >= table.row_count - 1
        for row in new:
            table.add_row(*self._event_cells(row), key=str(row.id))
            self.last_id = row.id
        while table.row_count > self.window:
            table.remove_row(table.coordinate_to_cell_key(Coordinate(0, 0)).row_key)
        if new and at_end:
            table.move_cursor(row=table.row_count - 1)
        self._summary(table.row_count)

    def _fill_unparsed(self, items: list[UnparsedMail]) -> None:
        table = self.query_one("#unparsed-table", DataTable)
        table.clear()
        for item in items:
            reason = item.reason.splitlines()[0] if item.reason else ""
            table.add_row(str(item.id), item.at.strftime("%m-%d %H:%M"), item.source, reason, key=str(item.id))

    # --- actions ------------------------------------------------------------------------

    def action_toggle_unparsed(self) -> None:
        self.showing_unparsed = not self.showing_unparsed
        self.query_one("#events-table").set_class(self.showing_unparsed, "hidden")
        self.query_one("#unparsed-table").set_class(not self.showing_unparsed, "hidden")
        self.query_one("#events-detail").add_class("hidden")
        self._table().focus()
        self.load()

    def action_show_item(self) -> None:
        table = self._table()
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        if key is not None:
            self._show_item(int(key))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._show_item(int(event.row_key.value))

    @work(exclusive=True, group="events-detail", exit_on_error=False)
    async def _show_item(self, item_id: int) -> None:
        runtime = runtime_of(self)
        detail = self.query_one("#events-detail", Static)
        if self.showing_unparsed:
            item = await service.unparsed_item(runtime, item_id)
            text = "" if item is None else (
                f"#{item.id} from {item.source}: {item.reason}\n"
                + "\n".join(item.raw.decode("utf-8", "replace").splitlines()[:8])
            )
        else:
            rows = await service.recent_events(runtime, before_id=item_id + 1, limit=1)
            row = rows[0] if rows else None
            text = "" if row is None else (
                f"{row.source} {row.kind} for {row.recipient}"
                + (f" (message #{row.message_id})" if row.message_id else "")
                + f": {row.outcome}\n{row.detail}"
            )
        detail.update(text or "no item selected")
        detail.remove_class("hidden")

    def action_poll(self) -> None:
        if not authorize(self, Permission.CONFIG):
            return
        self._poll()

    @work(exclusive=True, group="events-poll", exit_on_error=False)
    async def _poll(self) -> None:
        runtime = runtime_of(self)
        self.app.notify("Polling the bounce mailboxes…", timeout=3)
        report = await poll_once(runtime)
        async with runtime.sessions.begin() as session:
            audit.record(session, runtime.clock, self.role.value, "feedback.poll",
                         f"{report.fetched} read, {report.recorded} recorded, {report.unparsed} unparseable")
        errors = [f"{m.label}: {m.error}" for m in report.mailboxes if m.error]
        if not report.mailboxes:
            self.app.notify("No bounce mailbox is configured.", severity="warning", timeout=5)
        elif errors:
            self.app.notify("\n".join(errors), title="Poll failed", severity="error", timeout=8)
        else:
            self.app.notify(f"{report.fetched} read, {report.recorded} recorded, "
                            f"{report.unparsed} kept as unparseable", title="Poll done", timeout=5)
        self.polls += 1
        self.load()

    def action_refresh_log(self) -> None:
        self.load()

    def action_older(self) -> None:
        table = self.query_one("#events-table", DataTable)
        if self.showing_unparsed or table.row_count == 0:
            return
        first = table.coordinate_to_cell_key(Coordinate(0, 0)).row_key.value
        if first is not None:
            self.load(before_id=int(first))

    def action_latest(self) -> None:
        self.load()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.flt = service.EventFilter.parse(event.value)
        self.load()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._table().focus()
