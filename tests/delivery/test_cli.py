"""`mailconsole queue` and `mailconsole servers` through the real entry point (``main``), real DB file.

In-process rather than a subprocess per call: the same code path (``main`` turns errors into one
line and exit 2) at a fraction of the start-up cost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailconsole.sink import CaptureSink
from tests.support.cli import InProcessCli


@pytest.fixture
def mc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> InProcessCli:
    return InProcessCli(tmp_path, capsys)


def test_bad_speed_is_one_clear_line_exit_2_and_nothing_stored(mc) -> None:  # type: ignore[no-untyped-def]
    proc = mc("servers", "add", "--type", "smtp", "--name", "r1", "--set", "host=127.0.0.1", "--speed", "fast")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: --speed: speed must be unlimited, N/hour or N/day with N >= 1, got 'fast'"
    ]
    assert json.loads(mc("servers", "list", "--json").stdout) == []


def test_unknown_set_field_is_one_clear_line_exit_2_and_nothing_stored(mc) -> None:  # type: ignore[no-untyped-def]
    proc = mc("servers", "add", "--type", "smtp", "--name", "r1", "--set", "host=h", "--set", "pasword=x")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: pasword: unknown field 'pasword'; known fields: ehlo_name, encryption, host, password, port, "
        "timeout, username, verify_certificates"
    ]
    assert json.loads(mc("servers", "list", "--json").stdout) == []


def test_servers_add_list_pause_test_and_queue_send_list_hold(mc, sink: CaptureSink) -> None:  # type: ignore[no-untyped-def]
    added = mc("servers", "add", "--type", "smtp", "--name", "r1", "--set", "host=127.0.0.1",
               "--set", f"port={sink.port}", "--set", "encryption=none", "--speed", "100/hour")
    assert added.returncode == 0, added.stderr
    (row,) = json.loads(mc("servers", "list", "--json").stdout)
    assert (row["name"], row["type"], row["cap_label"], row["state"]) == ("r1", "smtp", "100/hour", "healthy")
    tested = mc("servers", "test", "r1")
    assert tested.returncode == 0 and tested.stdout.startswith("ok: connected to 127.0.0.1")
    assert mc("servers", "pause", "r1").stdout.strip() == "server r1 paused"
    assert json.loads(mc("servers", "list", "--json").stdout)[0]["state"] == "paused"
    sent = mc("queue", "send", "--from", "a@example.test", "--to", "b@example.test", "--to", "c@example.test",
              "--subject", "hi", "--body", "hello", "--json")
    assert sent.returncode == 0, sent.stderr
    ids = json.loads(sent.stdout)["ids"]
    assert len(ids) == 2
    assert mc("queue", "hold", str(ids[0])).stdout.strip() == "held 1 of 1 message(s)"
    listed = json.loads(mc("queue", "list", "--state", "held", "--json").stdout)
    assert [(m["id"], m["subject"], m["recipient"]) for m in listed] == [(ids[0], "hi", "b@example.test")]


def test_queue_send_needs_exactly_one_of_body_or_file(mc) -> None:  # type: ignore[no-untyped-def]
    proc = mc("queue", "send", "--from", "a@example.test", "--to", "b@example.test")
    assert proc.returncode == 2 and proc.stderr.splitlines() == ["error: give exactly one of --body or --file"]
    assert json.loads(mc("queue", "list", "--json").stdout) == []
