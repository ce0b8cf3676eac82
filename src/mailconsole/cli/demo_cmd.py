"""`mailconsole demo`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="demo", invoke_without_command=True, help="demo (not available yet).")
def command() -> None:
    fail("`demo` is not available yet")
