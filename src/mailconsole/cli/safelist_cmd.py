"""`mailconsole safelist`: request a safelist for a contact; send or preview the daily summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from mailconsole.cli.common import echo_json, json_option
from mailconsole.cli.contacts_cmd import account_option, call, cli_actor
from mailconsole.contacts.accounts import account_id_by_name
from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.summary import send_summary


@click.group(name="safelist", help="Safelist requests and the daily summary.")
def command() -> None:
    pass


@command.command(name="request")
@click.argument("address")
@account_option
@json_option
def request_cmd(address: str, account: str | None, as_json: bool) -> None:
    """Ask for a blocked contact to be mailable again."""
    async def go(rt: Any) -> Any:
        return await request_safelist(rt, account_id=await account_id_by_name(rt, account),
                                      address=address, actor=cli_actor())
    outcome = call(go)
    if as_json:
        echo_json({"request_id": outcome.request_id, "address": outcome.address, "state": outcome.state,
                   "auto": outcome.auto, "message": outcome.message})
        return
    click.echo(f"safelist request #{outcome.request_id} for {outcome.address}: {outcome.message}")


@command.command(name="summary")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD (UTC).")
@click.option("--preview", is_flag=True, help="Print the email without sending it.")
@account_option
@json_option
def summary_cmd(day: dt.datetime, preview: bool, account: str | None, as_json: bool) -> None:
    """Send (once per account and day) or preview the day's safelist summary email."""
    async def go(rt: Any) -> Any:
        from mailconsole.boot import queue_mail  # the composition root's writer into the queue

        return await send_summary(rt, account_id=await account_id_by_name(rt, account), day=day.date(),
                                  preview=preview, queue_mail=queue_mail)
    result = call(go)
    if as_json:
        echo_json({"day": result.day.isoformat(), "sent": result.sent, "already_sent": result.already_sent,
                   "items": result.items, "recipient": result.recipient, "message_id": result.message_id,
                   "lines": result.lines})
        return
    if preview:
        click.echo(result.text)
    elif result.already_sent:
        click.echo(f"the summary for {result.day} was already sent; not sending it twice")
    elif not result.items:
        click.echo(f"no safelist results on {result.day}; nothing to send")
    else:
        click.echo(f"summary for {result.day} queued to {result.recipient} "
                   f"(message #{result.message_id}, {result.items} result(s))")
