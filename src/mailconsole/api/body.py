"""Read a request body without ever holding more than the size limit in memory.

A declared ``Content-Length`` over the limit is refused before a byte is read; a chunked or
lying body is refused as soon as the running total passes the limit, so a 1 GiB upload costs
at most the limit plus one chunk.
"""

from __future__ import annotations

from starlette.requests import Request

from mailconsole.api.errors import ApiError
from mailconsole.domain.errors import InputError


class BodyTooLarge(InputError):
    """The body is (or declares itself) larger than the limit; nothing more was read."""


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            raise ApiError(400, "invalid_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge()
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)
