"""One pass over the configured bounce mailboxes, and the schedule that repeats it.

Where mailboxes come from: the settings (``bounce_imap_*``, ``bounce_maildir``) and each
sending server's ``bounce_handler`` (``{"type": "imap", "host": …, "password_encrypted": …}``
or ``{"type": "maildir", "path": …}``; the password is encrypted with the runtime's secret box).
An item is marked processed only after its reports are committed, so a crash mid-pass
reads it again next time and the dedup keys absorb the repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mailconsole.domain.roles import Actor, Permission
from mailconsole.feedback import mime, service, verp
from mailconsole.feedback.imap import ImapMailbox
from mailconsole.feedback.mailbox import ImapConfig, Mailbox, MailboxConfig, MaildirConfig
from mailconsole.feedback.maildir import MaildirMailbox
from mailconsole.feedback.parse import parse_message
from mailconsole.store import audit
from mailconsole.store.models import SendingServer

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ITEMS_PER_PASS = 500


@dataclass
class MailboxResult:
    label: str
    fetched: int = 0
    recorded: int = 0
    duplicates: int = 0
    forged: int = 0  # reports refused because their VERP address did not verify
    unparsed: int = 0
    error: str = ""


@dataclass
class PollReport:
    mailboxes: list[MailboxResult] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return sum(m.fetched for m in self.mailboxes)

    @property
    def recorded(self) -> int:
        return sum(m.recorded for m in self.mailboxes)

    @property
    def unparsed(self) -> int:
        return sum(m.unparsed for m in self.mailboxes)

    @property
    def duplicates(self) -> int:
        return sum(m.duplicates for m in self.mailboxes)

    @property
    def forged(self) -> int:
        return sum(m.forged for m in self.mailboxes)


def config_from_handler(handler: dict[str, Any], runtime: Runtime) -> MailboxConfig | None:
    """A sending server's bounce_handler JSON as a mailbox config; None when unset."""
    kind = str(handler.get("type", "")).lower()
    processed = str(handler.get("processed_folder", runtime.settings.bounce_processed_folder))
    if kind == "maildir" and handler.get("path"):
        return MaildirConfig(path=str(handler["path"]), processed_folder=processed)
    if kind == "imap" and handler.get("host"):
        password = ""
        if handler.get("password_encrypted"):
            password = runtime.secrets.decrypt_text(str(handler["password_encrypted"]))
        return ImapConfig(
            host=str(handler["host"]),
            port=int(handler.get("port", 993)),
            tls=str(handler.get("tls", "ssl")),
            user=str(handler.get("user", "")),
            password=password,
            folder=str(handler.get("folder", "INBOX")),
            processed_folder=processed,
            ca_file=str(handler.get("ca_file", "")),
        )
    return None


async def configured_mailboxes(runtime: Runtime) -> list[MailboxConfig]:
    s = runtime.settings
    configs: list[MailboxConfig] = []
    if s.bounce_imap_host:
        configs.append(
            ImapConfig(
                host=s.bounce_imap_host,
                port=s.bounce_imap_port,
                tls=s.bounce_imap_tls,
                user=s.bounce_imap_user,
                password=s.bounce_imap_password,
                folder=s.bounce_imap_folder,
                processed_folder=s.bounce_processed_folder,
                ca_file=s.bounce_imap_ca_file,
            )
        )
    if s.bounce_maildir:
        configs.append(MaildirConfig(path=s.bounce_maildir, processed_folder=s.bounce_processed_folder))
    async with runtime.sessions() as session:
        handlers = (
            await session.execute(select(SendingServer.bounce_handler).where(SendingServer.active.is_(True)))
        ).scalars().all()
    for handler in handlers:
        if handler:
            config = config_from_handler(dict(handler), runtime)
            if config is not None and config not in configs:
                configs.append(config)
    return configs


def open_mailbox(config: MailboxConfig) -> Mailbox:
    if isinstance(config, ImapConfig):
        return ImapMailbox(config)
    return MaildirMailbox(config)


def item_key(raw: bytes) -> str:
    """The report's identity at its source: its Message-ID, or its content when it has none."""
    try:
        message_id = mime.header(mime.load(raw), "Message-ID")
    except Exception:
        message_id = ""
    return message_id or "sha256:" + hashlib.sha256(raw).hexdigest()


async def poll_mailbox(runtime: Runtime, mailbox: Mailbox, *, limit: int = MAX_ITEMS_PER_PASS) -> MailboxResult:
    result = MailboxResult(mailbox.label)
    items = await mailbox.fetch(limit)
    result.fetched = len(items)
    verp_key = verp.key_from(runtime.secrets)
    for item in items:
        parsed = parse_message(item.raw)
        if not parsed.understood:
            await service.keep_unparsed(
                runtime, source=mailbox.label, reason=parsed.reason or "not understood", raw=item.raw
            )
            await mailbox.mark_unparsed(item)
            result.unparsed += 1
            continue
        key = item_key(item.raw)
        reports = service.reports_from_mail(
            parsed, item_key=key, verp_key=verp_key, bounce_domain=runtime.settings.bounce_domain
        )
        for report in reports:
            recorded = await service.record_report(runtime, report)
            if recorded.duplicate:
                result.duplicates += 1
            elif recorded.forged:
                result.forged += 1
            else:
                result.recorded += 1
        await mailbox.mark_processed(item)
    return result


async def poll_once(runtime: Runtime, configs: Sequence[MailboxConfig] | None = None) -> PollReport:
    """Read every configured mailbox once; one failing mailbox does not stop the others."""
    report = PollReport()
    for config in configs if configs is not None else await configured_mailboxes(runtime):
        mailbox: Mailbox | None = None
        try:
            mailbox = open_mailbox(config)
            report.mailboxes.append(await poll_mailbox(runtime, mailbox))
        except Exception as exc:  # reported per mailbox; the schedule goes on
            log.warning("bounce mailbox %s: %s", config.label, exc)
            report.mailboxes.append(MailboxResult(config.label, error=str(exc) or type(exc).__name__))
        finally:
            if mailbox is not None:
                try:
                    await mailbox.close()
                except Exception as exc:
                    log.info("bounce mailbox %s: close failed: %s", config.label, exc)
    return report


async def run_periodically(runtime: Runtime, stop: asyncio.Event, *, interval: float | None = None) -> None:
    """Poll every ``bounce_poll_seconds`` until ``stop`` is set (for `mailconsole serve`/the engine)."""
    seconds = interval if interval is not None else runtime.settings.bounce_poll_seconds
    while not stop.is_set():
        await poll_once(runtime)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(1.0, seconds))
        except TimeoutError:
            continue


async def poll_now(runtime: Runtime, *, actor: Actor) -> PollReport:
    """An operator's "poll now" (``Permission.CONFIG``): one pass over every mailbox, audited."""
    actor.require(Permission.CONFIG)
    report = await poll_once(runtime)
    async with runtime.sessions.begin() as session:
        audit.record(session, runtime.clock, actor, "feedback.poll",
                     f"{report.fetched} read, {report.recorded} recorded, {report.unparsed} unparseable")
    return report
