"""`mailconsole contacts`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="contacts", invoke_without_command=True, help="contacts (not available yet).")
def command() -> None:
    fail("`contacts` is not available yet")
