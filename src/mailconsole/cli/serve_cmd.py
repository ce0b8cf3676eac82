"""`mailconsole serve`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="serve", invoke_without_command=True, help="serve (not available yet).")
def command() -> None:
    fail("`serve` is not available yet")
