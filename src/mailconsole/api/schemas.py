"""Validate the JSON body of ``POST /v1/emails`` into a ``SendRequest``.

The shape is declared once, as pydantic models (``SendRequestBody``, ``AttachmentBody``):
they validate every request, and ``openapi.py`` takes the request schema from them, so the
document cannot drift from what is accepted. Each field's validator runs the checks below,
which name the field a person has to fix (``to[1]``, ``attachments[0].content``) in plain
words; an ``ApiError`` raised there passes through pydantic unchanged.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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


def _address_list(value: Any, name: str, *, required: bool) -> list[str]:
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


def _optional_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def _attachments(value: Any) -> list[Attachment]:
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


def _headers(value: Any) -> dict[str, str]:
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


# --- the declared shape -------------------------------------------------------------------

EmailAddress = Annotated[
    str, Field(description="user@example.com or 'Name <user@example.com>'", examples=["Ada <ada@example.com>"])
]
AddressList = EmailAddress | Annotated[list[EmailAddress], Field(max_length=1000)]


class AttachmentBody(BaseModel):
    """One attachment: its file name, its bytes in base64 and its MIME type."""

    model_config = ConfigDict(title="Attachment")

    filename: str = Field(min_length=1)
    content: str = Field(json_schema_extra={"contentEncoding": "base64"})
    content_type: str = "application/octet-stream"


class SendRequestBody(BaseModel):
    """At least one of text and html is required. Bcc addresses are envelope recipients only
    and never appear in the message."""

    model_config = ConfigDict(title="SendRequest", extra="forbid", populate_by_name=True)

    sender: EmailAddress = Field(alias="from")
    to: AddressList
    cc: AddressList | None = None
    bcc: AddressList | None = None
    reply_to: AddressList | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentBody] | None = None
    headers: dict[str, str] | None = Field(
        default=None,
        description="Extra header fields. Fields built from other properties (From, To, Subject …) "
        "and X-Mailconsole-* routing headers are refused.",
    )
    stream: str | None = Field(
        default=None,
        description="transactional (the default) or broadcast; any other value is refused with 422 "
        "invalid_stream.",
        examples=["transactional", "broadcast"],
    )
    tracking: bool | None = Field(
        default=None, description="Overrides the stream's default (off for transactional, on for broadcast)."
    )

    # Each check names the field in the request's own words (``to[1]``), so they run before
    # pydantic's own type checks and raise ``ApiError``, which pydantic lets through.

    @field_validator("sender", mode="before")
    @classmethod
    def _sender(cls, value: Any) -> str:
        return check_address("from", value)

    @field_validator("to", "cc", "bcc", "reply_to", mode="before")
    @classmethod
    def _addresses(cls, value: Any, info: ValidationInfo) -> list[str] | None:
        if value is None and info.field_name != "to":
            return None
        return _address_list(value, str(info.field_name), required=info.field_name == "to")

    @field_validator("subject", mode="before")
    @classmethod
    def _subject(cls, value: Any) -> str | None:
        subject = _optional_str(value, "subject")
        if subject and _has_control(subject):
            raise invalid("subject", "must not contain line breaks or control characters")
        return subject

    @field_validator("text", "html", "stream", mode="before")
    @classmethod
    def _strings(cls, value: Any, info: ValidationInfo) -> str | None:
        return _optional_str(value, str(info.field_name))

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachments(cls, value: Any) -> list[dict[str, str]] | None:
        checked = _attachments(value)
        return [{"filename": a.filename, "content": value[i]["content"], "content_type": a.content_type}
                for i, a in enumerate(checked)] if value is not None else None

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> dict[str, str] | None:
        return _headers(value) if value is not None else None

    @field_validator("tracking", mode="before")
    @classmethod
    def _tracking(cls, value: Any) -> bool | None:
        if value is not None and not isinstance(value, bool):
            raise invalid("tracking", "must be true or false")
        return value


def _json_names() -> tuple[tuple[str, bool], ...]:
    """Every field's JSON name and whether it is required, from the model."""
    return tuple((f.alias or name, f.is_required()) for name, f in SendRequestBody.model_fields.items())


KNOWN_FIELDS = tuple(name for name, _ in _json_names())


def parse_send_request(data: Any) -> SendRequest:
    """Turn decoded JSON into a SendRequest or raise ApiError(400) naming the field."""
    if not isinstance(data, dict):
        raise invalid("body", "must be a JSON object")
    _check_unicode(data)
    unknown = sorted(set(data) - set(KNOWN_FIELDS))
    if unknown:
        raise invalid(unknown[0], "is not a known field")
    for name, required in _json_names():
        if required and data.get(name) is None:
            raise invalid(name, "is required")
    body = SendRequestBody.model_validate(data)
    if body.text is None and body.html is None:
        raise invalid("text", "text or html is required")
    return SendRequest(
        sender=body.sender,
        to=list(body.to) if isinstance(body.to, list) else [body.to],
        cc=_as_list(body.cc),
        bcc=_as_list(body.bcc),
        reply_to=_as_list(body.reply_to),
        subject=body.subject or "",
        text=body.text,
        html=body.html,
        attachments=[
            Attachment(a.filename, base64.b64decode(a.content, validate=True), a.content_type)
            for a in body.attachments or []
        ],
        headers=dict(body.headers or {}),
        stream=body.stream,
        tracking=body.tracking,
    )


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# model class -> the component name clients have always seen
_COMPONENTS = {"SendRequestBody": "SendRequest", "AttachmentBody": "Attachment"}


def request_schemas() -> dict[str, Any]:
    """The request's JSON Schema (and the schemas it refers to), keyed by component name."""
    schema = SendRequestBody.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    found = {"SendRequestBody": schema, **schema.pop("$defs", {})}
    text = json.dumps(found)
    for model, component in _COMPONENTS.items():
        text = text.replace(f'"#/components/schemas/{model}"', f'"#/components/schemas/{component}"')
    renamed: dict[str, Any] = {_COMPONENTS.get(k, k): v for k, v in json.loads(text).items()}
    for component in renamed.values():  # docstrings are wrapped for the source, not the reader
        if "description" in component:
            component["description"] = " ".join(component["description"].split())
    return renamed
