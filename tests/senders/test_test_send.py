"""Test send: one real message to a capture sink, from the notification address."""

from __future__ import annotations

import pytest

from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.identity import save_identity
from mailconsole.senders.test_send import TestSendError, send_test
from mailconsole.sink import CaptureSink
from mailconsole.store.models import SendingServer

pytest.importorskip("mailconsole.transports.smtp")


async def _sink_server(runtime: Runtime, sink: CaptureSink) -> None:
    async with runtime.sessions.begin() as session:
        session.add(
            SendingServer(
                name="local-sink",
                type="smtp",
                settings={"host": "127.0.0.1", "port": sink.port, "encryption": "none", "timeout": 5.0},
            )
        )


async def test_test_send_is_delivered_from_the_notification_address(runtime: Runtime, sink: CaptureSink) -> None:
    await save_identity(runtime, sender_name="Jane", from_addr="jane@doeinc.com", reply_to="help@doeinc.com",
                        actor=SYSTEM)
    await _sink_server(runtime, sink)
    result = await send_test(runtime, "ops@example.org", actor=SYSTEM)
    assert result.accepted, result.reply
    assert result.server == "local-sink"
    assert result.sender == runtime.settings.notification_from == "notifications@mailconsole.local"
    [received] = sink.handler.messages
    assert received.mail_from == "notifications@mailconsole.local"
    assert received.rcpt_tos == ["ops@example.org"]
    assert received.message["From"] == "mailconsole <notifications@mailconsole.local>"
    assert b"not from your sender identity (jane@doeinc.com)" in received.message.get_payload(decode=True)


async def test_refused_test_send_shows_the_servers_reply(runtime: Runtime, sink: CaptureSink) -> None:
    sink.handler.rcpt_replies["nobody@example.org"] = "550 5.1.1 no such user"
    await _sink_server(runtime, sink)
    result = await send_test(runtime, "nobody@example.org", actor=SYSTEM)
    assert not result.accepted
    assert result.kind == "permanent"
    assert "550" in result.reply and "no such user" in result.reply
    assert sink.handler.messages == []


async def test_test_send_without_a_server_says_what_to_do(runtime: Runtime) -> None:
    with pytest.raises(TestSendError) as info:
        await send_test(runtime, "ops@example.org", actor=SYSTEM)
    assert str(info.value) == ("no active sending server: add one in Config > Servers (`mailconsole servers add`)")
