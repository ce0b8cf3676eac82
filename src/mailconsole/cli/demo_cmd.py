"""`mailconsole demo`: the console on a separate demo database with a live capture sink."""

from __future__ import annotations

import click

from mailconsole.cli.common import run, state
from mailconsole.domain.roles import Role


@click.command(name="demo", help="Open the console on a demo database (data_dir/demo) with sample "
               "data and a local capture SMTP sink as its sending server.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="viewer is read-only; support may act on contacts; admin (the demo's default for "
                   "anyone not in the role table) may change config.")
@click.option("--seed-only", is_flag=True, help="Create and seed the demo database, print where, exit.")
def command(role: str | None, seed_only: bool) -> None:
    from mailconsole.demo import run_demo

    out = run(run_demo(state().settings, role or state().role, console=not seed_only))
    if out:
        click.echo(out)
