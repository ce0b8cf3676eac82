"""The composition root: the one boot sequence ``serve``, ``console`` and ``demo`` share.

Everything that used to be wired by import side effects (a start-up hook registered by
importing ``senders``) or copied between ``cli/serve_cmd.py`` and ``console/app.py`` (engine,
housekeeping, relay, HTTP API) is wired here, explicitly and in one order:

1. ``open_runtime``: open the database (migrations, the store's default rows), then each
   area's start-up step (the placeholder sender identity).
2. ``running``: start the engine, the housekeeping jobs (given the summary and bounce-poll
   callables from this module), and the relay and HTTP API if asked; stop them in reverse.

Nothing below this module imports it, so the package graph has no loop through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from mailconsole.clock import Clock
from mailconsole.contacts import summary
from mailconsole.delivery import queue
from mailconsole.delivery.engine import Engine
from mailconsole.delivery.housekeeping import Housekeeping
from mailconsole.domain.roles import Actor, Role
from mailconsole.feedback import poller
from mailconsole.runtime import Runtime
from mailconsole.senders.identity import ensure_placeholder_identities
from mailconsole.settings import Settings

log = logging.getLogger(__name__)


# --- the callables the root passes in ---------------------------------------------------


def queue_mail(conn: Connection, mail: summary.Mail, now: dt.datetime) -> int:
    """``contacts.summary.QueueMail``: one notification into the queue, in the caller's transaction."""
    outgoing = queue.Outgoing(mail.account_id, mail.envelope_from, [mail.to], mail.raw, subject=mail.subject)
    [[message_id]] = queue.write_outgoing(conn, [outgoing], now)
    return message_id


async def send_summaries(runtime: Runtime) -> int:
    """``Housekeeping.send_summaries``: yesterday's safelist summaries; how many were queued."""
    return sum(1 for r in await summary.send_due_summaries(runtime, queue_mail=queue_mail) if r.sent)


async def poll_bounces(runtime: Runtime, stop: asyncio.Event, interval: float) -> None:
    """``Housekeeping.poll_bounces``: read the bounce mailboxes until stopped."""
    await poller.run_periodically(runtime, stop, interval=interval)


def housekeeping(runtime: Runtime, **kwargs: Any) -> Housekeeping:
    return Housekeeping(runtime, send_summaries=send_summaries, poll_bounces=poll_bounces, **kwargs)


# --- the boot sequence ------------------------------------------------------------------


async def prepare(runtime: Runtime) -> None:
    """Each area's start-up step, in order (today: the placeholder sender identity)."""
    await ensure_placeholder_identities(runtime)


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    async with Runtime.open(settings, clock=clock) as runtime:
        await prepare(runtime)
        yield runtime


@dataclass
class Process:
    """What ``running`` started in this process (the console shows the engine's state)."""

    runtime: Runtime
    engine: Engine | None = None
    housekeeping: Housekeeping | None = None
    servers: list[Any] = field(default_factory=list)


@contextlib.asynccontextmanager
async def running(
    runtime: Runtime,
    *,
    engine: bool = True,
    relay: bool = False,
    http: bool = False,
    poll_interval: float | None = None,
) -> AsyncIterator[Process]:
    """Start the parts asked for (the process that delivers also runs housekeeping); on exit
    stop servers first (no new mail in), then housekeeping, then the engine (sends finish)."""
    process = Process(runtime)
    if engine:
        process.engine = Engine(runtime, poll_interval=poll_interval)
    pending: list[Any] = []
    if relay:
        from mailconsole.relay.server import RelayServer

        pending.append(RelayServer(runtime))
    if http:
        from mailconsole.api.server import HttpServer

        pending.append(HttpServer(runtime, process.engine))
    try:
        if process.engine is not None:
            await process.engine.start()
            process.housekeeping = housekeeping(runtime)
            await process.housekeeping.start()
        for server in pending:
            await server.start()
            process.servers.append(server)
        yield process
    finally:
        for server in reversed(process.servers):
            with contextlib.suppress(Exception):
                await server.stop()
        if process.housekeeping is not None:
            await process.housekeeping.stop()
        if process.engine is not None:
            await process.engine.stop()


async def run_console(settings: Settings, actor: Actor | Role, *, with_engine: bool = True,
                      runtime: Runtime | None = None) -> None:
    """``mailconsole console`` and the demo: the app over a booted runtime (engine optional)."""
    from mailconsole.console.app import MailConsoleApp

    if runtime is None:
        async with open_runtime(settings) as opened:
            await run_console(settings, actor, with_engine=with_engine, runtime=opened)
        return
    async with running(runtime, engine=with_engine) as process:
        await MailConsoleApp(runtime, actor, process.engine).run_async()
