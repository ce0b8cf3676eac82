"""`mailconsole safelist`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="safelist", invoke_without_command=True, help="safelist (not available yet).")
def command() -> None:
    fail("`safelist` is not available yet")
