"""The claim's query reads due messages through the partial index, in claim order.

With a deep queue a claim must read only the rows it takes: the query's ready-state filter is
the same literal text as ``ix_messages_ready``'s predicate, so SQLite walks that index in
(next_attempt_at, id) order instead of sorting every due row. A bound-parameter IN list, or a
predicate drifting from the index's, would bring the sort back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from mailconsole.delivery.claims import claim_for_server
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id

from .conftest import add_sink_server, closed_port, send


async def test_claim_query_walks_ready_partial_index_without_sorting(runtime: Runtime) -> None:
    server = await add_sink_server(runtime, closed_port())
    await send(runtime, *[f"r{i}@example.test" for i in range(300)])
    async with runtime.sessions.begin() as session:
        await session.execute(text("ANALYZE"))
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("SELECT messages.id"):
            seen.append((statement, params))

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", capture)
    try:
        result = await claim_for_server(
            runtime, server.id, want=10, owner="test", account_ids=[await default_account_id(runtime)]
        )
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", capture)
    assert len(result.claimed) == 10
    assert len(seen) == 1
    statement, params = seen[0]
    async with runtime.engine.connect() as conn:
        plan = " | ".join(str(row[-1]) for row in (await conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, params)).all())
    assert "ix_messages_ready" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
