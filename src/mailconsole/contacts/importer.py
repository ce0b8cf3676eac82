"""CSV import of contacts: fast, idempotent, and honest about every line it refuses.

Rows are validated in a worker thread in batches and written with one multi-row
``INSERT … ON CONFLICT (account_id, address) DO NOTHING`` per batch (dialect-aware for SQLite
and PostgreSQL), so 100k rows take seconds and importing the same file again adds nothing.
A validation cache per domain keeps the cost per row low without changing the normal form:
the domain is validated once by ``normalize_address`` and the local part by a strict ASCII
dot-atom pattern; anything else takes the full ``normalize_address`` path.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.contacts.errors import ContactError
from mailconsole.domain.addresses import AddressError, normalize_address
from mailconsole.domain.roles import Actor, Permission
from mailconsole.store.audit import record
from mailconsole.store.models import Contact

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

Progress = Callable[[int, int], None]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
ADDRESS_COLUMNS = ("address", "email", "email_address", "e-mail")


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    already_present: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "already_present": self.already_present,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
        }


class _Normalizer:
    """normalize_address with a per-domain cache for plain ASCII local parts."""

    def __init__(self) -> None:
        self._domains: dict[str, str] = {}  # raw domain -> normal form, "" when invalid

    def __call__(self, text: str) -> str:
        local, at, domain = text.rpartition("@")
        if not at or len(text) > 254 or len(local) > 64 or not _LOCAL.fullmatch(local):
            return normalize_address(text)
        cached = self._domains.get(domain)
        if cached is None:
            try:
                cached = normalize_address(f"a@{domain}").rsplit("@", 1)[1]
            except AddressError:
                cached = ""
            self._domains[domain] = cached
        if not cached:
            return normalize_address(text)  # raises with this row's own message
        return f"{local}@{cached}"


@dataclass
class _Layout:
    address: int
    name: int | None
    extra: list[tuple[int, str]]


def _layout(first: list[str]) -> tuple[_Layout, bool]:
    """Column positions from a header row, or the default layout (address, name, fields…)."""
    lowered = [c.strip().lower() for c in first]
    for candidate in ADDRESS_COLUMNS:
        if candidate in lowered:
            idx = lowered.index(candidate)
            name = lowered.index("name") if "name" in lowered else None
            extra = [(i, first[i].strip()) for i in range(len(first)) if i not in (idx, name) and first[i].strip()]
            return _Layout(idx, name, extra), True
    extra = [(i, f"column{i + 1}") for i in range(2, len(first))]
    return _Layout(0, 1 if len(first) > 1 else None, extra), False


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for row in reader:
            yield reader.line_num, row


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) or 1


def _parse_batch(
    batch: list[tuple[int, list[str]]],
    layout: _Layout,
    normalize: _Normalizer,
    seen: dict[str, int],
    report: ImportReport,
    account_id: int,
    now: Any,
) -> list[dict[str, Any]]:
    out = []
    for line, row in batch:
        if not any(cell.strip() for cell in row):
            continue  # blank line
        report.rows += 1
        raw = row[layout.address].strip() if layout.address < len(row) else ""
        if not raw:
            report.rejected.append(Rejected(line, "no address in this line"))
            continue
        try:
            address = normalize(raw)
        except AddressError as exc:
            report.rejected.append(Rejected(line, exc.message))
            continue
        if address in seen:
            report.rejected.append(Rejected(line, f"duplicate of line {seen[address]} ({address})"))
            continue
        seen[address] = line
        name = row[layout.name].strip()[:200] if layout.name is not None and layout.name < len(row) else ""
        fields = {key: row[i] for i, key in layout.extra if i < len(row) and row[i] != ""}
        out.append(
            {
                "account_id": account_id,
                "address": address,
                "domain": address.rsplit("@", 1)[1],
                "name": name,
                "fields": fields,
                "status": "active",
                "status_reason": "",
                "status_since": now,
                "safelisted": False,
                "soft_bounce_count": 0,
                "last_message_summary": "",
                "created_at": now,
            }
        )
    return out


_COLUMNS = (
    "account_id", "address", "domain", "name", "fields", "status", "status_reason", "status_since",
    "safelisted", "soft_bounce_count", "last_message_summary", "created_at",
)
_SQLITE_INSERT = (
    f"INSERT INTO contacts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (account_id, address) DO NOTHING"
)


async def _insert(session: AsyncSession, dialect: str, values: list[dict[str, Any]]) -> int:
    """One multi-row insert that skips addresses already present; returns how many it inserted.

    The count is this statement's own (the driver's row count on SQLite, the returned ids on
    PostgreSQL), so imports running at the same time each report exactly their own rows.

    SQLite takes the driver's executemany with plain tuples (the per-row cost of SQLAlchemy's
    type processing was half the import time); the values are pre-rendered exactly as the
    model's types would store them (JSON text, naive-UTC ``YYYY-MM-DD HH:MM:SS.ffffff``).
    PostgreSQL takes SQLAlchemy's dialect insert (asyncpg batches it well).
    """
    if dialect == "sqlite":
        conn = await session.connection()
        tuples = [
            (
                v["account_id"], v["address"], v["domain"], v["name"], json.dumps(v["fields"]),
                v["status"], v["status_reason"], _sqlite_time(v["status_since"]), 0, 0, "",
                _sqlite_time(v["created_at"]),
            )
            for v in values
        ]
        result = await conn.exec_driver_sql(_SQLITE_INSERT, tuples)
        return int(result.rowcount)
    if dialect == "postgresql":
        statement = (
            postgresql.insert(Contact)
            .on_conflict_do_nothing(index_elements=["account_id", "address"])
            .returning(Contact.id)
        )
        return len((await session.execute(statement, values)).all())
    else:
        raise ContactError(f"import does not support the {dialect} database")


def _sqlite_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


async def import_csv(
    runtime: Runtime,
    path: str | Path,
    *,
    account_id: int,
    actor: Actor,
    progress: Progress | None = None,
    batch_size: int = 5000,
) -> ImportReport:
    """Import a CSV file (address, optional name, extra fields); returns counts and rejected lines.

    Needs ``Permission.CONTACT_BULK``. ``inserted`` is the sum of this import's own inserts,
    ``already_present`` the valid rows it skipped because the address existed, so both stay
    exact while other imports write to the same account.
    """
    actor.require(Permission.CONTACT_BULK)
    path = Path(path)
    if not path.is_file():
        raise ContactError(f"no such file: {path}")
    total = await asyncio.to_thread(_count_lines, path)
    report = ImportReport()
    normalize = _Normalizer()
    seen: dict[str, int] = {}
    now = runtime.clock.now()
    rows = _rows(path)
    try:
        first_line, first = next(rows)
    except StopIteration:
        return report
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ContactError(f"{path} is not a UTF-8 CSV file: {exc}") from None
    layout, has_header = _layout(first)
    pending: list[tuple[int, list[str]]] = [] if has_header else [(first_line, first)]

    def read_batch() -> list[tuple[int, list[str]]]:
        out = list(pending)
        pending.clear()
        for item in rows:
            out.append(item)
            if len(out) >= batch_size:
                break
        return out

    def parse(batch: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
        return _parse_batch(batch, layout, normalize, seen, report, account_id, now)

    done = first_line
    while True:
        try:
            batch = await asyncio.to_thread(read_batch)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ContactError(f"{path}: cannot read after line {done}: {exc}") from None
        if not batch:
            break
        values = await asyncio.to_thread(parse, batch)
        if values:
            async with runtime.sessions.begin() as session:
                report.inserted += await _insert(session, runtime.backend, values)
        done = batch[-1][0]
        if progress:
            progress(min(done, total), total)
    report.already_present = report.rows - len(report.rejected) - report.inserted
    async with runtime.sessions.begin() as session:
        record(session, runtime.clock, actor, "contacts.import",
               f"{path.name}: {report.inserted} new, {report.already_present} already present, "
               f"{len(report.rejected)} rejected")
    if progress:
        progress(total, total)
    return report


def rejected_text(report: ImportReport) -> str:
    """The rejected lines as people read them: ``line 7: reason``."""
    buf = io.StringIO()
    for item in report.rejected:
        buf.write(f"line {item.line}: {item.reason}\n")
    return buf.getvalue()
