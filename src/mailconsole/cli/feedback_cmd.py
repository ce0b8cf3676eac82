"""`mailconsole feedback`: check a puzzling bounce by hand, poll the bounce mailboxes once,
and read the feedback log and the unparseable mailbox items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, run, state, with_runtime
from mailconsole.feedback import service, verp
from mailconsole.feedback.model import ParsedMail
from mailconsole.feedback.parse import parse_message
from mailconsole.feedback.poller import poll_now
from mailconsole.store.secrets import KEY_FILE_NAME, SecretBox


@click.group(name="feedback", help="Bounces and complaints: parse reports, poll mailboxes, read the log.")
def command() -> None:
    pass


@command.command(name="parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
def parse_cmd(files: tuple[Path, ...], as_json: bool) -> None:
    """What the parser makes of each FILE (a saved bounce or complaint): one line per file."""
    problems = 0
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            click.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
            problems += 1
            continue
        parsed = parse_message(raw)
        out: dict[str, Any] = {"file": str(path), **parsed.to_json(), **_verp_verdict(parsed)}
        if as_json:
            echo_json(out)
        elif parsed.recipients:
            for r in parsed.recipients:
                click.echo(f"{path}: {r.kind} {r.recipient} {r.status or '-'} {r.action or '-'} {r.diagnostic}")
        else:
            click.echo(f"{path}: unknown ({parsed.reason})")
    if problems:
        fail(f"{problems} file(s) could not be read")


def _verp_verdict(parsed: ParsedMail) -> dict[str, Any]:
    """The message id a VERP address names and whether its tag verifies with this installation's key.

    Read-only: without a ``secret.key`` in the data directory nothing is created, and the
    verdict says the tag could not be checked.
    """
    decoded = next(filter(None, (verp.decode(c) for c in parsed.envelope_candidates)), None)
    if decoded is None:
        return {}
    settings = state().settings
    key_file = settings.data_dir / KEY_FILE_NAME
    if not key_file.exists():
        return {"message_id": decoded.message_id, "verp": f"unchecked: no {KEY_FILE_NAME} in {settings.data_dir}"}
    key = verp.key_from(SecretBox.from_data_dir(settings.data_dir))
    checked = verp.check(parsed.envelope_candidates, settings.bounce_domain or None, key)
    return {"message_id": decoded.message_id, "verp": "verified" if checked.message_id is not None else checked.forged}


@command.command(name="poll")
@json_option
def poll_cmd(as_json: bool) -> None:
    """Read every configured bounce mailbox once (IMAP and Maildir)."""
    who = actor()
    report = run(with_runtime(lambda rt: poll_now(rt, actor=who)))
    if as_json:
        echo_json([m.__dict__ for m in report.mailboxes])
    elif not report.mailboxes:
        click.echo("no bounce mailbox is configured (bounce_imap_host, bounce_maildir or a server's bounce handler)")
    for m in report.mailboxes if not as_json else []:
        if m.error:
            click.echo(f"{m.label}: error: {m.error}")
        else:
            forged = f", {m.forged} ignored for a forged VERP address" if m.forged else ""
            click.echo(
                f"{m.label}: {m.fetched} read, {m.recorded} recorded, {m.duplicates} duplicate(s), "
                f"{m.unparsed} kept as unparseable{forged}"
            )
    if any(m.error for m in report.mailboxes):
        raise SystemExit(1)


@command.command(name="events")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before", default=None, type=int, help="Only events older than this id (paging).")
@json_option
def events_cmd(limit: int, before: int | None, as_json: bool) -> None:
    """The feedback log, newest first."""

    async def go(rt: Any) -> Any:
        return await service.recent_events(rt, before_id=before, limit=limit)

    rows = run(with_runtime(go))
    for row in rows:
        data = {
            "id": row.id, "at": row.at.isoformat(), "source": row.source, "kind": row.kind,
            "recipient": row.recipient, "status": row.status_code, "outcome": row.outcome,
            "message_id": row.message_id, "contact_id": row.contact_id, "detail": row.detail,
        }
        if as_json:
            echo_json(data)
        else:
            click.echo(f"{row.id:>6} {row.at:%Y-%m-%d %H:%M} {row.source:<8} {row.kind:<9} "
                       f"{row.recipient:<32} {row.status_code or '-':<7} {row.outcome}")


@command.command(name="unparsed")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--show", "show_id", default=None, type=int, help="Print this item's raw message.")
@json_option
def unparsed_cmd(limit: int, show_id: int | None, as_json: bool) -> None:
    """Mailbox items we could not parse (kept in the mailbox too, never deleted)."""

    if show_id is not None:

        async def one(rt: Any) -> Any:
            return await service.unparsed_item(rt, show_id)

        match = run(with_runtime(one))
        if match is None:
            fail(f"no unparsed item #{show_id}")
        click.echo(match.raw.decode("utf-8", "replace"))
        return

    async def go(rt: Any) -> Any:
        return await service.unparsed_items(rt, limit=limit)

    rows = run(with_runtime(go))
    for row in rows:
        if as_json:
            echo_json({"id": row.id, "at": row.at.isoformat(), "source": row.source, "reason": row.reason,
                       "size": len(row.raw)})
        else:
            click.echo(f"{row.id:>6} {row.at:%Y-%m-%d %H:%M} {row.source}: {row.reason}")
