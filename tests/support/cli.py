"""Run `mailconsole` through its real entry point (``main``) in-process, on a temp database.

The same code path as the installed command (``main`` turns errors into one line and exit 2)
at a fraction of a subprocess's start-up cost.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mailconsole.cli import main


class InProcessCli:
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = tmp_path / "cli.db"
        self.data_dir = tmp_path / "data"
        self._capsys = capsys

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = ["--data-dir", str(self.data_dir), "--database-url", f"sqlite+aiosqlite:///{self.db}", *args]
        self._capsys.readouterr()
        try:
            code = main(argv) or 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = self._capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out.out, out.err)
