"""Validate the JSON body of ``POST /v1/emails`` into a ``SendRequest``.

Hand-written rather than a schema library so every refusal names the field a person has to
fix (``to[1]``, ``attachments[0].content``) in plain words; ``openapi.py`` describes the same
shape for clients, and a test keeps the two in step.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import Any

from mailconsole.api.errors import ApiError

# Headers the API builds itself from the structured fields; setting them twice would make
# an ambiguous message, so the ``headers`` object may not name them.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "content-type",
        "content-transfer-encoding",
        "mime-version",
        "date",
        "sender",
        "return-path",
    }
)
ROUTING_HEADER_PREFIX = "x-mailconsole-"
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext: printable ASCII except ':'
KNOWN_FIELDS = (
    "from",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "subject",
    "text",
    "html",
    "attachments",
    "headers",
    "stream",
    "tracking",
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class SendRequest:
    sender: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    subject: str = ""
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    stream: str | None = None
    tracking: bool | None = None

    @property
    def envelope_from(self) -> str:
        return email.utils.parseaddr(self.sender)[1]

    @property
    def recipients(self) -> list[str]:
        """Envelope recipients: to, cc and bcc addresses, first occurrence wins."""
        seen: dict[str, str] = {}
        for value in (*self.to, *self.cc, *self.bcc):
            addr = email.utils.parseaddr(value)[1]
            seen.setdefault(addr.lower(), addr)
        return list(seen.values())


def invalid(field_name: str, problem: str) -> ApiError:
    return ApiError(400, "invalid_field", f"{field_name}: {problem}")


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 and ch != "\t" for ch in value)


def check_address(field_name: str, value: Any) -> str:
    """Accept ``user@example.com`` or ``Name <user@example.com>``; refuse anything else."""
    if not isinstance(value, str):
        raise invalid(field_name, "must be a string")
    if not value.strip():
        raise invalid(field_name, "must not be empty")
    if _has_control(value):
        raise invalid(field_name, "must not contain line breaks or control characters")
    _name, addr = email.utils.parseaddr(value)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or " " in addr or "." not in domain.strip("."):
        raise invalid(field_name, f"{value!r} is not an email address")
    if not addr.isascii():
        raise invalid(field_name, f"{value!r}: only ASCII addresses are supported (names may be Unicode)")
    try:
        to_address(value)
    except (ValueError, IndexError, TypeError, AttributeError):  # the email package's parser
        raise invalid(field_name, f"{value!r} is not an email address") from None
    return value.strip()


def to_address(value: str) -> Address:
    """``Name <addr>`` as an Address object, so the name is quoted and encoded correctly.

    Assigning the string itself would re-parse the display name with the email package's
    header parser, which crashes on some legal names (a lone ``.``).
    """
    name, addr = email.utils.parseaddr(value)
    return Address(display_name=name, addr_spec=addr)


def _address_list(data: dict[str, Any], name: str, *, required: bool) -> list[str]:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, "is required")
        return []
    if isinstance(value, str):
        return [check_address(name, value)]
    if not isinstance(value, list):
        raise invalid(name, "must be an address or a list of addresses")
    if required and not value:
        raise invalid(name, "must name at least one recipient")
    if len(value) > 1000:
        raise invalid(name, "must not name more than 1000 recipients")
    return [check_address(f"{name}[{i}]", item) for i, item in enumerate(value)]


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def _attachments(data: dict[str, Any]) -> list[Attachment]:
    value = data.get("attachments")
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("attachments", "must be a list")
    result = []
    for i, item in enumerate(value):
        where = f"attachments[{i}]"
        if not isinstance(item, dict):
            raise invalid(where, "must be an object with filename and content")
        filename = item.get("filename")
        if not isinstance(filename, str) or not filename.strip() or _has_control(filename):
            raise invalid(f"{where}.filename", "must be a non-empty string without line breaks")
        content = item.get("content")
        if not isinstance(content, str):
            raise invalid(f"{where}.content", "must be a base64 string")
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"{where}.content", "is not valid base64") from None
        ctype = item.get("content_type", "application/octet-stream")
        if not isinstance(ctype, str) or not re.fullmatch(r"[\w.+-]+/[\w.+-]+", ctype):
            raise invalid(f"{where}.content_type", "must be a MIME type such as application/pdf")
        result.append(Attachment(filename=filename.strip(), content=raw, content_type=ctype))
    return result


def _headers(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("headers")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("headers", "must be an object of header name to value")
    result: dict[str, str] = {}
    for name, header_value in value.items():
        where = f"headers.{name}"
        if not _HEADER_NAME.fullmatch(name):
            raise invalid(where, "is not a valid header name")
        lowered = name.lower()
        if lowered in RESERVED_HEADERS:
            raise invalid(where, "is set from its own field; remove it from headers")
        if lowered.startswith(ROUTING_HEADER_PREFIX):
            raise invalid(where, "routing headers are set with the stream and tracking fields")
        if not isinstance(header_value, str):
            raise invalid(where, "must be a string")
        if _has_control(header_value):
            raise invalid(where, "must not contain line breaks or control characters")
        result[name] = header_value
    return result


def _check_unicode(data: Any) -> None:
    """JSON may carry lone surrogates (``"\\ud800"``) that no email encoding can represent.

    Iterative, so a deeply nested body cannot exhaust the interpreter's stack.
    """
    stack: list[tuple[Any, str]] = [(data, "body")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise invalid(where, "contains a lone surrogate; send valid Unicode") from None
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, where))
                stack.append((item, f"{where}.{key}" if where != "body" else str(key)))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))


def parse_send_request(data: Any) -> SendRequest:
    """Turn decoded JSON into a SendRequest or raise ApiError(400) naming the field."""
    if not isinstance(data, dict):
        raise invalid("body", "must be a JSON object")
    _check_unicode(data)
    unknown = sorted(set(data) - set(KNOWN_FIELDS))
    if unknown:
        raise invalid(unknown[0], "is not a known field")
    if "from" not in data or data["from"] is None:
        raise invalid("from", "is required")
    sender = check_address("from", data["from"])
    to = _address_list(data, "to", required=True)
    cc = _address_list(data, "cc", required=False)
    bcc = _address_list(data, "bcc", required=False)
    reply_to = _address_list(data, "reply_to", required=False)
    subject = _optional_str(data, "subject") or ""
    if _has_control(subject):
        raise invalid("subject", "must not contain line breaks or control characters")
    text = _optional_str(data, "text")
    html = _optional_str(data, "html")
    if text is None and html is None:
        raise invalid("text", "text or html is required")
    stream = _optional_str(data, "stream")
    tracking = data.get("tracking")
    if tracking is not None and not isinstance(tracking, bool):
        raise invalid("tracking", "must be true or false")
    return SendRequest(
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=subject,
        text=text,
        html=html,
        attachments=_attachments(data),
        headers=_headers(data),
        stream=stream,
        tracking=tracking,
    )
