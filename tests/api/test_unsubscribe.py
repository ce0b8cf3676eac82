"""The List-Unsubscribe link the relay puts on broadcast mail works (RFC 8058 one-click)."""

from __future__ import annotations

from email import message_from_bytes

import httpx
from sqlalchemy import func, select

from mailconsole.contacts.unsubscribe import unsubscribe
from mailconsole.intake.unsubscribe import headers_for
from mailconsole.runtime import Runtime
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import Contact, ContactEvent


def _path(runtime: Runtime, account_id: int, recipient: str) -> str:
    value = dict(headers_for(runtime, account_id=account_id, recipient=recipient))["List-Unsubscribe"]
    return "/" + value.strip("<>").split("/", 3)[3]


async def _contact(runtime: Runtime, address: str) -> Contact | None:
    async with runtime.sessions() as session:
        return (await session.execute(select(Contact).where(Contact.address == address))).scalar_one_or_none()


async def test_one_click_post_unsubscribes_the_recipient_once(runtime: Runtime, client: httpx.AsyncClient) -> None:
    account_id = await default_account_id(runtime)
    path = _path(runtime, account_id, "reader@example.net")
    first = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    again = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert first.status_code == again.status_code == 200
    assert "reader@example.net will get no more broadcast mail" in first.text
    contact = await _contact(runtime, "reader@example.net")
    assert contact is not None and contact.unsubscribed_at == runtime.clock.now()
    assert contact.status == "active"  # still mailable for transactional mail
    async with runtime.sessions() as session:
        logged = (await session.execute(
            select(func.count()).select_from(ContactEvent).where(ContactEvent.kind == "unsubscribed")
        )).scalar_one()
    assert logged == 1


async def test_get_shows_a_button_and_never_unsubscribes(runtime: Runtime, client: httpx.AsyncClient) -> None:
    account_id = await default_account_id(runtime)
    response = await client.get(_path(runtime, account_id, "scanner@example.net"))
    assert response.status_code == 200
    assert '<form method="post">' in response.text
    assert "Stop newsletters and other broadcast mail to scanner@example.net?" in response.text
    assert await _contact(runtime, "scanner@example.net") is None


async def test_a_forged_token_is_refused_with_404_and_changes_nothing(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    response = await client.post("/unsubscribe/not-a-real-token")
    assert response.status_code == 404
    assert "This unsubscribe link is not valid." in response.text
    async with runtime.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Contact))).scalar_one() == 0


async def test_relay_broadcast_link_matches_the_route(runtime: Runtime) -> None:
    raw = b"List-Unsubscribe: " + _path(runtime, 1, "x@example.net").encode() + b"\r\n\r\n"
    assert message_from_bytes(raw)["List-Unsubscribe"].startswith("/unsubscribe/")


async def test_unsubscribe_service_is_idempotent(runtime: Runtime) -> None:
    account_id = await default_account_id(runtime)
    assert await unsubscribe(runtime, account_id=account_id, recipient="reader@Example.NET") is True
    assert await unsubscribe(runtime, account_id=account_id, recipient="reader@example.net") is False
