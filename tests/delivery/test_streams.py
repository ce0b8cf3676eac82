"""Routing by stream: a server restricted to some streams is only given messages of those streams."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest

from mailconsole.delivery import queue, servers
from mailconsole.delivery.engine import Engine
from mailconsole.delivery.servers import ServerConfigError
from mailconsole.domain.roles import SYSTEM
from mailconsole.runtime import Runtime
from mailconsole.sink import CaptureHandler, CaptureSink
from mailconsole.store.bootstrap import default_account_id

from .conftest import add_sink_server, raw_message, received_to
from .test_cli import mc  # noqa: F401  (the CLI fixture)

Mc = Callable[..., subprocess.CompletedProcess[str]]


async def _enqueue(runtime: Runtime, stream: str, *recipients: str) -> None:
    account = await default_account_id(runtime)
    for rcpt in recipients:
        await queue.enqueue(runtime, account_id=account, envelope_from="news@example.test", recipients=[rcpt],
                            raw=raw_message(stream, rcpt), stream=stream)


async def test_broadcast_only_and_transactional_only_servers_in_one_group_each_get_only_their_stream(
    runtime: Runtime, sink: CaptureSink
) -> None:
    with CaptureSink(CaptureHandler()) as bulk_sink:
        bulk = await add_sink_server(runtime, bulk_sink.port, name="bulk")
        tx = await add_sink_server(runtime, sink.port, name="tx")
        await servers.edit_server(runtime, bulk.id, streams=["broadcast"], actor=SYSTEM)
        await servers.edit_server(runtime, tx.id, streams=["transactional"], actor=SYSTEM)
        await _enqueue(runtime, "broadcast", "b1@example.test", "b2@example.test", "b3@example.test")
        await _enqueue(runtime, "transactional", "t1@example.test", "t2@example.test")
        engine = Engine(runtime)
        await engine.run_until_idle()
        await engine.stop()
        assert received_to(bulk_sink) == ["b1@example.test", "b2@example.test", "b3@example.test"]
    assert received_to(sink) == ["t1@example.test", "t2@example.test"]


async def test_message_of_a_stream_no_server_carries_waits_in_the_queue(runtime: Runtime, sink: CaptureSink) -> None:
    await servers.add_server(
        runtime, name="tx", type="smtp", streams=["transactional"],
        fields={"host": "127.0.0.1", "port": str(sink.port), "encryption": "none"}, actor=SYSTEM
    )
    await _enqueue(runtime, "broadcast", "b1@example.test")
    await Engine(runtime).run_until_idle()
    assert sink.handler.messages == []
    counts = await queue.counts_by_state(runtime)
    assert {k: v for k, v in counts.items() if v} == {"queued": 1}


async def test_unknown_stream_is_refused_with_the_field_named(runtime: Runtime) -> None:
    with pytest.raises(ServerConfigError) as info:
        await servers.add_server(runtime, name="x", type="smtp", fields={"host": "127.0.0.1"}, streams=["bulk"],
                                 actor=SYSTEM)
    assert info.value.errors == {"streams": "stream must be one of transactional, broadcast, got 'bulk'"}
    assert await servers.list_server_stats(runtime) == []


def test_cli_sets_and_clears_a_servers_streams(mc: Mc) -> None:  # noqa: F811
    added = mc("servers", "add", "--type", "smtp", "--name", "bulk", "--set", "host=127.0.0.1",
               "--stream", "broadcast")
    assert added.returncode == 0, added.stderr
    assert json.loads(mc("servers", "list", "--json").stdout)[0]["streams"] == ["broadcast"]
    assert "streams broadcast" in mc("servers", "list").stdout
    edited = mc("servers", "edit", "bulk", "--stream", "transactional", "--stream", "broadcast")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(mc("servers", "list", "--json").stdout)[0]["streams"] == ["transactional", "broadcast"]
    assert mc("servers", "edit", "bulk", "--stream", "all").returncode == 0
    assert json.loads(mc("servers", "list", "--json").stdout)[0]["streams"] == []
    bad = mc("servers", "edit", "bulk", "--stream", "bulk")
    assert bad.returncode == 2 and "'bulk' is not one of 'transactional', 'broadcast', 'all'" in bad.stderr
