"""`mailconsole contacts`: list, show, check again, edit an address, import a CSV file."""

from __future__ import annotations

from typing import Any

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, run, with_runtime
from mailconsole.contacts.accounts import account_id_by_name
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.importer import import_csv
from mailconsole.contacts.queries import ContactFilter, contact_detail, list_contacts
from mailconsole.contacts.verification import check_again, check_matching, edit_address
from mailconsole.domain.contact_status import ContactStatus
from mailconsole.domain.roles import Actor

account_option = click.option("--account", default=None, help="Account name (default: the default account).")


def cli_actor() -> Actor:
    """The OS user, in the role the settings give them (see ``cli.common.actor``)."""
    return actor()


def call(fn: Any) -> Any:
    """Run a service coroutine against a Runtime; a refused action becomes one clear line."""
    try:
        return run(with_runtime(fn))
    except ContactError as exc:
        fail(str(exc))


@click.group(name="contacts", help="Contacts: list, show, check again, edit, import.")
def command() -> None:
    pass


@command.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in ContactStatus]), default=None)
@click.option("--domain", default=None, help="Only contacts on this domain.")
@click.option("--search", "prefix", default=None, help="Address prefix.")
@click.option("--after", default=None, help="Continue after this address (keyset pagination).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@account_option
@json_option
def list_cmd(status: str | None, domain: str | None, prefix: str | None, after: str | None,
             limit: int, account: str | None, as_json: bool) -> None:
    """One page of contacts in address order."""
    async def go(rt: Any) -> Any:
        account_id = await account_id_by_name(rt, account)
        return await list_contacts(rt, account_id, ContactFilter(status, domain and domain.lower(), prefix),
                                   after=after, limit=limit)
    rows = call(go)
    if as_json:
        echo_json([r.as_json() for r in rows])
        return
    for r in rows:
        bubble = r.bubble()
        click.echo(f"{r.address:<40} {bubble.label:<16} {r.status_reason}")
    if not rows:
        click.echo("no contacts match")


@command.command(name="show")
@click.argument("address")
@account_option
@json_option
def show_cmd(address: str, account: str | None, as_json: bool) -> None:
    """One contact: status details (the bubble's tooltip) and its log."""
    async def go(rt: Any) -> Any:
        return await contact_detail(rt, await account_id_by_name(rt, account), address)
    detail = call(go)
    if as_json:
        echo_json(detail.as_json())
        return
    click.echo(detail.row.address + (f" ({detail.row.name})" if detail.row.name else ""))
    click.echo(detail.bubble.tooltip)
    click.echo("Log:")
    for e in detail.log:
        click.echo(f"  {e.at:%Y-%m-%d %H:%M:%S} {e.actor:<16} {e.kind:<18} {e.detail}")


@command.command(name="check")
@click.argument("address", required=False)
@click.option("--all", "every", is_flag=True,
              help="Check again every checkable contact matching --status/--domain/--search.")
@click.option("--status", type=click.Choice([s.value for s in ContactStatus]), default=None,
              help="With --all: only contacts in this status.")
@click.option("--domain", default=None, help="With --all: only contacts on this domain.")
@click.option("--search", "prefix", default=None, help="With --all: address prefix.")
@account_option
@json_option
def check_cmd(address: str | None, every: bool, status: str | None, domain: str | None, prefix: str | None,
              account: str | None, as_json: bool) -> None:
    """Check again: re-verify ADDRESS (or, with --all, every matching contact); a pass restores
    the status before the block."""
    if every and address:
        fail("give an ADDRESS or --all, not both")
    if not every and not address:
        fail("give an ADDRESS, or --all (with --status/--domain/--search) to check many")
    if not every and (status or domain or prefix):
        fail("--status, --domain and --search go with --all")
    if every:
        _check_all(ContactFilter(status, domain and domain.lower(), prefix), account, as_json)
        return

    async def go(rt: Any) -> Any:
        return await check_again(rt, account_id=await account_id_by_name(rt, account), address=address or "",
                                 actor=cli_actor())
    report = call(go)
    if as_json:
        echo_json({"address": report.address, "outcome": report.outcome, "passed": report.passed,
                   "detail": report.detail, "status": report.status, "offer_safelist": report.offer_safelist})
        return
    if report.outcome == "fail":
        fail(f"check could not be processed: {report.detail}; the contact is unchanged")
    if report.passed:
        click.echo(f"passed: {report.detail}; {report.address} is now {report.status}")
    else:
        click.echo(f"failed: {report.detail}; {report.address} stays {report.status}. "
                   f"You can request a safelist: mailconsole safelist request {report.address}")


def _check_all(flt: ContactFilter, account: str | None, as_json: bool) -> None:
    """The bulk form: the contacts service pages, checks, tallies and audits (as the console)."""
    who = cli_actor()

    async def go(rt: Any) -> Any:
        return await check_matching(rt, account_id=await account_id_by_name(rt, account), flt=flt, actor=who)
    report = call(go)
    if as_json:
        echo_json(report.as_json())
        return
    click.echo(report.summary())


@command.command(name="edit")
@click.argument("address")
@click.option("--address", "new_address", required=True, help="The corrected address.")
@account_option
def edit_cmd(address: str, new_address: str, account: str | None) -> None:
    """Fix a contact's address (e.g. a typo); then run `contacts check` on it."""
    async def go(rt: Any) -> Any:
        return await edit_address(rt, account_id=await account_id_by_name(rt, account), address=address,
                                  new_address=new_address, actor=cli_actor())
    normal = call(go)
    click.echo(f"address changed to {normal}; run `mailconsole contacts check {normal}` next")


@command.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@account_option
@json_option
def import_cmd(file: str, account: str | None, as_json: bool) -> None:
    """Import FILE.csv (address, optional name, extra fields); re-importing adds nothing twice."""
    bar_state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if as_json:
            return
        bar = bar_state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label="importing", file=click.get_text_stream("stderr"))
            bar.__enter__()
            bar_state["bar"] = bar
        bar.update(done - bar.pos)

    async def go(rt: Any) -> Any:
        return await import_csv(rt, file, account_id=await account_id_by_name(rt, account),
                                actor=cli_actor(), progress=progress)
    try:
        report = call(go)
    finally:
        if "bar" in bar_state:
            bar_state["bar"].__exit__(None, None, None)
    if as_json:
        echo_json(report.as_json())
        return
    click.echo(f"{report.inserted} imported, {report.already_present} already present, "
               f"{len(report.rejected)} rejected")
    for item in report.rejected:
        click.echo(f"line {item.line}: {item.reason}")
