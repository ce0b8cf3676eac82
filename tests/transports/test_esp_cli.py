"""The five ESP types through `mailconsole servers add`: flags come from FIELDS, secrets are
stored encrypted and never printed, bad fields are refused together with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import InProcessCli
from tests.transports.esp_cases import SECRET

VALID = {
    "ses": ["access_key_id=AKIDEXAMPLE", f"secret_access_key={SECRET}", "region=eu-west-1"],
    "sendgrid": [f"api_key={SECRET}"],
    "mailgun": [f"api_key={SECRET}", "domain=mg.example.com", "region=eu"],
    "postmark": [f"server_token={SECRET}", "broadcast_stream=news"],
    "elasticemail": [f"api_key={SECRET}"],
}


@pytest.fixture
def mc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> InProcessCli:
    return InProcessCli(tmp_path, capsys)


def test_every_esp_type_is_added_from_the_cli_with_its_secret_encrypted(mc) -> None:  # type: ignore[no-untyped-def]
    for type_name, fields in VALID.items():
        args = ["servers", "add", "--type", type_name, "--name", f"my-{type_name}"]
        for item in fields:
            args += ["--set", item]
        proc = mc(*args)
        assert proc.returncode == 0, proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
    listing = mc("servers", "list", "--json")
    assert listing.returncode == 0
    assert SECRET not in listing.stdout
    assert sorted(s["type"] for s in json.loads(listing.stdout)) == sorted(VALID)
    stored = b"".join(p.read_bytes() for p in Path(mc.db).parent.glob("cli.db*"))
    assert SECRET.encode() not in stored


def test_bad_esp_fields_are_refused_together_and_nothing_is_stored(mc) -> None:  # type: ignore[no-untyped-def]
    proc = mc(
        "servers", "add", "--type", "mailgun", "--name", "mg", "--set", "region=asia", "--set", "base_url=ftp://x"
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: api_key: API key is required; domain: Sending domain is required; "
        "region: Region must be one of us, eu, got 'asia'; "
        "base_url: must start with https:// (or http:// for a local proxy), got 'ftp://x'"
    ]
    assert json.loads(mc("servers", "list", "--json").stdout) == []
