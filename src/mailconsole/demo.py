"""`mailconsole demo`: a separate demo database with sample data and a live capture sink.

The demo uses the real services (servers, queue, contacts) on ``<data_dir>/demo/``, so what a
newcomer sees is what production does: a local capture SMTP sink on a free loopback port is
the sending server, the in-process engine (when this build has it) delivers into it, and a
small trickle of new messages keeps the Queue and Servers panes moving.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy import func, select

from mailconsole import boot
from mailconsole.clock import Clock
from mailconsole.contacts.service import record_delivery_outcome
from mailconsole.delivery import servers
from mailconsole.delivery.queue import enqueue
from mailconsole.domain.roles import Actor, Interface, Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import SendingServer

DEMO_SERVER = "demo-sink"
# The demo acting on its own behalf while it seeds (audited as "system", not as the person).
SEEDER = Actor("demo", Role.ADMIN, Interface.SYSTEM)
SENDER = "news@demo.mailconsole.test"

# (address, what happened to it) -> one contact in each status
SAMPLE_CONTACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ada@example.org", ("delivered",)),
    ("grace@example.org", ("delivered",)),
    ("nobody@example.org", ("hard_bounce",)),
    ("full-inbox@example.net", ("soft_bounce", "soft_bounce", "soft_bounce")),
    ("annoyed@example.com", ("complaint",)),
    ("linus@example.com", ("delivered",)),
)


def demo_settings(settings: Settings) -> Settings:
    """The demo's own data dir and database, next to (never inside) the real one."""
    data_dir = settings.data_dir / "demo"
    # Anyone not in the role table is admin in the demo (it is their own sample database).
    return dataclasses.replace(settings, data_dir=data_dir, default_role=Role.ADMIN.value,
                               database_url=f"sqlite+aiosqlite:///{data_dir / 'mailconsole-demo.db'}")


def _raw(recipient: str, subject: str) -> bytes:
    return (f"From: Demo News <{SENDER}>\r\nTo: {recipient}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{abs(hash((recipient, subject)))}@demo.mailconsole.test>\r\n\r\n"
            "Hello from the mailconsole demo.\r\n").encode()


async def seed_demo(runtime: Runtime, sink_port: int) -> bool:
    """Seed once (servers, contacts, messages); on later runs only point the server at the sink.

    Returns True when the database was seeded now.
    """
    async with runtime.sessions() as session:
        existing = (await session.execute(
            select(SendingServer.id).where(SendingServer.name == DEMO_SERVER))).scalar_one_or_none()
    if existing is not None:
        await servers.edit_server(runtime, existing, fields={"port": str(sink_port)}, actor=SEEDER)
        return False
    fields = {"host": "127.0.0.1", "port": str(sink_port), "encryption": "none"}
    await servers.add_server(runtime, name=DEMO_SERVER, type="smtp", group="default", fields=fields,
                             speed_mode="hour", speed_limit=600, concurrency=2, actor=SEEDER)
    backup = await servers.add_server(
        runtime, name="backup-relay", type="smtp", group="default", actor=SEEDER,
        fields={"host": "127.0.0.1", "port": "1", "encryption": "none"})
    await servers.pause_server(runtime, backup.id, actor=SEEDER)
    await servers.add_server(runtime, name="bulk-sendmail", type="sendmail", group="bulk",
                             fields={}, speed_mode="day", speed_limit=5000, actor=SEEDER)
    account = await default_account_id(runtime)
    await _import_sample_contacts(runtime, account)
    for address, outcomes in SAMPLE_CONTACTS:
        for effect in outcomes:
            reply = {"hard_bounce": "550 5.1.1 user unknown", "soft_bounce": "452 4.2.2 mailbox full",
                     "complaint": "spam complaint (ARF)"}.get(effect, "250 ok")
            await record_delivery_outcome(runtime, account_id=account, recipient=address,
                                          effect=effect, reply_text=reply, message_id=None,
                                          actor="demo")
    await enqueue(runtime, account_id=account, envelope_from=SENDER,
                  recipients=[a for a, _ in SAMPLE_CONTACTS], raw=_raw("you", "Welcome to the demo"))
    await enqueue(runtime, account_id=account, envelope_from=SENDER, stream="broadcast",
                  recipients=[f"reader{i:02d}@example.org" for i in range(30)],
                  raw=_raw("readers", "Monthly newsletter"))
    return True


async def _import_sample_contacts(runtime: Runtime, account_id: int) -> None:
    """Every demo recipient as a contact, through the real CSV importer (what a newcomer
    would do first), so the Contacts pane shows the active ones beside the blocked ones."""
    from mailconsole.contacts.importer import import_csv

    names = {"ada": "Ada Lovelace", "grace": "Grace Hopper", "linus": "Linus Torvalds"}
    lines = ["address,name,plan"]
    for address, _ in SAMPLE_CONTACTS:
        local = address.partition("@")[0]
        lines.append(f"{address},{names.get(local, local.replace('-', ' ').title())},pro")
    lines += [f"reader{i:02d}@example.org,Reader {i:02d},free" for i in range(30)]
    path = runtime.settings.data_dir / "sample-contacts.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    await import_csv(runtime, path, account_id=account_id, actor=SEEDER)


async def trickle(runtime: Runtime, every: float = 3.0, limit: int = 2000) -> None:
    """A new message every few seconds so the panes visibly move (bounded)."""
    account = await default_account_id(runtime)
    for i in range(limit):
        await asyncio.sleep(every)
        await enqueue(runtime, account_id=account, envelope_from=SENDER,
                      recipients=[f"live{i:04d}@example.org"], raw=_raw("live", f"Live message {i}"))


@asynccontextmanager
async def demo_runtime(settings: Settings, *, clock: Clock | None = None
                       ) -> AsyncIterator[tuple[Runtime, CaptureSink]]:
    """Open the demo database with a running capture sink, seeded and pointed at the sink."""
    maildir = demo_settings(settings).data_dir / "maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    sink = CaptureSink(CaptureHandler(maildir=maildir))
    sink.start()
    try:
        async with boot.open_runtime(demo_settings(settings), clock=clock) as runtime:
            await seed_demo(runtime, sink.port)
            yield runtime, sink
    finally:
        sink.stop()


async def message_count(runtime: Runtime) -> int:
    from mailconsole.store.models import Message

    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Message))).scalar_one())


async def run_demo(settings: Settings, role: str | None = None, *, console: bool = True) -> str:
    """Seed (and, with ``console``, open the console with the engine and a trickle).

    The console runs as the OS user with the demo's role (``demo_settings``), lowered to
    ``role`` if given; asking for more than that is refused before anything is opened.
    """
    from mailconsole.access import local_actor
    from mailconsole.boot import run_console

    who = local_actor(demo_settings(settings), Interface.CONSOLE, role)

    async with demo_runtime(settings) as (runtime, sink):
        if not console:
            return f"demo database ready: {runtime.settings.effective_database_url} " \
                   f"({await message_count(runtime)} messages; sink was on port {sink.port})"
        feeder = asyncio.create_task(trickle(runtime))
        try:
            await run_console(runtime.settings, who, runtime=runtime)
        finally:
            feeder.cancel()
            with suppress(asyncio.CancelledError):
                await feeder
    return ""
