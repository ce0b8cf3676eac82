"""The Events pane: a live log of feedback (source, contact, outcome), the unparseable
mailbox items, a role-checked "poll now" — driven with the keyboard at 80x24."""

from __future__ import annotations

import mailbox
from pathlib import Path
from typing import Any

from sqlalchemy import select
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from mailconsole.console import app as console_app
from mailconsole.console.screens.events import EventsPane
from mailconsole.domain.roles import Role
from mailconsole.feedback import service
from mailconsole.feedback.model import FeedbackReport
from mailconsole.runtime import Runtime
from mailconsole.store.models import AuditEntry
from tests.feedback.helpers import sample


class Host(App[None]):
    """The attributes the console contract promises a pane (runtime, role, refresh_seconds),
    the console's stylesheet, and its habit of focusing a pane's preferred widget."""

    CSS_PATH = str(Path(console_app.__file__).with_name("app.tcss"))

    def __init__(self, runtime: Runtime, role: Role) -> None:
        super().__init__()
        self.runtime = runtime
        self.role = role
        self.refresh_seconds = 0.25

    def compose(self) -> ComposeResult:
        yield EventsPane(id="events", classes="pane")

    def on_mount(self) -> None:
        self.query_one(EventsPane).focus_default()


def _cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def _settle(app: Host, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _bounce(runtime: Runtime, recipient: str, key: str, kind: str = "bounce") -> None:
    await service.record_report(
        runtime, FeedbackReport("sendgrid", kind, recipient, "5.1.1" if kind == "bounce" else "", "550 5.1.1 unknown",
                                event_key=key)
    )


async def test_events_pane_shows_source_contact_and_outcome_and_tails_new_events(runtime: Runtime) -> None:
    await _bounce(runtime, "alice@example.com", "e1")
    app = Host(runtime, Role.VIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        table = app.query_one("#events-table", DataTable)
        assert _cells(table) == [["03-02 09:00", "sendgrid", "bounce", "alice@example.com", "5.1.1", "hard_bounce"]]
        await _bounce(runtime, "olivia@yahoo.com", "e2", kind="complaint")
        app.query_one(EventsPane).tail()
        await _settle(app, pilot)
        assert [row[3] for row in _cells(table)] == ["alice@example.com", "olivia@yahoo.com"]
        assert _cells(table)[1][5] == "complaint"
        summary = str(app.query_one("#events-summary", Static).render())
        assert summary == "2 event(s) shown, live  ·  0 unparseable kept (u)"


async def test_events_pane_lists_unparseable_items_and_shows_one(runtime: Runtime) -> None:
    await service.keep_unparsed(runtime, source="maildir:/var/bounces", reason="not a bounce",
                                raw=sample("out_of_office.eml"))
    app = Host(runtime, Role.VIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("u")
        await _settle(app, pilot)
        table = app.query_one("#unparsed-table", DataTable)
        (row,) = _cells(table)
        assert row[2].startswith("maildir:/var/bounces #") and row[3] == "not a bounce"
        await pilot.press("enter")
        await _settle(app, pilot)
        detail = str(app.query_one("#events-detail", Static).render())
        assert "Subject: Automatic reply: Your order has shipped" in detail


async def test_filter_narrows_the_log_by_kind(runtime: Runtime) -> None:
    await _bounce(runtime, "alice@example.com", "e1")
    await _bounce(runtime, "olivia@yahoo.com", "e2", kind="complaint")
    app = Host(runtime, Role.VIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("slash", *"kind:complaint", "enter")
        await _settle(app, pilot)
        assert [row[3] for row in _cells(app.query_one("#events-table", DataTable))] == ["olivia@yahoo.com"]


async def test_viewer_cannot_poll_and_admin_poll_is_audited(runtime: Runtime, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "b", create=True)
    box.add(sample("qmail_no_mailbox.eml", signed_by=runtime.secrets))
    runtime.settings.bounce_maildir = str(tmp_path / "b")
    viewer = Host(runtime, Role.VIEWER)
    async with viewer.run_test(size=(80, 24)) as pilot:
        await _settle(viewer, pilot)
        await pilot.press("p")
        await _settle(viewer, pilot)
        assert viewer.query_one(EventsPane).polls == 0
        assert len(box) == 1
    admin = Host(runtime, Role.ADMIN)
    async with admin.run_test(size=(80, 24)) as pilot:
        await _settle(admin, pilot)
        await pilot.press("p")
        await _settle(admin, pilot)
        assert admin.query_one(EventsPane).polls == 1
        assert [row[3] for row in _cells(admin.query_one("#events-table", DataTable))] == ["leo@qmail.example"]
    async with runtime.sessions() as session:
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.role))).all()
    assert [tuple(a) for a in actions] == [("feedback.poll", "admin")]

