"""An unsubscribed contact gets no broadcast mail, and still gets transactional mail."""

from __future__ import annotations

from mailconsole.contacts.unsubscribe import unsubscribe
from mailconsole.delivery import queue
from mailconsole.delivery.engine import Engine
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureSink
from mailconsole.store.bootstrap import default_account_id

from .conftest import add_sink_server, raw_message


async def test_unsubscribed_contact_gets_transactional_but_not_broadcast(runtime: Runtime, sink: CaptureSink) -> None:
    await add_sink_server(runtime, sink.port)
    account = await default_account_id(runtime)
    await unsubscribe(runtime, account_id=account, recipient="reader@example.test")
    [news] = await queue.enqueue(
        runtime, account_id=account, envelope_from="news@example.test", recipients=["reader@example.test"],
        raw=raw_message("newsletter", "reader@example.test"), stream="broadcast",
    )
    [receipt] = await queue.enqueue(
        runtime, account_id=account, envelope_from="shop@example.test", recipients=["reader@example.test"],
        raw=raw_message("receipt", "reader@example.test"), stream="transactional",
    )
    [other] = await queue.enqueue(
        runtime, account_id=account, envelope_from="news@example.test", recipients=["other@example.test"],
        raw=raw_message("newsletter2", "other@example.test"), stream="broadcast",
    )
    await Engine(runtime).run_until_idle()
    news_detail = await queue.message_detail(runtime, news)
    assert news_detail is not None and news_detail.message.state == "suppressed"
    assert news_detail.message.state_reason == "suppressed: recipient unsubscribed from broadcast mail"
    for mid in (receipt, other):
        detail = await queue.message_detail(runtime, mid)
        assert detail is not None and detail.message.state == "sent"
    assert sorted(m.message["Subject"] for m in sink.handler.messages) == ["newsletter2", "receipt"]
