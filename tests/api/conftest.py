"""The API against a real SQLite runtime, driven in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from mailconsole.api.app import create_app
from mailconsole.domain.roles import SYSTEM
from mailconsole.intake.keys import create_key
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Account


@dataclass
class Keys:
    account_id: int
    send: str  # mail:send, both streams
    transactional_only: str
    no_scope: str
    other_account: str
    other_account_id: int


@pytest.fixture
async def app(runtime: Runtime) -> Starlette:
    return create_app(runtime)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def keys(runtime: Runtime) -> Keys:
    account_id = await default_account_id(runtime)
    async with runtime.sessions.begin() as session:
        other = Account(name="other", created_at=runtime.clock.now())
        session.add(other)
        await session.flush()
        other_id = other.id
    _, send = await create_key(runtime, account_id=account_id, name="app", actor=SYSTEM)
    _, trans = await create_key(
        runtime, account_id=account_id, name="trans", allowed_streams=["transactional"], actor=SYSTEM
    )
    _, no_scope = await create_key(runtime, account_id=account_id, name="none", scopes=[], actor=SYSTEM)
    _, other_key = await create_key(runtime, account_id=other_id, name="other", actor=SYSTEM)
    return Keys(account_id, send, trans, no_scope, other_key, other_id)
