"""Every status transition changes the contact once and leaves a log entry saying why."""

from __future__ import annotations

from sqlalchemy import select

from mailconsole.clock import FixedClock
from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.domain.contact_status import ContactStatus, is_mailable
from mailconsole.runtime import Runtime
from mailconsole.store.models import Contact, ContactEvent
from tests.contacts.conftest import complain, hard_bounce


async def contact(runtime: Runtime, address: str) -> Contact:
    async with runtime.sessions() as session:
        return (await session.execute(select(Contact).where(Contact.address == address))).scalar_one()


async def events(runtime: Runtime, address: str) -> list[ContactEvent]:
    c = await contact(runtime, address)
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(ContactEvent).where(ContactEvent.contact_id == c.id).order_by(ContactEvent.id))
        return list(rows.scalars())


async def soft(runtime: Runtime, address: str, text: str = "451 4.2.2 mailbox full") -> None:
    await record_delivery_outcome(runtime, account_id=1, recipient=address, effect="soft_bounce",
                                  reply_text=text, message_id=7)


async def test_hard_bounce_blocklists_with_the_servers_reply_and_logs_it(runtime: Runtime, clock: FixedClock) -> None:
    await hard_bounce(runtime, "Ann@Example.COM", "550 5.1.1 <ann@example.com>: no such user")
    c = await contact(runtime, "Ann@example.com")
    assert c.status == ContactStatus.BLOCKLISTED
    assert c.status_reason == "hard bounce: 550 5.1.1 <ann@example.com>: no such user"
    assert c.status_before_block == "active"
    assert c.status_since == clock.now()
    assert not is_mailable(c.status, c.safelisted)
    [event] = await events(runtime, "Ann@example.com")
    assert (event.kind, event.actor, event.status_from, event.status_to) == (
        "hard_bounce", "engine", "active", "blocklisted")
    assert "550 5.1.1" in event.detail and event.at == clock.now()


async def test_soft_bounces_within_the_window_reach_multiple_soft_bounces(runtime: Runtime, clock: FixedClock) -> None:
    runtime.settings.soft_bounce_threshold = 3
    runtime.settings.soft_bounce_window_hours = 24
    await soft(runtime, "bob@example.com")
    clock.advance(hours=30)  # outside the window: the count starts again
    await soft(runtime, "bob@example.com")
    await soft(runtime, "bob@example.com")
    assert (await contact(runtime, "bob@example.com")).status == "active"
    clock.advance(hours=2)
    await soft(runtime, "bob@example.com")
    c = await contact(runtime, "bob@example.com")
    assert c.status == ContactStatus.MULTIPLE_SOFT_BOUNCES
    assert c.status_reason == "3 soft bounces within 24 hours; last: 451 4.2.2 mailbox full"
    log = await events(runtime, "bob@example.com")
    assert [e.kind for e in log] == ["soft_bounce"] * 4
    assert [e.status_to for e in log] == ["active", "active", "active", "multiple_soft_bounces"]
    assert log[1].detail.endswith("1 within the window")


async def test_complaint_sets_spam_complaint(runtime: Runtime) -> None:
    await complain(runtime, "cat@example.com")
    c = await contact(runtime, "cat@example.com")
    assert (c.status, c.status_reason) == ("spam_complaint", "spam complaint: ARF abuse report")
    assert [(e.kind, e.status_to) for e in await events(runtime, "cat@example.com")] == [
        ("complaint", "spam_complaint")]


async def test_policy_block_never_touches_the_contact(runtime: Runtime) -> None:
    await record_delivery_outcome(runtime, account_id=1, recipient="dan@example.com", effect="policy_block",
                                  reply_text="550 stream_not_allowed", message_id=1)
    async with runtime.sessions() as session:
        assert (await session.execute(select(Contact))).first() is None
        assert (await session.execute(select(ContactEvent))).first() is None


async def test_a_repeated_report_with_the_same_dedup_key_changes_the_contact_once(runtime: Runtime) -> None:
    for _ in range(3):
        await record_delivery_outcome(runtime, account_id=1, recipient="eve@example.com", effect="soft_bounce",
                                      reply_text="452 try later", message_id=3, dedup_key="dsn:abc")
    c = await contact(runtime, "eve@example.com")
    assert c.soft_bounce_count == 1
    assert len(await events(runtime, "eve@example.com")) == 1


async def test_delivered_updates_the_last_message_only(runtime: Runtime) -> None:
    await hard_bounce(runtime, "fay@example.com")
    await record_delivery_outcome(runtime, account_id=1, recipient="fay@example.com", effect="delivered",
                                  reply_text="250 ok", message_id=9)
    c = await contact(runtime, "fay@example.com")
    assert c.status == "blocklisted"
    assert c.last_message_summary == "message #9: delivered (250 ok)"
    assert len(await events(runtime, "fay@example.com")) == 1
