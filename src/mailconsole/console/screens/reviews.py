"""Reviews pane: safelist requests waiting for an admin; approve or reject with a note.

The decision and its note are written by ``contacts.reviews.decide`` (logged on the contact);
this pane only lists, asks for the note and reports.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.contact_dialogs import PromptScreen
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.reviews import ReviewItem, decide, list_requests
from mailconsole.domain.bubbles import LABELS
from mailconsole.domain.roles import Permission, PermissionDenied


class ReviewsPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "decide(True)", "Approve"),
        Binding("r", "decide(False)", "Reject"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[ReviewItem] = []
        self.loads = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="reviews-summary", classes="summary")
        table: DataTable[str] = DataTable(id="reviews-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("#", "Address", "Status", "Requested", "By", "Reason")
        yield table

    def on_mount(self) -> None:
        self.refresh_requests()
        self.set_interval(5.0, self.refresh_requests)

    def on_show(self) -> None:
        self.refresh_requests()

    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    def action_refresh(self) -> None:
        self.refresh_requests()

    @work(exclusive=True, group="reviews-load", exit_on_error=False)
    async def refresh_requests(self) -> None:
        items = await list_requests(runtime_of(self))
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(str(item.id), item.address, LABELS.get(item.status, item.status),
                          f"{item.requested_at:%Y-%m-%d %H:%M}", item.requested_by, item.reason[:60],
                          key=str(item.id))
        if items:
            table.move_cursor(row=min(keep, len(items) - 1))
        self.items = items
        self.query_one("#reviews-summary", Static).update(
            f"{len(items)} safelist request(s) waiting for review" if items
            else "No safelist requests waiting for review")
        self.loads += 1

    def action_decide(self, approve: bool) -> None:
        if not authorize(self, Permission.REVIEW):
            return
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0:
            return
        item = self.items[table.cursor_row]
        verb = "Approve" if approve else "Reject"

        def noted(note: str | None) -> None:
            if note is not None:
                self._decide(item.id, approve, note.strip())

        self.app.push_screen(PromptScreen(f"{verb} safelist request #{item.id} for {item.address}. Note:"), noted)

    @work(group="reviews-action", exit_on_error=False)
    async def _decide(self, request_id: int, approve: bool, note: str) -> None:
        try:
            item = await decide(runtime_of(self), request_id=request_id, approve=approve,
                                actor=actor_of(self), note=note)
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except ContactError as exc:
            self.app.notify(str(exc), title="Review", severity="error", timeout=6)
            return
        self.app.notify(f"Request #{item.id} for {item.address} {item.state}.", title="Review", timeout=5)
        self.refresh_requests()
