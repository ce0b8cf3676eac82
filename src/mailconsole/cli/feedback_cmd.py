"""`mailconsole feedback`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="feedback", invoke_without_command=True, help="feedback (not available yet).")
def command() -> None:
    fail("`feedback` is not available yet")
