"""Group commit for the relay and the HTTP API: many sessions' messages written in one transaction.

SQLite serialises writers, and each small transaction pays a lock round-trip and a WAL commit;
with a dozen SMTP sessions committing one message each they mostly wait on one another.
One writer task takes every submission waiting, writes them together and commits once, then
wakes each session with its ids, so a 250 still means "committed". If a batch fails, each
submission is retried alone so one bad message cannot fail its neighbours.

On an SQLite file the whole batch transaction runs on ``store.writer_thread`` (one thread
hand-off per batch instead of several per statement, and none of the event loop's time);
on PostgreSQL it runs through the async engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.delivery import queue
from mailconsole.domain import policy
from mailconsole.domain.errors import Refused
from mailconsole.runtime import Runtime
from mailconsole.store import writer_thread
from mailconsole.store.models import Account, ApiKey, Message

log = logging.getLogger(__name__)

MAX_BATCH_ITEMS = 256
MAX_BATCH_BYTES = 32 * 1024 * 1024
# How long the writer waits for more submissions before committing. A commit has a fixed
# cost (a thread hand-off, BEGIN IMMEDIATE, the WAL commit) whatever its size, so under load
# this gives fewer, larger commits; a lone message waits at most this long for its 250.
GATHER_SECONDS = 0.002


@dataclass
class Submission:
    """One message that passed the key-and-message policy, waiting to be stored.

    The key and account checks that need the database run inside the write transaction,
    so a sandbox cap is exact and a key revoked a moment ago is refused.
    """

    key_id: int
    message: queue.Outgoing
    future: asyncio.Future[list[int]] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.message.bodies())


class KeyRevoked(Refused):
    """The key was revoked (or deleted) after it authenticated (e.g. mid SMTP session)."""


Outcome = list[int] | Exception


def _day_start(now: dt.datetime) -> dt.datetime:
    return dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)


def _refusals(connection: Connection, items: Sequence[Submission], now: dt.datetime) -> list[Exception | None]:
    """Per item: KeyRevoked, a sandbox PolicyViolation, or None (store it)."""
    # One query for every key in the batch and its account: revoked flag and sandbox rules.
    rows = connection.execute(
        select(ApiKey.id, ApiKey.revoked, Account.sandbox, Account.sandbox_daily_cap, Account.sandbox_allowlist)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.id.in_({item.key_id for item in items}))
    ).all()
    live = {row.id for row in rows if not row.revoked}
    sandboxes = {row.id: row for row in rows if row.sandbox}  # keyed by key id
    sent: dict[int, int] = {}
    out: list[Exception | None] = []
    for item in items:
        message = item.message
        if item.key_id not in live:
            out.append(KeyRevoked("this API key has been revoked"))
            continue
        sandbox = sandboxes.get(item.key_id)
        if sandbox is not None:
            if message.account_id not in sent:
                sent[message.account_id] = int(
                    connection.scalar(
                        select(func.count(Message.id)).where(
                            Message.account_id == message.account_id,
                            Message.created_at >= _day_start(now),
                        )
                    )
                    or 0
                )
            try:
                policy.check_sandbox(
                    sandbox=True,
                    daily_cap=sandbox.sandbox_daily_cap,
                    sent_today=sent[message.account_id],
                    allowlist=list(sandbox.sandbox_allowlist or []),
                    recipients=message.recipients,
                )
            except policy.PolicyViolation as violation:
                out.append(violation)
                continue
            sent[message.account_id] += len(message.recipients)
        out.append(None)
    return out


def write_rows(connection: Connection, items: Sequence[Submission], now: dt.datetime) -> list[Outcome]:
    """Check and insert the items in the caller's transaction; ids (or the refusal) per item.

    Synchronous Core on purpose: it runs whole on the SQLite writer thread, or through
    ``run_sync`` on the async engine (PostgreSQL, and the Idempotency-Key transaction).
    """
    refusals = _refusals(connection, items, now)
    accepted = [item.message for item, refusal in zip(items, refusals, strict=True) if refusal is None]
    ids_per_item = iter(queue.write_outgoing(connection, accepted, now) if accepted else [])
    return [refusal if refusal is not None else next(ids_per_item) for refusal in refusals]


async def write(runtime: Runtime, session: AsyncSession, items: Sequence[Submission]) -> list[Outcome]:
    """``write_rows`` inside the caller's session transaction (the Idempotency-Key record
    shares it, so record and messages commit together)."""
    now = runtime.clock.now()
    return await session.run_sync(lambda sync_session: write_rows(sync_session.connection(), items, now))


async def write_now(runtime: Runtime, item: Submission) -> list[int]:
    """One submission, one transaction (the HTTP API and tests without a batcher)."""
    now = runtime.clock.now()
    async with runtime.engine.begin() as connection:
        [result] = await connection.run_sync(write_rows, [item], now)
    if isinstance(result, Exception):
        raise result
    return result


class EnqueueBatcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queue: asyncio.Queue[Submission] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._thread: writer_thread.WriterThread | None = None
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        if self._task is None:
            url = self.runtime.engine.url.render_as_string(hide_password=False)
            if writer_thread.supports(url) and self._thread is None:
                self._thread = writer_thread.WriterThread(url)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="relay-enqueue-batcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        thread, self._thread = self._thread, None
        if thread is not None:
            await thread.close()
        while not self._queue.empty():  # never leave a session waiting forever
            item = self._queue.get_nowait()
            if item.future is not None and not item.future.done():
                item.future.set_exception(RuntimeError("relay stopping"))

    async def submit(self, item: Submission) -> list[int]:
        if self._task is None:
            return await write_now(self.runtime, item)
        item.future = asyncio.get_running_loop().create_future()
        await self._queue.put(item)
        return await item.future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            try:
                await self._gather(batch)
            except asyncio.CancelledError:  # stopping: the items taken must not wait forever
                for item in batch:
                    self._fail(item, "relay stopping")
                raise
            await self._commit(batch)

    async def _gather(self, batch: list[Submission]) -> None:
        """Add what is queued, and what arrives within ``GATHER_SECONDS``, to ``batch``."""
        size = sum(item.size for item in batch)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_SECONDS
        while len(batch) < MAX_BATCH_ITEMS and size < MAX_BATCH_BYTES:
            if self._queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                try:  # sessions mid-DATA join this commit instead of waiting for the next
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    return
            else:
                item = self._queue.get_nowait()
            batch.append(item)
            size += item.size

    async def _write(self, batch: list[Submission]) -> list[Outcome]:
        now = self.runtime.clock.now()
        if self._thread is not None:
            return await self._thread.run(write_rows, batch, now)
        async with self.runtime.engine.begin() as connection:
            return await connection.run_sync(write_rows, batch, now)

    async def _commit(self, batch: list[Submission]) -> None:
        try:
            results = await self._write(batch)
        except asyncio.CancelledError:
            for item in batch:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(RuntimeError("relay stopping"))
            raise
        except Exception:
            if len(batch) == 1:
                log.exception("relay: enqueue failed")
                self._fail(batch[0])
                return
            for item in batch:  # find the culprit; the others still get stored
                await self._commit([item])
            return
        self.batches += 1
        self.items += len(batch)
        for item, result in zip(batch, results, strict=True):
            if item.future is None or item.future.done():
                continue
            if isinstance(result, Exception):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)

    @staticmethod
    def _fail(item: Submission, reason: str = "enqueue failed") -> None:
        if item.future is not None and not item.future.done():
            item.future.set_exception(RuntimeError(reason))
