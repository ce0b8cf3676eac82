"""Config > Servers: the bounce mailbox rows come from BOUNCE_HANDLER_FIELDS and are saved
through ``build_bounce_handler`` into the server's ``bounce_handler`` (password encrypted)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.console.conftest import AppFactory

from mailconsole.console.widgets.server_form import ServerFormScreen
from mailconsole.feedback.handler import BOUNCE_HANDLER_FIELDS
from mailconsole.store.models import SendingServer


async def _open_form(app: Any, pilot: Any, key: str) -> ServerFormScreen:
    app.show_config_tab("config-servers")
    await pilot.pause(0.3)
    app.pane("config").query_one("#config-servers-table").focus()
    await pilot.press(key)
    await pilot.pause(0.5)
    assert isinstance(app.screen, ServerFormScreen)
    return app.screen


def _set(form: ServerFormScreen, values: dict[str, str]) -> None:
    for wid, value in values.items():
        form.query_one(f"#{wid}").value = value  # type: ignore[attr-defined]


async def _server(app: Any) -> SendingServer:
    async with app.runtime.sessions() as session:
        return (await session.execute(select(SendingServer))).scalar_one()


async def test_bounce_mailbox_rows_are_generated_from_the_declaration(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _open_form(app, pilot, "a")
        for spec in BOUNCE_HANDLER_FIELDS:
            assert form.query(f"#bounce-{spec.name}"), spec.name
        assert form.query_one("#bounce-password").password  # type: ignore[attr-defined]


async def test_imap_bounce_mailbox_without_host_is_refused_under_its_field(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _open_form(app, pilot, "a")
        _set(form, {"common-type": "smtp"})
        await pilot.pause(0.3)
        _set(form, {"common-name": "relay-b", "field-host": "127.0.0.1", "bounce-type": "imap",
                    "bounce-user": "bounces"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ServerFormScreen)  # not saved
        assert str(form.query_one("#err-bounce-host").render()) == (
            "IMAP host is required for an IMAP bounce mailbox")
        assert str(form.query_one("#err-bounce-password").render()) == (
            "IMAP password is required for an IMAP bounce mailbox")
        async with app.runtime.sessions() as session:
            assert (await session.execute(select(SendingServer))).first() is None


async def test_imap_bounce_mailbox_is_saved_with_an_encrypted_password_and_kept_on_edit(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _open_form(app, pilot, "a")
        _set(form, {"common-type": "smtp"})
        await pilot.pause(0.3)
        _set(form, {"common-name": "relay-b", "field-host": "127.0.0.1", "bounce-type": "imap",
                    "bounce-host": "imap.example.com", "bounce-user": "bounces",
                    "bounce-password": "imap-s3cret", "bounce-processed_folder": "-"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        server = await _server(app)
        handler = dict(server.bounce_handler)
        assert {k: handler[k] for k in ("type", "host", "port", "tls", "user", "folder",
                                        "processed_folder")} == {
            "type": "imap", "host": "imap.example.com", "port": 993, "tls": "ssl",
            "user": "bounces", "folder": "INBOX", "processed_folder": ""}
        assert "imap-s3cret" not in str(handler)
        assert app.runtime.secrets.decrypt_text(handler["password_encrypted"]) == "imap-s3cret"

        # Edit: the stored values come back (never the password); a blank password keeps it.
        await pilot.pause(0.5)
        form = await _open_form(app, pilot, "e")
        assert form.query_one("#bounce-host").value == "imap.example.com"  # type: ignore[attr-defined]
        assert form.query_one("#bounce-password").value == ""  # type: ignore[attr-defined]
        _set(form, {"bounce-folder": "Bounces"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        edited = dict((await _server(app)).bounce_handler)
        assert edited["folder"] == "Bounces"
        assert edited["password_encrypted"] == handler["password_encrypted"]

        # Choosing "none" removes the mailbox.
        await pilot.pause(0.5)
        form = await _open_form(app, pilot, "e")
        _set(form, {"bounce-type": "none"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        assert (await _server(app)).bounce_handler == {}
        await pilot.pause(0.3)
