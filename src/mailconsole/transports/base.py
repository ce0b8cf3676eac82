"""The one interface every sending-server type implements, and its field declarations.

Each transport declares its fields once (``FIELDS``); the console form, ``servers add --set``,
validation errors and "test connection" are all derived from that declaration, so adding a
provider is one new module and no UI code. Transports know nothing of the database: they take
an envelope and raw MIME and return a ``SendResult`` whose ``kind`` the engine branches on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from mailconsole.domain.results import ResultKind

# The field machinery is shared with the bounce-mailbox form (feedback/handler.py), so it
# lives in a neutral module; transports re-export it for their FIELDS declarations.
from mailconsole.fields import (
    FieldError,
    FieldKind,
    FieldSpec,
    ParsedFields,
    parse_fields,
    port_validator,
    positive_validator,
)

__all__ = [
    "CheckResult", "Envelope", "FieldError", "FieldKind", "FieldSpec", "ParsedFields", "SendResult",
    "Transport", "parse_fields", "port_validator", "positive_validator",
]


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
    # Failed locally before anything reached the server: no attempt happened there, so it
    # consumes none of the server's cap and says nothing about its health.
    local_error: bool = False

    @property
    def counts_against_server(self) -> bool:
        """Does this outcome feed the server's breaker? Faults of the server and a provider
        pacing us (HTTP 429, SES ``Throttling``) do; a 4xx to one message (greylisting, a full
        mailbox) and an error before anything was sent never do."""
        if self.local_error:
            return False
        return self.server_fault or (self.http_status == 429 or (self.http_status is not None and
                                                                  self.retry_after is not None))

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


@runtime_checkable
class Transport(Protocol):
    """A configured sending server of one type. Instances may hold pooled connections."""

    TYPE: ClassVar[str]
    LABEL: ClassVar[str]
    FIELDS: ClassVar[tuple[FieldSpec, ...]]

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult: ...

    async def check(self) -> CheckResult: ...

    async def close(self) -> None: ...
