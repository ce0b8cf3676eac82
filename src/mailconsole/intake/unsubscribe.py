"""RFC 8058 one-click unsubscribe links for broadcast mail.

The link carries a Fernet token (encrypted and authenticated with the data directory's key)
naming the account and the recipient, so it cannot be forged or used to unsubscribe someone
else. The HTTP API serves ``POST /unsubscribe/<token>`` (one click) and ``GET`` (a page).
"""

from __future__ import annotations

from mailconsole.runtime import Runtime
from mailconsole.store.secrets import SecretsError

POST_VALUE = "List-Unsubscribe=One-Click"


def base_url(runtime: Runtime) -> str:
    s = runtime.settings
    return (s.public_url or f"http://{s.http_host}:{s.http_port}").rstrip("/")


def make_token(runtime: Runtime, *, account_id: int, recipient: str) -> str:
    return runtime.secrets.encrypt_json({"a": account_id, "r": recipient})


def read_token(runtime: Runtime, token: str) -> tuple[int, str] | None:
    """(account id, recipient) from a token, or None if it is not one of ours."""
    try:
        data = runtime.secrets.decrypt_json(token)
    except (SecretsError, ValueError, UnicodeError):
        return None
    if not isinstance(data.get("a"), int) or not isinstance(data.get("r"), str):
        return None
    return int(data["a"]), str(data["r"])


def headers_for(runtime: Runtime, *, account_id: int, recipient: str) -> list[tuple[str, str]]:
    url = f"{base_url(runtime)}/unsubscribe/{make_token(runtime, account_id=account_id, recipient=recipient)}"
    return [("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", POST_VALUE)]
