"""`mailconsole domains`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="domains", invoke_without_command=True, help="domains (not available yet).")
def command() -> None:
    fail("`domains` is not available yet")
