"""Check again: a pass restores the status before the block; a failure offers a safelist."""

from __future__ import annotations

import asyncio
import sys

import pytest

from mailconsole.clock import FixedClock
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.queries import contact_detail
from mailconsole.contacts.verification import check_again, edit_address
from mailconsole.domain.contact_status import CHECK_AGAIN_REFUSAL
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from tests.contacts.conftest import complain, hard_bounce
from tests.support.actors import SAM, SYSTEM


async def test_check_again_pass_restores_status_and_logs_date_and_time(dns_runtime: Runtime, clock: FixedClock) -> None:
    await hard_bounce(dns_runtime, "ann@example.com")
    clock.advance(hours=5)
    report = await check_again(dns_runtime, account_id=1, address="ann@example.com", actor=SAM)
    assert (report.outcome, report.passed, report.status) == ("sent", True, "active")
    assert report.detail == "example.com has MX mx.example.com."
    detail = await contact_detail(dns_runtime, 1, "ann@example.com")
    assert detail.row.status == "active"
    latest = detail.log[0]
    assert (latest.kind, latest.actor, latest.status_from, latest.status_to) == (
        "check_passed", "support:sam", "blocklisted", "active")
    assert "Check again passed at 2026-03-02 14:00 UTC" in latest.detail


async def test_domain_with_only_an_a_record_passes(dns_runtime: Runtime) -> None:
    await hard_bounce(dns_runtime, "x@a-only.example")
    report = await check_again(dns_runtime, account_id=1, address="x@a-only.example", actor=SYSTEM)
    assert report.passed is True and "A record 192.0.2.20" in report.detail


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("bob@missing.example", "the domain missing.example does not exist"),
        ("bob@nomail.example", "the domain nomail.example has no MX or A record"),
        ("bob@mailinator.com", "mailinator.com is a disposable-address service"),
    ],
)
async def test_failed_verification_keeps_status_and_offers_safelist(
    dns_runtime: Runtime, address: str, reason: str
) -> None:
    await hard_bounce(dns_runtime, address)
    report = await check_again(dns_runtime, account_id=1, address=address, actor=SYSTEM)
    assert (report.outcome, report.passed, report.status, report.offer_safelist) == (
        "sent", False, "blocklisted", True)
    assert report.detail == reason
    detail = await contact_detail(dns_runtime, 1, address)
    assert detail.row.status == "blocklisted"
    assert detail.log[0].kind == "check_failed"
    assert "request_safelist" in detail.bubble.actions


async def test_unreachable_dns_is_a_fail_outcome_and_changes_nothing(runtime: Runtime) -> None:
    # The default test settings point at 127.0.0.1:1, where nothing answers.
    await hard_bounce(runtime, "cy@example.com")
    report = await check_again(runtime, account_id=1, address="cy@example.com", actor=SYSTEM)
    assert (report.outcome, report.passed, report.status) == ("fail", None, "blocklisted")
    assert report.detail.startswith("DNS could not be reached")
    detail = await contact_detail(runtime, 1, "cy@example.com")
    assert detail.log[0].kind == "check_error"
    assert "request_safelist" not in detail.bubble.actions  # nothing was verified


async def test_spam_complaint_offers_no_check_again(runtime: Runtime) -> None:
    await complain(runtime, "dee@example.com")
    detail = await contact_detail(runtime, 1, "dee@example.com")
    assert "check_again" not in detail.bubble.actions
    assert "Check again: not available for spam complaints" in detail.bubble.tooltip
    with pytest.raises(ContactError, match="not available for spam complaints"):
        await check_again(runtime, account_id=1, address="dee@example.com", actor=SYSTEM)


async def test_cli_refuses_check_again_for_spam_complaint_with_a_clear_message(
    runtime: Runtime, settings: Settings
) -> None:
    await complain(runtime, "dee@example.com")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mailconsole", "--database-url", settings.database_url,
        "--data-dir", str(settings.data_dir), "contacts", "check", "dee@example.com",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 2
    assert err.decode().strip() == f"error: {CHECK_AGAIN_REFUSAL}"
    assert out == b""
    assert (await contact_detail(runtime, 1, "dee@example.com")).row.status == "spam_complaint"


async def test_edit_the_typo_then_check_again_passes(dns_runtime: Runtime) -> None:
    await hard_bounce(dns_runtime, "eve@exmaple.com")
    first = await check_again(dns_runtime, account_id=1, address="eve@exmaple.com", actor=SYSTEM)
    assert first.passed is False
    new = await edit_address(dns_runtime, account_id=1, address="eve@exmaple.com",
                             new_address="eve@Example.com", actor=SYSTEM)
    assert new == "eve@example.com"
    report = await check_again(dns_runtime, account_id=1, address=new, actor=SYSTEM)
    assert (report.passed, report.status) == (True, "active")
    kinds = [e.kind for e in (await contact_detail(dns_runtime, 1, new)).log]
    assert kinds == ["check_passed", "address_edit", "check_failed", "hard_bounce"]
