"""The delivery engine: per-server runners that claim, send and record, plus housekeeping.

One ``Engine`` per process (``mailconsole serve``, the console, the demo). For every active
server it runs a runner that keeps a buffer of ``concurrency x prefetch`` claimed, unsent
messages, up to ``MAX_DEPTH`` times more while claims come back full (the claim checks the
speed cap and reserves capacity atomically, see ``claims.py``), at most ``concurrency`` sends
in flight and at most ``concurrency x prefetch`` sent-but-unrecorded (the crash-duplicate
bound). Outcomes go through one writer task that records them in batches. On SQLite the
engine's transactions take turns on one asyncio lock rather than in SQLite's busy handler.
Housekeeping on a timer: reload servers (pause/resume/edit take effect), probe failing
servers after their cool-down, recover expired leases, write the heartbeat.

Tests drive it without sleeping: ``await engine.dispatch_once()`` claims for every eligible
server and waits until every claimed message is recorded; ``run_until_idle()`` repeats that
until nothing is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import re
import secrets as pysecrets
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from mailconsole import metrics
from mailconsole.delivery import queue
from mailconsole.delivery.claims import ClaimedMessage, claim_for_server, release_claims
from mailconsole.delivery.events import EventBus, MessageEvent, ServerEvent
from mailconsole.delivery.leases import LeaseKeeper
from mailconsole.delivery.outcomes import Applied, BreakerChange, Outcome, record_outcomes
from mailconsole.delivery.servers import load_transport
from mailconsole.domain.replies import classify_transport_error
from mailconsole.domain.results import ResultKind
from mailconsole.feedback import verp
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import DEFAULT_GROUP
from mailconsole.store.contention import retry_locked
from mailconsole.store.models import Account, EngineHeartbeat, MessageBody, SendingServer, ServerGroup
from mailconsole.transports.base import Envelope, SendResult, Transport

log = logging.getLogger(__name__)

# Largest claim multiplier for a deep queue: at most concurrency x prefetch x MAX_DEPTH messages
# are leased ahead of sending, far fewer than a lease lasts at any useful sending rate.
MAX_DEPTH = 8
# How long stop() waits for the claim loops to notice and finish their transaction before it
# cancels them (a claim takes milliseconds; a stuck database is the only reason to wait longer).
STOP_LOOPS_SECONDS = 10.0

Signer = Callable[[Runtime, bytes, str], Awaitable[bytes]]
_FROM_DOMAIN = re.compile(rb"^From:[^\r\n]*@([A-Za-z0-9.\-]+)", re.IGNORECASE | re.MULTILINE)


def _load_signer() -> Signer | None:
    try:
        from mailconsole.senders.dkim import sign_message
    except ImportError:  # the senders area is optional for the engine
        return None
    return sign_message


def from_domain_of(raw: bytes, envelope_from: str) -> str:
    """The From header's domain (DKIM d= must align with it), else the envelope sender's."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = _FROM_DOMAIN.search(head)
    if match:
        return match.group(1).decode("ascii", "replace").lower().rstrip(".")
    return envelope_from.rpartition("@")[2].lower()


@dataclass
class ServerRunner:
    """One server's live state in this process."""

    server_id: int
    name: str
    concurrency: int
    group_id: int | None
    state: str = "healthy"
    active: bool = True
    config_key: str = ""
    transport: Transport | None = None
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    outstanding: int = 0  # claimed and not yet recorded
    unsent: int = 0  # claimed and not yet handed to the transport (what keeps connections busy)
    # Claim size multiplier: doubles while claims come back full (a deep queue), back to 1 when
    # one comes back short. Fewer, larger claim transactions when there is a backlog.
    depth: int = 1
    # Sent or sending and not yet recorded: bounded by concurrency x prefetch, which bounds the
    # duplicates a crash can cause (claimed-but-unsent messages are only re-leased, never re-sent).
    unacked: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    sending: int = 0
    sent: int = 0
    failed: int = 0
    capped_until_tick: bool = False
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    retired: bool = False  # the server was deleted: the loop ends at its next turn
    probing: bool = False
    # Failures in a row seen by this process; at the breaker threshold, claimed messages that
    # have not started are given back at once instead of being sent to a dead server.
    local_failures: int = 0
    row: SendingServer | None = None  # the server as last read from the database

    @property
    def eligible(self) -> bool:
        return self.active and self.state == "healthy"


