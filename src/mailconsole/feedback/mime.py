"""Small helpers over the stdlib ``email`` package shared by the DSN and ARF parsers.

The stdlib parser already understands ``multipart/report`` and splits
``message/delivery-status`` into one header block per recipient, so no third-party MIME
library is needed; these helpers cover the few ways real reports deviate from that.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.parser
import email.policy
import quopri
import re
from collections.abc import Iterator

Message = email.message.Message

_ADDR_RE = re.compile(r"<?([^\s<>;\"']+@[^\s<>;\"']+?)>?[.,;]?$")


def load(raw: bytes) -> Message:
    """Parse raw bytes leniently (compat32 never raises on broken headers)."""
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def header(msg: Message, name: str) -> str:
    """One header as unfolded text, '' when missing."""
    value = msg.get(name)
    if value is None:
        return ""
    return " ".join(str(value).split())


def field_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part.

    The stdlib returns a list of blocks for delivery-status and a one-item list for other
    message/* types; some senders base64-encode the part, which leaves a string we re-parse.
    """
    payload = part.get_payload()
    encoding = header(part, "Content-Transfer-Encoding").lower()
    if isinstance(payload, list) and all(isinstance(p, Message) for p in payload):
        if encoding not in ("base64", "quoted-printable"):
            return list(payload)
        # The stdlib parsed the still-encoded text as header blocks: undo that, then decode.
        encoded = "\n".join(p.as_string() for p in payload if isinstance(p, Message))
        text = _decode_transfer(encoded, encoding)
    else:
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload or "")
    text = text.replace("\r\n", "\n")
    parser = email.parser.HeaderParser(policy=email.policy.compat32)
    return [parser.parsestr(chunk.strip() + "\n") for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]


def _decode_transfer(text: str, encoding: str) -> str:
    if encoding == "base64":
        data = base64.b64decode("".join(text.split()) + "==", validate=False)
    else:
        data = quopri.decodestring(text.encode("utf-8", "replace"))
    return data.decode("utf-8", "replace")


def typed_value(value: str) -> str:
    """Strip an RFC 3464 address-type / diagnostic-type prefix: 'rfc822; a@b' -> 'a@b'."""
    value = " ".join(value.split())
    if ";" in value:
        kind, _, rest = value.partition(";")
        if kind.strip() and " " not in kind.strip():
            return rest.strip()
    return value.strip()


def clean_address(value: str) -> str:
    """'<Alice@Example.com>' -> 'Alice@Example.com'; '' when no address is recognisable."""
    value = value.strip()
    match = _ADDR_RE.search(value)
    return match.group(1) if match else ""


def text_parts(msg: Message) -> Iterator[str]:
    """Decoded text/plain bodies outside any returned original message."""
    stack = [msg]
    while stack:
        part = stack.pop(0)
        ctype = part.get_content_type()
        if part.is_multipart():
            stack.extend(p for p in part.get_payload() if isinstance(p, Message))
            continue
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            continue
        if ctype == "text/plain":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    yield data.decode(charset, "replace")
                except LookupError:
                    yield data.decode("utf-8", "replace")


def original_headers(msg: Message) -> Message | None:
    """The returned original's headers (message/rfc822 or text/rfc822-headers), if present."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            data = part.get_payload(decode=True)
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(part.get_payload())
            return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    return None


def envelope_candidates(msg: Message) -> tuple[str, ...]:
    """Addresses a bounce was delivered to: where our VERP envelope sender shows up."""
    found: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To"):
        for value in msg.get_all(name) or []:
            for piece in str(value).split(","):
                addr = clean_address(piece)
                if addr and addr not in found:
                    found.append(addr)
    return tuple(found)
