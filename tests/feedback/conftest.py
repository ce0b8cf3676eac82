"""Fixtures for the feedback tests: a real Dovecot IMAP server (skipped, saying why, when absent)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedback import dovecot


@pytest.fixture(scope="session")
def imap_server() -> Iterator[dovecot.Dovecot]:
    reason = dovecot.missing_reason()
    if reason:
        pytest.skip(reason)
    # Not under pytest's 0700 temp root: Dovecot's unprivileged auth/mail processes must
    # traverse the path to read the passwd file and the Maildir.
    root = Path(tempfile.mkdtemp(prefix="mc-dovecot-"))
    root.chmod(0o755)
    server = dovecot.start(root)
    try:
        yield server
    finally:
        dovecot.stop(server)
        shutil.rmtree(root, ignore_errors=True)
