"""`mailconsole identity`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="identity", invoke_without_command=True, help="identity (not available yet).")
def command() -> None:
    fail("`identity` is not available yet")
