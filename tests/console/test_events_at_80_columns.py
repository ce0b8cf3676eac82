"""Events at 80x24 over SSH: every column is on screen (no sideways scrolling), a long value ends
in an ellipsis, and the line under the table shows the highlighted row's contact, code and
outcome in full, following the cursor."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import AppFactory
from textual.widgets import DataTable, Static

from mailconsole.console.screens.events import EVENT_COLUMNS
from mailconsole.console.widgets.fit_columns import fit_widths
from mailconsole.feedback import service
from mailconsole.runtime import Runtime
from mailconsole.showcase import seed_showcase

LONG_REASON = "no DSN, no ARF and no provider notification found in this message at all"


async def _seed(runtime: Runtime) -> None:
    await seed_showcase(runtime)
    await service.keep_unparsed(runtime, source="maildir:/var/spool/bounces/example-company",
                                reason=LONG_REASON, raw=b"Subject: hello\r\n\r\nnot a bounce\r\n")


async def _loaded(app: Any, pilot: Any, selector: str) -> DataTable[Any]:
    table: DataTable[Any] = app.pane("events").query_one(selector, DataTable)
    for _ in range(50):  # the rows load in a worker
        await pilot.pause(0.1)
        if table.row_count:
            break
    return table


def _fits(table: DataTable[Any]) -> bool:
    """The whole row fits the visible width: nothing is left to scroll sideways to."""
    return table.virtual_size.width <= table.scrollable_content_region.width and table.max_scroll_x == 0


def _line(app: Any) -> str:
    return str(app.pane("events").query_one("#events-current", Static).render())


async def test_every_event_column_fits_80_columns_and_the_cursor_line_shows_the_whole_outcome(
        make_app: AppFactory) -> None:
    app = make_app(seed=_seed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        table = await _loaded(app, pilot, "#events-table")
        assert _fits(table)
        assert [str(c.label) for c in table.columns.values()] == [
            "Time", "Source", "Kind", "Contact", "Code", "Outcome"]
        assert [c.width for c in table.columns.values()] == [11, 8, 9, 18, 5, 15]
        # The newest event is highlighted and described in full under the table.
        assert _line(app) == "03-02 09:00:00  reader042@example.org  code -  → complaint"
        # mailgun's policy block: its outcome is longer than the column; the line has all of it.
        keys = [str(row.key.value) for row in table.ordered_rows]
        mailgun = next(i for i, key in enumerate(keys)
                       if app.pane("events").shown[int(key)].source == "mailgun")
        for _ in range(table.cursor_row - mailgun):
            await pilot.press("up")
        await pilot.pause(0.1)
        outcome = app.pane("events").shown[int(keys[mailgun])].outcome
        assert len(outcome) > 15
        assert _line(app) == f"03-02 09:00:00  reader023@example.org (no contact)  code 5.7.1  → {outcome}"
        await pilot.pause(0.3)


async def test_unparsed_items_fit_80_columns_and_the_cursor_line_shows_the_whole_reason(
        make_app: AppFactory) -> None:
    app = make_app(seed=_seed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await _loaded(app, pilot, "#events-table")
        await pilot.press("u")
        table = await _loaded(app, pilot, "#unparsed-table")
        await pilot.pause(0.2)
        assert _fits(table)
        assert LONG_REASON in _line(app)
        assert "maildir:/var/spool/bounces/example-company #" in _line(app)
        await pilot.pause(0.3)


def test_wider_terminals_give_contact_and_outcome_the_extra_room() -> None:
    at_80, at_120 = fit_widths(EVENT_COLUMNS, 80), fit_widths(EVENT_COLUMNS, 120)
    assert (at_80["contact"], at_80["outcome"]) == (18, 15)
    assert (at_120["contact"], at_120["outcome"]) == (38, 35)
    assert {k: v for k, v in at_120.items() if k not in ("contact", "outcome")} == {
        "time": 11, "source": 8, "kind": 9, "status": 5}


async def test_resizing_the_terminal_refits_the_columns_and_keeps_the_rows(make_app: AppFactory) -> None:
    app = make_app(seed=_seed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        table = await _loaded(app, pilot, "#events-table")
        rows = [str(r.key.value) for r in table.ordered_rows]
        await pilot.resize_terminal(120, 30)
        await pilot.pause(0.3)
        assert [c.width for c in table.columns.values()] == [11, 8, 9, 38, 5, 35]
        assert [str(r.key.value) for r in table.ordered_rows] == rows
        assert _fits(table)
        await pilot.pause(0.3)
