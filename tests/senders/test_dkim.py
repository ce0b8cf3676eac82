"""DKIM signing at dispatch: signed with the stored key, verifiable with the published one."""

from __future__ import annotations

import dkim as dkimpy

from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.dkim import dkim_record_value, sign_message
from mailconsole.senders.domains import add_domain

RAW = (
    b"From: Jane <jane@doeinc.com>\r\nTo: bob@example.org\r\nSubject: Hello\r\n"
    b"Date: Mon, 02 Mar 2026 09:00:00 +0000\r\nMessage-ID: <1@doeinc.com>\r\n\r\nHi Bob\r\n"
)


async def test_message_from_a_sending_domain_is_signed_and_verifies(runtime: Runtime) -> None:
    view = await add_domain(runtime, "DoeInc.com", "s1", actor=SYSTEM)
    assert view.public_key is not None
    signed = await sign_message(runtime, RAW, "doeinc.com")
    assert signed.startswith(b"DKIM-Signature:") and signed.endswith(RAW)
    published = dkim_record_value(view.public_key).encode()

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.doeinc.com."
        return published

    assert dkimpy.verify(signed, dnsfunc=dnsfunc)


async def test_message_from_a_domain_without_key_is_unchanged(runtime: Runtime) -> None:
    assert await sign_message(runtime, RAW, "elsewhere.org") == RAW


async def test_private_key_is_stored_encrypted(runtime: Runtime) -> None:
    from sqlalchemy import select

    from mailconsole.store.models import SendingDomain

    await add_domain(runtime, "doeinc.com", actor=SYSTEM)
    async with runtime.sessions() as session:
        row = (await session.execute(select(SendingDomain))).scalar_one()
    assert row.dkim_selector == "mc202603"
    assert row.dkim_private_key is not None and "PRIVATE KEY" not in row.dkim_private_key
    assert "PRIVATE KEY" in runtime.secrets.decrypt_text(row.dkim_private_key)
