"""Contacts and Reviews panes driven by the keyboard (Pilot), with real services underneath."""

from __future__ import annotations

from typing import Any

from mailconsole.clock import FixedClock
from mailconsole.console.screens.contacts import ContactRowView, ContactsPane
from mailconsole.console.screens.reviews import ReviewsPane
from mailconsole.contacts.queries import contact_detail
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from tests.contacts.conftest import complain, hard_bounce
from tests.contacts.paneapp import PaneApp
from tests.support.actors import SYSTEM


async def wait_for(predicate: Any, pilot: Any, *, limit: float = 5.0) -> None:
    for _ in range(int(limit / 0.02)):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


def row_texts(pane: ContactsPane) -> list[str]:
    return [v.row.address for v in pane.query(ContactRowView) if v.row is not None]


async def test_check_again_pass_from_the_pane_restores_active(
    dns_runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    await hard_bounce(dns_runtime, "ann@example.com")
    app = PaneApp(settings, clock, runtime=dns_runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ContactsPane)
        await wait_for(lambda: pane.loads >= 1, pilot)
        assert pane.current is not None and pane.current.status == "blocklisted"
        loads = pane.loads
        await pilot.press("c")
        await wait_for(lambda: pane.loads > loads, pilot)
        assert pane.current is not None and pane.current.status == "active"
    assert (await contact_detail(dns_runtime, 1, "ann@example.com")).log[0].kind == "check_passed"


async def test_check_again_fail_from_the_pane_keeps_status_and_says_why(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    await hard_bounce(runtime, "bob@example.com")  # DNS at 127.0.0.1:1 does not answer
    app = PaneApp(settings, clock, runtime=runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ContactsPane)
        await wait_for(lambda: pane.loads >= 1, pilot)
        loads = pane.loads
        await pilot.press("c")
        await wait_for(lambda: pane.loads > loads, pilot)
        assert pane.current is not None and pane.current.status == "blocklisted"
        titles = [n.title for n in app._notifications]
        assert "Check again: fail" in titles


async def test_spam_complaint_check_again_key_explains_refusal(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    await complain(runtime, "cy@example.com")
    app = PaneApp(settings, clock, runtime=runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ContactsPane)
        await wait_for(lambda: pane.loads >= 1, pilot)
        await pilot.press("c")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("not available for spam complaints" in m for m in messages)


async def test_request_safelist_then_approve_in_reviews(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    await complain(runtime, "dee@example.com")
    clock.advance(days=10)  # young account: manual review
    app = PaneApp(settings, clock, runtime=runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ContactsPane)
        await wait_for(lambda: pane.loads >= 1, pilot)
        loads = pane.loads
        await pilot.press("s")
        await wait_for(lambda: pane.loads > loads, pilot)
        await pilot.press("f4")
        reviews = app.query_one(ReviewsPane)
        await wait_for(lambda: len(reviews.items) == 1, pilot)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"ok by phone", "enter")
        await wait_for(lambda: not reviews.items, pilot)
    detail = await contact_detail(runtime, 1, "dee@example.com")
    assert detail.row.safelisted
    assert detail.log[0].detail.endswith("with note: ok by phone")


async def test_filter_and_keyset_paging_show_the_right_window(
    runtime: Runtime, settings: Settings, clock: FixedClock, tmp_path: Any
) -> None:
    path = tmp_path / "many.csv"
    path.write_text("".join(f"user{i:03d}@example.com\n" for i in range(40)) + "zed@other.org\n")
    from mailconsole.contacts.importer import import_csv

    await import_csv(runtime, path, account_id=1, actor=SYSTEM)
    app = PaneApp(settings, clock, runtime=runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ContactsPane)
        await wait_for(lambda: pane.loads >= 1, pilot)
        assert row_texts(pane)[0] == "user000@example.com"
        loads = pane.loads
        await pilot.press("pagedown")
        await wait_for(lambda: pane.loads > loads, pilot)
        assert row_texts(pane)[0] == "user012@example.com"
        loads = pane.loads
        await pilot.press("pageup")
        await wait_for(lambda: pane.loads > loads, pilot)
        assert row_texts(pane)[0] == "user000@example.com"
        await pilot.press("slash", *"domain:other.org")
        await wait_for(lambda: row_texts(pane) == ["zed@other.org"], pilot)
        await pilot.press("enter", "i")  # back to the list; details of the focused row
        info = str(app.query_one("#contact-info").render())
        assert "zed@other.org" in info and "Status: active" in info
