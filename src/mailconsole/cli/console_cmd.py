"""`mailconsole console`: open the Textual console on the configured database."""

from __future__ import annotations

import click

from mailconsole.cli.common import state
from mailconsole.domain.roles import Role


@click.command(name="console", help="Open the console (the default command).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="admin", show_default=True,
              help="viewer is read-only; support may act on contacts; admin may change config.")
def command(role: str) -> None:
    from mailconsole.console.app import run_console

    run_console(state().settings, Role(role))
