"""`mailconsole keys create|list|revoke` through the real click entry point and a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mailconsole.cli import cli


def _invoke(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    db = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(cli, ["--database-url", db, "--data-dir", str(tmp_path / "data"), "keys", *args])
    return result.exit_code, result.stdout, result.stderr


def test_keys_create_prints_the_key_once_and_list_never_shows_it(tmp_path: Path) -> None:
    code, out, err = _invoke(tmp_path, "create", "--name", "shop", "--stream", "transactional")
    assert code == 0, err
    key = out.strip()
    assert key.startswith("mc_") and "\n" not in key
    assert "copy it now, it is not shown again" in err
    code, out, _ = _invoke(tmp_path, "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 1
    assert rows[0]["name"] == "shop"
    assert rows[0]["allowed_streams"] == ["transactional"]
    assert rows[0]["scopes"] == ["mail:send"]
    assert rows[0]["revoked"] is False
    assert key not in out and key.split("_", 2)[2] not in out


def test_keys_revoke_marks_the_key_and_unknown_id_is_one_clear_line(tmp_path: Path) -> None:
    assert _invoke(tmp_path, "create")[0] == 0
    code, out, _ = _invoke(tmp_path, "revoke", "1")
    assert code == 0 and out.startswith("key 1 (") and out.strip().endswith("revoked")
    assert json.loads(_invoke(tmp_path, "list", "--json")[1])[0]["revoked"] is True
    code, out, err = _invoke(tmp_path, "revoke", "42")
    assert code == 2
    assert err.strip() == "Error: no API key with id 42"


def test_keys_create_refuses_unknown_stream(tmp_path: Path) -> None:
    code, _, err = _invoke(tmp_path, "create", "--stream", "promo")
    assert code == 2
    assert "'promo' is not one of 'transactional', 'broadcast'" in err
