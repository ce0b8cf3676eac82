"""`mailconsole keys`: create (the key is printed once), list, revoke API keys.

Keys authenticate applications to the SMTP relay (username ``apikey``) and the HTTP API.
"""

from __future__ import annotations

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, run, with_runtime
from mailconsole.contacts.accounts import default_account_id
from mailconsole.domain.policy import SCOPES, STREAMS
from mailconsole.intake import keys as keys_service
from mailconsole.runtime import Runtime


@click.group(name="keys", help="API keys for the SMTP relay and the HTTP API.")
def command() -> None:
    pass


@command.command("create")
@click.option("--name", default="", help="A label to tell keys apart (e.g. the application).")
@click.option(
    "--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
    help="Scope to grant (repeatable; default mail:send).",
)
@click.option(
    "--stream", "streams", multiple=True, type=click.Choice(STREAMS),
    help="Stream the key may send to (repeatable; default both).",
)
@json_option
def create(name: str, scopes: tuple[str, ...], streams: tuple[str, ...], as_json: bool) -> None:
    """Create a key and print it ONCE; only its hash is kept."""

    async def go(runtime: Runtime) -> tuple[keys_service.KeyInfo, str]:
        account_id = await default_account_id(runtime)
        try:
            info, plaintext = await keys_service.create_key(
                runtime,
                account_id=account_id,
                name=name,
                scopes=scopes or ("mail:send",),
                allowed_streams=streams or STREAMS,
                actor=actor(),
            )
        except keys_service.KeyInputError as exc:
            fail(str(exc))
        return info, plaintext

    info, plaintext = run(with_runtime(go))
    if as_json:
        echo_json({**info.__dict__, "key": plaintext})
        return
    click.echo(plaintext)
    click.echo(
        f"key {info.id} ({info.prefix}) created; copy it now, it is not shown again. "
        f"SMTP: username 'apikey', this key as password.",
        err=True,
    )


@command.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List keys (prefix, scopes, streams, revoked, last used); never the secret."""
    rows = run(with_runtime(keys_service.list_keys))
    if as_json:
        echo_json([r.__dict__ for r in rows])
        return
    if not rows:
        click.echo("no API keys; create one with `mailconsole keys create --name APP`")
        return
    click.echo(f"{'ID':>4}  {'PREFIX':<8}  {'NAME':<20}  {'STREAMS':<23}  {'STATE':<7}  LAST USED")
    for r in rows:
        state = "revoked" if r.revoked else "active"
        click.echo(
            f"{r.id:>4}  {r.prefix:<8}  {r.name[:20]:<20}  {','.join(r.allowed_streams):<23}  {state:<7}  "
            f"{r.last_used_at or 'never'}"
        )


@command.command("revoke")
@click.argument("key_id", type=int)
@json_option
def revoke(key_id: int, as_json: bool) -> None:
    """Revoke a key; applications using it are refused from the next AUTH or request."""

    async def go(runtime: Runtime) -> keys_service.KeyInfo:
        try:
            return await keys_service.revoke_key(runtime, key_id, actor=actor())
        except keys_service.KeyInputError as exc:
            fail(str(exc))

    info = run(with_runtime(go))
    if as_json:
        echo_json(info.__dict__)
    else:
        click.echo(f"key {info.id} ({info.prefix}) revoked")
