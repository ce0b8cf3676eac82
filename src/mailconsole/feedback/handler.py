"""A sending server's bounce handler ("bounce email" in the server form), declared once.

The servers area shows ``BOUNCE_HANDLER_FIELDS`` in its form / CLI and stores what
``build_bounce_handler`` returns in ``SendingServer.bounce_handler``; the poller reads it back
with ``poller.config_from_handler``. The IMAP password is encrypted with the runtime's secret
box and never stored or shown in clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mailconsole.fields import FieldSpec, parse_fields

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

BOUNCE_HANDLER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("type", "Bounce mailbox", "select", default="none", choices=("none", "imap", "maildir"),
              help="Where bounces to this server's VERP envelope sender arrive."),
    FieldSpec("host", "IMAP host", help="e.g. imap.example.com"),
    FieldSpec("port", "IMAP port", "int", default=993),
    FieldSpec("tls", "IMAP TLS", "select", default="ssl", choices=("ssl", "starttls", "none")),
    FieldSpec("user", "IMAP user"),
    FieldSpec("password", "IMAP password", "secret"),
    FieldSpec("folder", "IMAP folder", default="INBOX"),
    FieldSpec("processed_folder", "Move processed mail to", default="Processed",
              help="'-': flag processed mail and leave it in place."),
    FieldSpec("path", "Maildir path", help="A local Maildir the MTA delivers bounces to."),
)


def build_bounce_handler(
    runtime: Runtime, raw: Mapping[str, Any], existing: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """(JSON to store, errors by field). A blank password keeps the stored one."""
    existing = dict(existing or {})
    kept = {"password": existing["password_encrypted"]} if existing.get("password_encrypted") else None
    parsed = parse_fields(BOUNCE_HANDLER_FIELDS, raw, existing_secrets=kept)
    errors = dict(parsed.errors)
    values = dict(parsed.settings)
    kind = values.get("type") or "none"
    if kind == "none":
        return {}, errors
    if kind == "imap":
        for name, label in (("host", "IMAP host"), ("user", "IMAP user")):
            if not values.get(name):
                errors.setdefault(name, f"{label} is required for an IMAP bounce mailbox")
        if "password" not in parsed.secrets:
            errors.setdefault("password", "IMAP password is required for an IMAP bounce mailbox")
    if kind == "maildir" and not values.get("path"):
        errors.setdefault("path", "Maildir path is required for a Maildir bounce mailbox")
    if errors:
        return {}, errors
    processed = "" if values.get("processed_folder") in (None, "-") else str(values["processed_folder"])
    if kind == "maildir":
        return {"type": "maildir", "path": values["path"], "processed_folder": processed}, {}
    secret = parsed.secrets["password"]
    encrypted = secret if kept and secret == kept["password"] else runtime.secrets.encrypt_text(str(secret))
    handler = {k: values.get(k) for k in ("host", "port", "tls", "user", "folder")}
    handler["processed_folder"] = processed
    return {"type": "imap", **handler, "password_encrypted": encrypted}, {}
