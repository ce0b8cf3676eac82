"""`mailconsole servers`: placeholder until its issue lands."""

import click

from mailconsole.cli.common import fail


@click.group(name="servers", invoke_without_command=True, help="servers (not available yet).")
def command() -> None:
    fail("`servers` is not available yet")
