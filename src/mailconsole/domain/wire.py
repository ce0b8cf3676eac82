"""What the next hop can carry: the checks the intake makes at the door, so that whatever we
acknowledge (SMTP 250, HTTP 202) the engine can actually put on the wire.

Every refusal here used to be accepted and then fail later, out of the client's sight: a NUL
or control character in an address (``Command arg contains a prohibited control character``
in the SMTP client), invalid UTF-8 (a 451 at end of DATA, retried forever), a non-ASCII
address without SMTPUTF8 (``UnicodeEncodeError``), a line over RFC 5322's 998 octets (the next
hop's ``500 Line too long``), and a bare CR in the header section, which SMTP clients turn into
CRLF and so into a header line the application never wrote (header injection).

Line endings, decided: a message with no CR at all is unambiguous Unix text (``.eml`` files,
``sendmail``-style submitters) and is normalised to CRLF by the caller (``normalise_line_endings``).
Otherwise every line ending in the header section must be CRLF; a lone CR or LF there is
refused with ``554 5.6.0``, never reinterpreted. In the body a lone CR or LF is content (the SMTP
client normalises it on the wire; it cannot create a header there).

Pure: no I/O. Refusals are ``PolicyViolation`` so the relay and the HTTP API say the same words.
"""

from __future__ import annotations

import re
from enum import StrEnum

from mailconsole.domain.policy import PolicyViolation

MAX_LINE_OCTETS = 998  # RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6, without the CRLF

_LONG_LINE = re.compile(rb"[^\r\n]{%d}" % (MAX_LINE_OCTETS + 1))
_BARE_EOL = re.compile(rb"\r(?!\n)|(?<!\r)\n")
# A header line is a field (RFC 5322 §2.2: printable name, colon) or a continuation (WSP first).
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:|[ \t]")


class Role(StrEnum):
    """Which envelope address is checked; each has its own enhanced status code (RFC 3463)."""

    SENDER = "sender"  # MAIL FROM: X.1.7 bad sender's mailbox address syntax
    RECIPIENT = "recipient"  # RCPT TO: X.1.3 bad destination mailbox address syntax


_ENHANCED = {Role.SENDER: "5.1.7", Role.RECIPIENT: "5.1.3"}


def _refusal(code: str, message: str, smtp: str, http_status: int = 422) -> PolicyViolation:
    return PolicyViolation(code, message, f"{smtp} {code}: {message}", http_status)


def _describe(char: str) -> str:
    return "a NUL byte" if char == "\x00" else f"the control character U+{ord(char):04X}"


def check_address(address: str, *, role: Role, smtputf8: bool) -> None:
    """Refuse an envelope address the next hop could not be sent.

    ``address`` is as the SMTP server decoded it (UTF-8 with surrogate escapes for bytes that
    were not UTF-8); ``smtputf8`` says whether the client asked for SMTPUTF8 on MAIL FROM.
    """
    what = "sender" if role is Role.SENDER else "recipient"
    for char in address:
        if ord(char) < 32 or ord(char) == 127:
            raise _refusal(
                "invalid_address",
                f"the {what} address contains {_describe(char)}; remove it",
                f"501 {_ENHANCED[role]}",
            )
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise _refusal(
                "invalid_address_encoding",
                f"the {what} address is not valid UTF-8; send it as UTF-8 with the SMTPUTF8 parameter",
                f"501 {_ENHANCED[role]}",
            )
    if any(c in " \t" for c in address):
        # Even inside a quoted local part (legal, and almost never used): SMTP clients re-parse
        # the address and drop the space, so the mail would go to another mailbox.
        raise _refusal(
            "invalid_address",
            f"the {what} address contains a space; remove it",
            f"501 {_ENHANCED[role]}",
        )
    if not smtputf8 and not address.isascii():
        raise _refusal(
            "smtputf8_required",
            f"the {what} address has non-ASCII characters; add the SMTPUTF8 parameter to MAIL FROM",
            "553 5.6.7",
        )


def needs_smtputf8(envelope_from: str, recipients: list[str]) -> bool:
    """An envelope with a non-ASCII address can only go out with SMTPUTF8 (RFC 6531)."""
    return not (envelope_from.isascii() and all(r.isascii() for r in recipients))


def no_route_for_smtputf8(reason: str) -> PolicyViolation:
    """No sending server this message could use can carry an internationalised address."""
    return _refusal(
        "smtputf8_not_deliverable",
        f"no sending server can carry non-ASCII addresses ({reason}); use ASCII addresses",
        "553 5.6.7",
    )


def normalise_line_endings(raw: bytes) -> bytes:
    """A message without any CR is LF-terminated text: give it CRLF line endings."""
    if b"\r" in raw or b"\n" not in raw:
        return raw
    return raw.replace(b"\n", b"\r\n")


def _line_number(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def check_content(raw: bytes, header_end: int) -> None:
    """Refuse content the wire cannot carry unchanged; ``header_end`` is where the header
    section ends (the offset of the blank line, or ``len(raw)`` without one)."""
    long_line = _LONG_LINE.search(raw)
    if long_line is not None:
        start = raw.rfind(b"\n", 0, long_line.start()) + 1
        end = raw.find(b"\n", long_line.start())
        length = (len(raw) if end == -1 else end) - start - (1 if end > 0 and raw[end - 1 : end] == b"\r" else 0)
        raise _refusal(
            "line_too_long",
            f"line {_line_number(raw, long_line.start())} is {length} octets long, over the limit of "
            f"{MAX_LINE_OCTETS}; encode the body as quoted-printable or base64",
            "554 5.6.0",
        )
    nul = raw.find(b"\x00")
    if nul != -1:
        # RFC 5322 §2.3 (and 8BITMIME) allow no NUL in a message; receivers refuse or truncate.
        raise _refusal(
            "nul_byte",
            f"line {_line_number(raw, nul)} contains a NUL byte; remove it or send the part base64-encoded",
            "554 5.6.0",
        )
    bare = _BARE_EOL.search(raw, 0, header_end)
    if bare is not None:
        kind = "CR" if raw[bare.start() : bare.start() + 1] == b"\r" else "LF"
        raise _refusal(
            "bare_line_ending",
            f"header line {_line_number(raw, bare.start())} contains a bare {kind}; "
            "end every header line with CRLF",
            "554 5.6.0",
        )
    for number, line in enumerate(raw[:header_end].split(b"\r\n")[:-1], start=1):
        if not _HEADER_LINE.match(line):
            # Receivers end the header section at such a line, so everything after it would
            # be read as body, not as the headers the application meant.
            raise _refusal(
                "invalid_header_line",
                f"header line {number} is not a header field (name: value); fix the header section",
                "554 5.6.0",
            )
