"""Secrets at rest: Fernet encryption with a key file created 0600 in the data directory.

Sending-server credentials and DKIM private keys go through here; plaintext never reaches
the database, and the key never leaves the data directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE_NAME = "secret.key"


class SecretsError(Exception):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> SecretBox:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            key = Fernet.generate_key()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
        return cls(path.read_bytes().strip())

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
