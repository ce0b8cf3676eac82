"""Bearer authentication with the relay's API keys: one key store for SMTP and HTTP."""

from __future__ import annotations

from starlette.requests import Request

from mailconsole.api.errors import ApiError
from mailconsole.relay.keys import authenticate
from mailconsole.runtime import Runtime
from mailconsole.store.models import ApiKey

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mailconsole"'}


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
    key = await authenticate(runtime, token.strip())
    if key is None:
        raise unauthorized("the API key is not valid or has been revoked")
    return key
