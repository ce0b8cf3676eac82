"""`mailconsole sink`: the local capture SMTP server."""

from __future__ import annotations

import time
from pathlib import Path

import click

from mailconsole.cli.common import fail
from mailconsole.sink import SinkOptions, make_sink


def _rate(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise click.BadParameter(f"must be between 0 and 1, got {value}")
    return value


@click.command(name="sink", help="Run a capture SMTP server that stores mail in a Maildir and can inject faults.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=click.IntRange(0, 65535))
@click.option("--maildir", type=click.Path(file_okay=False, path_type=Path), help="Store received mail here.")
@click.option("--tempfail-rate", default=0.0, type=float, callback=_rate, help="Fraction answered 451 (0-1).")
@click.option("--fail-rate", default=0.0, type=float, callback=_rate, help="Fraction answered 550 (0-1).")
@click.option("--delay", default=0.0, type=click.FloatRange(min=0), help="Seconds to wait before replying to DATA.")
def command(host: str, port: int, maildir: Path | None, tempfail_rate: float, fail_rate: float, delay: float) -> None:
    if tempfail_rate + fail_rate > 1.0:
        fail("--tempfail-rate plus --fail-rate must not exceed 1")
    sink = make_sink(SinkOptions(host, port, maildir, tempfail_rate, fail_rate, delay))
    try:
        sink.start()
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    click.echo(f"sink listening on {host}:{sink.port}" + (f", storing in {maildir}" if maildir else ""), err=True)
    try:
        last = -1
        while True:
            time.sleep(1)
            stats = sink.handler.stats
            if stats.accepted != last:
                last = stats.accepted
                click.echo(f"accepted={stats.accepted} tempfailed={stats.tempfailed} failed={stats.failed}", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
