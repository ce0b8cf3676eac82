"""`mailconsole identity` and `mailconsole domains` as a person runs them.

Errors are checked through a real subprocess (the exact stderr line and exit status); the
rest runs in-process with click's CliRunner to keep the suite fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailconsole.cli import cli
from mailconsole.runtime import Runtime
from mailconsole.settings import load_settings
from mailconsole.sink import CaptureSink
from mailconsole.store.models import SendingServer
from tests.senders.dns_server import ThreadedZone


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MAILCONSOLE_DATA_DIR"] = str(tmp_path / "data")
    env["MAILCONSOLE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env["MAILCONSOLE_DNS_NAMESERVERS"] = "127.0.0.1:1"
    env["MAILCONSOLE_DNS_TIMEOUT"] = "0.5"
    env.update(extra)
    return env


def mc(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The real `mailconsole` command in a subprocess, for what a person sees on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "mailconsole", *args], env=env, capture_output=True, text=True, timeout=60
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_identity_set_with_free_mail_exits_2_with_the_rule_message(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, _, err = mc(
        env, "identity", "set", "--name", "Jane", "--from", "jane@gmail.com", "--reply-to", "help@gmail.com"
    )
    assert code == 2
    assert err == (
        "error: from address 'jane@gmail.com' is on gmail.com, a free-mail provider; use an address "
        "on your own business domain; reply-to address 'help@gmail.com' is on gmail.com, a free-mail "
        "provider; use an address on your own business domain\n"
    )
    result = CliRunner().invoke(cli, ["identity", "show", "--json"], env=env)
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["placeholder"] is True
    assert shown["from"] == "default@placeholder.mailconsole.invalid"
    assert shown["warning"] == "placeholder: replies are undeliverable"


def test_identity_set_then_show(tmp_path: Path) -> None:
    env = _env(tmp_path)
    runner = CliRunner()
    args = ["identity", "set", "--name", "Jane Doe", "--from", "jane@doeinc.com", "--reply-to", "support@doeinc.com"]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["identity", "show"], env=env)
    assert result.stdout == "sender name: Jane Doe\nfrom:        jane@doeinc.com\nreply-to:    support@doeinc.com\n"


def test_domains_add_records_and_check_json(tmp_path: Path) -> None:
    zone = ThreadedZone()
    try:
        env = _env(tmp_path, MAILCONSOLE_DNS_NAMESERVERS=f"127.0.0.1:{zone.server.port}")
        runner = CliRunner()

        def mc_in_process(*args: str) -> Any:
            return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

        result = mc_in_process("domains", "add", "doeinc.com", "--selector", "s1", "--json")
        assert result.exit_code == 0, result.output
        added = json.loads(result.stdout)
        dkim_value = added["records"][0]["value"]
        assert added["records"][0]["name"] == "s1._domainkey.doeinc.com"

        result = mc_in_process("domains", "records", "doeinc.com", "--json")
        assert [r["purpose"] for r in json.loads(result.stdout)] == ["DKIM", "SPF", "DMARC"]

        zone.server.add("s1._domainkey.doeinc.com", "TXT", dkim_value)
        zone.server.add("_dmarc.doeinc.com", "TXT", "v=DMARC1; p=quarantine")
        result = mc_in_process("domains", "check", "doeinc.com", "--json")
        assert result.exit_code == 0, result.output
        checked = json.loads(result.stdout)
        assert checked["spf"]["status"] == "fail"
        assert checked["spf"]["reason"] == "doeinc.com has no SPF (v=spf1) record"
        assert checked["dkim"]["status"] == "pass"
        assert checked["dmarc"]["status"] == "pass"
        assert checked["dmarc"]["reason"] == "DMARC policy p=quarantine at _dmarc.doeinc.com (failures go to spam)"
        assert checked["warning"].startswith("doeinc.com is not authenticated (SPF fail, DKIM pass")

        result = mc_in_process("domains", "list", "--json")
        [listed] = json.loads(result.stdout)
        assert (listed["domain"], listed["spf"]["status"], listed["dkim"]["status"]) == ("doeinc.com", "fail", "pass")

        result = mc_in_process("domains", "check", "doeinc.com")
        assert result.stdout.splitlines()[:2] == [
            "SPF    fail     doeinc.com has no SPF (v=spf1) record",
            '       fix: doeinc.com TXT "v=spf1 ~all"',
        ]
    finally:
        zone.close()


def test_domains_check_of_unknown_domain_exits_2(tmp_path: Path) -> None:
    code, _, err = mc(_env(tmp_path), "domains", "check", "nowhere.com")
    assert code == 2
    assert err == "error: nowhere.com is not a sending domain yet; add it with `domains add nowhere.com`\n"


def test_identity_test_prints_the_note_and_the_servers_answer(tmp_path: Path, sink: CaptureSink) -> None:
    pytest.importorskip("mailconsole.transports.smtp")
    env = _env(tmp_path)

    async def add_sink_server() -> None:
        settings = load_settings(env=env)
        async with Runtime.open(settings) as rt, rt.sessions.begin() as session:
            session.add(
                SendingServer(
                    name="local-sink",
                    type="smtp",
                    settings={"host": "127.0.0.1", "port": sink.port, "encryption": "none"},
                )
            )

    asyncio.run(add_sink_server())
    result = CliRunner().invoke(cli, ["identity", "test", "--to", "ops@example.org"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "The test is sent from the platform notification address notifications@mailconsole.local, "
        "not from your sender identity, through the account's default server."
    )
    assert lines[1].startswith("accepted by local-sink for ops@example.org")
    assert [m.mail_from for m in sink.handler.messages] == ["notifications@mailconsole.local"]


def test_domains_check_prints_the_inherited_dmarc_record_and_void_spf_lookups(tmp_path: Path) -> None:
    zone = ThreadedZone()
    try:
        env = _env(tmp_path, MAILCONSOLE_DNS_NAMESERVERS=f"127.0.0.1:{zone.server.port}")
        runner = CliRunner()
        result = runner.invoke(cli, ["domains", "add", "mail.acme.co.uk", "--selector", "s1", "--json"], env=env)
        assert result.exit_code == 0, result.output
        zone.server.add("s1._domainkey.mail.acme.co.uk", "TXT", json.loads(result.stdout)["records"][0]["value"])
        zone.server.add(
            "mail.acme.co.uk", "TXT", "v=spf1 a:gone1.acme.co.uk mx:gone2.acme.co.uk exists:gone3.acme.co.uk ~all"
        )
        zone.server.add("_dmarc.acme.co.uk", "TXT", "v=DMARC1; p=reject; sp=quarantine")
        result = runner.invoke(cli, ["domains", "check", "mail.acme.co.uk"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "SPF    fail     the SPF record of mail.acme.co.uk is broken, receivers return permerror: "
            "Void lookup limit of 2 exceeded (remove the terms for names that do not exist)",
            '       fix: mail.acme.co.uk TXT "v=spf1 ~all"',
            "DKIM   pass     the DKIM key at s1._domainkey.mail.acme.co.uk matches ours",
            "DMARC  pass     no record at _dmarc.mail.acme.co.uk; inherited from _dmarc.acme.co.uk, "
            "sp=quarantine (failures go to spam)",
            "WARNING: mail.acme.co.uk is not authenticated (SPF fail, DKIM pass, DMARC pass): deliverability "
            "may be severely impacted; publish the records below",
        ]
    finally:
        zone.close()


def test_domains_check_json_reports_each_check_host_answer(tmp_path: Path) -> None:
    zone = ThreadedZone()
    try:
        env = _env(tmp_path, MAILCONSOLE_DNS_NAMESERVERS=f"127.0.0.1:{zone.server.port}")
        runner = CliRunner()
        for args in (
            ["domains", "add", "doeinc.com", "--selector", "s1"],
            ["servers", "add", "--type", "smtp", "--name", "mx-out", "--set", "host=192.0.2.10"],
        ):
            assert runner.invoke(cli, args, env=env).exit_code == 0
        zone.server.add("doeinc.com", "TXT", "v=spf1 -ip4:192.0.2.10 ip4:192.0.2.0/24 ~all")
        result = runner.invoke(cli, ["domains", "check", "doeinc.com", "--json"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        spf = json.loads(result.stdout)["spf"]
        assert spf["check_host"] == [
            {"server": "mx-out", "ip": "192.0.2.10", "sender": "postmaster@doeinc.com", "result": "fail",
             "term": "-ip4:192.0.2.10"}
        ]
        assert (spf["status"], spf["fix"]) == ("fail", 'doeinc.com TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.0/24 ~all"')
    finally:
        zone.close()
