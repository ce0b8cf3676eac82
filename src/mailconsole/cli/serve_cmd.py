"""`mailconsole serve`: run the delivery engine headless (plus the relay and HTTP API).

Beside the engine it runs the housekeeping jobs (daily safelist summary, bounce mailbox
poll; see ``delivery/housekeeping.py``), all wired by the composition root ``mailconsole.boot``.
SIGTERM and SIGINT stop it cleanly: no new claims,
sends in flight finish, messages claimed but not started go back to the queue, then the
process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import click

from mailconsole import boot
from mailconsole.cli.common import run, state
from mailconsole.store.db import check_url

log = logging.getLogger(__name__)


@click.command(name="serve", help="Run the delivery engine (and the relay and HTTP API) until stopped.")
@click.option("--no-relay", is_flag=True, help="Do not start the SMTP relay.")
@click.option("--no-http", is_flag=True, help="Do not start the HTTP API.")
@click.option("--poll-interval", type=click.FloatRange(0.01, 60), default=None,
              help="Seconds between looks for due messages when idle (default: engine_poll_seconds).")
def command(no_relay: bool, no_http: bool, poll_interval: float | None) -> None:
    settings = state().settings
    check_url(settings.effective_database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(_serve(settings, relay=not no_relay, http=not no_http, poll_interval=poll_interval))


async def _serve(settings: Any, *, relay: bool, http: bool, poll_interval: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with boot.open_runtime(settings) as runtime, boot.running(
        runtime, relay=relay, http=http, poll_interval=poll_interval
    ) as process:
        assert process.engine is not None
        log.info("engine %s running; %d server(s) listening", process.engine.owner, len(process.servers))
        click.echo(f"mailconsole engine running as {process.engine.owner}", err=True)
        await stop.wait()
        log.info("stopping: finishing sends in flight")
