"""Snapshots of the Contacts pane: every status as a bubble, and a hovered bubble's tooltip."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from mailconsole.clock import FixedClock
from mailconsole.console.screens.contacts import ContactsPane
from mailconsole.contacts.importer import import_csv
from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from tests.contacts.paneapp import PaneApp
from tests.support.actors import SAM, SYSTEM

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def seeded_app(settings: Settings) -> PaneApp:
    clock = FixedClock(START)
    csv = settings.data_dir.parent / "seed.csv"
    csv.write_text("address,name\namy@example.com,Amy\n")

    async def seed() -> None:
        async with Runtime.open(settings, clock=clock) as rt:
            await import_csv(rt, csv, account_id=1, actor=SYSTEM)
            async def outcome(addr: str, effect: str, text: str, mid: int) -> None:
                await record_delivery_outcome(rt, account_id=1, recipient=addr, effect=effect,
                                              reply_text=text, message_id=mid)
            await outcome("amy@example.com", "delivered", "250 2.0.0 ok", 1)
            await outcome("ben@example.com", "hard_bounce", "550 5.1.1 user unknown", 2)
            await outcome("cat@example.net", "complaint", "abuse report via ARF", 3)
            for i in range(3):
                clock.advance(hours=1)
                await outcome("dan@example.org", "soft_bounce", "452 4.2.2 mailbox full", 4 + i)
            await outcome("eve@example.com", "complaint", "abuse report", 8)
            clock.advance(days=95)
            await request_safelist(rt, account_id=1, address="eve@example.com", actor=SAM)
            await outcome("amy@example.com", "delivered", "250 2.0.0 ok", 1)

    asyncio.run(seed())
    return PaneApp(settings, clock)


async def loaded(pilot: Any) -> None:
    pane = pilot.app.query_one(ContactsPane)
    for _ in range(250):
        if pane.loads:
            break
        await pilot.pause(0.02)
    await pilot.pause()


def test_contacts_pane_shows_every_status(snap_compare: Any, settings: Settings) -> None:
    assert snap_compare(seeded_app(settings), terminal_size=(100, 30), run_before=loaded)


def test_hovered_bubble_shows_its_tooltip(snap_compare: Any, settings: Settings) -> None:
    async def hover(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.hover("#row-1 StatusBubble")
        await pilot.pause(0.4)

    assert snap_compare(seeded_app(settings), terminal_size=(100, 30), run_before=hover)


def test_details_key_shows_the_same_text_without_a_mouse(snap_compare: Any, settings: Settings) -> None:
    async def details(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("down", "i")
        await pilot.pause()

    assert snap_compare(seeded_app(settings), terminal_size=(100, 30), run_before=details)
