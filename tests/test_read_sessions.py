"""Reads never queue behind a writer on SQLite.

Every SQLite write transaction takes the write lock at BEGIN; reads that did the same would
wait for the engine's and the relay's writes (up to the busy timeout, then fail). The console's
windows, the HTTP status and health endpoints and the relay's AUTH read through
``runtime.reads`` instead: a WAL snapshot, answered while another connection holds the lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailconsole.contacts import queries
from mailconsole.contacts.queries import ContactFilter
from mailconsole.delivery import queue, servers
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake import keys
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Message


def _database_file(runtime: Runtime) -> Path:
    database = runtime.engine.url.database
    assert database
    return Path(database)


@contextmanager
def _write_lock_held(runtime: Runtime) -> Iterator[sqlite3.Connection]:
    """Another connection holds SQLite's write lock, as the engine does mid-claim."""
    holder = sqlite3.connect(_database_file(runtime), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # the lock really is held
            sqlite3.connect(_database_file(runtime), timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


async def test_console_and_api_reads_answer_while_a_writer_holds_the_lock(runtime: Runtime) -> None:
    account = await default_account_id(runtime)
    [message_id] = await queue.enqueue(
        runtime, account_id=account, envelope_from="a@example.com", recipients=["b@example.net"],
        raw=b"Subject: x\r\n\r\nbody\r\n",
    )
    _, plaintext = await keys.create_key(runtime, account_id=account, actor=SYSTEM)
    assert await keys.lookup(runtime, plaintext) is not None  # last use recorded now
    contacts_before = await queries.list_contacts(runtime, account, ContactFilter())
    stats_before = await servers.list_server_stats(runtime)
    with _write_lock_held(runtime):
        async with asyncio.timeout(5):  # the busy timeout is 10 s: a waiting read would not make it
            assert (await queue.counts_by_state(runtime))["queued"] == 1
            [row] = await queue.list_messages(runtime)
            assert row.id == message_id
            detail = await queue.message_detail(runtime, message_id)
            assert detail is not None and detail.message.id == message_id
            assert await queries.list_contacts(runtime, account, ContactFilter()) == contacts_before
            assert await servers.list_server_stats(runtime) == stats_before
            found = await keys.lookup(runtime, plaintext)  # AUTH within the minute: no write
            assert found is not None and found[1].id == account
            async with runtime.reads() as session:
                assert await session.scalar(select(func.count(Message.id))) == 1


async def test_a_write_session_still_waits_for_the_lock(runtime: Runtime) -> None:
    with _write_lock_held(runtime) as holder:
        writing = asyncio.ensure_future(_write_in_a_session(runtime))
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting in SQLite's busy handler
        holder.execute("COMMIT")
        async with asyncio.timeout(5):
            await writing


async def _write_in_a_session(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        await session.execute(select(1))
