"""The console shell: every pane by key and by palette, help from the bindings, roles, layout."""

from __future__ import annotations

from sqlalchemy import select
from tests.console.conftest import AppFactory
from tests.console.seed import seed_console

from mailconsole.console.help_screen import HelpScreen
from mailconsole.console.screens import PANES
from mailconsole.domain.roles import Role
from mailconsole.store.models import AuditEntry, Message


async def test_every_pane_is_reachable_by_its_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for spec in PANES:
            await pilot.press(spec.key)
            await pilot.pause()
            assert app.current_pane == spec.id
            assert app.query_one("#panes").current == spec.id  # type: ignore[attr-defined]
            assert app.pane().display


async def test_every_pane_is_reachable_from_the_palette(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for spec in reversed(PANES):
            await pilot.press("colon")
            await pilot.pause()
            await pilot.press(*spec.title.lower())
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert app.current_pane == spec.id, spec.title


async def test_escape_goes_back_to_the_previous_pane(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "3")
        await pilot.press("escape")
        assert app.current_pane == "servers"
        await pilot.press("escape")
        assert app.current_pane == "queue"


async def test_help_lists_the_pane_keys_and_global_keys(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {(row.group, row.description) for row in app.screen.rows}
        assert ("Queue", "Hold") in described
        assert ("Everywhere", "Help") in described
        assert ("Everywhere", "Servers") in described
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_viewer_is_refused_a_queue_action_with_a_visible_reason(make_app: AppFactory) -> None:
    app = make_app(role=Role.VIEWER, seed=seed_console)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("h")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert "the viewer role may not do this (queue_action); ask an admin" in messages
        assert app.screen is app.screen_stack[0]  # no confirmation was even offered
        async with app.runtime.sessions() as session:
            held = (await session.execute(select(Message).where(Message.state == "held"))).scalars().all()
            audit_rows = (await session.execute(select(AuditEntry))).scalars().all()
        assert len(held) == 3  # only the seeded ones
        assert not [a for a in audit_rows if a.action.startswith("queue.")]


async def test_admin_holds_a_message_after_confirming_and_it_is_audited(make_app: AppFactory) -> None:
    app = make_app(role=Role.ADMIN, seed=seed_console)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        pane = app.pane("queue")
        target = pane.rows[0]  # newest first: the last seeded message, queued
        assert target.state == "queued"
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause(0.5)
        async with app.runtime.sessions() as session:
            state = (await session.execute(select(Message.state).where(Message.id == target.id))).scalar_one()
            audit_rows = (await session.execute(
                select(AuditEntry).where(AuditEntry.action == "queue.hold"))).scalars().all()
        assert state == "held"
        assert len(audit_rows) == 1 and audit_rows[0].role == "admin"


def test_shell_at_80x24(make_app: AppFactory, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(seed=seed_console), terminal_size=(80, 24))


def test_shell_at_120x40(make_app: AppFactory, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(seed=seed_console), terminal_size=(120, 40))


def test_help_screen(make_app: AppFactory, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(seed=seed_console), terminal_size=(80, 24), press=["question_mark"])


def test_servers_pane_with_data(make_app: AppFactory, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(seed=seed_console), terminal_size=(100, 30), press=["2"])
