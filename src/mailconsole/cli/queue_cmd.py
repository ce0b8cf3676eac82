"""`mailconsole queue`: send a message, list the queue, and the operator actions on messages."""

from __future__ import annotations

import dataclasses
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import click

from mailconsole.cli.common import actor, echo_json, fail, json_option, run, with_runtime
from mailconsole.contacts.accounts import default_account_id
from mailconsole.delivery import queue as queue_service
from mailconsole.domain.addresses import AddressError, Mailbox, parse_mailbox
from mailconsole.runtime import Runtime

STREAMS = ("transactional", "broadcast")


@click.group(name="queue", help="The delivery queue: send, list, hold, release, retry, cancel.")
def command() -> None:
    pass


def build_message(sender: Mailbox, recipients: list[Mailbox], subject: str, body: str) -> bytes:
    """The message for --subject/--body: display names in From/To, each encoded as RFC 2047 needs."""
    msg = EmailMessage()
    msg["From"] = Address(display_name=sender.display_name, addr_spec=sender.address)
    msg["To"] = [Address(display_name=r.display_name, addr_spec=r.address) for r in recipients]
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.address.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg.as_bytes()


def _mailbox(option: str, text: str) -> Mailbox:
    try:
        return parse_mailbox(text)
    except AddressError as exc:
        fail(f"{option}: {exc.message}")


@command.command("send")
@click.option("--from", "sender", required=True,
              help='Sender: addr or "Name <addr>" (the address is the envelope sender, the name goes in From:).')
@click.option("--to", "recipients", required=True, multiple=True,
              help='Recipient: addr or "Name <addr>" (repeatable).')
@click.option("--subject", default="", help="Subject line.")
@click.option("--body", default=None, help="Plain-text body.")
@click.option("--file", "file_", type=click.Path(dir_okay=False), default=None,
              help="A complete RFC 5322 message to send as is (instead of --subject/--body).")
@click.option("--stream", type=click.Choice(STREAMS), default="transactional", show_default=True)
@json_option
def send(sender: str, recipients: tuple[str, ...], subject: str, body: str | None, file_: str | None,
         stream: str, as_json: bool) -> None:
    """Queue a message for each recipient; prints the message ids once they are stored."""
    if (body is None) == (file_ is None):
        fail("give exactly one of --body or --file")
    from_box = _mailbox("--from", sender)
    to_boxes = [_mailbox("--to", r) for r in recipients]
    if file_ is not None:
        try:
            raw = Path(file_).read_bytes()
        except OSError as exc:
            fail(f"cannot read {file_}: {exc.strerror}")
        if not raw.strip():
            fail(f"{file_} is empty")
    else:
        try:
            raw = build_message(from_box, to_boxes, subject, body or "")
        except (ValueError, IndexError) as exc:  # the email package refuses the address or name
            fail(f"cannot build the message: {exc}")

    async def go(runtime: Runtime) -> list[int]:
        account = await default_account_id(runtime)
        return await queue_service.enqueue(
            runtime, account_id=account, envelope_from=from_box.address,
            recipients=[r.address for r in to_boxes], raw=raw,
            stream=stream, tracking=stream == "broadcast",
        )

    ids = run(with_runtime(go))
    if as_json:
        echo_json({"ids": ids})
    else:
        click.echo(f"queued {len(ids)} message(s): {', '.join(map(str, ids))}")


@command.command("list")
@click.option("--state", type=click.Choice(queue_service.MESSAGE_STATES), default=None)
@click.option("--search", default=None, help="Substring of recipient, sender or subject.")
@click.option("--after", "after_id", type=int, default=None, help="Page after this id (older).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
def list_(state: str | None, search: str | None, after_id: int | None, limit: int, as_json: bool) -> None:
    """Messages, newest first."""
    rows = run(with_runtime(lambda rt: queue_service.list_messages(
        rt, state=state, search=search, after_id=after_id, limit=limit)))
    if as_json:
        echo_json([dataclasses.asdict(r) for r in rows])
        return
    if not rows:
        click.echo("no messages")
        return
    for r in rows:
        nxt = f" next {r.next_attempt_at:%Y-%m-%d %H:%M:%S}" if r.next_attempt_at else ""
        server = f" via {r.server_name}" if r.server_name else ""
        last = f" [{r.last_code}]" if r.last_code else ""
        click.echo(f"{r.id:>8} {r.state:<10} {r.recipient} att {r.attempts}{server}{last}{nxt}")


def _action(name: str, verb: str, fn_name: str, help_text: str) -> None:
    @command.command(name, help=help_text)
    @click.argument("ids", nargs=-1, required=True, type=int)
    def _cmd(ids: tuple[int, ...]) -> None:
        fn = getattr(queue_service, fn_name)
        who = actor()
        changed = run(with_runtime(lambda rt: fn(rt, list(ids), who)))
        click.echo(f"{verb} {changed} of {len(ids)} message(s)")
        if changed < len(ids):
            click.echo("messages in other states were left unchanged", err=True)


_action("hold", "held", "hold", "Hold queued or deferred messages.")
_action("release", "released", "release", "Release held messages back to the queue.")
_action("retry", "queued again", "retry_now", "Retry deferred, held or failed messages now.")
_action("cancel", "cancelled", "cancel", "Cancel messages that have not been sent.")
