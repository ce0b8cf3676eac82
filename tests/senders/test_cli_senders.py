"""`mailconsole identity` and `mailconsole domains` as a person runs them (real subprocesses)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.senders.dns_server import ZoneServer


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MAILCONSOLE_DATA_DIR"] = str(tmp_path / "data")
    env["MAILCONSOLE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env["MAILCONSOLE_DNS_NAMESERVERS"] = "127.0.0.1:1"
    env["MAILCONSOLE_DNS_TIMEOUT"] = "0.5"
    env.update(extra)
    return env


async def mc(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the CLI without blocking the loop (the test's DNS server lives on it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mailconsole",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_identity_set_with_free_mail_exits_2_with_the_rule_message(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, out, err = await mc(
        env, "identity", "set", "--name", "Jane", "--from", "jane@gmail.com", "--reply-to", "help@gmail.com"
    )
    assert code == 2
    assert err == (
        "error: from address 'jane@gmail.com' is on gmail.com, a free-mail provider; use an address "
        "on your own business domain; reply-to address 'help@gmail.com' is on gmail.com, a free-mail "
        "provider; use an address on your own business domain\n"
    )
    code, out, _ = await mc(env, "identity", "show", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["placeholder"] is True
    assert shown["from"] == "default@placeholder.mailconsole.invalid"
    assert shown["warning"] == "placeholder: replies are undeliverable"


async def test_identity_set_then_show(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, out, err = await mc(
        env, "identity", "set", "--name", "Jane Doe", "--from", "jane@doeinc.com", "--reply-to", "support@doeinc.com"
    )
    assert (code, err) == (0, "")
    code, out, _ = await mc(env, "identity", "show")
    assert out == "sender name: Jane Doe\nfrom:        jane@doeinc.com\nreply-to:    support@doeinc.com\n"


async def test_domains_add_records_and_check_json(tmp_path: Path, zone: ZoneServer) -> None:
    env = _env(tmp_path, MAILCONSOLE_DNS_NAMESERVERS=f"127.0.0.1:{zone.port}")
    code, out, err = await mc(env, "domains", "add", "doeinc.com", "--selector", "s1", "--json")
    assert (code, err) == (0, "")
    added = json.loads(out)
    dkim_value = added["records"][0]["value"]
    assert added["records"][0]["name"] == "s1._domainkey.doeinc.com"

    code, out, _ = await mc(env, "domains", "records", "doeinc.com", "--json")
    assert [r["purpose"] for r in json.loads(out)] == ["DKIM", "SPF", "DMARC"]

    zone.add("s1._domainkey.doeinc.com", "TXT", dkim_value)
    zone.add("_dmarc.doeinc.com", "TXT", "v=DMARC1; p=quarantine")
    code, out, err = await mc(env, "domains", "check", "doeinc.com", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["spf"]["status"] == "fail"
    assert result["spf"]["reason"] == "doeinc.com has no SPF (v=spf1) record"
    assert result["dkim"]["status"] == "pass"
    assert result["dmarc"]["status"] == "pass"
    assert result["dmarc"]["reason"] == "DMARC policy p=quarantine (failures go to spam)"
    assert result["warning"].startswith("doeinc.com is not authenticated (SPF fail, DKIM pass")

    code, out, _ = await mc(env, "domains", "list", "--json")
    [listed] = json.loads(out)
    assert (listed["domain"], listed["spf"]["status"], listed["dkim"]["status"]) == ("doeinc.com", "fail", "pass")


async def test_domains_check_of_unknown_domain_exits_2(tmp_path: Path) -> None:
    code, _, err = await mc(_env(tmp_path), "domains", "check", "nowhere.com")
    assert code == 2
    assert err == "error: nowhere.com is not a sending domain yet; add it with `domains add nowhere.com`\n"
