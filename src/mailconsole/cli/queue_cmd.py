"""`mailconsole queue`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="queue", invoke_without_command=True, help="queue (not available yet).")
def command() -> None:
    fail("`queue` is not available yet")
