"""The same models and migrations on PostgreSQL (the scale-out path)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from mailconsole.delivery.queue import enqueue
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Base, Message

pytestmark = pytest.mark.postgres


async def test_migrations_match_the_models_on_postgresql(pg_runtime: Runtime) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata)

    async with pg_runtime.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert pg_runtime.backend == "postgresql"
    assert changes == []


async def test_enqueue_round_trips_on_postgresql(pg_runtime: Runtime) -> None:
    account_id = await default_account_id(pg_runtime)
    ids = await enqueue(
        pg_runtime, account_id=account_id, envelope_from="a@b.test", recipients=["x@y.test", "z@y.test"],
        raw=b"Subject: pg\r\n\r\nbody",
    )
    async with pg_runtime.sessions() as session:
        rows = (await session.execute(select(Message).where(Message.id.in_(ids)))).scalars().all()
    assert sorted(r.recipient for r in rows) == ["x@y.test", "z@y.test"]
    assert all(r.subject == "pg" and r.next_attempt_at.tzinfo == dt.UTC for r in rows)
