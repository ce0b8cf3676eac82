"""Test configuration: one message through the account's default server, result shown.

The test is sent from the platform's notification address (``settings.notification_from``),
not the custom sender identity, so it works before the identity's domain is authenticated;
the console and CLI say so in the same words (``TEST_SEND_NOTE``).
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from mailconsole.domain.addresses import AddressError, normalize_address
from mailconsole.domain.errors import InputError
from mailconsole.domain.results import ResultKind
from mailconsole.domain.roles import Actor, Permission
from mailconsole.senders.dkim import sign_message
from mailconsole.senders.identity import get_identity
from mailconsole.senders.servers import default_server
from mailconsole.store import audit
from mailconsole.store.bootstrap import default_account_id
from mailconsole.transports.base import Envelope, SendResult
from mailconsole.transports.registry import load_transport

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

TEST_SEND_NOTE = (
    "The test is sent from the platform notification address {sender}, "
    "not from your sender identity, through the account's default server."
)


class TestSendError(InputError, ValueError):
    """The test could not be attempted (bad address, no server); the message says why."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True, slots=True)
class TestSendResult:
    __test__ = False

    accepted: bool
    server: str
    sender: str
    recipient: str
    kind: str  # accepted | transient | permanent
    reply: str  # the server's reply, as the transport reports it

    @property
    def summary(self) -> str:
        if self.accepted:
            return f"accepted by {self.server} for {self.recipient}: {self.reply}".rstrip(": ")
        return f"not accepted by {self.server} ({self.kind}): {self.reply}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "server": self.server,
            "sender": self.sender,
            "recipient": self.recipient,
            "kind": self.kind,
            "reply": self.reply,
            "summary": self.summary,
        }


def build_test_message(sender: str, recipient: str, identity_from: str, server: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"mailconsole <{sender}>"
    msg["To"] = recipient
    msg["Subject"] = "mailconsole test message"
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[1])
    msg.set_content(
        "This is a test of your mailconsole sending configuration.\n\n"
        f"It was sent through the server {server!r} from the platform notification address "
        f"{sender}, not from your sender identity ({identity_from}).\n"
    )
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


async def send_test(
    runtime: Runtime, to_address: str, *, actor: Actor, account_id: int | None = None
) -> TestSendResult:
    """Send one test message now and report the server's answer (never queued, never retried).

    Needs ``Permission.CONFIG``; the result is audited.
    """
    actor.require(Permission.CONFIG)
    try:
        recipient = normalize_address(to_address)
    except AddressError as exc:
        raise TestSendError(f"test recipient: {exc.message}") from None
    sender = runtime.settings.notification_from
    account_id = account_id if account_id is not None else await default_account_id(runtime)
    identity = await get_identity(runtime, account_id=account_id)
    async with runtime.sessions() as session:
        server = await default_server(session, account_id)
        if server is None:
            raise TestSendError("no active sending server: add one in Config > Servers (`mailconsole servers add`)")
        session.expunge(server)
    raw = build_test_message(sender, recipient, identity.from_address, server.name)
    raw = await sign_message(runtime, raw, sender.rsplit("@", 1)[1])
    try:
        transport = load_transport(runtime, server)
    except Exception as exc:  # a stored server the transport refuses: show why
        raise TestSendError(f"server {server.name!r} cannot be used: {exc}") from None
    try:
        result: SendResult = await transport.send(Envelope(sender, (recipient,)), raw)
    except Exception as exc:  # transports should return results; show anything else as-is
        result = SendResult(kind=ResultKind.PERMANENT, text=f"{type(exc).__name__}: {exc}")
    finally:
        await transport.close()
    outcome = TestSendResult(
        accepted=result.accepted,
        server=server.name,
        sender=sender,
        recipient=recipient,
        kind=str(result.kind),
        reply=_reply(result),
    )
    async with runtime.sessions.begin() as session:
        audit.record(session, runtime.clock, actor, "identity.test", outcome.summary[:500])
    return outcome


def _reply(result: SendResult) -> str:
    code = " ".join(str(p) for p in (result.smtp_code, result.enhanced_code) if p)
    if result.http_status and not code:
        code = f"HTTP {result.http_status}"
    return f"{code} {result.text}".strip()
