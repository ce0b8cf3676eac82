"""`mailconsole keys`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="keys", invoke_without_command=True, help="keys (not available yet).")
def command() -> None:
    fail("`keys` is not available yet")
