"""What every CLI module shares: the state object, async running, JSON output, errors."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from mailconsole.domain.roles import Actor, Interface, PermissionDenied, RoleError
from mailconsole.settings import Settings
from mailconsole.store.db import DatabaseError, check_url

T = TypeVar("T")


class CliError(click.ClickException):
    """A mistake a person can fix; printed as one line, exit status 2."""

    exit_code = 2


def fail(message: str) -> NoReturn:
    raise CliError(message)


@dataclass
class CliState:
    settings: Settings
    role: str | None = None  # --role: look as this role (only ever lower than the table's)


def actor(interface: Interface = Interface.CLI) -> Actor:
    """The OS user running this command, in the role the settings' role table gives them.

    ``--role`` may lower it (an admin looking as viewer), never raise it.
    """
    st = state()
    from mailconsole.access import local_actor

    try:
        return local_actor(st.settings, interface, st.role)
    except RoleError as exc:
        raise CliError(str(exc)) from None


def state(ctx: click.Context | None = None) -> CliState:
    ctx = ctx or click.get_current_context()
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning database connection failures into one clear line."""
    try:
        return asyncio.run(coro)
    except (PermissionDenied, RoleError) as exc:
        raise CliError(str(exc)) from None
    except DatabaseError as exc:
        raise CliError(str(exc)) from None
    except (OperationalError, DBAPIError, OSError, socket.gaierror) as exc:
        if isinstance(exc, click.ClickException):
            raise
        orig = getattr(exc, "orig", None) or exc
        raise CliError(f"cannot reach the database: {str(orig).splitlines()[0]}") from None


async def with_runtime(fn: Callable[[Any], Awaitable[T]], settings: Settings | None = None) -> T:
    """Open a Runtime (migrations applied) and call fn(runtime)."""
    from mailconsole.runtime import Runtime

    settings = settings or state().settings
    check_url(settings.effective_database_url)
    async with Runtime.open(settings) as runtime:
        return await fn(runtime)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=None, sort_keys=True, default=str))


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(fn)


def parse_set_options(values: tuple[str, ...]) -> dict[str, str]:
    """`--set field=value` pairs, with a clear error for a pair without '='."""
    out: dict[str, str] = {}
    for item in values:
        if "=" not in item:
            fail(f"--set expects field=value, got {item!r}")
        key, _, value = item.partition("=")
        out[key.strip()] = value
    return out

