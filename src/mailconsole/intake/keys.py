"""API keys: created once, shown once, stored only as a hash, compared in constant time.

A key looks like ``mc_<prefix>_<secret>``: the prefix (8 url-safe characters) is stored in
clear and shown in lists so an operator can tell keys apart and find the row in one indexed
lookup; the secret (256 random bits) is never stored, only SHA-256 over the whole key. SHA-256
is enough here because the secret has 256 bits of entropy: there is nothing to brute-force
that a slow hash would protect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from mailconsole.domain.errors import InputError
from mailconsole.domain.policy import SCOPES, STREAMS
from mailconsole.domain.roles import Actor, Permission
from mailconsole.runtime import Runtime
from mailconsole.store.audit import record
from mailconsole.store.models import Account, ApiKey

KEY_MARK = "mc"
PREFIX_LENGTH = 8
# "Last used" is a freshness hint for operators (is this key still in use?), so it is
# written at most this often per key rather than on every connection and request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class KeyInputError(InputError, ValueError):
    """A key request a person can fix (unknown scope or stream, no such key)."""


@dataclass(frozen=True)
class KeyInfo:
    """What lists show: everything except the secret (which nobody has after creation)."""

    id: int
    account_id: int
    name: str
    prefix: str
    scopes: list[str]
    allowed_streams: list[str]
    revoked: bool
    created_at: str
    last_used_at: str | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyInfo:
        return cls(
            id=key.id,
            account_id=key.account_id,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes),
            allowed_streams=list(key.allowed_streams),
            revoked=key.revoked,
            created_at=key.created_at.isoformat(),
            last_used_at=key.last_used_at.isoformat() if key.last_used_at else None,
        )


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _check_choices(kind: str, values: Iterable[str], allowed: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value not in allowed:
            raise KeyInputError(f"unknown {kind} {value!r}; choose from {', '.join(allowed)}")
        if value not in out:
            out.append(value)
    return out


def split_key(plaintext: str) -> str | None:
    """The prefix of a well-formed key, or None (so garbage never reaches the database)."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_MARK or len(parts[1]) != PREFIX_LENGTH or not parts[2]:
        return None
    return parts[1]


async def create_key(
    runtime: Runtime,
    *,
    account_id: int,
    name: str = "",
    scopes: Iterable[str] = ("mail:send",),
    allowed_streams: Iterable[str] = STREAMS,
    actor: Actor,
) -> tuple[KeyInfo, str]:
    """Create a key; return what lists show and the plaintext, which is never available again.

    Needs ``Permission.CONFIG``; the creation is written to the audit log in the same
    transaction.
    """
    actor.require(Permission.CONFIG)
    scope_list = _check_choices("scope", scopes, SCOPES)
    stream_list = _check_choices("stream", allowed_streams, STREAMS)
    if not stream_list:
        raise KeyInputError("a key needs at least one allowed stream")
    for _ in range(5):  # a prefix collision is astronomically rare; retry instead of failing
        prefix = secrets.token_urlsafe(6)[:PREFIX_LENGTH].replace("_", "x")
        plaintext = f"{KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
        async with runtime.sessions.begin() as session:
            taken = (await session.execute(select(ApiKey.id).where(ApiKey.prefix == prefix))).first()
            if taken is not None:
                continue
            key = ApiKey(
                account_id=account_id,
                name=name,
                prefix=prefix,
                key_hash=_hash(plaintext),
                scopes=scope_list,
                allowed_streams=stream_list,
                revoked=False,
                created_at=runtime.clock.now(),
            )
            session.add(key)
            await session.flush()
            detail = f"id={key.id} prefix={prefix} name={name!r} scopes={scope_list} streams={stream_list}"
            record(session, runtime.clock, actor, "api_key.create", detail)
            info = KeyInfo.of(key)
        return info, plaintext
    raise RuntimeError("could not find a free key prefix")  # pragma: no cover


async def lookup(runtime: Runtime, plaintext: str) -> tuple[ApiKey, Account] | None:
    """The key for this plaintext and its account, if the key exists and is not revoked.

    Looked up by prefix in a read-only transaction (it never waits for the queue's writers),
    then the hash compared with ``hmac.compare_digest`` so the time taken does not reveal how
    much of a guess was right. Last use is recorded at most once per ``LAST_USED_RESOLUTION``
    so that a busy application does not turn every connection into a write.
    """
    prefix = split_key(plaintext.strip())
    if prefix is None:
        return None
    digest = _hash(plaintext.strip())
    async with runtime.reads() as session:
        row = (
            await session.execute(
                select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id).where(ApiKey.prefix == prefix)
            )
        ).first()
    if row is None:
        return None
    key, account = row
    if not hmac.compare_digest(key.key_hash, digest) or key.revoked:
        return None
    now = runtime.clock.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        async with runtime.sessions.begin() as session:
            await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        key.last_used_at = now
    return key, account


async def authenticate(runtime: Runtime, plaintext: str) -> ApiKey | None:
    """The key for this plaintext if it exists and is not revoked (see ``lookup``)."""
    found = await lookup(runtime, plaintext)
    return found[0] if found is not None else None


async def list_keys(runtime: Runtime, *, account_id: int | None = None) -> list[KeyInfo]:
    async with runtime.sessions() as session:
        query = select(ApiKey).order_by(ApiKey.id)
        if account_id is not None:
            query = query.where(ApiKey.account_id == account_id)
        return [KeyInfo.of(k) for k in (await session.execute(query)).scalars()]


async def revoke_key(runtime: Runtime, key_id: int, *, actor: Actor) -> KeyInfo:
    """Revoke a key for good; the next AUTH or API call with it fails. Idempotent."""
    actor.require(Permission.CONFIG)
    async with runtime.sessions.begin() as session:
        key = await session.get(ApiKey, key_id)
        if key is None:
            raise KeyInputError(f"no API key with id {key_id}")
        key.revoked = True
        await session.flush()
        record(session, runtime.clock, actor, "api_key.revoke", f"id={key.id} prefix={key.prefix}")
        return KeyInfo.of(key)
