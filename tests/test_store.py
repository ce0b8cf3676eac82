from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import (
    Base,
    Contact,
    ContactEvent,
    DeliveryAttempt,
    Message,
    MessageBody,
    SendingServer,
)


async def test_migrations_create_every_model_table_on_an_empty_database(runtime: Runtime) -> None:
    async with runtime.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_migrations_match_the_models_exactly(runtime: Runtime) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata)

    async with runtime.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_models_round_trip_on_a_sqlite_file(runtime: Runtime) -> None:
    account_id = await default_account_id(runtime)
    when = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    async with runtime.sessions.begin() as session:
        server = SendingServer(name="sink", type="smtp", settings={"host": "127.0.0.1", "port": 2525})
        body = MessageBody(raw=b"Subject: hi\r\n\r\nhello", size=21)
        session.add_all([server, body])
        await session.flush()
        contact = Contact(account_id=account_id, address="Jane@example.com", domain="example.com", status_since=when)
        session.add(contact)
        await session.flush()
        session.add(ContactEvent(contact_id=contact.id, at=when, actor="test", kind="created"))
        msg = Message(
            account_id=account_id, envelope_from="a@b.test", recipient="Jane@example.com",
            body_id=body.id, next_attempt_at=when,
        )
        session.add(msg)
        await session.flush()
        session.add(DeliveryAttempt(message_id=msg.id, server_id=server.id, at=when, outcome="accepted", smtp_code=250))
    async with runtime.sessions() as session:
        got = (await session.execute(select(Message))).scalar_one()
        assert got.next_attempt_at == when and got.next_attempt_at.tzinfo is not None
        assert got.state == "queued"
        srv = (await session.execute(select(SendingServer))).scalar_one()
        assert srv.settings == {"host": "127.0.0.1", "port": 2525}
        attempt = (await session.execute(select(DeliveryAttempt))).scalar_one()
        assert (attempt.outcome, attempt.smtp_code, attempt.at) == ("accepted", 250, when)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(runtime: Runtime) -> None:
    async with runtime.engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    assert mode == "wal"
    assert fks == 1


async def test_secret_key_file_is_private(runtime: Runtime) -> None:
    key_file = runtime.settings.data_dir / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    token = runtime.secrets.encrypt_json({"password": "hunter2"})
    assert "hunter2" not in token
    assert runtime.secrets.decrypt_json(token) == {"password": "hunter2"}
