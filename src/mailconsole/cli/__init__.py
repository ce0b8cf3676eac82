"""The `mailconsole` command. Each subcommand group lives in its own module in this package.

Every error a person can cause (bad flag, malformed URL, unreachable database, a rule
broken) prints one clear line to stderr and exits 2; never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from mailconsole import __version__
from mailconsole.cli.common import CliError, CliState, fail
from mailconsole.settings import SettingsError, load_settings
from mailconsole.store.db import DatabaseError


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mailconsole")
@click.option(
    "--database-url",
    envvar="MAILCONSOLE_DATABASE_URL",
    help="SQLAlchemy URL (sqlite+aiosqlite:///… or postgresql+asyncpg://…).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="MAILCONSOLE_DATA_DIR",
    help="Data directory (database, secret key, TLS files).",
)
@click.option("--role", type=click.Choice(["viewer", "support", "admin"]), default=None,
              help="Act in this role; it may only lower the role the settings' role table gives you.")
@click.pass_context
def cli(
    ctx: click.Context, database_url: str | None, config_file: str | None, data_dir: str | None, role: str | None
) -> None:
    """mailconsole: a self-hosted email delivery engine with a keyboard-driven console.

    Run with no command to open the console; `mailconsole demo` to try it on sample data.
    """
    try:
        settings = load_settings(config_file)
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    from pathlib import Path

    settings = settings.with_overrides(
        database_url=database_url, data_dir=Path(data_dir).expanduser() if data_dir else None
    )
    ctx.obj = CliState(settings=settings, role=role)
    if ctx.invoked_subcommand is None:
        from mailconsole.cli import console_cmd

        ctx.invoke(console_cmd.command, role=role)


def _register() -> None:
    from mailconsole.cli import (
        console_cmd,
        contacts_cmd,
        db_cmd,
        demo_cmd,
        domains_cmd,
        feedback_cmd,
        identity_cmd,
        keys_cmd,
        queue_cmd,
        reviews_cmd,
        safelist_cmd,
        serve_cmd,
        servers_cmd,
        sink_cmd,
    )

    for module in (
        console_cmd, demo_cmd, serve_cmd, sink_cmd, servers_cmd, domains_cmd, identity_cmd,
        contacts_cmd, reviews_cmd, safelist_cmd, keys_cmd, queue_cmd, db_cmd, feedback_cmd,
    ):
        cli.add_command(module.command)


_register()


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="mailconsole", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except (CliError, SettingsError, DatabaseError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code if exc.exit_code != 1 else 2)
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["cli", "fail", "main"]
