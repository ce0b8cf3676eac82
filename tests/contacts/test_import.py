"""CSV import: rejected lines reported with their number and reason; re-import adds nothing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import func, select

from mailconsole.contacts.importer import import_csv
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.store.models import Contact
from tests.support.actors import SYSTEM

CSV = """email,name,plan
ann@example.com,Ann,gold
not-an-address,Bob,free
,Nobody,free

Cy@Example.ORG,Cy,
ann@example.com,Ann again,gold
dee@exa mple.com,Dee,free
"""


async def count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Contact))).scalar_one())


async def test_import_reports_each_rejected_line_and_reimport_is_idempotent(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(CSV)
    seen: list[tuple[int, int]] = []
    report = await import_csv(runtime, path, account_id=1, actor=SYSTEM, progress=lambda d, t: seen.append((d, t)))
    assert (report.rows, report.inserted, report.already_present) == (6, 2, 0)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "'not-an-address' is not a valid email address: An email address must have an @-sign."),
        (4, "no address in this line"),
        (7, "duplicate of line 2 (ann@example.com)"),
        (8, "'dee@exa mple.com' is not a valid email address: The part after the @-sign contains "
            "invalid characters: SPACE."),
    ]
    assert seen[-1] == (8, 8)
    async with runtime.sessions() as session:
        rows = (await session.execute(select(Contact).order_by(Contact.address))).scalars().all()
        assert [(c.address, c.domain, c.name, c.fields, c.status) for c in rows] == [
            ("Cy@example.org", "example.org", "Cy", {}, "active"),
            ("ann@example.com", "example.com", "Ann", {"plan": "gold"}, "active"),
        ]
    again = await import_csv(runtime, path, account_id=1, actor=SYSTEM)
    assert (again.inserted, again.already_present, len(again.rejected)) == (0, 2, 4)
    assert await count(runtime) == 2


async def test_import_without_header_reads_address_then_name(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("ann@example.com,Ann,London\nbob@example.com\n")
    report = await import_csv(runtime, path, account_id=1, actor=SYSTEM)
    assert (report.inserted, report.rejected) == (2, [])
    async with runtime.sessions() as session:
        ann = (await session.execute(select(Contact).where(Contact.address == "ann@example.com"))).scalar_one()
    assert (ann.name, ann.fields) == ("Ann", {"column3": "London"})


async def test_cli_import_prints_rejected_lines(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(CSV)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mailconsole", "--database-url", settings.database_url,
        "--data-dir", str(settings.data_dir), "contacts", "import", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _err = await proc.communicate()
    assert proc.returncode == 0
    lines = out.decode().splitlines()
    assert lines[0] == "2 imported, 0 already present, 4 rejected"
    assert lines[1:3] == [
        "line 3: 'not-an-address' is not a valid email address: An email address must have an @-sign.",
        "line 4: no address in this line",
    ]
    assert await count(runtime) == 2
