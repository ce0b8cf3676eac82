"""`mailconsole console`: open the Textual console on the configured database."""

from __future__ import annotations

import click

from mailconsole.cli.common import state
from mailconsole.domain.roles import Role


@click.command(name="console", help="Open the console (the default command).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="admin", show_default=True,
              help="viewer is read-only; support may act on contacts; admin may change config.")
@click.option("--no-engine", is_flag=True,
              help="Do not deliver from this process; watch engines running elsewhere on the same database.")
def command(role: str, no_engine: bool) -> None:
    import asyncio

    from mailconsole.console.app import run_console_async

    asyncio.run(run_console_async(state().settings, Role(role), with_engine=not no_engine))
