"""Config > API keys in the real console, driven with Pilot at 80x24."""

from __future__ import annotations

from sqlalchemy import select

from mailconsole.console.screens.config_api_keys import ApiKeysPane, parse_create_input
from mailconsole.console.widgets.confirm import ConfirmScreen
from mailconsole.domain.roles import Role
from mailconsole.intake import keys
from mailconsole.store.models import AuditEntry
from tests.console.conftest import AppFactory, console_settings, make_app  # noqa: F401 (fixtures)


def test_create_input_takes_trailing_stream_names() -> None:
    assert parse_create_input("shop app transactional") == ("shop app", ["transactional"])
    assert parse_create_input("newsletter") == ("newsletter", ["transactional", "broadcast"])


async def _open(app, pilot) -> ApiKeysPane:  # type: ignore[no-untyped-def]
    app.show_config_tab("config-api-keys")
    await pilot.pause(0.3)
    pane = app.pane("config").query_one(ApiKeysPane)
    pane.focus_default()
    return pane


async def test_admin_creates_a_key_sees_it_once_and_revokes_it_after_confirming(make_app: AppFactory) -> None:  # noqa: F811
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open(app, pilot)
        await pilot.press("c")
        await pilot.press(*"shop", "space", *"transactional", "enter")
        await pilot.pause(0.5)
        shown = str(pane.query_one("#key-created").render())
        [info] = await keys.list_keys(app.runtime)
        assert info.name == "shop" and info.allowed_streams == ["transactional"]
        assert f"mc_{info.prefix}_" in shown
        plaintext = shown[shown.index("mc_") :].split()[0]
        assert await keys.authenticate(app.runtime, plaintext) is not None
        await pilot.press("x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause(0.5)
        [after] = await keys.list_keys(app.runtime)
        assert after.revoked is True
        assert pane.query_one("#key-created").has_class("hidden")
        async with app.runtime.sessions() as session:
            actions = list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
        assert actions == ["api_key.create", "api_key.revoke"]


async def test_viewer_cannot_create_keys(make_app: AppFactory) -> None:  # noqa: F811
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        await pilot.press("c")
        await pilot.pause(0.2)
        assert await keys.list_keys(app.runtime) == []
        assert not isinstance(app.focused, type(None)) and app.focused.id != "key-name"
