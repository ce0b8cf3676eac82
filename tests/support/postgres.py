"""Start a throwaway PostgreSQL server on loopback for the tests that need one.

initdb in a temporary directory, a free port, trust auth on 127.0.0.1 only. PostgreSQL
refuses to run as root, so as root the server runs as the `postgres` system user that
Debian's package creates. Tests that need it skip with the reason when it cannot start.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise PostgresUnavailable(f"{name} not found: install Debian's postgresql package (.ci/run does)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    _run_as: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            [*self._run_as, _bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True, timeout=60,
        )
        return self.url(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    initdb, postgres = _bin("initdb"), _bin("postgres")
    run_as: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="mailconsole-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and no `postgres` user to run the server as") from None
        run_as = ["runuser", "-u", "postgres", "--"]
        os.chown(root, user.pw_uid, user.pw_gid)
    data = root / "data"
    proc = subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        capture_output=True, timeout=120,
    )
    if proc.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {proc.stderr.decode(errors='replace')[-300:]}")
    port = _free_port()
    server = subprocess.Popen(
        [*run_as, postgres, "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(root),
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"postgres exited: {err[-300:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
            ready = subprocess.run(
                [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True, timeout=10
            )
            if ready.returncode == 0:
                return PostgresServer(root, port, server, run_as)
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    shutil.rmtree(root, ignore_errors=True)
    raise PostgresUnavailable("postgres did not become ready within 30 s")
