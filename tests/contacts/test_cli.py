"""The contacts, safelist and reviews commands, in-process (CliRunner in a worker thread)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from mailconsole.cli import cli
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.models import Account, AuditEntry
from tests.contacts.conftest import complain, hard_bounce
from tests.contacts.dnsserver import DnsServer


async def invoke(settings: Settings, *args: str) -> Result:
    argv = ["--database-url", settings.database_url, "--data-dir", str(settings.data_dir), *args]
    return await asyncio.to_thread(CliRunner().invoke, cli, argv)


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_list_filters_by_status_and_show_includes_the_log(runtime: Runtime, settings: Settings) -> None:
    await hard_bounce(runtime, "ann@example.com", "550 5.1.1 gone")
    await complain(runtime, "bob@example.org")
    listed = as_json(await invoke(settings, "contacts", "list", "--status", "blocklisted", "--json"))
    assert [(c["address"], c["reason"]) for c in listed] == [("ann@example.com", "hard bounce: 550 5.1.1 gone")]
    by_domain = as_json(await invoke(settings, "contacts", "list", "--domain", "EXAMPLE.ORG", "--json"))
    assert [c["address"] for c in by_domain] == ["bob@example.org"]
    shown = as_json(await invoke(settings, "contacts", "show", "bob@example.org", "--json"))
    assert shown["actions"] == ["request_safelist", "edit"]
    assert [e["kind"] for e in shown["log"]] == ["complaint"]


async def test_safelist_request_then_admin_approves_with_a_note(
    runtime: Runtime, settings: Settings
) -> None:
    await complain(runtime, "cy@example.com")
    async with runtime.sessions.begin() as session:  # the CLI runs on the system clock: a new account
        account = await session.get(Account, 1)
        assert account is not None
        account.created_at = dt.datetime.now(dt.UTC)
    requested = as_json(await invoke(settings, "safelist", "request", "cy@example.com", "--json"))
    assert (requested["state"], requested["auto"]) == ("pending", False)
    pending = as_json(await invoke(settings, "reviews", "list", "--json"))
    assert [p["address"] for p in pending] == ["cy@example.com"]
    done = await invoke(settings, "reviews", "approve", str(pending[0]["id"]), "--note", "confirmed by phone")
    assert done.output.strip() == f"safelist request #{pending[0]['id']} for cy@example.com approved"
    shown = as_json(await invoke(settings, "contacts", "show", "cy@example.com", "--json"))
    assert shown["safelisted"] is True
    assert shown["log"][0]["detail"].endswith("with note: confirmed by phone")
    preview = await invoke(settings, "safelist", "summary", "--date", dt.datetime.now(dt.UTC).date().isoformat(),
                           "--preview")
    assert "cy@example.com: approved by admin:" in preview.output


async def test_unknown_contact_and_taken_address_are_clear_errors(runtime: Runtime, settings: Settings) -> None:
    await hard_bounce(runtime, "dee@example.com")
    await hard_bounce(runtime, "eve@example.com")
    missing = await invoke(settings, "contacts", "show", "nobody@example.com")
    assert (missing.exit_code, missing.output.strip()) == (2, "Error: no contact 'nobody@example.com' in this account")
    taken = await invoke(settings, "contacts", "edit", "dee@example.com", "--address", "eve@example.com")
    assert (taken.exit_code, taken.output.strip()) == (
        2, "Error: another contact already has the address eve@example.com")


async def test_contacts_check_all_rechecks_every_blocklisted_contact_and_audits_once(
    runtime: Runtime, settings: Settings, dns_server: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hard_bounce(runtime, "ann@example.com")  # example.com has MX: passes
    await hard_bounce(runtime, "bob@nomail.example")  # no MX, no A: fails verification
    await complain(runtime, "cy@example.com")  # not blocklisted: outside the filter
    monkeypatch.setenv("MAILCONSOLE_DNS_NAMESERVERS", dns_server.nameserver)
    done = as_json(await invoke(settings, "contacts", "check", "--status", "blocklisted", "--all", "--json"))
    assert done == {"passed": 1, "failed": 1, "fail": 0, "skipped": 0}
    listed = as_json(await invoke(settings, "contacts", "list", "--json"))
    assert {c["address"]: c["status"] for c in listed} == {
        "ann@example.com": "active", "bob@nomail.example": "blocklisted", "cy@example.com": "spam_complaint"}
    async with runtime.sessions() as session:
        audit = (await session.execute(select(AuditEntry.action, AuditEntry.detail))).all()
    assert [tuple(a) for a in audit] == [("contacts.bulk_check_again", "status:blocklisted: 1 passed, "
                                          "1 failed verification, 0 could not be processed, 0 not checkable")]


async def test_contacts_check_needs_an_address_or_all(settings: Settings) -> None:
    neither = await invoke(settings, "contacts", "check")
    assert (neither.exit_code, neither.output) == (
        2, "Error: give an ADDRESS, or --all (with --status/--domain/--search) to check many\n")
