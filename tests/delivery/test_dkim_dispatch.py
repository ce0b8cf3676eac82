"""DKIM signing happens at dispatch when the From domain has a key (senders area's key store)."""

from __future__ import annotations

import dkim

from mailconsole.delivery.engine import Engine
from mailconsole.runtime import Runtime
from mailconsole.senders.dkim import dkim_record_value, generate_key_pair
from mailconsole.sink import CaptureSink
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import SendingDomain

from .conftest import add_sink_server, send


async def test_message_is_dkim_signed_for_the_from_domain_and_verifies(runtime: Runtime, sink: CaptureSink) -> None:
    pair = generate_key_pair()
    account = await default_account_id(runtime)
    async with runtime.sessions.begin() as session:
        session.add(SendingDomain(account_id=account, domain="example.test", dkim_selector="mc1",
                                  dkim_private_key=runtime.secrets.encrypt_text(pair.private_pem),
                                  dkim_public_key=pair.public_b64))
    await add_sink_server(runtime, sink.port)
    await send(runtime, "bob@example.net")
    await Engine(runtime).run_until_idle()
    (received,) = sink.handler.messages
    assert b"DKIM-Signature:" in received.data and b"d=example.test" in received.data

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mc1._domainkey.example.test."
        return dkim_record_value(pair.public_b64).encode()

    assert dkim.verify(received.data, dnsfunc=dns)
