"""`mailconsole reviews`: safelist requests waiting for an admin's decision."""

from __future__ import annotations

from typing import Any

import click

from mailconsole.cli.common import echo_json, json_option
from mailconsole.cli.contacts_cmd import call, cli_actor
from mailconsole.contacts.reviews import ReviewItem, decide, list_requests


def _json(item: ReviewItem) -> dict[str, Any]:
    return {"id": item.id, "address": item.address, "status": item.status, "reason": item.reason,
            "requested_by": item.requested_by, "requested_at": item.requested_at.isoformat(),
            "state": item.state, "note": item.note}


@click.group(name="reviews", help="Review safelist requests (admin).")
def command() -> None:
    pass


@command.command(name="list", help="Safelist requests waiting for review (or --state approved|rejected).")
@click.option("--state", type=click.Choice(["pending", "approved", "rejected", "all"]), default="pending",
              show_default=True)
@json_option
def list_cmd(state: str, as_json: bool) -> None:
    async def go(rt: Any) -> Any:
        return await list_requests(rt, state=None if state == "all" else state)
    items = call(go)
    if as_json:
        echo_json([_json(i) for i in items])
        return
    for i in items:
        click.echo(f"#{i.id:<5} {i.address:<40} {i.state:<9} {i.requested_at:%Y-%m-%d %H:%M} {i.reason}")
    if not items:
        click.echo(f"no {state} safelist requests")


def _decide(request_id: int, note: str, approve: bool, as_json: bool) -> None:
    async def go(rt: Any) -> Any:
        return await decide(rt, request_id=request_id, approve=approve, actor=cli_actor(), note=note)
    item = call(go)
    if as_json:
        echo_json(_json(item))
        return
    click.echo(f"safelist request #{item.id} for {item.address} {item.state}")


@command.command(name="approve", help="Approve a safelist request: the contact becomes mailable again (admin).")
@click.argument("request_id", type=int)
@click.option("--note", default="", help="Why; logged on the contact.")
@json_option
def approve_cmd(request_id: int, note: str, as_json: bool) -> None:
    _decide(request_id, note, True, as_json)


@command.command(name="reject", help="Reject a safelist request; the contact stays blocked (admin).")
@click.argument("request_id", type=int)
@click.option("--note", default="", help="Why; logged on the contact.")
@json_option
def reject_cmd(request_id: int, note: str, as_json: bool) -> None:
    _decide(request_id, note, False, as_json)
