"""Declared fields: a name, a kind, whether required or secret, a validator and help text.

Declared once per sending-server type (``transports/*``) and per bounce-mailbox type
(``feedback/handler.py``); the console form, ``--set`` on the CLI, validation errors and the
stored settings all come from the declaration. Neutral: it imports nothing but ``domain``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mailconsole.domain.errors import InputError

FieldKind = Literal["text", "int", "float", "bool", "select", "secret"]


class FieldError(InputError, ValueError):
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


def bind_fields(specs: tuple[FieldSpec, ...], values: Mapping[str, Any], *, owner: str) -> dict[str, Any]:
    """Already-parsed values (stored settings and secrets) bound to their declaration.

    What a constructor's keyword list used to do, derived from ``FIELDS`` instead: an unknown
    name or a missing required field is a ``TypeError`` naming it; an empty value takes the
    declared default.
    """
    known = [s.name for s in specs]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise TypeError(f"{owner}() got unknown field(s) {', '.join(unknown)}; its fields are {', '.join(known)}")
    bound: dict[str, Any] = {}
    for spec in specs:
        value = values.get(spec.name)
        if value is None or value == "":
            value = spec.default
        if spec.required and (value is None or value == ""):
            raise TypeError(f"{owner}() missing required field {spec.name!r}")
        bound[spec.name] = value
    return bound
