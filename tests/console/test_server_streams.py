"""Config > Servers: the Streams field (which message streams a server carries) is saved through
``delivery.servers`` like ``mailconsole servers add/edit --stream``, and a bad stream is refused
under the field in the service's own words, with nothing stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.console.conftest import AppFactory
from tests.console.seed import seed_console

from mailconsole.console.widgets.server_form import ServerFormScreen
from mailconsole.store.models import SendingServer


async def _edit_form(app: Any, pilot: Any, name: str) -> ServerFormScreen:
    app.show_config_tab("config-servers")
    pane = app.pane("config").query_one("#server-forms-pane")
    for _ in range(50):  # the list loads in a worker
        await pilot.pause(0.1)
        if pane.servers:
            break
    table = pane.query_one("#config-servers-table")
    table.focus()
    table.move_cursor(row=[s.name for s in pane.servers].index(name))
    await pilot.press("e")
    await pilot.pause(0.5)
    assert isinstance(app.screen, ServerFormScreen)
    return app.screen


async def _streams(app: Any, name: str) -> list[str]:
    async with app.runtime.sessions() as session:
        return list((await session.execute(
            select(SendingServer.streams).where(SendingServer.name == name))).scalar_one())


async def test_editing_streams_in_the_console_stores_them(make_app: AppFactory) -> None:
    app = make_app(seed=seed_console)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _edit_form(app, pilot, "relay-1")
        streams = form.query_one("#common-streams")
        assert streams.value == "all"  # type: ignore[attr-defined]  # stored [] = every stream
        streams.value = "Broadcast"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        assert app.screen is app.screen_stack[0]  # saved, the form closed
        assert await _streams(app, "relay-1") == ["broadcast"]
        assert await _streams(app, "backup") == []  # the other server still carries everything
        # Reopened, the form shows what is stored; "all" lifts the restriction again.
        form = await _edit_form(app, pilot, "relay-1")
        assert form.query_one("#common-streams").value == "broadcast"  # type: ignore[attr-defined]
        form.query_one("#common-streams").value = "all"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        assert await _streams(app, "relay-1") == []
        await pilot.pause(0.3)


async def test_a_bad_stream_is_refused_under_its_field_and_nothing_is_stored(make_app: AppFactory) -> None:
    app = make_app(seed=seed_console)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _edit_form(app, pilot, "relay-1")
        form.query_one("#common-streams").value = "transactional, bulk"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        reopened = app.screen
        assert isinstance(reopened, ServerFormScreen)  # reopened with the error, not saved
        assert str(reopened.query_one("#err-streams").render()) == (
            "stream must be one of transactional, broadcast, got 'bulk'")
        assert reopened.query_one("#common-streams").value == "transactional, bulk"  # type: ignore[attr-defined]
        assert await _streams(app, "relay-1") == []
        await pilot.press("escape")
        await pilot.pause(0.3)
