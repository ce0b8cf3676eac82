"""`mailconsole reviews`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="reviews", invoke_without_command=True, help="reviews (not available yet).")
def command() -> None:
    fail("`reviews` is not available yet")
