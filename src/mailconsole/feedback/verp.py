"""VERP envelope senders on the bounce domain: ``b-<message id>-<local>=<domain>@<bounce domain>``.

A bounce comes back to the envelope sender, so encoding our message id and the recipient in
it tells us which message and which recipient bounced even when the returned report is
mangled, partial or in no standard format. When the address would exceed the 64-octet
local-part limit only the message id is kept; the recipient is then read from the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = "b-"
_MAX_LOCAL = 64
_SAFE_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DECODE = re.compile(r"^b-(\d+)(?:-(.+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class VerpAddress:
    message_id: int
    recipient: str | None  # None when only the message id fit


def encode(message_id: int, recipient: str, bounce_domain: str) -> str:
    """The envelope sender for one message to one recipient."""
    if message_id < 0:
        raise ValueError("message id must not be negative")
    domain = bounce_domain.strip().strip(".").lower()
    if not domain:
        raise ValueError("a bounce domain is required for VERP")
    local, at, rdomain = recipient.strip().rpartition("@")
    tagged = f"{_PREFIX}{message_id}-{local}={rdomain.lower()}"
    if at and local and _SAFE_LOCAL.match(local) and len(tagged) <= _MAX_LOCAL:
        return f"{tagged}@{domain}"
    return f"{_PREFIX}{message_id}@{domain}"


def decode(address: str, bounce_domain: str | None = None) -> VerpAddress | None:
    """Read a VERP address back; None if it is not one of ours (or not on ``bounce_domain``)."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return None
    if bounce_domain and domain.lower().strip(".") != bounce_domain.lower().strip("."):
        return None
    match = _DECODE.match(local)
    if not match:
        return None
    message_id = int(match.group(1))
    rest = match.group(2)
    if rest is None:
        return VerpAddress(message_id, None)
    rlocal, eq, rdomain = rest.rpartition("=")
    if not eq or not rlocal or not rdomain:
        return None
    return VerpAddress(message_id, f"{rlocal}@{rdomain}")
