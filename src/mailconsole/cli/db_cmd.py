"""`mailconsole db`: schema migrations and connectivity."""

from __future__ import annotations

import click

from mailconsole.cli.common import echo_json, json_option, run, state
from mailconsole.store.db import check_url, create_engine
from mailconsole.store.migrate import current_revision, upgrade


@click.group(name="db", help="Database schema: upgrade, status.")
def command() -> None:
    pass


@command.command("upgrade", help="Apply all migrations (also done automatically on start).")
def upgrade_cmd() -> None:
    url = state().settings.effective_database_url
    check_url(url)

    async def go() -> str | None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = run(go())
    click.echo(f"database at revision {revision}")


@command.command("status", help="Show the database URL (password hidden) and schema revision.")
@json_option
def status_cmd(as_json: bool) -> None:
    from sqlalchemy.engine import make_url

    url = state().settings.effective_database_url
    check_url(url)

    async def go() -> str | None:
        engine = create_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = run(go())
    shown = make_url(url).render_as_string(hide_password=True)
    if as_json:
        echo_json({"database": shown, "revision": revision})
    else:
        click.echo(f"database: {shown}\nrevision: {revision or 'none (run `mailconsole db upgrade`)'}")
