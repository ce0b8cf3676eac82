"""Contacts pane at scale: is the console's cost flat in the size of the contacts table?

Runs the real Contacts pane headless (Textual ``run_test``) on a 1,000,000-contact SQLite
database and on a 1,000-contact one in the same run, and prints for each: time to first rows,
filter latency (status, domain and address-prefix filters) and page-down latency; then the
large/small ratios (target: each <= 2, i.e. cost flat in table size), the peak RSS, and the
throughput of importing 100k CSV rows through ``contacts.importer.import_csv``.

    python benchmarks/console.py            # more repetitions
    python benchmarks/console.py --quick    # under a minute once the large DB is cached

The large database is built once (plain sqlite3 executemany on the migrated schema) and kept in
``benchmarks/.cache/``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input

from mailconsole.clock import FixedClock
from mailconsole.console.screens.contacts import ContactsPane
from mailconsole.contacts.importer import import_csv
from mailconsole.domain.roles import SYSTEM, Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings

CACHE = Path(__file__).with_name(".cache")
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
STATUSES = ["active"] * 90 + ["blocklisted"] * 5 + ["spam_complaint"] * 2 + ["multiple_soft_bounces"] * 3
SCHEMA_VERSION = "v1"


def settings_for(path: Path) -> Settings:
    return Settings(data_dir=path.parent, database_url=f"sqlite+aiosqlite:///{path}")


async def _migrate(path: Path) -> None:
    async with Runtime.open(settings_for(path), clock=FixedClock(NOW)):
        pass


def build_db(path: Path, count: int) -> None:
    """Create the schema through the real migrations, then bulk-load ``count`` contacts."""
    asyncio.run(_migrate(path))
    rnd = random.Random(42)
    stamp = NOW.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA journal_mode=WAL")
    sql = (
        "INSERT INTO contacts (account_id, address, domain, name, fields, status, status_reason, status_since,"
        " safelisted, soft_bounce_count, last_message_summary, created_at)"
        " VALUES (1, ?, ?, '', '{}', ?, ?, ?, 0, 0, '', ?)"
    )
    batch: list[tuple[Any, ...]] = []
    for i in range(count):
        domain = f"domain{rnd.randrange(2000)}.example"
        status = rnd.choice(STATUSES)
        reason = "" if status == "active" else f"{status.replace('_', ' ')}: benchmark"
        batch.append((f"user{i:07d}@{domain}", domain, status, reason, stamp, stamp))
        if len(batch) == 50_000:
            con.executemany(sql, batch)
            batch.clear()
    if batch:
        con.executemany(sql, batch)
    con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()


def cached_large_db(count: int) -> tuple[Path, float]:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"contacts-{count}-{SCHEMA_VERSION}.db"
    if path.exists():
        return path, 0.0
    tmp = path.with_suffix(".building")
    tmp.mkdir(exist_ok=True)
    started = time.perf_counter()
    build_db(tmp / "db.sqlite", count)
    shutil.move(str(tmp / "db.sqlite"), path)
    shutil.rmtree(tmp, ignore_errors=True)
    return path, time.perf_counter() - started


class BenchApp(App[None]):
    """Only the Contacts pane, as the shell would mount it (app.runtime, app.role)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.role = Role.ADMIN

    def compose(self) -> ComposeResult:
        yield ContactsPane(id="contacts")


async def _until(pane: ContactsPane, loads: int, limit: float = 30.0) -> None:
    """Wait until the pane has completed ``loads`` window loads."""
    deadline = time.perf_counter() + limit
    while pane.loads < loads:
        if time.perf_counter() > deadline:
            raise TimeoutError("the pane did not load in time")
        await asyncio.sleep(0.0005)


async def measure(db: Path, reps: int) -> dict[str, float]:
    """Median seconds for first rows, filter change and page-down on one database."""
    data_dir = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    settings = Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{db}")
    first_rows: list[float] = []
    filters: list[float] = []
    pages: list[float] = []
    async with Runtime.open(settings, clock=FixedClock(NOW)) as runtime:
        for _ in range(reps):
            app = BenchApp(runtime)
            started = time.perf_counter()
            async with app.run_test(size=(100, 30), headless=True) as pilot:
                pane = app.query_one(ContactsPane)
                await _until(pane, 1)
                first_rows.append(time.perf_counter() - started)
                assert pane.rows, "no rows shown"
                filt = app.query_one("#filter", Input)
                for text in ("status:spam_complaint", "domain:domain17.example", "user00042", ""):
                    before = pane.loads
                    t = time.perf_counter()
                    filt.value = text
                    await _until(pane, before + 1)
                    filters.append(time.perf_counter() - t)
                pane.focus()
                for _ in range(5):
                    before = pane.loads
                    t = time.perf_counter()
                    await pilot.press("pagedown")
                    await _until(pane, before + 1)
                    pages.append(time.perf_counter() - t)
    shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "first_rows_s": statistics.median(first_rows),
        "filter_s": statistics.median(filters),
        "filter_max_s": max(filters),
        "page_s": statistics.median(pages),
    }


async def import_throughput(rows: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="mc-import-"))
    csv = work / "contacts.csv"
    with csv.open("w") as handle:
        handle.write("address,name,plan\n")
        for i in range(rows):
            handle.write(f"person{i}@company{i % 500}.example,Person {i},p{i % 3}\n")
    async with Runtime.open(settings_for(work / "import.db"), clock=FixedClock(NOW)) as runtime:
        started = time.perf_counter()
        report = await import_csv(runtime, csv, account_id=1, actor=SYSTEM)
        elapsed = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    assert report.inserted == rows, report.as_json()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under a minute once cached)")
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    args = parser.parse_args()
    reps = 2 if args.quick else 5

    large_db, built = cached_large_db(args.large)
    if built:
        print(f"built the {args.large:,}-contact database in {built:.1f}s (cached in {large_db})")
    small_dir = Path(tempfile.mkdtemp(prefix="mc-small-"))
    build_db(small_dir / "small.db", args.small)

    small = asyncio.run(measure(small_dir / "small.db", reps))
    large = asyncio.run(measure(large_db, reps))
    shutil.rmtree(small_dir, ignore_errors=True)
    rows_s = asyncio.run(import_throughput(args.import_rows))
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def ms(v: float) -> str:
        return f"{v * 1000:8.1f} ms"

    print(f"{'':24}{args.small:>12,}{args.large:>14,}   ratio")
    result: dict[str, Any] = {}
    for key, label in (("first_rows_s", "time to first rows"), ("filter_s", "filter latency"),
                       ("page_s", "page-down latency")):
        ratio = large[key] / small[key] if small[key] else float("inf")
        result[key.replace("_s", "_ratio")] = round(ratio, 2)
        print(f"{label:<24}{ms(small[key])}  {ms(large[key])}   {ratio:5.2f}x")
    print(f"{'filter latency (max)':<24}{ms(small['filter_max_s'])}  {ms(large['filter_max_s'])}")
    print(f"peak RSS {peak_rss_mb:.0f} MB; import {args.import_rows:,} rows at {rows_s:,.0f} rows/s")
    result.update(
        peak_rss_mb=round(peak_rss_mb, 1),
        import_rows_s=round(rows_s),
        small_contacts=args.small,
        large_contacts=args.large,
        small=small,
        large=large,
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
