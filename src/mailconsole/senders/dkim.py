"""DKIM keys: generation, the TXT record to publish, and signing at dispatch.

Private keys are stored Fernet-encrypted (``runtime.secrets``); the engine signs every message
through :func:`sign_message`, so the decrypted key is cached per database and domain and the
hot path costs one RSA signature, not a query and a decryption.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dkim as dkimpy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from mailconsole.store.models import SendingDomain

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

KEY_BITS = 2048
# A domain with no key is looked up again after this long, so a key added from another
# process (the console while `serve` runs) is picked up without a restart.
MISS_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class DkimKeyPair:
    private_pem: str  # PKCS#8 PEM, plaintext: encrypt before storing
    public_b64: str  # base64 DER SubjectPublicKeyInfo, the p= tag


def generate_key_pair() -> DkimKeyPair:
    """A fresh 2048-bit RSA key pair (1024 is no longer accepted by large receivers)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKeyPair(private_pem, base64.b64encode(public_der).decode("ascii"))


def dkim_record_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dkim_record_value(public_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_b64}"


@dataclass(frozen=True, slots=True)
class _CachedKey:
    selector: str
    private_pem: bytes | None
    fetched: float


_cache: dict[tuple[str, str], _CachedKey] = {}


def forget_cached_key(runtime: Runtime, domain: str) -> None:
    """Drop a cached key (called when a domain's key changes in this process)."""
    _cache.pop((runtime.settings.effective_database_url, domain.lower()), None)


async def _key_for(runtime: Runtime, domain: str) -> _CachedKey:
    cache_key = (runtime.settings.effective_database_url, domain)
    cached = _cache.get(cache_key)
    now = time.monotonic()
    if cached is not None and (cached.private_pem is not None or now - cached.fetched < MISS_TTL_SECONDS):
        return cached
    async with runtime.sessions() as session:
        row = (
            await session.execute(
                select(SendingDomain.dkim_selector, SendingDomain.dkim_private_key)
                .where(SendingDomain.domain == domain, SendingDomain.dkim_private_key.is_not(None))
                .order_by(SendingDomain.id)
                .limit(1)
            )
        ).first()
    if row is None:
        entry = _CachedKey("", None, now)
    else:
        pem = runtime.secrets.decrypt_text(row.dkim_private_key).encode("ascii")
        entry = _CachedKey(row.dkim_selector, pem, now)
    _cache[cache_key] = entry
    return entry


# Signed once per occurrence and once more (RFC 6376 §8.15 "over-signing"): adding another
# such header - a second Subject above the signed one, a forged List-Unsubscribe - then breaks
# the signature. Absent ones are listed once, so adding one breaks it too.
OVERSIGNED = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
# Signed once per occurrence: dkimpy's list of headers that should be signed, plus the one it
# lacks, List-Unsubscribe-Post (RFC 8058 §4: one-click needs it in h=).
_SIGNED = {h.lower() for h in dkimpy.DomainSigner.SHOULD} | {b"list-unsubscribe-post"}
_OVERSIGNED = {h.lower().encode("ascii") for h in OVERSIGNED}


def signed_headers(raw: bytes) -> list[bytes]:
    """The ``h=`` list for ``raw``: each signable header as often as it occurs, then OVERSIGNED once each."""
    headers, _body = dkimpy.rfc822_parse(raw)
    present = [name for name, _ in headers if name.lower() in _SIGNED and name.lower() not in _OVERSIGNED]
    oversigned = [
        name.encode("ascii")
        for name in OVERSIGNED
        for _ in range(1 + sum(1 for h, _ in headers if h.lower() == name.lower().encode("ascii")))
    ]
    return present + oversigned


def sign_with_key(raw: bytes, domain: str, selector: str, private_pem: bytes) -> bytes:
    """Prepend a relaxed/relaxed rsa-sha256 DKIM-Signature to ``raw`` (line endings kept)."""
    linesep = b"\r\n" if b"\r\n" in raw else b"\n"
    signature = dkimpy.sign(
        raw,
        selector.encode("ascii"),
        domain.encode("ascii"),
        private_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=signed_headers(raw),
        linesep=linesep,
    )
    return signature + raw


async def sign_message(runtime: Runtime, raw: bytes, from_domain: str) -> bytes:
    """DKIM-sign ``raw`` with the key of ``from_domain``; return ``raw`` unchanged if it has none.

    ``from_domain`` is the domain of the message's From header (DMARC alignment is on that
    domain), IDNA-encoded. Called by the engine at dispatch, once per message.
    """
    domain = from_domain.strip().lower().rstrip(".")
    if not domain:
        return raw
    entry = await _key_for(runtime, domain)
    if entry.private_pem is None:
        return raw
    return sign_with_key(raw, domain, entry.selector, entry.private_pem)
