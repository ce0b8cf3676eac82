"""`mailconsole demo --seed-only`, and the server form generated from the transport's FIELDS."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from tests.console.conftest import AppFactory

from mailconsole.cli import cli
from mailconsole.console.widgets.server_form import ServerFormScreen
from mailconsole.store.models import SendingServer


def test_demo_seed_only_uses_its_own_database_and_is_idempotent(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["--data-dir", str(tmp_path), "demo", "--seed-only"])
    second = runner.invoke(cli, ["--data-dir", str(tmp_path), "demo", "--seed-only"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"{tmp_path}/demo/mailconsole-demo.db" in first.output
    assert "(36 messages;" in first.output and "(36 messages;" in second.output  # seeded once
    assert not (tmp_path / "mailconsole.db").exists()  # the real database is untouched
    listed = runner.invoke(cli, ["--database-url", f"sqlite+aiosqlite:///{tmp_path}/demo/mailconsole-demo.db",
                                 "--data-dir", str(tmp_path / "demo"), "contacts", "list", "--limit", "100", "--json"])
    assert listed.exit_code == 0, listed.output
    statuses = {c["address"]: c["status"] for c in json.loads(listed.output)}
    assert len(statuses) == 36  # imported once, not twice
    assert statuses["ada@example.org"] == "active" and statuses["reader07@example.org"] == "active"
    assert statuses["nobody@example.org"] == "blocklisted"
    assert statuses["annoyed@example.com"] == "spam_complaint"
    assert statuses["full-inbox@example.net"] == "multiple_soft_bounces"


async def _open_add_form(app, pilot) -> ServerFormScreen:  # type: ignore[no-untyped-def]
    app.show_config_tab("config-servers")
    await pilot.pause(0.3)
    app.pane("config").query_one("#config-servers-table").focus()
    await pilot.press("a")
    await pilot.pause(0.5)
    assert isinstance(app.screen, ServerFormScreen)
    return app.screen


async def test_server_form_shows_the_transports_own_errors_under_each_field(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _open_add_form(app, pilot)
        form.query_one("#common-type").value = "smtp"  # type: ignore[attr-defined]
        await pilot.pause(0.3)
        form.query_one("#field-port").value = "70000"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ServerFormScreen)  # not saved
        assert str(form.query_one("#err-host").render()) == "Host is required"  # type: ignore[attr-defined]
        assert "port must be between 1 and 65535, got 70000" in str(form.query_one("#err-port").render())  # type: ignore[attr-defined]
        assert str(form.query_one("#err-name").render()) == "a name is required"  # type: ignore[attr-defined]
        async with app.runtime.sessions() as session:
            assert (await session.execute(select(SendingServer))).first() is None


async def test_server_form_saves_through_the_service(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        form = await _open_add_form(app, pilot)
        form.query_one("#common-type").value = "smtp"  # type: ignore[attr-defined]
        await pilot.pause(0.3)
        form.query_one("#common-name").value = "relay-9"  # type: ignore[attr-defined]
        form.query_one("#field-host").value = "127.0.0.1"  # type: ignore[attr-defined]
        form.query_one("#field-password").value = "s3cret"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.8)
        async with app.runtime.sessions() as session:
            server = (await session.execute(select(SendingServer))).scalar_one()
        assert (server.name, server.type, server.settings["host"]) == ("relay-9", "smtp", "127.0.0.1")
        assert "s3cret" not in str(server.settings)
        assert app.runtime.secrets.decrypt_json(server.secrets) == {"password": "s3cret"}
        await pilot.pause(0.5)  # let the list reload finish before the app closes
