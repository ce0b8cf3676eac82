"""Roles are a boundary the services keep: refused without any console, audited with the change.

The role comes from the settings' role table (OS user -> role), with ``default_role`` for
anyone not listed; ``--role`` may only lower it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from mailconsole.access import local_actor, os_user
from mailconsole.cli import cli
from mailconsole.contacts.importer import import_csv
from mailconsole.contacts.reviews import decide, list_requests
from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.verification import check_again
from mailconsole.demo import demo_settings
from mailconsole.domain.roles import Interface, PermissionDenied, Role, RoleError
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings, load_settings
from mailconsole.store.models import Account, AuditEntry, SafelistRequest
from tests.contacts.conftest import complain, hard_bounce
from tests.support.actors import ADA, SAM, VIC


async def invoke(settings: Settings, *args: str) -> Result:
    argv = ["--database-url", settings.database_url, "--data-dir", str(settings.data_dir), *args]
    return await asyncio.to_thread(CliRunner().invoke, cli, argv)


async def audit_rows(runtime: Runtime) -> list[tuple[str, str, str, str]]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    return [(r.action, r.os_user, r.role, r.interface) for r in rows]


async def pending_request(runtime: Runtime, address: str) -> int:
    await complain(runtime, address)
    async with runtime.sessions.begin() as session:  # a young account: the request waits for review
        account = await session.get(Account, 1)
        assert account is not None
        account.created_at = runtime.clock.now()
    outcome = await request_safelist(runtime, account_id=1, address=address, actor=SAM)
    assert outcome.state == "pending"
    return outcome.request_id


async def test_support_actor_is_refused_a_review_by_the_service_itself(runtime: Runtime) -> None:
    request_id = await pending_request(runtime, "cy@example.com")
    before = await audit_rows(runtime)
    with pytest.raises(PermissionDenied) as refused:
        await decide(runtime, request_id=request_id, approve=True, actor=SAM)
    assert str(refused.value) == "the support role may not do this (review); ask an admin"
    assert [r.state for r in await list_requests(runtime)] == ["pending"]
    assert await audit_rows(runtime) == before  # a refusal changes and audits nothing


async def test_support_may_act_on_one_contact_but_not_import_and_viewer_on_neither(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("ann@example.com\n")
    with pytest.raises(PermissionDenied, match="the support role may not do this \\(contact_bulk\\)"):
        await import_csv(runtime, path, account_id=1, actor=SAM)
    await hard_bounce(runtime, "bob@example.com")
    with pytest.raises(PermissionDenied, match="the viewer role may not do this \\(contact_action\\)"):
        await check_again(runtime, account_id=1, address="bob@example.com", actor=VIC)
    report = await check_again(runtime, account_id=1, address="bob@example.com", actor=SAM)
    assert report.outcome == "fail"  # no DNS in this test; what matters is that it ran and was audited
    assert await audit_rows(runtime) == [("contacts.check_again", "sam", "support", "console")]


async def test_cli_reviews_approve_writes_its_audit_row_as_the_os_user(runtime: Runtime, settings: Settings) -> None:
    request_id = await pending_request(runtime, "cy@example.com")
    done = await invoke(settings, "reviews", "approve", str(request_id), "--note", "ok")
    assert done.exit_code == 0, done.output
    assert (await audit_rows(runtime))[-1] == ("reviews.approved", os_user(), "admin", "cli")


async def test_cli_reviews_approve_and_its_audit_row_commit_together(runtime: Runtime, settings: Settings) -> None:
    """If the audit row cannot be written the approval is not kept either: one transaction."""
    request_id = await pending_request(runtime, "cy@example.com")
    db = settings.database_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(db) as conn:  # a real failure inside the database, at the audit insert
        conn.execute("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN "
                     "SELECT RAISE(ABORT, 'audit log is read-only'); END")
    failed = await invoke(settings, "reviews", "approve", str(request_id))
    assert failed.exit_code != 0
    async with runtime.sessions() as session:
        request = await session.get(SafelistRequest, request_id)
        assert request is not None and request.state == "pending" and request.decided_by is None


async def test_cli_refuses_for_a_viewer_and_role_may_only_lower(
    runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await pending_request(runtime, "cy@example.com")
    monkeypatch.setenv("MAILCONSOLE_DEFAULT_ROLE", "viewer")  # out of the box: no entry -> viewer
    refused = await invoke(settings, "reviews", "approve", str(request_id))
    assert (refused.exit_code, refused.output) == (2, "Error: the viewer role may not do this (review); ask an admin\n")
    raised = await invoke(settings, "--role", "admin", "reviews", "approve", str(request_id))
    assert raised.exit_code == 2
    assert raised.output == (f"Error: {os_user()} has the viewer role; --role may only lower it, "
                             "not raise it to admin\n")
    monkeypatch.setenv("MAILCONSOLE_ROLES", f"{os_user()}=admin")
    lowered = await invoke(settings, "--role", "support", "reviews", "approve", str(request_id))
    assert lowered.output == "Error: the support role may not do this (review); ask an admin\n"
    approved = await invoke(settings, "reviews", "approve", str(request_id), "--json")
    assert approved.exit_code == 0 and json.loads(approved.output)["state"] == "approved"


def test_role_table_default_and_demo(tmp_path: Path) -> None:
    me = os_user()
    out_of_the_box = load_settings(env={})
    assert (out_of_the_box.default_role, out_of_the_box.roles) == ("viewer", {})
    assert local_actor(out_of_the_box, Interface.CLI).role is Role.VIEWER
    table = load_settings(env={"MAILCONSOLE_ROLES": f"{me}=support, someone-else=admin"})
    assert local_actor(table, Interface.CONSOLE).role is Role.SUPPORT
    with pytest.raises(RoleError):
        local_actor(table, Interface.CONSOLE, "admin")
    assert local_actor(demo_settings(Settings(data_dir=tmp_path)), Interface.CONSOLE).role is Role.ADMIN
    assert local_actor(demo_settings(table), Interface.CONSOLE).role is Role.SUPPORT  # the table still rules
    assert ADA.label == "admin:ada"
