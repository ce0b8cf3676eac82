"""The relay's group commit: submissions arriving close together share one commit, each
still gets its own ids only after that commit, and stopping never leaves a session waiting."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from mailconsole.delivery import queue
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake import batcher as batcher_mod
from mailconsole.intake.batcher import EnqueueBatcher, Submission
from mailconsole.intake.keys import create_key
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Message


async def _item(runtime: Runtime, n: int) -> Submission:
    key, _ = await create_key(runtime, account_id=await default_account_id(runtime), name=f"k{n}", actor=SYSTEM)
    message = queue.Outgoing(
        account_id=key.account_id,
        envelope_from="app@example.com",
        recipients=[f"user{n}@example.net"],
        raw=b"Subject: hi\r\n\r\nbody\r\n",
        subject="hi",
    )
    return Submission(key_id=key.id, message=message)


async def _stored(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count(Message.id))) or 0)


async def test_submissions_arriving_within_the_window_share_one_commit(runtime: Runtime) -> None:
    batcher = EnqueueBatcher(runtime)
    batcher.start()
    try:
        first, second = await _item(runtime, 1), await _item(runtime, 2)

        async def late() -> list[int]:
            await asyncio.sleep(0)  # arrives after the writer has taken the first one
            return await batcher.submit(second)

        ids_first, ids_second = await asyncio.gather(batcher.submit(first), late())
    finally:
        await batcher.stop()
    assert (batcher.batches, batcher.items) == (1, 2)
    assert len(ids_first) == 1 and len(ids_second) == 1 and ids_first != ids_second
    assert await _stored(runtime) == 2


async def test_stopping_while_gathering_fails_the_waiting_session_and_stores_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batcher_mod, "GATHER_SECONDS", 30.0)
    batcher = EnqueueBatcher(runtime)
    batcher.start()
    waiting = asyncio.ensure_future(batcher.submit(await _item(runtime, 1)))
    for _ in range(5):  # let the writer take it and start waiting for company
        await asyncio.sleep(0)
    assert batcher._queue.empty()
    await asyncio.wait_for(batcher.stop(), 5)
    with pytest.raises(RuntimeError, match="relay stopping"):
        await asyncio.wait_for(waiting, 5)
    assert await _stored(runtime) == 0


async def _batch_of_twenty(runtime: Runtime) -> tuple[EnqueueBatcher, list[list[int]], list[tuple[int, str]]]:
    items = [await _item(runtime, n) for n in range(20)]
    batcher = EnqueueBatcher(runtime)
    batcher.start()
    try:
        ids = await asyncio.gather(*(batcher.submit(item) for item in items))
    finally:
        await batcher.stop()
    async with runtime.sessions() as session:
        rows = [(r.id, r.recipient) for r in (await session.execute(select(Message).order_by(Message.id))).scalars()]
    return batcher, list(ids), rows


async def test_each_session_gets_the_ids_of_its_own_rows_on_the_sqlite_writer_thread(runtime: Runtime) -> None:
    batcher, ids, rows = await _batch_of_twenty(runtime)
    assert batcher.batches < 20  # they shared commits
    assert {i[0]: f"user{n}@example.net" for n, i in enumerate(ids)} == dict(rows)


async def test_each_session_gets_the_ids_of_its_own_rows_on_postgresql(pg_runtime: Runtime) -> None:
    batcher, ids, rows = await _batch_of_twenty(pg_runtime)
    assert batcher._thread is None  # the async engine path
    assert batcher.batches < 20
    assert {i[0]: f"user{n}@example.net" for n, i in enumerate(ids)} == dict(rows)
