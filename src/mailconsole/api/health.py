"""``GET /healthz``: 200 when the database answers and an engine is running, else 503.

"Engine running" is the in-process engine's own word when ``serve`` passed one in (its
``running`` attribute), otherwise a fresh ``EngineHeartbeat`` row from any process, so an
API-only process in front of engines elsewhere reports truthfully.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select, text
from starlette.requests import Request
from starlette.responses import JSONResponse

from mailconsole.runtime import Runtime
from mailconsole.store.models import EngineHeartbeat

DB_TIMEOUT_SECONDS = 3.0
HEARTBEAT_STALE_SECONDS = 60.0


def engine_flag(engine: Any) -> bool | None:
    """The in-process engine's ``running`` (attribute or method); None without an engine."""
    if engine is None:
        return None
    flag = getattr(engine, "running", None)
    if callable(flag):
        flag = flag()
    return bool(flag)


async def live_engines(runtime: Runtime) -> int:
    cutoff = runtime.clock.now() - dt.timedelta(seconds=HEARTBEAT_STALE_SECONDS)
    async with runtime.reads() as session:
        count = await session.scalar(
            select(func.count(EngineHeartbeat.id)).where(
                EngineHeartbeat.state == "running", EngineHeartbeat.seen_at >= cutoff
            )
        )
    return int(count or 0)


async def healthz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            async with runtime.reads() as session:
                await session.execute(text("SELECT 1"))
            heartbeats = await live_engines(runtime)
        checks["database"] = {"ok": True, "detail": f"{runtime.backend} reachable"}
    except Exception as exc:  # any failure to reach the database is the answer, not a crash
        heartbeats = 0
        checks["database"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    in_process = engine_flag(request.app.state.engine)
    if in_process is not None:
        ok = in_process
        detail = "in-process engine running" if ok else "in-process engine stopped"
    else:
        ok = heartbeats > 0
        detail = (
            f"{heartbeats} engine(s) sent a heartbeat in the last {HEARTBEAT_STALE_SECONDS:.0f} s"
            if ok
            else "no engine is running"
        )
    checks["engine"] = {"ok": ok, "detail": detail}
    healthy = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
