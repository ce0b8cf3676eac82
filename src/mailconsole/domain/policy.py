"""The per-message policy shared by the SMTP relay and the HTTP send API.

One module decides streams, scopes, tracking, sandbox limits and size, and every refusal is a
``PolicyViolation`` carrying both the SMTP reply and the HTTP status with the SAME words, so an
application gets the same explanation whichever door it uses. Pure: no I/O, no database; the
callers count what must be counted (messages sent today) and pass the numbers in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from mailconsole.domain.errors import Refused


class Stream(StrEnum):
    TRANSACTIONAL = "transactional"
    BROADCAST = "broadcast"


STREAMS: tuple[str, ...] = (Stream.TRANSACTIONAL.value, Stream.BROADCAST.value)
SEND_SCOPE = "mail:send"
SCOPES: tuple[str, ...] = (SEND_SCOPE,)
STREAM_HEADER = "X-Mailconsole-Stream"
TRACKING_HEADER = "X-Mailconsole-Tracking-Enabled"
ROUTING_HEADERS: tuple[str, ...] = (STREAM_HEADER, TRACKING_HEADER)
MAX_MESSAGE_BYTES = 26214400  # 25 MiB, advertised as SIZE by the relay


class PolicyViolation(Refused):
    """A refusal a person can read: ``code`` is stable, ``message`` is the human sentence.

    ``smtp_reply`` is the full one-line SMTP reply (code, enhanced code, ``code: message``);
    ``http_status`` is what the HTTP API answers with the same ``code`` and ``message``.
    """

    def __init__(self, code: str, message: str, smtp_reply: str, http_status: int) -> None:
        super().__init__(code, message, smtp_reply, http_status)
        self.code = code
        self.message = message
        self.smtp_reply = smtp_reply
        self.http_status = http_status

    def __repr__(self) -> str:
        return f"PolicyViolation({self.code!r}, {self.message!r}, {self.smtp_reply!r}, {self.http_status})"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """The HTTP API's error body."""
        return {"error": self.code, "message": self.message}


def _violation(code: str, message: str, *, smtp: str, http_status: int) -> PolicyViolation:
    return PolicyViolation(code, message, f"{smtp} {code}: {message}", http_status)


def invalid_stream(value: str) -> PolicyViolation:
    # The value ends up in a one-line ASCII SMTP reply: no control or non-ASCII characters.
    printable = "".join(c if 32 <= ord(c) < 127 else "?" for c in value)
    shown = printable if len(printable) <= 40 else printable[:40] + "..."
    return _violation(
        "invalid_stream",
        f"{STREAM_HEADER} must be transactional or broadcast, not {shown!r}",
        smtp="550 5.6.0",
        http_status=422,
    )


def stream_not_allowed(stream: str) -> PolicyViolation:
    return _violation(
        "stream_not_allowed",
        f"this API key is not allowed to send to the {stream} stream",
        smtp="550 5.7.1",
        http_status=403,
    )


def missing_scope(scope: str = SEND_SCOPE) -> PolicyViolation:
    return _violation(
        "missing_scope",
        f"this API key lacks the {scope} scope",
        smtp="550 5.7.1",
        http_status=403,
    )


def message_too_large(size: int | None = None, limit: int = MAX_MESSAGE_BYTES) -> PolicyViolation:
    return _violation(
        "message_too_large",
        f"message exceeds the size limit of {limit} bytes",
        smtp="552 5.3.4",
        http_status=413,
    )


def sandbox_daily_cap(cap: int) -> PolicyViolation:
    return _violation(
        "sandbox_daily_cap",
        f"sandbox account reached its daily cap of {cap} messages; try again tomorrow (UTC)",
        smtp="550 5.7.1",
        http_status=403,
    )


def sandbox_recipient_not_allowed(recipient: str) -> PolicyViolation:
    return _violation(
        "sandbox_recipient_not_allowed",
        f"sandbox account may only send to its recipient allow-list; {recipient} is not on it",
        smtp="550 5.7.1",
        http_status=403,
    )


def resolve_stream(header_value: str | None, allowed_streams: Iterable[str] | None = None) -> str:
    """The message's stream from ``X-Mailconsole-Stream``; absent means transactional.

    Surrounding whitespace and case are forgiven (header values are often hand-typed);
    anything else is ``invalid_stream``. With ``allowed_streams`` given (the key's), a stream
    outside it is ``stream_not_allowed``.
    """
    if header_value is None or header_value.strip() == "":
        stream = Stream.TRANSACTIONAL.value
    else:
        candidate = header_value.strip().lower()
        if candidate not in STREAMS:
            raise invalid_stream(header_value.strip())
        stream = candidate
    if allowed_streams is not None and stream not in set(allowed_streams):
        raise stream_not_allowed(stream)
    return stream


def resolve_tracking(stream: str, header_value: str | None) -> bool:
    """Tracking: off for transactional, on for broadcast, unless the header says true/false.

    Values other than true/false (any case) are ignored rather than refused: the header is a
    preference, and refusing mail over a typo in a preference would lose mail.
    """
    if header_value is not None:
        value = header_value.strip().lower()
        if value == "true":
            return True
        if value == "false":
            return False
    return stream == Stream.BROADCAST.value


def check_scope(scopes: Iterable[str], required: str = SEND_SCOPE) -> None:
    if required not in set(scopes):
        raise missing_scope(required)


def check_size(size: int, limit: int = MAX_MESSAGE_BYTES) -> None:
    if size > limit:
        raise message_too_large(size, limit)


def recipient_allowed(recipient: str, allowlist: Iterable[str]) -> bool:
    """An allow-list entry is a full address or a domain (``example.com`` or ``@example.com``)."""
    address = recipient.strip().lower()
    domain = address.rpartition("@")[2]
    for entry in allowlist:
        item = entry.strip().lower()
        if not item:
            continue
        if "@" in item.lstrip("@"):
            if item == address:
                return True
        elif item.lstrip("@") == domain:
            return True
    return False


def check_sandbox(
    *,
    sandbox: bool,
    daily_cap: int,
    sent_today: int,
    allowlist: Sequence[str],
    recipients: Sequence[str],
) -> None:
    """Sandbox accounts: every recipient on the allow-list, and today's total within the cap.

    The allow-list is checked first because it names the recipient to fix; the cap counts one
    message per recipient, as the queue does.
    """
    if not sandbox:
        return
    for rcpt in recipients:
        if not recipient_allowed(rcpt, allowlist):
            raise sandbox_recipient_not_allowed(rcpt)
    if sent_today + len(recipients) > daily_cap:
        raise sandbox_daily_cap(daily_cap)


@dataclass(frozen=True)
class Decision:
    """What the policy made of one message: its stream and whether tracking is on."""

    stream: str
    tracking: bool


def decide(
    *,
    scopes: Iterable[str],
    allowed_streams: Iterable[str],
    stream_header: str | None,
    tracking_header: str | None,
    size: int,
) -> Decision:
    """Everything about one message that depends only on the key and the message itself.

    Order matters for the words a sender sees: scope first (the key cannot send at all),
    then size, then the stream.
    """
    check_scope(scopes)
    check_size(size)
    stream = resolve_stream(stream_header, allowed_streams)
    return Decision(stream=stream, tracking=resolve_tracking(stream, tracking_header))
