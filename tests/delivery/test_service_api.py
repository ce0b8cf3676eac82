"""The queue and servers services the console, CLI and API call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailconsole.delivery import queue, servers
from mailconsole.delivery.servers import ServerConfigError
from mailconsole.domain.roles import SYSTEM, PermissionDenied
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import AuditEntry, Message, SendingServer
from tests.support.actors import ADA, SAM

RAW = b"From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\n\r\nbody\r\n"


async def _enqueue(runtime: Runtime, n: int) -> list[int]:
    account = await default_account_id(runtime)
    return await queue.enqueue(
        runtime, account_id=account, envelope_from="a@example.test",
        recipients=[f"r{i}@example.test" for i in range(n)], raw=RAW,
    )


async def test_list_messages_pages_by_id_newest_first(runtime: Runtime) -> None:
    ids = await _enqueue(runtime, 7)
    first = await queue.list_messages(runtime, limit=3)
    assert [r.id for r in first] == ids[::-1][:3]
    second = await queue.list_messages(runtime, after_id=first[-1].id, limit=3)
    assert [r.id for r in second] == ids[::-1][3:6]
    back = await queue.list_messages(runtime, before_id=second[0].id, limit=3)
    assert [r.id for r in back] == [r.id for r in first]
    assert first[0].subject == "hello" and first[0].state == "queued"


async def test_list_messages_filters_by_state_and_search(runtime: Runtime) -> None:
    ids = await _enqueue(runtime, 3)
    await queue.hold(runtime, [ids[0]], ADA)
    held = await queue.list_messages(runtime, state="held")
    assert [r.id for r in held] == [ids[0]]
    assert [r.recipient for r in await queue.list_messages(runtime, search="R2@")] == ["r2@example.test"]


async def test_operator_actions_move_only_allowed_states_and_are_audited(runtime: Runtime) -> None:
    ids = await _enqueue(runtime, 3)
    assert await queue.hold(runtime, ids[:2], ADA) == 2
    assert await queue.hold(runtime, ids[:2], ADA) == 0  # already held
    assert await queue.release(runtime, [ids[0]], ADA) == 1
    with pytest.raises(PermissionDenied, match="the support role may not do this"):
        await queue.cancel(runtime, ids, SAM)  # refused by the service itself, nothing audited
    assert await queue.cancel(runtime, ids, ADA) == 3
    assert await queue.retry_now(runtime, ids, ADA) == 0  # cancelled stays cancelled
    counts = await queue.counts_by_state(runtime)
    assert counts["cancelled"] == 3 and counts["queued"] == 0 and set(counts) >= set(queue.MESSAGE_STATES)
    async with runtime.sessions() as session:
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert actions == ["queue.hold", "queue.hold", "queue.release", "queue.cancel", "queue.retry"]


async def test_message_detail_has_the_message_and_its_attempts(runtime: Runtime) -> None:
    (mid,) = await _enqueue(runtime, 1)
    detail = await queue.message_detail(runtime, mid)
    assert detail is not None and detail.message.id == mid and detail.attempts == [] and detail.size == len(RAW)
    assert await queue.message_detail(runtime, 999999) is None


async def test_add_server_encrypts_secrets_and_validates_from_the_field_declaration(runtime: Runtime) -> None:
    server = await servers.add_server(
        runtime, name="relay1", type="smtp",
        fields={"host": "127.0.0.1", "port": "2525", "username": "u", "password": "s3cret", "encryption": "none"},
        speed_mode="hour", speed_limit=10, actor=SYSTEM
    )
    async with runtime.sessions() as session:
        row = await session.get(SendingServer, server.id)
    assert row is not None and row.settings["port"] == 2525 and "s3cret" not in (row.secrets or "")
    assert runtime.secrets.decrypt_json(row.secrets) == {"password": "s3cret"}
    transport = servers.load_transport(runtime, row)
    assert transport.password == "s3cret"  # type: ignore[attr-defined]


async def test_add_server_reports_every_bad_field_and_stores_nothing(runtime: Runtime) -> None:
    with pytest.raises(ServerConfigError) as info:
        await servers.add_server(
            runtime, name="relay1", type="smtp", fields={"port": "99999", "pasword": "x"},
            speed_mode="hour", speed_limit=0, actor=SYSTEM
        )
    errors = info.value.errors
    assert errors["host"] == "Host is required"
    assert errors["port"] == "port must be between 1 and 65535, got 99999"
    assert errors["pasword"].startswith("unknown field 'pasword'")
    assert errors["speed"] == "a speed of N per hour needs N >= 1, got 0"
    assert "host: Host is required" in str(info.value)
    async with runtime.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(SendingServer))).scalar_one() == 0


async def test_edit_server_keeps_a_blank_secret_and_pause_resume(runtime: Runtime) -> None:
    server = await servers.add_server(
        runtime, name="relay1", type="smtp", fields={"host": "h", "username": "u", "password": "pw"}, actor=SYSTEM
    )
    await servers.edit_server(runtime, server.id, fields={"port": "465", "password": ""}, concurrency=8, actor=SYSTEM)
    row = await servers.get_server(runtime, server.id)
    assert row.settings["port"] == 465 and row.concurrency == 8
    assert runtime.secrets.decrypt_json(row.secrets) == {"password": "pw"}
    await servers.pause_server(runtime, server.id, actor=ADA)
    assert (await servers.get_server(runtime, server.id)).state == "paused"
    await servers.resume_server(runtime, server.id, actor=ADA)
    stats = await servers.list_server_stats(runtime)
    assert [(s.name, s.state, s.cap_label, len(s.rate_per_minute)) for s in stats] == [
        ("relay1", "healthy", "unlimited", 60)
    ]


async def test_queue_rows_show_the_server_name(runtime: Runtime) -> None:
    server = await servers.add_server(runtime, name="relay1", type="smtp", fields={"host": "h"}, actor=SYSTEM)
    (mid,) = await _enqueue(runtime, 1)
    async with runtime.sessions.begin() as session:
        msg = await session.get(Message, mid)
        assert msg is not None
        msg.server_id = server.id
    (row,) = await queue.list_messages(runtime)
    assert row.server_name == "relay1"


async def test_enqueue_many_stores_each_body_once_in_one_batch(runtime: Runtime) -> None:
    account = await default_account_id(runtime)
    ids = await queue.enqueue_many(runtime, [
        queue.Outgoing(account, "a@example.test", ["x@example.test", "y@example.test"], RAW),
        queue.Outgoing(account, "a@example.test", ["z@example.test"], RAW.replace(b"hello", b"second")),
    ])
    assert [len(group) for group in ids] == [2, 1]
    rows = await queue.list_messages(runtime)
    assert [(r.recipient, r.subject) for r in rows] == [
        ("z@example.test", "second"), ("y@example.test", "hello"), ("x@example.test", "hello")
    ]
    detail = await queue.message_detail(runtime, ids[0][0])
    assert detail is not None and detail.size == len(RAW)
