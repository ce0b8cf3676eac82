"""Sender identity service: placeholder for new accounts, rules enforced on save."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.senders.identity import IdentityRulesBroken, get_identity, save_identity
from mailconsole.store.models import Account, AuditEntry, SenderIdentity


async def test_new_account_starts_with_a_placeholder_sender(runtime: Runtime) -> None:
    identity = await get_identity(runtime)
    assert identity.from_address == "default@placeholder.mailconsole.invalid"
    assert identity.reply_to == identity.from_address
    assert identity.is_placeholder
    assert identity.warning == "placeholder: replies are undeliverable"


async def test_account_created_later_gets_its_placeholder_on_first_read(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        account = Account(name="Acme Billing", created_at=runtime.clock.now())
        session.add(account)
        await session.flush()
        account_id = account.id
    identity = await get_identity(runtime, account_id=account_id)
    assert identity.from_address == "acme-billing@placeholder.mailconsole.invalid"
    assert identity.is_placeholder


async def test_saving_a_valid_identity_clears_the_placeholder_and_audits(runtime: Runtime) -> None:
    saved = await save_identity(
        runtime, sender_name="Jane Doe", from_addr="Jane@DoeInc.com", reply_to="support@doeinc.com", actor=SYSTEM
    )
    assert (saved.from_address, saved.is_placeholder, saved.warning) == ("Jane@doeinc.com", False, "")
    assert (await get_identity(runtime)).sender_name == "Jane Doe"
    async with runtime.sessions() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        count = (await session.execute(select(func.count()).select_from(SenderIdentity))).scalar()
    assert actions == ["identity.set"]
    assert count == 1


async def test_saving_a_free_mail_identity_is_refused_and_keeps_the_old_one(
    runtime: Runtime,
) -> None:
    await save_identity(runtime, sender_name="Jane", from_addr="jane@doeinc.com", reply_to="help@doeinc.com",
                        actor=SYSTEM)
    with pytest.raises(IdentityRulesBroken) as info:
        await save_identity(runtime, sender_name="Jane", from_addr="jane@gmail.com", reply_to="help@doeinc.com",
                            actor=SYSTEM)
    assert str(info.value) == (
        "from address 'jane@gmail.com' is on gmail.com, a free-mail provider; "
        "use an address on your own business domain"
    )
    assert (await get_identity(runtime)).from_address == "jane@doeinc.com"
