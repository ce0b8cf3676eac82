"""``contacts import`` counts its own rows: exact while other imports write the same account.

The count used to be the change in the account's whole contact count, so three concurrent
imports of distinct 5,000-row files each reported the others' rows too (and wrote that into
the audit log).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailconsole.contacts.importer import import_csv
from mailconsole.runtime import Runtime
from mailconsole.store.models import AuditEntry, Contact
from tests.support.actors import ADA

ROWS = 5000


def write_file(path: Path, name: str, numbers: range) -> Path:
    path.write_text("address,name\n" + "".join(f"{name}{i:05d}@example.com,{name} {i}\n" for i in numbers))
    return path


async def contact_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Contact))).scalar_one())


async def three_at_once(runtime: Runtime, files: list[Path]) -> list[tuple[int, int]]:
    reports = await asyncio.gather(
        *(import_csv(runtime, f, account_id=1, actor=ADA, batch_size=500) for f in files)
    )
    return [(r.inserted, r.already_present) for r in reports]


async def _distinct_files_each_report_their_own_rows(runtime: Runtime, tmp_path: Path) -> None:
    files = [write_file(tmp_path / f"{n}.csv", n, range(ROWS)) for n in ("ann", "bob", "cyd")]
    assert await three_at_once(runtime, files) == [(ROWS, 0)] * 3
    assert await contact_count(runtime) == 3 * ROWS
    async with runtime.sessions() as session:
        details = (await session.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "contacts.import"))).scalars().all()
    assert sorted(details) == [f"{n}.csv: {ROWS} new, 0 already present, 0 rejected" for n in ("ann", "bob", "cyd")]


async def test_three_concurrent_imports_of_distinct_files_report_exact_counts(
    runtime: Runtime, tmp_path: Path
) -> None:
    await _distinct_files_each_report_their_own_rows(runtime, tmp_path)


async def test_three_concurrent_imports_report_exact_counts_on_postgresql(
    pg_runtime: Runtime, tmp_path: Path
) -> None:
    await _distinct_files_each_report_their_own_rows(pg_runtime, tmp_path)


@pytest.mark.parametrize("overlap", [1000])
async def test_overlapping_concurrent_imports_split_each_address_between_them(
    runtime: Runtime, tmp_path: Path, overlap: int
) -> None:
    """Each address is inserted by exactly one import and counted as already present by the
    others, so the reports add up to what is in the table, however the batches interleave."""
    files = [write_file(tmp_path / f"f{n}.csv", "same", range(n * (ROWS - overlap), n * (ROWS - overlap) + ROWS))
             for n in range(3)]
    counts = await three_at_once(runtime, files)
    distinct = 3 * ROWS - 2 * overlap
    assert sum(inserted for inserted, _ in counts) == distinct == await contact_count(runtime)
    assert all(inserted + present == ROWS for inserted, present in counts)
