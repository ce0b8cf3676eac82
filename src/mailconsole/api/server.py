"""Run the app on uvicorn inside the caller's event loop, start and stop on demand.

``mailconsole serve`` runs the engine, the relay and this server in one process and one loop,
so the server is started as a task rather than with ``uvicorn.run`` (which owns the loop and
the signals). Loopback by default. HTTPS when ``tls_cert`` and ``tls_key`` are configured (the
relay's certificate) or an ``ssl_context`` is passed; without them plain HTTP, meant for
loopback or a TLS-terminating proxy (no self-signed certificate is made for HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import uvicorn

from mailconsole.api.app import create_app
from mailconsole.intake.tls import server_context
from mailconsole.runtime import Runtime

STARTUP_TIMEOUT_SECONDS = 10.0


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the process owner handles signals
        return None


class HttpServer:
    def __init__(
        self,
        runtime: Runtime,
        engine: Any = None,
        *,
        host: str | None = None,
        port: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        settings = runtime.settings
        self.host = host if host is not None else settings.http_host
        self._port = port if port is not None else settings.http_port
        if ssl_context is None and settings.tls_cert and settings.tls_key:
            ssl_context = server_context(settings)  # TlsError names the file that is wrong
        self.tls = ssl_context is not None
        self.app = create_app(runtime, engine)
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        if ssl_context is not None:
            config.load()
            config.ssl = ssl_context
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        for server in getattr(self._server, "servers", []) or []:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self._port

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        self.app.state.batcher.start()
        self._task = asyncio.create_task(self._server.serve(), name="mailconsole-http")
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT_SECONDS):
                while not self._server.started:
                    if self._task.done():
                        self._task.result()  # raises the bind error
                        raise RuntimeError("HTTP server stopped during startup")
                    await asyncio.sleep(0.01)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self.app.state.batcher.stop()
