"""`mailconsole servers`: add, edit, list, pause, resume and test sending servers.

`--set field=value` goes through the transport's field declaration, so the errors are the
same words the console form shows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, parse_set_options, run, with_runtime
from mailconsole.delivery import servers as servers_service
from mailconsole.delivery.servers import ServerConfigError, ServerNotFound
from mailconsole.domain.policy import STREAMS
from mailconsole.domain.ratelimit import SpeedError, parse_speed
from mailconsole.runtime import Runtime
from mailconsole.transports.registry import TRANSPORT_MODULES


@click.group(name="servers", help="Sending servers: add, edit, list, pause, resume, test.")
def command() -> None:
    pass


def _speed(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        speed = parse_speed(text)
    except SpeedError as exc:
        fail(f"--speed: {exc}")
    return {"speed_mode": speed.mode, "speed_limit": speed.limit}


STREAM_CHOICES = (*STREAMS, "all")
_STREAM_HELP = "Carry only this stream (repeatable); 'all' (or none given) carries every stream."


def _streams(given: tuple[str, ...]) -> list[str]:
    """--stream values as stored: 'all' means no restriction (an empty list)."""
    return [] if "all" in given else list(dict.fromkeys(given))


def _config_error(exc: ServerConfigError) -> None:
    fail("; ".join(f"{name}: {message}" for name, message in exc.errors.items()))


@command.command("add")
@click.option("--type", "type_", required=True, type=click.Choice(sorted(TRANSPORT_MODULES)))
@click.option("--name", required=True)
@click.option("--group", default="default", show_default=True)
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="A field of the server type (repeatable).")
@click.option("--speed", default="unlimited", show_default=True, help="unlimited, N/hour or N/day.")
@click.option("--concurrency", type=click.IntRange(1, 100), default=4, show_default=True)
@click.option("--stream", "streams", multiple=True, type=click.Choice(STREAM_CHOICES), help=_STREAM_HELP)
@json_option
def add(type_: str, name: str, group: str, sets: tuple[str, ...], speed: str, concurrency: int,
        streams: tuple[str, ...], as_json: bool) -> None:
    """Add a server; every bad field is reported at once and nothing is stored."""
    fields = parse_set_options(sets)
    speed_kw = _speed(speed)

    async def go(runtime: Runtime) -> int:
        try:
            server = await servers_service.add_server(
                runtime, name=name, type=type_, group=group, fields=fields, concurrency=concurrency,
                streams=_streams(streams), actor=actor(), **speed_kw,
            )
        except ServerConfigError as exc:
            _config_error(exc)
        return server.id

    server_id = run(with_runtime(go))
    if as_json:
        echo_json({"id": server_id, "name": name})
    else:
        click.echo(f"server {name} added (id {server_id})")


@command.command("edit")
@click.argument("server")
@click.option("--name", default=None)
@click.option("--group", default=None)
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE")
@click.option("--speed", default=None, help="unlimited, N/hour or N/day.")
@click.option("--concurrency", type=click.IntRange(1, 100), default=None)
@click.option("--stream", "streams", multiple=True, type=click.Choice(STREAM_CHOICES), help=_STREAM_HELP)
def edit(server: str, name: str | None, group: str | None, sets: tuple[str, ...], speed: str | None,
         concurrency: int | None, streams: tuple[str, ...]) -> None:
    """Change a server (by name or id); secrets not given keep their stored value."""
    changes: dict[str, Any] = {**_speed(speed)}
    if name is not None:
        changes["name"] = name
    if group is not None:
        changes["group"] = group
    if sets:
        changes["fields"] = parse_set_options(sets)
    if concurrency is not None:
        changes["concurrency"] = concurrency
    if streams:
        changes["streams"] = _streams(streams)
    if not changes:
        fail("nothing to change: give --name, --group, --set, --speed, --concurrency or --stream")

    async def go(runtime: Runtime) -> str:
        try:
            row = await servers_service.find_server(runtime, server)
            await servers_service.edit_server(runtime, row.id, actor=actor(), **changes)
        except ServerNotFound as exc:
            fail(str(exc))
        except ServerConfigError as exc:
            _config_error(exc)
        return row.name

    click.echo(f"server {run(with_runtime(go))} updated")


@command.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Servers with state, sends in the last hour/day against the cap, recent failures."""
    stats = run(with_runtime(servers_service.list_server_stats))
    if as_json:
        echo_json([dataclasses.asdict(s) for s in stats])
        return
    if not stats:
        click.echo("no sending servers; add one with `mailconsole servers add`")
        return
    for s in stats:
        click.echo(f"{s.id:>4} {s.name:<20} {s.type:<10} {s.group:<10} {s.state:<8} "
                   f"hour {s.sent_hour} day {s.sent_day} cap {s.cap_label}"
                   + (f" streams {','.join(s.streams)}" if s.streams else ""))
        for warning in s.warnings:
            click.echo(f"       warning: {warning}")
        if s.state_reason:
            click.echo(f"       {s.state_reason}")


def _state_action(name: str, fn_name: str, done: str, help_text: str) -> None:
    @command.command(name, help=help_text)
    @click.argument("server")
    def _cmd(server: str) -> None:
        async def go(runtime: Runtime) -> str:
            try:
                row = await servers_service.find_server(runtime, server)
            except ServerNotFound as exc:
                fail(str(exc))
            await getattr(servers_service, fn_name)(runtime, row.id, actor=actor())
            return row.name

        click.echo(f"server {run(with_runtime(go))} {done}")


_state_action("pause", "pause_server", "paused", "Stop sending through a server.")
_state_action("resume", "resume_server", "resumed", "Put a server back into service.")


@command.command("test")
@click.argument("server")
def test(server: str) -> None:
    """Connect, negotiate TLS and log in, without sending (exit 1 when it fails)."""

    async def go(runtime: Runtime) -> tuple[bool, str]:
        try:
            row = await servers_service.find_server(runtime, server)
        except ServerNotFound as exc:
            fail(str(exc))
        result = await servers_service.test_server(runtime, row.id, actor=actor())
        return result.ok, result.detail

    ok, detail = run(with_runtime(go))
    click.echo(("ok: " if ok else "failed: ") + detail)
    if not ok:
        raise SystemExit(1)
