"""Config > Identity and Config > Domains panes: snapshots with an error shown, and behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from mailconsole.console.screens.config_domains import DomainsPane
from mailconsole.console.screens.config_identity import IdentityPane
from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime
from mailconsole.senders.identity import get_identity
from mailconsole.store.models import SendingDomain
from tests.senders.pane_app import FIXED_NOW, PaneApp, seeded_app

FAKE_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAfakefakefakefakefakefakefakefakefake"


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_identity_form_shows_placeholder_warning_and_free_mail_error(tmp_path: Path, snap_compare: Any) -> None:
    app = seeded_app(tmp_path, IdentityPane)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        pilot.app.query_one("#identity-from_addr", Input).value = "jane@gmail.com"
        await pilot.pause()
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


async def _seed_domain(rt: Runtime) -> None:
    async with rt.sessions.begin() as session:
        session.add(
            SendingDomain(
                account_id=1,
                domain="doeinc.com",
                dkim_selector="s1",
                dkim_private_key=None,
                dkim_public_key=FAKE_KEY,
                spf_verdict="fail",
                spf_reason="doeinc.com has no SPF (v=spf1) record",
                dkim_verdict="pass",
                dkim_reason="the DKIM key at s1._domainkey.doeinc.com matches ours",
                dmarc_verdict="unknown",
                dmarc_reason="DNS timed out looking up _dmarc.doeinc.com TXT",
                checked_at=FIXED_NOW,
                created_at=FIXED_NOW,
            )
        )


def test_domains_pane_shows_warning_records_and_add_error(tmp_path: Path, snap_compare: Any) -> None:
    app = seeded_app(tmp_path, DomainsPane, seed=_seed_domain)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("a")
        await pilot.press(*"gmail.com", "enter")
        await _settle(pilot)
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


async def test_saving_a_valid_identity_from_the_form_clears_the_placeholder(runtime: Runtime) -> None:
    app = PaneApp(runtime, Role.ADMIN, IdentityPane, own_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        assert "placeholder: replies are undeliverable" in str(app.query_one("#identity-warning", Static).render())
        app.query_one("#identity-sender_name", Input).value = "Jane Doe"
        app.query_one("#identity-from_addr", Input).value = "jane@doeinc.com"
        app.query_one("#identity-reply_to", Input).value = "help@doeinc.com"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert app.query_one("#identity-warning").has_class("hidden")
    saved = await get_identity(runtime)
    assert (saved.sender_name, saved.from_address, saved.is_placeholder) == ("Jane Doe", "jane@doeinc.com", False)


async def test_viewer_cannot_save_the_identity(runtime: Runtime) -> None:
    app = PaneApp(runtime, Role.VIEWER, IdentityPane, own_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        assert app.query_one("#identity-from_addr", Input).disabled
        await pilot.press("ctrl+s")
        await _settle(pilot)
    assert (await get_identity(runtime)).is_placeholder


async def test_adding_a_domain_from_the_pane_lists_it_with_its_records(runtime: Runtime) -> None:
    app = PaneApp(runtime, Role.ADMIN, DomainsPane, own_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        await pilot.press("a")
        await pilot.press(*"doeinc.com s7", "enter")
        await _settle(pilot)
        await _settle(pilot)
        assert [d.domain for d in app.query_one(DomainsPane).domains] == ["doeinc.com"]
        detail = str(app.query_one("#domain-text", Static).render())
        assert "s7._domainkey.doeinc.com" in detail and "_dmarc.doeinc.com" in detail
        warning = str(app.query_one("#domains-warning", Static).render())
        assert "not authenticated (not checked yet): deliverability may be severely impacted" in warning
