"""Intake fixtures: the default account, for the key and batcher tests."""

from __future__ import annotations

import pytest

from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id


@pytest.fixture
async def account_id(runtime: Runtime) -> int:
    return await default_account_id(runtime)
