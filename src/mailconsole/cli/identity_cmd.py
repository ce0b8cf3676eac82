"""`mailconsole identity`: show, set and test the account's sender identity."""

from __future__ import annotations

from typing import Any

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, run, with_runtime


@click.group(name="identity", help="The sender identity: name, from address, reply-to.")
def command() -> None:
    pass


@command.command("show", help="Show the sender identity (and whether it is a placeholder).")
@json_option
def show(as_json: bool) -> None:
    from mailconsole.senders.identity import get_identity

    async def go(rt: Any) -> Any:
        return await get_identity(rt)

    view = run(with_runtime(go))
    if as_json:
        echo_json(view.as_dict())
        return
    click.echo(f"sender name: {view.sender_name}")
    click.echo(f"from:        {view.from_address}")
    click.echo(f"reply-to:    {view.reply_to}")
    if view.warning:
        click.echo(f"warning:     {view.warning}")


@command.command("set", help="Set the sender identity; both addresses on your own business domain.")
@click.option("--name", "sender_name", required=True, help="Sender name shown to recipients.")
@click.option("--from", "from_addr", required=True, help="Send-from address, e.g. jane@doeinc.com.")
@click.option("--reply-to", "reply_to", required=True, help="Reply-to address on the same domain.")
@json_option
def set_identity(sender_name: str, from_addr: str, reply_to: str, as_json: bool) -> None:
    from mailconsole.senders.identity import IdentityRulesBroken, save_identity

    async def go(rt: Any) -> Any:
        return await save_identity(rt, sender_name=sender_name, from_addr=from_addr, reply_to=reply_to,
                                   actor=actor())

    try:
        view = run(with_runtime(go))
    except IdentityRulesBroken as exc:
        fail(str(exc))
    if as_json:
        echo_json(view.as_dict())
    else:
        click.echo(f"sender identity saved: {view.sender_name} <{view.from_address}> reply-to {view.reply_to}")


@command.command("test", help="Send a test message through the default server.")
@click.option("--to", "to_address", required=True, help="Where to send the test.")
@json_option
def test_identity(to_address: str, as_json: bool) -> None:
    from mailconsole.senders.test_send import TEST_SEND_NOTE, TestSendError, send_test

    async def go(rt: Any) -> Any:
        return await send_test(rt, to_address, actor=actor())

    try:
        result = run(with_runtime(go))
    except TestSendError as exc:
        fail(str(exc))
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(TEST_SEND_NOTE.format(sender=result.sender))
        click.echo(result.summary)
    if not result.accepted:
        raise click.exceptions.Exit(1)
