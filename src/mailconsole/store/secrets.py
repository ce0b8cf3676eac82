"""Secrets at rest: Fernet encryption with a key file created 0600 in the data directory.

Sending-server credentials and DKIM private keys go through here; plaintext never reaches
the database, and the key never leaves the data directory. Other per-installation keys (the
VERP tag key) are derived from the same file, so every engine process that can decrypt the
server settings also signs and verifies the same way, with no second file to copy around.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mailconsole.domain.errors import ConfigError
from mailconsole.store.private_files import make_private_dir

KEY_FILE_NAME = "secret.key"


class SecretsError(ConfigError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._master = base64.urlsafe_b64decode(key)
        self._derived: dict[str, bytes] = {}

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> SecretBox:
        make_private_dir(data_dir)
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            key = Fernet.generate_key()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
        return cls(path.read_bytes().strip())

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (HKDF-SHA256 over the installation key).

        Distinct purposes give independent keys, so a MAC key never doubles as the
        encryption key; derived once per purpose and kept, since callers ask per message.
        """
        key = self._derived.get(purpose)
        if key is None:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
            key = self._derived[purpose] = hkdf.derive(self._master)
        return key

    def encrypt_text(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise SecretsError(
                "cannot decrypt a stored secret: the data directory's secret.key does not match"
            ) from None

    def encrypt_json(self, data: dict[str, Any]) -> str:
        return self.encrypt_text(json.dumps(data, sort_keys=True))

    def decrypt_json(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        result: dict[str, Any] = json.loads(self.decrypt_text(token))
        return result

    def __repr__(self) -> str:  # never show the key
        return "SecretBox(<hidden>)"
