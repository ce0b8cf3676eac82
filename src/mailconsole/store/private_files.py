"""Files and folders that hold mail, keys and contacts are created for their owner only.

The database holds every queued message and contact, so it gets the same care as
``secret.key``: folders we create are 0700 and the database file 0600 (SQLite gives its -wal
and -shm files the database file's mode). Folders and files that already exist are left as the
operator made them: a shared group directory is their choice, not ours to undo.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) owner-only; existing folders are untouched."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask


def create_private_file(path: Path) -> None:
    """Create an empty owner-only file unless ``path`` exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
