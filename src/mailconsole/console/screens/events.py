"""Events pane: a live log of the feedback received (source, contact, outcome) and the
bounce-mailbox items we could not parse.

Only a window is held: the newest ``window`` events are read once, then every refresh asks
for events after the last id shown and drops the oldest rows past the window. Older events
are reached by keyset paging (``o`` loads the window before the first row shown).

At 80 columns every column stays on screen: the short columns have fixed widths, Contact and
Outcome share what is left (Outcome first), a cell too long for its column ends in an
ellipsis, and the line under the table shows the highlighted row's contact, status and outcome
in full, so nothing needs sideways scrolling.
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
from textual.events import Resize
from textual.widgets import DataTable, Input, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.fit_columns import Column, add_columns, cell, fit_widths
from mailconsole.domain.roles import Permission, PermissionDenied
from mailconsole.feedback import service
from mailconsole.feedback.poller import poll_now
from mailconsole.feedback.service import FeedbackEventView, UnparsedView

WINDOW = 200

_OUTCOME_STYLE = {
    "hard_bounce": "bold red",
    "complaint": "bold magenta",
    "soft_bounce": "yellow",
}

# Time, Source, Kind and Code (the reply's status code) always fit their fixed widths; Contact
# and Outcome share the rest: at 80 columns 18 and 15 cells, the whole of both in the line below.
EVENT_COLUMNS = (
    Column("time", "Time", 11), Column("source", "Source", 8), Column("kind", "Kind", 9),
    Column("contact", "Contact", least=18), Column("status", "Code", 5), Column("outcome", "Outcome", least=15),
)
UNPARSED_COLUMNS = (
    Column("id", "#", 5), Column("time", "Time", 11), Column("mailbox", "Mailbox", least=22),
    Column("reason", "Why it was kept", least=20),
)


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
    EventsPane DataTable { overflow-x: hidden; }
    EventsPane #events-current { height: auto; max-height: 3; padding: 0 1; background: $surface; }
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
        self.fitted_width = 80  # the columns are fitted to this; on_resize refits them
        self.shown: dict[int, FeedbackEventView] = {}  # the events table's rows, in table order
        self.unparsed: dict[int, UnparsedView] = {}  # likewise for the unparsed table

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: recipient prefix, source:ses, kind:bounce", id="filter")
        yield Static("", id="events-summary", classes="summary", markup=False)
        events: DataTable[Any] = DataTable(id="events-table", cursor_type="row", zebra_stripes=True)
        add_columns(events, EVENT_COLUMNS, fit_widths(EVENT_COLUMNS, self.fitted_width))
        yield events
        unparsed: DataTable[Any] = DataTable(id="unparsed-table", cursor_type="row", classes="hidden")
        add_columns(unparsed, UNPARSED_COLUMNS, fit_widths(UNPARSED_COLUMNS, self.fitted_width))
        yield unparsed
        yield Static("", id="events-current", markup=False)
        yield Static("", id="events-detail", classes="hidden", markup=False)

    def on_mount(self) -> None:
        self.load()
        seconds = self.refresh_seconds or float(getattr(self.app, "refresh_seconds", 1.0)) * 2
        self.set_interval(max(seconds, 0.5), self.tail)

    def focus_default(self) -> None:
        self._table().focus()

    # --- helpers ------------------------------------------------------------------------

    def _table(self) -> DataTable[Any]:
        table_id = "#unparsed-table" if self.showing_unparsed else "#events-table"
        return self.query_one(table_id, DataTable)

    @staticmethod
    def _event_cells(row: FeedbackEventView) -> tuple[Any, ...]:
        contact = row.recipient + ("" if row.contact_id else " (no contact)")
        return (
            cell(row.at.strftime("%m-%d %H:%M")),
            cell(row.source),
            cell(row.kind),
            cell(contact),
            cell(row.status_code or "-"),
            cell(row.outcome, _OUTCOME_STYLE.get(row.outcome, "")),
        )

    def _add_event(self, table: DataTable[Any], row: FeedbackEventView) -> None:
        table.add_row(*self._event_cells(row), key=str(row.id))
        self.shown[row.id] = row

    @staticmethod
    def _unparsed_cells(item: UnparsedView) -> tuple[Any, ...]:
        reason = item.reason.splitlines()[0] if item.reason else ""
        return (cell(str(item.id)), cell(item.at.strftime("%m-%d %H:%M")), cell(item.source), cell(reason))

    def on_resize(self, event: Resize) -> None:
        """Fit both tables' columns to the new width; rows come back from what is shown."""
        if event.size.width in (0, self.fitted_width):
            return  # unchanged, or hidden behind another pane
        self.fitted_width = event.size.width
        self._refit("#events-table", EVENT_COLUMNS,
                    [(self._event_cells(r), str(r.id)) for r in self.shown.values()])
        self._refit("#unparsed-table", UNPARSED_COLUMNS,
                    [(self._unparsed_cells(i), str(i.id)) for i in self.unparsed.values()])

    def _refit(self, selector: str, columns: tuple[Column, ...], rows: list[tuple[tuple[Any, ...], str]]) -> None:
        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        add_columns(table, columns, fit_widths(columns, self.fitted_width, cell_padding=table.cell_padding))
        for cells, key in rows:
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))

    def _show_current(self, row: FeedbackEventView | UnparsedView | None) -> None:
        """The highlighted row's columns that may be cut, in full, under the table."""
        line = Text(no_wrap=False)
        if row is None:
            line.append("nothing selected", style="dim")
        elif isinstance(row, UnparsedView):
            line.append(f"#{row.id} {row.at:%m-%d %H:%M:%S}  {row.source}  ")
            line.append(row.reason.splitlines()[0] if row.reason else "-", style="bold")
        else:
            line.append(f"{row.at:%m-%d %H:%M:%S}  {row.recipient}")
            if not row.contact_id:
                line.append(" (no contact)", style="dim")
            line.append(f"  code {row.status_code or '-'}  → ")
            line.append(row.outcome or "-", style=_OUTCOME_STYLE.get(row.outcome, "bold"))
        self.query_one("#events-current", Static).update(line)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        rows: dict[int, Any] = self.shown if event.data_table.id == "events-table" else self.unparsed
        self._show_current(rows.get(int(key)) if key is not None else None)

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
        self.shown.clear()
        for row in rows:
            self._add_event(table, row)
        if not rows:
            self._show_current(None)
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
            self._add_event(table, row)
            self.last_id = row.id
        while table.row_count > self.window:
            oldest = table.coordinate_to_cell_key(Coordinate(0, 0)).row_key
            table.remove_row(oldest)
            self.shown.pop(int(oldest.value or 0), None)
        if new and at_end:
            table.move_cursor(row=table.row_count - 1)
        self._summary(table.row_count)

    def _fill_unparsed(self, items: list[UnparsedView]) -> None:
        table = self.query_one("#unparsed-table", DataTable)
        table.clear()
        self.unparsed = {item.id: item for item in items}
        for item in items:
            table.add_row(*self._unparsed_cells(item), key=str(item.id))
        if not items:
            self._show_current(None)

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
        try:
            report = await poll_now(runtime, actor=actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
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
