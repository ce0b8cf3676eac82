"""How many engine processes are alive on this database, from their heartbeat rows.

The console (with no engine of its own) and ``/healthz`` both ask this, so "running
elsewhere" means the same thing in both.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from mailconsole.runtime import Runtime
from mailconsole.store.models import EngineHeartbeat


async def engines_running(runtime: Runtime, *, fresh: dt.timedelta) -> int:
    """Engines whose heartbeat says running and was written within ``fresh``."""
    cutoff = runtime.clock.now() - fresh
    async with runtime.reads() as session:
        count = await session.scalar(
            select(func.count(EngineHeartbeat.id)).where(
                EngineHeartbeat.state == "running", EngineHeartbeat.seen_at >= cutoff
            )
        )
    return int(count or 0)
