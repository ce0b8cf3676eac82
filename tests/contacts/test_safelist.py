"""Safelist requests: auto-approval for established accounts, manual review otherwise,
every outcome logged, one summary email per day, and re-blocklisting after a hard bounce."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from typing import Any

import pytest
from sqlalchemy import select

from mailconsole.boot import queue_mail
from mailconsole.clock import FixedClock
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.queries import contact_detail
from mailconsole.contacts.reviews import decide, list_requests
from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.contacts.summary import send_summary
from mailconsole.domain.contact_status import is_mailable
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.store.models import Message, MessageBody, SafelistSummary
from tests.contacts.conftest import complain
from tests.support.actors import ADA, SAM


async def test_request_is_auto_approved_when_the_account_is_91_days_old(runtime: Runtime, clock: FixedClock) -> None:
    await complain(runtime, "ann@example.com")
    clock.advance(days=91)
    outcome = await request_safelist(runtime, account_id=1, address="ann@example.com", actor=SAM)
    assert (outcome.state, outcome.auto) == ("approved", True)
    assert outcome.message == "approved automatically: the account is older than 90 days"
    detail = await contact_detail(runtime, 1, "ann@example.com")
    assert detail.row.safelisted and is_mailable(detail.row.status, detail.row.safelisted)
    assert detail.bubble.label == "safelisted"
    assert (detail.log[0].kind, detail.log[0].actor) == ("safelist_approved", "support:sam")


async def test_request_waits_for_manual_review_at_89_days_then_approve(runtime: Runtime, clock: FixedClock) -> None:
    await complain(runtime, "bob@example.com")
    clock.advance(days=89)
    outcome = await request_safelist(runtime, account_id=1, address="bob@example.com", actor=SAM)
    assert (outcome.state, outcome.auto) == ("pending", False)
    assert outcome.message == "waiting for review: the account is 89 days old (auto-approval after 90)"
    assert not (await contact_detail(runtime, 1, "bob@example.com")).row.safelisted
    [pending] = await list_requests(runtime)
    assert (pending.address, pending.state) == ("bob@example.com", "pending")
    with pytest.raises(ContactError, match="already waiting for review"):
        await request_safelist(runtime, account_id=1, address="bob@example.com", actor=SAM)
    await decide(runtime, request_id=pending.id, approve=True, actor=ADA, note="customer confirmed")
    detail = await contact_detail(runtime, 1, "bob@example.com")
    assert detail.row.safelisted
    assert detail.log[0].detail == f"safelist request #{pending.id} approved by admin:ada with note: customer confirmed"
    assert await list_requests(runtime) == []


async def test_rejection_is_logged_and_keeps_the_contact_blocked(runtime: Runtime) -> None:
    await complain(runtime, "cy@example.com")
    outcome = await request_safelist(runtime, account_id=1, address="cy@example.com", actor=SYSTEM)
    await decide(runtime, request_id=outcome.request_id, approve=False, actor=ADA, note="complained twice")
    detail = await contact_detail(runtime, 1, "cy@example.com")
    assert not detail.row.safelisted and detail.row.status == "spam_complaint"
    expected = f"safelist request #{outcome.request_id} rejected by admin:ada with note: complained twice"
    assert (detail.log[0].kind, detail.log[0].detail) == ("safelist_rejected", expected)
    with pytest.raises(ContactError, match="already rejected"):
        await decide(runtime, request_id=outcome.request_id, approve=True, actor=ADA)


async def test_blocklisted_contact_needs_a_failed_check_before_a_safelist(runtime: Runtime) -> None:
    await record_delivery_outcome(runtime, account_id=1, recipient="dee@example.com", effect="hard_bounce",
                                  reply_text="550 5.1.1 unknown", message_id=None)
    with pytest.raises(ContactError) as info:
        await request_safelist(runtime, account_id=1, address="dee@example.com", actor=SYSTEM)
    assert str(info.value) == ("cannot request a safelist for dee@example.com: "
                               "run Check again first: a safelist is offered when the check fails")


async def test_safelisted_contact_is_blocklisted_again_after_a_permanent_failure(
    runtime: Runtime, clock: FixedClock
) -> None:
    await complain(runtime, "eve@example.com")
    clock.advance(days=91)
    await request_safelist(runtime, account_id=1, address="eve@example.com", actor=SYSTEM)
    clock.advance(hours=1)
    await record_delivery_outcome(runtime, account_id=1, recipient="eve@example.com", effect="hard_bounce",
                                  reply_text="550 5.1.1 mailbox gone", message_id=42)
    detail = await contact_detail(runtime, 1, "eve@example.com")
    assert (detail.row.status, detail.row.safelisted) == ("blocklisted", False)
    assert not is_mailable(detail.row.status, detail.row.safelisted)
    assert detail.row.status_reason == "blocklisted again after safelist, hard bounce: 550 5.1.1 mailbox gone"
    assert detail.log[0].kind == "hard_bounce" and detail.log[0].status_from == "spam_complaint"


async def test_three_requests_in_a_day_queue_one_summary_once(runtime: Runtime, clock: FixedClock) -> None:
    runtime.settings.notification_to = "ops@example.net"
    for name in ("a", "b", "c"):
        await complain(runtime, f"{name}@example.com")
    clock.advance(days=95)
    for name in ("a", "b", "c"):
        await request_safelist(runtime, account_id=1, address=f"{name}@example.com", actor=SYSTEM)
    day = clock.now().date()
    first = await send_summary(runtime, account_id=1, day=day, queue_mail=queue_mail)
    again = await send_summary(runtime, account_id=1, day=day, queue_mail=queue_mail)  # e.g. after a restart
    assert (first.sent, first.items, again.sent, again.already_sent) == (True, 3, False, True)
    async with runtime.sessions() as session:
        messages = list((await session.execute(select(Message))).scalars())
        assert len(messages) == 1
        assert (messages[0].recipient, messages[0].envelope_from, messages[0].state) == (
            "ops@example.net", runtime.settings.notification_from, "queued")
        body = await session.get(MessageBody, messages[0].body_id)
        summaries = list((await session.execute(select(SafelistSummary))).scalars())
    assert body is not None
    mail = message_from_bytes(body.raw)
    assert mail["Subject"] == f"Safelist summary for default on {day.isoformat()}: 3 result(s)"
    text = mail.get_payload(decode=True).decode()
    for name in ("a", "b", "c"):
        assert f"{name}@example.com: approved automatically" in text
    assert [(s.day, s.items, s.message_id) for s in summaries] == [(day, 3, messages[0].id)]


async def test_summary_preview_sends_nothing(runtime: Runtime, clock: FixedClock) -> None:
    await complain(runtime, "f@example.com")
    await request_safelist(runtime, account_id=1, address="f@example.com", actor=SYSTEM)
    result = await send_summary(runtime, account_id=1, day=clock.now().date(), preview=True,
                                queue_mail=queue_mail)
    assert result.items == 1 and "f@example.com: waiting for review" in result.text
    other_day = await send_summary(runtime, account_id=1, day=clock.now().date() - dt.timedelta(days=1),
                                   queue_mail=queue_mail)
    assert other_day.items == 0 and not other_day.sent
    async with runtime.sessions() as session:
        assert (await session.execute(select(Message))).first() is None


async def test_three_requests_produce_one_summary_email_received_by_a_real_sink_once(
    runtime: Runtime, clock: FixedClock, sink: Any
) -> None:
    from mailconsole.delivery import servers
    from mailconsole.delivery.engine import Engine

    runtime.settings.notification_to = "ops@example.net"
    await servers.add_server(runtime, name="sink", type="smtp", fields={
        "host": "127.0.0.1", "port": str(sink.port), "encryption": "none", "timeout": "5"}, actor=SYSTEM)
    for name in ("a", "b", "c"):
        await complain(runtime, f"{name}@example.com")
    clock.advance(days=95)
    for name in ("a", "b", "c"):
        await request_safelist(runtime, account_id=1, address=f"{name}@example.com", actor=SYSTEM)
    engine = Engine(runtime)
    try:
        for _ in range(2):  # a second run (e.g. after a restart) must not send it again
            await send_summary(runtime, account_id=1, day=clock.now().date(), queue_mail=queue_mail)
            await engine.run_until_idle()
    finally:
        await engine.stop()
    received = sink.handler.messages
    assert len(received) == 1
    assert received[0].rcpt_tos == ["ops@example.net"]
    assert received[0].message["Subject"].endswith("3 result(s)")