class Engine:
    def __init__(
        self,
        runtime: Runtime,
        *,
        owner: str | None = None,
        poll_interval: float | None = None,
        prefetch: int = 2,
        write_batch: int = 500,
        housekeeping_interval: float = 5.0,
        write_coalesce: float = 0.005,
    ) -> None:
        self.runtime = runtime
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{pysecrets.token_hex(3)}"
        self.poll_interval = float(
            poll_interval if poll_interval is not None else getattr(runtime.settings, "engine_poll_seconds", 1.0)
        )
        self.prefetch = max(1, prefetch)
        self.write_batch = write_batch
        self.write_coalesce = write_coalesce
        self.housekeeping_interval = housekeeping_interval
        self.events = EventBus()
        self.running = False
        self._stopping = False
        self._stop_signal = asyncio.Event()
        self._runners: dict[int, ServerRunner] = {}
        self._group_accounts: dict[int | None, list[int]] = {}
        self._retired: list[Transport] = []
        self._writes: asyncio.Queue[tuple[Outcome, asyncio.Future[None]] | None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._main: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bodies: OrderedDict[int, bytes] = OrderedDict()
        self._signer = _load_signer()
        self._signed_domains: set[str] = set()
        self._last_recovery = 0.0
        # SQLite has one writer and every transaction takes it at BEGIN IMMEDIATE: when two of
        # this engine's transactions collide, the loser sleeps in SQLite's busy handler (1, 2,
        # 5 … 100 ms steps) long after the winner commits. Queueing them here instead hands the
        # lock over at once. PostgreSQL locks rows, so there they run side by side.
        self._db_turn: asyncio.Lock | None = asyncio.Lock() if runtime.backend == "sqlite" else None
        self.started_at: dt.datetime | None = None
        self.leases = LeaseKeeper(runtime, self.owner, self._db)

    def _db(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """This engine's turn at the database (SQLite: one transaction at a time, see __init__)."""
        return self._db_turn if self._db_turn is not None else contextlib.nullcontext()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover leases left by a crashed engine, then run until ``stop()``."""
        if self.running:
            return
        self._stopping = False
        self._stop_signal = asyncio.Event()
        self.started_at = self.runtime.clock.now()
        await queue.recover_leases(self.runtime)
        await self._heartbeat("running")
        await self.refresh()
        self._ensure_writer()
        self.leases.start()
        self.running = True
        for runner in self._runners.values():
            self._start_runner(runner)
        self._main = asyncio.create_task(self._housekeeping(), name="engine-housekeeping")

    async def stop(self, grace: float = 30.0) -> None:
        """Stop claiming; let sends in flight finish (up to ``grace`` seconds); give back the rest."""
        if not self.running and self._writer is None:
            return
        self._stopping = True
        self.running = False
        # Ask the loops to finish rather than cancelling them: a task cancelled inside a
        # database transaction makes SQLAlchemy terminate the aiosqlite connection without a
        # rollback, and SQLite's write lock then stays with that connection until it is
        # garbage-collected (the next writer times out with "database is locked").
        self._stop_signal.set()
        for runner in self._runners.values():
            runner.wake.set()
        tasks = [t for t in (self._main, *(r.task for r in self._runners.values())) if t is not None]
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=STOP_LOOPS_SECONDS)
            for task in stuck:
                task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await self._stop_writer()
        await self.leases.stop()
        await self._heartbeat("stopped")
        for runner in self._runners.values():
            if runner.transport is not None:
                self._retired.append(runner.transport)
                runner.transport = None
        for transport in self._retired:
            with contextlib.suppress(Exception):
                await transport.close()
        self._retired.clear()

    # --- test and console helpers -----------------------------------------------------------

    async def dispatch_once(self) -> int:
        """Claim for every eligible server once, send, record; return messages handled."""
        await self.refresh()
        await self._probe_due(wait=True)
        self._ensure_writer()
        handled = 0
        batch: list[asyncio.Task[Any]] = []
        for runner in sorted(self._runners.values(), key=lambda r: r.server_id):
            if not runner.eligible:
                continue
            started = await self._claim_and_spawn(runner, runner.concurrency * self.prefetch)
            handled += started.suppressed
            batch.extend(started.tasks)
        if batch:
            await asyncio.gather(*batch)
        return handled + len(batch)

    async def run_until_idle(self, max_rounds: int = 200) -> int:
        """Repeat ``dispatch_once`` until a round handles nothing; return the total handled."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.dispatch_once()
            total += handled
            if handled == 0:
                break
        return total

    # --- servers ----------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Reload servers and group membership from the database (edits, pauses, new servers)."""
        async with self._db(), self.runtime.sessions() as session:
            servers = (await session.execute(select(SendingServer))).scalars().all()
            group_rows = (await session.execute(select(ServerGroup.name, ServerGroup.id))).all()
            groups = {name: gid for name, gid in group_rows}
            accounts = (await session.execute(select(Account.id, Account.server_group_id))).all()
        default_gid = groups.get(DEFAULT_GROUP)
        mapping: dict[int | None, list[int]] = {}
        for account_id, gid in accounts:
            mapping.setdefault(gid if gid is not None else default_gid, []).append(account_id)
        self._group_accounts = mapping
        seen = set()
        for server in servers:
            seen.add(server.id)
            key = json.dumps([server.type, server.settings, server.secrets, server.concurrency], sort_keys=True)
            runner = self._runners.get(server.id)
            if runner is None:
                runner = ServerRunner(server.id, server.name, server.concurrency, server.group_id)
                runner.slots = asyncio.Semaphore(server.concurrency)
                runner.unacked = asyncio.Semaphore(server.concurrency * self.prefetch)
                self._runners[server.id] = runner
                if self.running:
                    self._start_runner(runner)
            if runner.config_key != key:
                if runner.transport is not None:
                    self._retired.append(runner.transport)
                runner.transport = None
                runner.config_key = key
                if runner.concurrency != server.concurrency:
                    runner.slots = asyncio.Semaphore(server.concurrency)
                    runner.unacked = asyncio.Semaphore(server.concurrency * self.prefetch)
            runner.name, runner.concurrency, runner.group_id = server.name, server.concurrency, server.group_id
            was = runner.eligible
            runner.state, runner.active = server.state, server.active
            if runner.eligible and not was:
                runner.local_failures = 0
                runner.wake.set()
            runner.row = server
        for gone in set(self._runners) - seen:
            runner = self._runners.pop(gone)
            runner.retired = True  # its loop ends after the claim in progress, if any
            runner.wake.set()

    def _transport(self, runner: ServerRunner) -> Transport:
        if runner.transport is None:
            assert runner.row is not None
            runner.transport = load_transport(self.runtime, runner.row)
        return runner.transport

    async def _probe_due(self, *, wait: bool) -> None:
        """Failing servers past their cool-down get a "test connection"; success heals them."""
        now = self.runtime.clock.now()
        probes = []
        for runner in self._runners.values():
            row = runner.row
            if row is not None and runner.state == "failing" and runner.active and not runner.probing and (
                row.next_probe_at is None or row.next_probe_at <= now
            ):
                runner.probing = True
                probes.append(self._spawn(self._probe(runner)))
        if wait and probes:
            await asyncio.gather(*probes)

    async def _probe(self, runner: ServerRunner) -> None:
        try:
            try:
                check = await self._transport(runner).check()
                ok, detail = check.ok, check.detail
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            now = self.runtime.clock.now()
            async with self._db(), self.runtime.sessions.begin() as session:
                if ok:
                    values: dict[str, Any] = {"state": "healthy", "consecutive_failures": 0, "next_probe_at": None,
                                              "state_reason": f"recovered: probe passed ({detail})"[:1000]}
                else:
                    cooldown = dt.timedelta(seconds=self.runtime.settings.breaker_cooldown_seconds)
                    values = {"next_probe_at": now + cooldown, "state_reason": f"probe failed: {detail}"[:1000]}
                await session.execute(
                    update(SendingServer)
                    .where(SendingServer.id == runner.server_id, SendingServer.state == "failing")
                    .values(**values)
                )
            if ok:
                runner.state = "healthy"
                runner.local_failures = 0
                runner.wake.set()
            self.events.publish(ServerEvent(runner.server_id, runner.name, runner.state, runner.sent, runner.failed,
                                            runner.outstanding, str(values["state_reason"])))
        finally:
            runner.probing = False

    # --- claiming and sending -------------------------------------------------------------

    @dataclass
    class _Spawned:
        tasks: list[asyncio.Task[Any]]
        suppressed: int
        capped: bool

    async def _claim_and_spawn(self, runner: ServerRunner, want: int) -> Engine._Spawned:
        accounts = self._group_accounts.get(runner.group_id, [])
        want = self.leases.claim_size(runner.server_id, want=want, concurrency=runner.concurrency,
                                      unobserved=runner.concurrency * self.prefetch)
        async with self._db():
            result = await claim_for_server(
                self.runtime, runner.server_id, want=want, owner=self.owner, account_ids=accounts
            )
        if not result.eligible:
            runner.state = "paused" if runner.state == "healthy" else runner.state
        for mid, reason in result.suppressed:
            self.events.publish(MessageEvent(mid, "suppressed", None, reason))
        if not result.claimed:
            return Engine._Spawned([], len(result.suppressed), result.capped)
        self.leases.hold(runner.server_id, (c.message_id for c in result.claimed))
        await self._load_bodies(result.claimed)
        runner.outstanding += len(result.claimed)
        runner.unsent += len(result.claimed)
        tasks = [self._spawn(self._deliver(runner, c)) for c in result.claimed]
        for c in result.claimed:
            self.events.publish(MessageEvent(c.message_id, "sending", runner.server_id))
        return Engine._Spawned(tasks, len(result.suppressed), result.capped)

    async def _load_bodies(self, claimed: list[ClaimedMessage]) -> None:
        missing = {c.body_id for c in claimed} - set(self._bodies)
        if missing:
            async with self._db(), self.runtime.sessions() as session:
                rows = (
                    await session.execute(select(MessageBody.id, MessageBody.raw).where(MessageBody.id.in_(missing)))
                ).all()
            for body_id, raw in rows:
                self._bodies[body_id] = raw
        for c in claimed:
            self._bodies.move_to_end(c.body_id)
        while len(self._bodies) > 256:
            self._bodies.popitem(last=False)

    async def _body(self, c: ClaimedMessage) -> bytes:
        raw = self._bodies.get(c.body_id)
        if raw is None:
            await self._load_bodies([c])
            raw = self._bodies[c.body_id]
        if self._signer is not None:
            domain = from_domain_of(raw, c.envelope_from)
            if domain in self._signed_domains or self._db_turn is None:
                raw = await self._signer(self.runtime, raw, domain)
            else:
                # The first signature per domain may read the key from the database: take this
                # engine's turn so the (cached afterwards) lookup neither waits in SQLite's busy
                # handler behind claims and writes nor makes them wait, and so concurrent first
                # sends look the key up once instead of all at the same time.
                async with self._db_turn:
                    raw = await self._signer(self.runtime, raw, domain)
                self._signed_domains.add(domain)
        return raw

    async def _deliver(self, runner: ServerRunner, c: ClaimedMessage) -> None:
        unacked = runner.unacked  # the runner may get a new one on a config change; release this one
        acquired = left_buffer = False
        try:
            await unacked.acquire()
            acquired = True
            async with runner.slots:
                runner.unsent -= 1
                left_buffer = True
                runner.wake.set()  # the runner tops its buffer of unsent messages up
                tripped = runner.local_failures >= max(1, self.runtime.settings.breaker_threshold)
                if self._stopping or tripped:
                    why = "engine stopped before sending" if self._stopping else f"server {runner.name} is failing"
                    async with self._db():
                        await release_claims(self.runtime, [c], f"{why}; queued again")
                    self.events.publish(MessageEvent(c.message_id, "queued", None, why))
                    return
                runner.sending += 1
                try:
                    with self.leases.timing(runner.server_id):
                        result = await self._send(runner, c)
                finally:
                    runner.sending -= 1
                if result.counts_against_server:
                    runner.local_failures += 1
                else:
                    runner.local_failures = 0
            # Counted once the transport has answered: the attempt happened whether or not the
            # write below succeeds (a failed write means a re-send later, a second attempt).
            metrics.record_send(runner.name, result.kind.value)
            try:
                await self._record(Outcome(c, result))
            except Exception as exc:  # logged by the writer; the lease, once expired, sends it again
                log.warning("outcome of message %d not recorded (%s); it will be sent again", c.message_id, exc)
        finally:
            self.leases.release(runner.server_id, c.message_id)
            if not left_buffer:
                runner.unsent -= 1
            if acquired:
                unacked.release()
            runner.outstanding -= 1
            runner.wake.set()

    async def _send(self, runner: ServerRunner, c: ClaimedMessage) -> SendResult:
        try:
            raw = await self._body(c)
            transport = self._transport(runner)
            envelope = Envelope(self._envelope_sender(runner, c), (c.recipient,), c.stream, c.tracking, c.message_id)
            return await transport.send(envelope, raw)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a transport bug must defer the message, not lose it
            cls = classify_transport_error(exc)
            if cls.kind is ResultKind.PERMANENT and not cls.server_fault:
                # Refused before anything went out (a control character in an address): this
                # message can never go as it is; the server is not to blame.
                return SendResult(ResultKind.PERMANENT, f"{cls.reason}: {type(exc).__name__}: {exc}"[:500],
                                  local_error=True)
            log.exception("transport %s failed unexpectedly", runner.name)
            return SendResult(ResultKind.TRANSIENT, f"internal error: {type(exc).__name__}: {exc}", server_fault=True)

    def _envelope_sender(self, runner: ServerRunner, c: ClaimedMessage) -> str:
        """VERP on the bounce domain for SMTP servers whose bounces we read, else the stored sender.

        A DSN comes back to the envelope sender; encoding the message id and recipient there
        lets the bounce poller pin even a mangled report on its message (``feedback/verp.py``).
        ESPs report bounces through webhooks and set their own envelope sender, so not them.
        """
        row = runner.row
        domain = self.runtime.settings.bounce_domain
        if row is None or row.type != "smtp" or not row.bounce_handler or not domain:
            return c.envelope_from
        return verp.encode(c.message_id, c.recipient, domain, verp.key_from(self.runtime.secrets))

    # --- recording ------------------------------------------------------------------------

    def _ensure_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writes = asyncio.Queue()
            self._writer = asyncio.create_task(self._write_loop(), name="engine-writer")

    async def _record(self, outcome: Outcome) -> None:
        self._ensure_writer()
        assert self._writes is not None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._writes.put((outcome, done))
        await done

    async def _write_loop(self) -> None:
        assert self._writes is not None
        writes = self._writes
        last = False
        while not last:
            first = await writes.get()
            if first is None:  # _stop_writer: everything before it has been written
                return
            if writes.qsize() < self.write_batch // 4:
                # Give outcomes finishing right now a moment to join: fewer, larger transactions
                # (the database's write lock, not the network, is the engine's bottleneck).
                await asyncio.sleep(self.write_coalesce)
            batch = [first]
            while len(batch) < self.write_batch and not writes.empty():
                queued = writes.get_nowait()
                if queued is None:
                    last = True
                    break
                batch.append(queued)
            try:
                applied, changes = await retry_locked(
                    functools.partial(self._write_batch, [o for o, _ in batch]), what=f"recording {len(batch)} outcomes"
                )
            except Exception as exc:
                log.exception("recording %d outcomes failed", len(batch))
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(None)
            touched: set[int] = set()
            for item in applied:
                runner = self._runners.get(item.server_id)
                if runner is not None:
                    if item.state == "sent":
                        runner.sent += 1
                    elif item.counts_as_failure or item.state == "failed":
                        runner.failed += 1
                touched.add(item.server_id)
                self.events.publish(MessageEvent(item.message_id, item.state, item.server_id, item.reason))
            for change in changes:
                runner = self._runners.get(change.server_id)
                if runner is not None:
                    runner.state = change.state
            for server_id in touched:
                runner = self._runners.get(server_id)
                if runner is not None:
                    self.events.publish(ServerEvent(server_id, runner.name, runner.state, runner.sent, runner.failed,
                                                    runner.outstanding))

    async def _write_batch(self, outcomes: list[Outcome]) -> tuple[list[Applied], list[BreakerChange]]:
        async with self._db():
            return await record_outcomes(self.runtime, outcomes)

    async def _stop_writer(self) -> None:
        """Write every outcome queued so far, then end the loop (cancelled only if stuck, for
        the same reason stop() does not cancel the claim loops mid-transaction)."""
        if self._writer is None or self._writes is None:
            return
        writer, self._writer = self._writer, None
        await self._writes.put(None)
        _, stuck = await asyncio.wait([writer], timeout=STOP_LOOPS_SECONDS)
        if stuck:
            writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer

    # --- background loops -----------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _start_runner(self, runner: ServerRunner) -> None:
        if runner.task is None or runner.task.done():
            runner.task = asyncio.create_task(self._run_server(runner), name=f"engine-server-{runner.server_id}")

    async def _run_server(self, runner: ServerRunner) -> None:
        while not self._stopping and not runner.retired:
            runner.wake.clear()
            claimed_any = False
            if runner.eligible:
                buffer = runner.concurrency * self.prefetch * runner.depth
                room = buffer - runner.unsent
                # Top up when half the buffer of unsent messages is gone: claims (write
                # transactions) stay few and large, while the other half keeps every connection
                # busy meanwhile. Sent-but-unrecorded messages do not count: they are bounded by
                # ``unacked`` and must not starve the connections while a write is committing.
                if room >= max(1, buffer // 2):
                    try:
                        spawned = await self._claim_and_spawn(runner, room)
                        claimed_any = bool(spawned.tasks) or spawned.suppressed > 0
                        full = len(spawned.tasks) + spawned.suppressed >= room and not spawned.capped
                        runner.depth = min(MAX_DEPTH, runner.depth * 2) if full else 1
                    except Exception:
                        log.exception("claiming for server %s failed", runner.name)
            if claimed_any:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runner.wake.wait(), timeout=self.poll_interval)

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self.housekeeping_interval
        next_recovery = loop.time() + max(1.0, self.runtime.settings.lease_seconds / 2)
        while not self._stopping:
            # Server edits, pauses and probes are picked up within a second (the console's
            # promise); the message poll interval only matters to the runners.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_signal.wait(), min(1.0, self.housekeeping_interval))
            if self._stopping:
                return
            try:
                await self.refresh()
                await self._probe_due(wait=False)
                if loop.time() >= next_recovery:
                    async with self._db():
                        recovered = await queue.recover_leases(self.runtime, keep=self.leases.held())
                    if recovered:
                        for runner in self._runners.values():
                            runner.wake.set()
                    next_recovery = loop.time() + max(1.0, self.runtime.settings.lease_seconds / 2)
                if loop.time() >= next_beat:
                    await self._heartbeat("running")
                    next_beat = loop.time() + self.housekeeping_interval
            except Exception:
                log.exception("engine housekeeping failed; retrying")

    async def _heartbeat(self, state: str) -> None:
        now = self.runtime.clock.now()
        async with self._db(), self.runtime.sessions.begin() as session:
            row = (
                await session.execute(select(EngineHeartbeat).where(EngineHeartbeat.owner == self.owner))
            ).scalar_one_or_none()
            if row is None:
                session.add(EngineHeartbeat(owner=self.owner, host=socket.gethostname(), started_at=now,
                                            seen_at=now, state=state))
            else:
                row.seen_at, row.state = now, state

    # --- figures for the console ----------------------------------------------------------

    def in_flight(self) -> dict[int, int]:
        return {sid: r.outstanding for sid, r in self._runners.items()}


__all__ = ["Engine", "from_domain_of"]
