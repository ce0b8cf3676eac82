"""Write the next alembic revision from the difference between the models and the migrations.

Usage: python scripts/make_migration.py "add contact unsubscribed flag"

An empty SQLite file is upgraded to the current head, the models are compared with it, and
the operations that differ are written as a new numbered revision in
src/mailconsole/store/migrations/versions/. Existing databases then upgrade in place on the next
start (or `mailconsole db upgrade`). Review the file before committing: autogenerate does not
see renames or data moves.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from mailconsole.store.migrate import alembic_config


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        raise SystemExit('usage: python scripts/make_migration.py "what changed"')
    message = sys.argv[1].strip()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        with engine.begin() as conn:
            cfg = alembic_config(conn)
            command.upgrade(cfg, "head")
            head = ScriptDirectory.from_config(cfg).get_current_head()
            rev_id = f"{int(head or '0') + 1:04d}"
            script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    paths = script if isinstance(script, list) else [script]
    for s in paths:
        if s is not None:
            print(f"wrote {s.path}")


if __name__ == "__main__":
    main()
