"""The one HTTP application: send API, message status, ESP webhooks, health, metrics, docs.

``create_app(runtime, engine=None)`` builds a Starlette app over an already-open Runtime,
so ``mailconsole serve`` and tests share the exact same wiring. The feedback area's webhook
routes are mounted under ``/webhooks`` when ``mailconsole.feedback.webhooks`` exists.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from mailconsole.api.auth import KeyCache
from mailconsole.api.errors import ApiError, error_body
from mailconsole.api.health import healthz
from mailconsole.api.metrics_collector import AppMetrics, metrics_endpoint
from mailconsole.api.openapi import build_document, webhook_operation
from mailconsole.api.send import send_email
from mailconsole.api.status import email_status
from mailconsole.api.unsubscribe import unsubscribe_page, unsubscribe_post
from mailconsole.intake.batcher import EnqueueBatcher
from mailconsole.intake.throttle import AuthThrottle
from mailconsole.runtime import Runtime

log = logging.getLogger(__name__)

WEBHOOKS_MODULE = "mailconsole.feedback.webhooks"


def webhook_routes(runtime: Runtime) -> list[BaseRoute]:
    """The feedback area's ESP routes, or none while that module does not exist yet."""
    if importlib.util.find_spec(WEBHOOKS_MODULE) is None:
        return []
    module = importlib.import_module(WEBHOOKS_MODULE)
    factory = getattr(module, "routes", None)
    return list(factory(runtime)) if factory is not None else []


def _documented_webhooks(routes: list[BaseRoute]) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if isinstance(route, Route):
            path = "/webhooks" + route.path
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                paths.setdefault(path, {})[method.lower()] = webhook_operation(path, method)
    return paths


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


def create_app(runtime: Runtime, engine: Any = None) -> Starlette:
    hooks = webhook_routes(runtime)
    document = build_document(_documented_webhooks(hooks))

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    routes: list[BaseRoute] = [
        Route("/v1/emails", send_email, methods=["POST"]),
        Route("/v1/emails/{id}", email_status, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe_post, methods=["POST"]),
    ]
    if hooks:
        routes.append(Mount("/webhooks", routes=hooks))
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.runtime = runtime
    app.state.engine = engine
    app.state.metrics = AppMetrics(runtime)
    app.state.key_cache = KeyCache()
    app.state.auth_throttle = AuthThrottle()
    # Group commit for concurrent sends, as on the relay. Started by HttpServer; until then
    # (e.g. an app driven in-process by tests) each send is written in its own transaction.
    app.state.batcher = EnqueueBatcher(runtime)
    app.state.openapi = document
    return app


async def served_document() -> dict[str, Any]:
    """The document ``/openapi.json`` serves, built by the app itself on a throwaway database."""
    import tempfile
    from pathlib import Path

    from mailconsole.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'doc.db'}")
        async with Runtime.open(settings) as runtime:
            document: dict[str, Any] = create_app(runtime).state.openapi
            return document


def main() -> None:
    """``python -m mailconsole.api.app > docs/openapi.json`` refreshes the checked-in copy."""
    import asyncio
    import json

    print(json.dumps(asyncio.run(served_document()), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
