"""API keys: shown once, stored as a hash, revocable, scoped."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailconsole.clock import FixedClock
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake import keys
from mailconsole.runtime import Runtime
from mailconsole.store.models import ApiKey


async def test_created_key_is_random_prefixed_and_only_its_hash_is_stored(runtime: Runtime, account_id: int) -> None:
    row, plaintext = await keys.create_key(runtime, account_id=account_id, name="app", actor=SYSTEM)
    _other_row, other = await keys.create_key(runtime, account_id=account_id, name="app2", actor=SYSTEM)
    assert plaintext != other
    assert plaintext.startswith(f"mc_{row.prefix}_")
    assert len(plaintext) > 40
    async with runtime.sessions() as session:
        stored = (await session.execute(select(ApiKey).where(ApiKey.id == row.id))).scalar_one()
    assert plaintext not in (stored.key_hash, stored.prefix, stored.name)
    assert plaintext.split("_", 2)[2] not in stored.key_hash
    assert stored.scopes == ["mail:send"]
    assert stored.allowed_streams == ["transactional", "broadcast"]


async def test_authenticate_accepts_the_key_records_last_use_and_rejects_near_misses(
    runtime: Runtime, account_id: int, clock: FixedClock
) -> None:
    row, plaintext = await keys.create_key(runtime, account_id=account_id, actor=SYSTEM)
    assert row.last_used_at is None
    clock.advance(hours=1)
    key = await keys.authenticate(runtime, plaintext)
    assert key is not None and key.id == row.id
    listed = await keys.list_keys(runtime)
    assert listed[0].last_used_at == clock.now().isoformat()
    assert await keys.authenticate(runtime, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert await keys.authenticate(runtime, "not a key") is None
    assert await keys.authenticate(runtime, "") is None


async def test_revoked_key_no_longer_authenticates(runtime: Runtime, account_id: int) -> None:
    row, plaintext = await keys.create_key(runtime, account_id=account_id, actor=SYSTEM)
    info = await keys.revoke_key(runtime, row.id, actor=SYSTEM)
    assert info.revoked is True
    assert await keys.authenticate(runtime, plaintext) is None
    with pytest.raises(keys.KeyInputError, match="no API key with id 999"):
        await keys.revoke_key(runtime, 999, actor=SYSTEM)


async def test_unknown_scope_or_stream_is_refused_with_the_choices(runtime: Runtime, account_id: int) -> None:
    with pytest.raises(keys.KeyInputError, match="unknown scope 'mail:read'; choose from mail:send"):
        await keys.create_key(runtime, account_id=account_id, scopes=["mail:read"], actor=SYSTEM)
    with pytest.raises(keys.KeyInputError, match="unknown stream 'promo'; choose from transactional, broadcast"):
        await keys.create_key(runtime, account_id=account_id, allowed_streams=["promo"], actor=SYSTEM)
    assert await keys.list_keys(runtime) == []


async def test_last_use_is_written_at_most_once_a_minute(
    runtime: Runtime, account_id: int, clock: FixedClock
) -> None:
    _, plaintext = await keys.create_key(runtime, account_id=account_id, actor=SYSTEM)
    first_use = clock.now()
    assert await keys.authenticate(runtime, plaintext) is not None
    clock.advance(seconds=59)
    assert await keys.authenticate(runtime, plaintext) is not None
    assert (await keys.list_keys(runtime))[0].last_used_at == first_use.isoformat()  # no write yet
    clock.advance(seconds=1)
    assert await keys.authenticate(runtime, plaintext) is not None
    assert (await keys.list_keys(runtime))[0].last_used_at == clock.now().isoformat()


async def test_lookup_gives_the_key_with_its_account(runtime: Runtime, account_id: int) -> None:
    row, plaintext = await keys.create_key(runtime, account_id=account_id, actor=SYSTEM)
    found = await keys.lookup(runtime, plaintext)
    assert found is not None
    key, account = found
    assert (key.id, account.id, account.sandbox) == (row.id, account_id, False)
