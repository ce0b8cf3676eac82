"""Every sending-server type by its name; adding a provider is one module plus one line here."""

from __future__ import annotations

import importlib
from typing import Any

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


class UnknownTransportType(ValueError):
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
