"""VERP envelope senders on the bounce domain: ``b-<message id>-<tag>-<local>=<domain>@<bounce domain>``.

A bounce comes back to the envelope sender, so encoding our message id and the recipient in
it tells us which message and which recipient bounced even when the returned report is
mangled, partial or in no standard format. When the address would exceed the 64-octet
local-part limit only the message id and tag are kept (``b-<id>-<tag>@…``); the recipient
is then read from the message.

The tag is what makes the address ours: the first 10 base32 characters (50 bits) of
HMAC-SHA256 over the message id and the recipient the address carries, keyed by a key derived
from the installation's ``secret.key``. Message ids are sequential, so without it anyone could
mail a DSN to ``b-<guessed id>@…`` and blocklist a contact whose mail they never received.
Lower-case base32 survives MTAs that lower-case addresses; the tag is compared in constant time.
Addresses without a tag (the pre-release form) or with a wrong one do not verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailconsole.store.secrets import SecretBox

_PREFIX = "b-"
_MAX_LOCAL = 64
TAG_LENGTH = 10
KEY_PURPOSE = "mailconsole verp tag v1"
_SAFE_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_TAGGED = re.compile(rf"^b-(\d+)-([a-z2-7]{{{TAG_LENGTH}}})(?:-(.+))?$", re.IGNORECASE)
_UNTAGGED = re.compile(r"^b-(\d+)(?:-(.+))?$", re.IGNORECASE)

# Why a VERP address of ours was refused (the ``reason`` label of the forged-VERP counter).
UNTAGGED = "untagged"
BAD_TAG = "bad_tag"


@dataclass(frozen=True)
class VerpAddress:
    message_id: int
    recipient: str | None  # None when only the message id fit
    tag: str | None = None  # None for an address in the old, untagged form


@dataclass(frozen=True)
class VerpCheck:
    """What the addresses a bounce was delivered to say about its origin."""

    message_id: int | None = None  # the message a verified VERP address names
    forged: str = ""  # UNTAGGED or BAD_TAG when an address of ours was found but none verified


def key_from(secrets: SecretBox) -> bytes:
    """The installation's VERP tag key (derived from ``secret.key``, so every engine shares it)."""
    return secrets.derive_key(KEY_PURPOSE)


def _tag(key: bytes, message_id: int, recipient: str) -> str:
    data = f"{message_id}\x1f{recipient.lower()}".encode()
    digest = hmac.new(key, data, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TAG_LENGTH].lower()


def encode(message_id: int, recipient: str, bounce_domain: str, key: bytes) -> str:
    """The envelope sender for one message to one recipient."""
    if message_id < 0:
        raise ValueError("message id must not be negative")
    domain = bounce_domain.strip().strip(".").lower()
    if not domain:
        raise ValueError("a bounce domain is required for VERP")
    local, at, rdomain = recipient.strip().rpartition("@")
    rdomain = rdomain.lower()
    carried = f"{local}@{rdomain}"
    tagged = f"{_PREFIX}{message_id}-{_tag(key, message_id, carried)}-{local}={rdomain}"
    if at and local and _SAFE_LOCAL.match(local) and len(tagged) <= _MAX_LOCAL:
        return f"{tagged}@{domain}"
    return f"{_PREFIX}{message_id}-{_tag(key, message_id, '')}@{domain}"


def decode(address: str, bounce_domain: str | None = None) -> VerpAddress | None:
    """Read a VERP address back, tag unchecked; None if it is not one of ours (or not on ``bounce_domain``).

    The old untagged form is still read (with ``tag=None``) so a bounce to it can be told
    apart from a bounce that has nothing to do with VERP, and refused as such.
    """
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return None
    if bounce_domain and domain.lower().strip(".") != bounce_domain.lower().strip("."):
        return None
    match = _TAGGED.match(local)
    tag: str | None = None
    if match:
        message_id, tag, rest = int(match.group(1)), match.group(2).lower(), match.group(3)
    else:
        match = _UNTAGGED.match(local)
        if not match:
            return None
        message_id, rest = int(match.group(1)), match.group(2)
    if rest is None:
        return VerpAddress(message_id, None, tag)
    rlocal, eq, rdomain = rest.rpartition("=")
    if not eq or not rlocal or not rdomain:
        return None
    return VerpAddress(message_id, f"{rlocal}@{rdomain}", tag)


def verify(address: VerpAddress, key: bytes) -> bool:
    """Whether the address's tag is the one we would have made (compared in constant time)."""
    if address.tag is None:
        return False
    expected = _tag(key, address.message_id, address.recipient or "")
    return hmac.compare_digest(expected, address.tag.lower())


def check(candidates: Iterable[str], bounce_domain: str | None, key: bytes) -> VerpCheck:
    """The message a bounce is about, from the first candidate address whose tag verifies.

    An address of ours that does not verify makes the bounce forged unless another candidate
    verifies (a genuine bounce's Delivered-To is ours even if its To header was tampered with).
    No VERP address at all is neither: the report then goes by its recipient line.
    """
    forged = ""
    for candidate in candidates:
        decoded = decode(candidate, bounce_domain or None)
        if decoded is None:
            continue
        if verify(decoded, key):
            return VerpCheck(decoded.message_id)
        forged = forged or (UNTAGGED if decoded.tag is None else BAD_TAG)
    return VerpCheck(None, forged)
