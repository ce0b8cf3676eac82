"""A local Maildir as the bounce mailbox: DSNs and ARF reports change contacts once,
processed mail moves to .Processed, unparseable mail stays (flagged) and is recorded."""

from __future__ import annotations

import asyncio
import mailbox
from pathlib import Path

from mailconsole.feedback.mailbox import MaildirConfig
from mailconsole.feedback.poller import configured_mailboxes, poll_once, run_periodically
from mailconsole.runtime import Runtime
from mailconsole.store.models import FeedbackEvent, UnparsedMail
from tests.feedback.helpers import (
    contact_events,
    contact_status,
    count,
    feedback_rows,
    sample,
    seed_message,
    unparsed_rows,
)


def _maildir(tmp_path: Path, *raws: bytes) -> Path:
    path = tmp_path / "bounces"
    box = mailbox.Maildir(path, create=True)
    for raw in raws:
        box.add(raw)
    return path


async def test_maildir_poll_applies_bounce_and_complaint_and_keeps_unparseable(
    runtime: Runtime, tmp_path: Path
) -> None:
    alice = await seed_message(runtime, "alice@example.com")
    olivia = await seed_message(runtime, "olivia@yahoo.com")
    junk = sample("out_of_office.eml")
    path = _maildir(
        tmp_path,
        sample("postfix_user_unknown.eml", message_id=alice, verp_id=1042, signed_by=runtime.secrets),
        sample("yahoo_arf_complaint.eml", message_id=olivia, verp_id=1044, signed_by=runtime.secrets),
        junk,
    )
    report = await poll_once(runtime, [MaildirConfig(str(path))])

    assert (report.fetched, report.recorded, report.unparsed, report.duplicates) == (3, 2, 1, 0)
    assert await contact_status(runtime, "alice@example.com") == "blocklisted"
    assert await contact_status(runtime, "olivia@yahoo.com") == "spam_complaint"
    rows = await feedback_rows(runtime)
    assert sorted((r.source, r.kind, r.recipient, r.message_id, r.outcome) for r in rows) == [
        ("arf", "complaint", "olivia@yahoo.com", olivia, "complaint"),
        ("dsn", "bounce", "alice@example.com", alice, "hard_bounce"),
    ]
    (kept,) = await unparsed_rows(runtime)
    assert kept.raw == junk
    assert "not a delivery status notification" in kept.reason

    box = mailbox.Maildir(path, create=False)
    assert [box.get_bytes(k) for k in box.iterkeys()] == [junk]  # only the unparseable one is left
    assert "F" in box.get_message(next(box.iterkeys())).get_flags()
    assert len(box.get_folder("Processed")) == 2


async def test_second_poll_of_the_same_maildir_changes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    bob = await seed_message(runtime, "bob@slow.example.net")
    delayed = sample("postfix_delayed.eml", message_id=bob, verp_id=1043, signed_by=runtime.secrets)
    path = _maildir(tmp_path, delayed, sample("out_of_office.eml"))
    await poll_once(runtime, [MaildirConfig(str(path))])
    again = await poll_once(runtime, [MaildirConfig(str(path))])
    assert (again.fetched, again.recorded, again.unparsed) == (0, 0, 0)
    assert await count(runtime, FeedbackEvent) == 1
    assert await count(runtime, UnparsedMail) == 1


async def test_the_same_bounce_delivered_twice_changes_the_contact_once(runtime: Runtime, tmp_path: Path) -> None:
    """A DSN copied into the mailbox twice (e.g. also to a second address) is one event."""
    bob = await seed_message(runtime, "bob@slow.example.net")
    raw = sample("postfix_delayed.eml", message_id=bob, verp_id=1043, signed_by=runtime.secrets)
    path = _maildir(tmp_path, raw, raw)
    report = await poll_once(runtime, [MaildirConfig(str(path))])
    assert (report.recorded, report.duplicates) == (1, 1)
    events = await contact_events(runtime, "bob@slow.example.net")
    assert [e.kind for e in events] == ["soft_bounce"]
    assert await count(runtime, FeedbackEvent) == 1


async def test_flag_only_mode_leaves_processed_mail_in_place(runtime: Runtime, tmp_path: Path) -> None:
    path = _maildir(tmp_path, sample("qmail_no_mailbox.eml", signed_by=runtime.secrets))
    await poll_once(runtime, [MaildirConfig(str(path), processed_folder="")])
    box = mailbox.Maildir(path, create=False)
    (key,) = list(box.iterkeys())
    assert "S" in box.get_message(key).get_flags()
    assert await contact_status(runtime, "leo@qmail.example") == "blocklisted"


async def test_missing_maildir_is_reported_per_mailbox_and_others_still_run(runtime: Runtime, tmp_path: Path) -> None:
    good = _maildir(tmp_path, sample("sendmail_dsn.eml", signed_by=runtime.secrets))
    report = await poll_once(runtime, [MaildirConfig(str(tmp_path / "nope")), MaildirConfig(str(good))])
    assert "nope" in report.mailboxes[0].error
    assert report.mailboxes[1].recorded == 1


async def test_settings_maildir_is_a_configured_mailbox(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings.bounce_maildir = str(tmp_path / "m")
    configs = await configured_mailboxes(runtime)
    assert configs == [MaildirConfig(str(tmp_path / "m"), processed_folder="Processed")]


async def test_scheduled_poller_reads_the_mailbox_and_stops_when_asked(runtime: Runtime, tmp_path: Path) -> None:
    path = _maildir(tmp_path, sample("qmail_no_mailbox.eml", signed_by=runtime.secrets))
    runtime.settings.bounce_maildir = str(path)
    stop = asyncio.Event()
    task = asyncio.create_task(run_periodically(runtime, stop, interval=60))
    for _ in range(100):  # bounded wait for the first pass
        if await count(runtime, FeedbackEvent):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert await contact_status(runtime, "leo@qmail.example") == "blocklisted"
