"""One error shape for every API refusal: ``{"error": {"code": "...", "message": "..."}}``.

Clients branch on ``code`` (stable, snake_case) and show ``message`` to people; the message
is the same wording the SMTP relay uses for the same policy decision.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from mailconsole.domain.errors import MailconsoleError


class ApiError(MailconsoleError):
    """Raised anywhere in a request handler; turned into the JSON error body by the app."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
