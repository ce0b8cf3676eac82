"""Deterministic sample data for console tests: servers, messages in every state, attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from mailconsole.delivery import servers
from mailconsole.delivery.queue import enqueue
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import DeliveryAttempt, Message

STATES = ["queued", "deferred", "held", "sent", "failed", "cancelled", "sent", "queued"]


async def seed_console(runtime: Runtime, *, messages: int = 24) -> None:
    account = await default_account_id(runtime)
    relay = await servers.add_server(runtime, name="relay-1", type="smtp", group="default",
                                     fields={"host": "127.0.0.1", "port": "2525", "encryption": "none"},
                                     speed_mode="hour", speed_limit=500, concurrency=2, actor=SYSTEM)
    backup = await servers.add_server(runtime, name="backup", type="smtp", group="default",
                                      fields={"host": "127.0.0.1", "port": "2526", "encryption": "none"}, actor=SYSTEM)
    now = runtime.clock.now()
    raw = b"From: news@example.com\r\nTo: x@example.org\r\nSubject: Hello\r\n\r\nhi\r\n"
    ids: list[int] = []
    for i in range(messages):
        ids += await enqueue(runtime, account_id=account, envelope_from="news@example.com",
                             recipients=[f"person{i:03d}@example.org"], raw=raw)
    async with runtime.sessions.begin() as session:
        for i, message_id in enumerate(ids):
            state = STATES[i % len(STATES)]
            server_id = relay.id if i % 3 else backup.id
            values: dict[str, object] = {"state": state}
            if state != "queued":
                values.update(server_id=server_id, attempts=1 + i % 3)
            if state == "deferred":
                values.update(next_attempt_at=now + dt.timedelta(minutes=5 + i),
                              last_code="451 4.3.0", last_text="try later")
            await session.execute(update(Message).where(Message.id == message_id).values(**values))
            if state in ("sent", "failed", "deferred"):
                outcome = {"sent": "accepted", "failed": "permanent", "deferred": "transient"}[state]
                code = {"sent": 250, "failed": 550, "deferred": 451}[state]
                session.add(DeliveryAttempt(message_id=message_id, server_id=server_id,
                                            at=now - dt.timedelta(minutes=(i * 7) % 59),
                                            outcome=outcome, smtp_code=code,
                                            text="5.1.1 no such user" if code == 550 else "ok"))
