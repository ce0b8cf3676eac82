from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mailconsole import __version__


def mc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailconsole", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_help_lists_every_command_group() -> None:
    proc = mc("--help")
    assert proc.returncode == 0
    for group in ("console", "demo", "serve", "sink", "servers", "domains", "identity", "contacts",
                  "reviews", "safelist", "keys", "queue", "db", "feedback"):
        assert f"  {group}" in proc.stdout, group


def test_version_prints_the_package_version() -> None:
    proc = mc("--version")
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_malformed_database_url_is_one_clear_line_and_exit_2() -> None:
    proc = mc("--database-url", "not a url", "db", "upgrade")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: malformed database URL 'not a url': expected e.g. sqlite+aiosqlite:///path/to/file.db "
        "or postgresql+asyncpg://user:pass@host/db"
    ]


def test_unreachable_database_is_one_clear_line_and_exit_2() -> None:
    proc = mc("--database-url", "postgresql+asyncpg://u:secretpw@127.0.0.1:1/db", "db", "upgrade")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the database")
    assert "secretpw" not in proc.stderr


def test_unknown_command_is_one_clear_line_and_exit_2() -> None:
    proc = mc("frobnicate")
    assert proc.returncode == 2
    assert "No such command 'frobnicate'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_flag_is_one_clear_line_and_exit_2() -> None:
    proc = mc("db", "upgrade", "--bogus")
    assert proc.returncode == 2
    assert proc.stderr == "error: No such option '--bogus'. (see `mailconsole db upgrade --help`)\n"


def test_db_upgrade_then_status_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from mailconsole.store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    from alembic.script import ScriptDirectory

    from mailconsole.store.migrate import alembic_config

    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()  # one line of history
    up = mc("--database-url", url, "--data-dir", str(tmp_path), "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert f"database at revision {head}" in up.stdout
    st = mc("--database-url", url, "db", "status", "--json")
    assert st.returncode == 0
    assert f'"revision": "{head}"' in st.stdout


def test_database_url_from_environment(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "MAILCONSOLE_DATABASE_URL": "sqlite:///plain-driver.db"}
    proc = mc("db", "upgrade", env=env)
    assert proc.returncode == 2
    assert "SQLite URLs must use the async driver" in proc.stderr


def test_bad_config_file_names_the_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "mc.toml"
    cfg.write_text("relay_port = 'abc'\n")
    proc = mc("--config", str(cfg), "db", "status")
    assert proc.returncode == 2
    assert "setting relay_port: cannot read 'abc'" in proc.stderr
