"""The one interface every sending-server type implements, and its field declarations.

Each transport declares its fields once (``FIELDS``); the console form, ``servers add --set``,
validation errors and "test connection" are all derived from that declaration, so adding a
provider is one new module and no UI code. Transports know nothing of the database: they take
an envelope and raw MIME and return a ``SendResult`` whose ``kind`` the engine branches on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from mailconsole.domain.results import ResultKind


@dataclass(frozen=True)
class SendResult:
    """What happened to one message on one server, in a shape the engine can branch on.

    ``server_fault`` marks outcomes that say nothing about the recipient (bad credentials,
    a reputation block naming our IP, TLS failure): they count against the server's circuit
    breaker and never against the contact.
    """

    kind: ResultKind
    text: str = ""
    smtp_code: int | None = None
    enhanced_code: str | None = None
    http_status: int | None = None
    provider_message_id: str | None = None
    retry_after: float | None = None
    server_fault: bool = False

    @property
    def accepted(self) -> bool:
        return self.kind is ResultKind.ACCEPTED

    @property
    def code_label(self) -> str:
        if self.smtp_code is not None:
            return f"{self.smtp_code} {self.enhanced_code}" if self.enhanced_code else str(self.smtp_code)
        if self.http_status is not None:
            return f"HTTP {self.http_status}"
        return ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: tuple[str, ...]
    stream: str = "transactional"
    tracking: bool = False
    message_id: int | None = None  # our queue id, for VERP and provider metadata


FieldKind = Literal["text", "int", "float", "bool", "select", "secret"]


class FieldError(ValueError):
    """A field value is wrong; ``field`` names it and the message is what a person reads."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""
    validator: Callable[[Any], str | None] | None = None

    @property
    def secret(self) -> bool:
        return self.kind == "secret"

    def parse(self, raw: Any) -> Any:
        """Turn user input (text from a form or a CLI ``--set``) into the field's value."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise FieldError(self.name, f"{self.label} is required")
            return self.default
        value: Any
        if self.kind == "int":
            try:
                value = int(str(raw).strip())
            except ValueError:
                raise FieldError(self.name, f"{self.label} must be a whole number, got {raw!r}") from None
        elif self.kind == "float":
            try:
                value = float(str(raw).strip())
            except ValueError:
                raise FieldError(self.name, f"{self.label} must be a number, got {raw!r}") from None
        elif self.kind == "bool":
            if isinstance(raw, bool):
                value = raw
            else:
                text = str(raw).strip().lower()
                if text in ("1", "true", "yes", "on"):
                    value = True
                elif text in ("0", "false", "no", "off"):
                    value = False
                else:
                    raise FieldError(self.name, f"{self.label} must be true or false, got {raw!r}")
        elif self.kind == "select":
            value = str(raw).strip()
            if value not in self.choices:
                raise FieldError(
                    self.name, f"{self.label} must be one of {', '.join(self.choices)}, got {value!r}"
                )
        else:
            value = str(raw) if self.kind == "secret" else str(raw).strip()
        if self.validator is not None:
            problem = self.validator(value)
            if problem:
                # Never echo a secret back in an error message.
                raise FieldError(self.name, problem)
        return value


def port_validator(value: Any) -> str | None:
    return None if 1 <= int(value) <= 65535 else f"port must be between 1 and 65535, got {value}"


def positive_validator(value: Any) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value}"


@dataclass
class ParsedFields:
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_fields(
    specs: tuple[FieldSpec, ...],
    raw: Mapping[str, Any],
    *,
    existing_secrets: Mapping[str, Any] | None = None,
) -> ParsedFields:
    """Validate every declared field at once, so a form can show all errors together.

    Unknown keys are errors too (a typo in ``--set pasword=…`` must not pass silently).
    A secret left blank keeps its stored value, so editing a server does not force the
    operator to re-type credentials the console never shows.
    """
    out = ParsedFields()
    known = {s.name for s in specs}
    for key in raw:
        if key not in known:
            out.errors[key] = f"unknown field {key!r}; known fields: {', '.join(sorted(known))}"
    for spec in specs:
        value = raw.get(spec.name)
        if spec.secret and (value is None or value == "") and existing_secrets and spec.name in existing_secrets:
            out.secrets[spec.name] = existing_secrets[spec.name]
            continue
        try:
            parsed = spec.parse(value)
        except FieldError as exc:
            out.errors[spec.name] = exc.message
            continue
        if spec.secret:
            if parsed is not None:
                out.secrets[spec.name] = parsed
        else:
            out.settings[spec.name] = parsed
    return out


@runtime_checkable
class Transport(Protocol):
    """A configured sending server of one type. Instances may hold pooled connections."""

    TYPE: ClassVar[str]
    LABEL: ClassVar[str]
    FIELDS: ClassVar[tuple[FieldSpec, ...]]

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult: ...

    async def check(self) -> CheckResult: ...

    async def close(self) -> None: ...
