"""Bearer authentication with the relay's API keys: one key store for SMTP and HTTP.

A successful lookup is remembered for a few seconds per app (``KeyCache``): a lookup is a
database round trip (about 2 ms through the async stack on SQLite) that would otherwise come
before every enqueue. Revocation stays immediate
for sending, because the enqueue transaction checks the key again (``KeyRevoked`` -> 401);
message status reads may be served for at most ``TTL_SECONDS`` after a revocation.
"""

from __future__ import annotations

import hashlib
import math
import time

from starlette.requests import Request

from mailconsole import metrics
from mailconsole.api.errors import ApiError
from mailconsole.intake.keys import authenticate, split_key
from mailconsole.intake.throttle import AuthThrottle, credential_of
from mailconsole.runtime import Runtime
from mailconsole.store.models import ApiKey

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mailconsole"'}
TTL_SECONDS = 5.0
MAX_ENTRIES = 1024


class KeyCache:
    """Recently authenticated keys, by SHA-256 of the plaintext (never the plaintext)."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ApiKey]] = {}

    async def get(self, runtime: Runtime, plaintext: str) -> ApiKey | None:
        digest = hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()
        now = time.monotonic()
        hit = self._entries.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        key = await authenticate(runtime, plaintext)
        if key is None:
            self._entries.pop(digest, None)
            return None
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {d: e for d, e in self._entries.items() if e[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[digest] = (now + self.ttl, key)
        return key


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "invalid_api_key", message, headers=_CHALLENGE)


async def require_key(runtime: Runtime, request: Request) -> ApiKey:
    """The request's API key, or 401 with a message saying what was wrong with it."""
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("missing Authorization header; send 'Authorization: Bearer <API key>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <API key>'")
    cache: KeyCache = request.app.state.key_cache
    token = token.strip()
    key = await cache.get(runtime, token)
    if key is None:
        metrics.record_auth_failure("http")
        throttle: AuthThrottle = request.app.state.auth_throttle
        source = request.client.host if request.client else "unknown"
        credential = credential_of("apikey", split_key(token))
        delay = throttle.failure(source, credential)
        wait = max(delay, throttle.blocked_for(source, credential))
        if wait > 0:
            # The same rule as the relay's AUTH: only failing attempts are slowed, per
            # (source, key prefix); a valid key from this address was accepted above.
            raise ApiError(
                429,
                "too_many_failed_attempts",
                "too many requests with an invalid API key; wait before trying again",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        raise unauthorized("the API key is not valid or has been revoked")
    return key
