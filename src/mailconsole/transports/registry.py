"""Every sending-server type by its name; adding a provider is one module plus one line here."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Protocol

from mailconsole.domain.errors import InputError
from mailconsole.transports.base import FieldSpec, Transport

# type name -> (module, class name)
TRANSPORT_MODULES: dict[str, tuple[str, str]] = {
    "smtp": ("mailconsole.transports.smtp", "SmtpTransport"),
    "sendmail": ("mailconsole.transports.sendmail", "SendmailTransport"),
    "ses": ("mailconsole.transports.ses", "SesTransport"),
    "sendgrid": ("mailconsole.transports.sendgrid", "SendGridTransport"),
    "mailgun": ("mailconsole.transports.mailgun", "MailgunTransport"),
    "postmark": ("mailconsole.transports.postmark", "PostmarkTransport"),
    "elasticemail": ("mailconsole.transports.elasticemail", "ElasticEmailTransport"),
}


class UnknownTransportType(InputError, ValueError):
    pass


def transport_class(type_name: str) -> Any:
    try:
        module_name, class_name = TRANSPORT_MODULES[type_name]
    except KeyError:
        raise UnknownTransportType(
            f"unknown server type {type_name!r}; choose one of {', '.join(TRANSPORT_MODULES)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def transport_fields(type_name: str) -> tuple[FieldSpec, ...]:
    fields: tuple[FieldSpec, ...] = transport_class(type_name).FIELDS
    return fields


def build_transport(type_name: str, settings: dict[str, Any], secrets: dict[str, Any]) -> Transport:
    """Instantiate a transport from stored settings and decrypted secrets."""
    cls = transport_class(type_name)
    instance: Transport = cls(**{**settings, **secrets})
    return instance


class _SecretBox(Protocol):
    def decrypt_json(self, token: str | None) -> dict[str, Any]: ...


class _HasSecrets(Protocol):
    @property
    def secrets(self) -> _SecretBox: ...


class StoredServer(Protocol):
    """What a transport is built from: a stored server's type, settings and sealed secrets.

    A protocol, so this package needs nothing of the database to build a transport.
    """

    @property
    def type(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any] | None: ...
    @property
    def secrets(self) -> str | None: ...
    @property
    def concurrency(self) -> int: ...


def load_transport(runtime: _HasSecrets, server: StoredServer) -> Transport:
    """A live transport for a stored server: settings plus decrypted secrets.

    ``runtime`` only lends its secret box (anything with ``secrets.decrypt_json``).
    """
    secrets = runtime.secrets.decrypt_json(server.secrets)
    settings = dict(server.settings or {})
    if "concurrency" in _constructor_params(server.type):
        settings.setdefault("concurrency", server.concurrency)
    return build_transport(server.type, settings, secrets)


def _constructor_params(type_name: str) -> set[str]:
    try:
        return set(inspect.signature(transport_class(type_name)).parameters)
    except (UnknownTransportType, ImportError, ValueError):
        return set()
