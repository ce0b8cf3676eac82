"""`mailconsole console`: open the Textual console on the configured database."""

from __future__ import annotations

import click

from mailconsole.cli.common import actor, state
from mailconsole.domain.roles import Interface, Role


@click.command(name="console", help="Open the console (the default command).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="viewer is read-only; support may act on contacts; admin may change config. "
                   "Only lowers the role the settings' role table gives you.")
@click.option("--no-engine", is_flag=True,
              help="Do not deliver from this process; watch engines running elsewhere on the same database.")
def command(role: str | None, no_engine: bool) -> None:
    import asyncio

    from mailconsole.boot import run_console

    if role is not None:
        state().role = role
    who = actor(Interface.CONSOLE)
    asyncio.run(run_console(state().settings, who, with_engine=not no_engine))
