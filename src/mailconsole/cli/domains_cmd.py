"""`mailconsole domains`: sending domains, the DNS records to publish, and the checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, run, with_runtime

T = TypeVar("T")


def _call(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run a domains service call; a DomainError is a one-line message with exit status 2."""
    from mailconsole.senders.domains import DomainError
    from mailconsole.senders.resolver import ResolverConfigError

    try:
        return run(with_runtime(fn))
    except (DomainError, ResolverConfigError) as exc:
        fail(str(exc))


@click.group(name="domains", help="Sending domains: DKIM keys, DNS records, SPF/DKIM/DMARC checks.")
def command() -> None:
    pass


@command.command("add", help="Add a sending domain and generate its 2048-bit DKIM key.")
@click.argument("domain")
@click.option("--selector", default=None, help="DKIM selector (default: mcYYYYMM).")
@json_option
def add(domain: str, selector: str | None, as_json: bool) -> None:
    from mailconsole.senders.domains import add_domain, dns_records

    async def go(rt: Any) -> Any:
        view = await add_domain(rt, domain, selector, actor=actor())
        return view, await dns_records(rt, view.domain)

    view, records = _call(go)
    if as_json:
        echo_json({**view.as_dict(), "records": [r.as_dict() for r in records]})
        return
    click.echo(f"added {view.domain} with DKIM selector {view.selector}; publish these records:")
    _print_records(records)


@command.command("list", help="List the sending domains with their last verdicts.")
@json_option
def list_cmd(as_json: bool) -> None:
    from mailconsole.senders.domains import list_domains

    views = _call(list_domains)
    if as_json:
        echo_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo("no sending domains; add one with `mailconsole domains add DOMAIN`")
    for v in views:
        checked = v.checked_at.isoformat(timespec="seconds") if v.checked_at else "never"
        click.echo(
            f"{v.domain}  selector={v.selector}  SPF {v.spf[0]}  DKIM {v.dkim[0]}  DMARC {v.dmarc[0]}  "
            f"checked {checked}"
        )


def _print_records(records: list[Any]) -> None:
    for r in records:
        click.echo(f'{r.purpose:5}  {r.name}  {r.type}  "{r.value}"')


@command.command("records", help="The DKIM, SPF and DMARC records to publish for a domain.")
@click.argument("domain")
@json_option
def records(domain: str, as_json: bool) -> None:
    from mailconsole.senders.domains import dns_records

    async def go(rt: Any) -> Any:
        return await dns_records(rt, domain)

    found = _call(go)
    if as_json:
        echo_json([r.as_dict() for r in found])
    else:
        _print_records(found)


@command.command("check", help="Check SPF, DKIM and DMARC in DNS now; store and print the verdicts.")
@click.argument("domain")
@click.option("--selector", default=None, help="Check this DKIM selector instead of the stored one.")
@json_option
def check(domain: str, selector: str | None, as_json: bool) -> None:
    from mailconsole.senders.domains import check_domain

    async def go(rt: Any) -> Any:
        return await check_domain(rt, domain, selector)

    result = _call(go)
    if as_json:
        echo_json(result.as_dict())
        return
    for v in result.verdicts:
        click.echo(f"{v.check.upper():5}  {v.status:7}  {v.reason}")
        if v.fix and v.status != "pass":
            click.echo(f"       fix: {v.fix}")
    if result.domain.warning:
        click.echo(f"WARNING: {result.domain.warning}")
