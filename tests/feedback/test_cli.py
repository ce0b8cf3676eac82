"""`mailconsole feedback parse|poll|events|unparsed` through the real CLI entry point."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from click.testing import CliRunner

from mailconsole.cli import cli
from mailconsole.store.secrets import SecretBox
from tests.feedback.helpers import CORPUS, sample


def test_parse_json_prints_one_object_per_file(tmp_path: Path) -> None:
    files = [str(CORPUS / "postfix_user_unknown.eml"), str(CORPUS / "yahoo_arf_complaint.eml")]
    env = {"MAILCONSOLE_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["feedback", "parse", *files, "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["kind"], x["recipient"], x["status"], x["action"]) for x in lines] == [
        ("bounce", "alice@example.com", "5.1.1", "failed"),
        ("complaint", "olivia@yahoo.com", "", ""),
    ]
    assert lines[0]["diagnostic"].startswith("550 5.1.1 <alice@example.com>: Recipient address rejected")
    assert lines[0]["message_id"] == 1042  # read back from the VERP envelope sender
    assert lines[0]["verp"] == f"unchecked: no secret.key in {tmp_path / 'data'}"
    assert not (tmp_path / "data").exists()  # parsing by hand creates no key


def test_parse_json_says_whether_the_verp_tag_verifies_with_this_installations_key(tmp_path: Path) -> None:
    secrets = SecretBox.from_data_dir(tmp_path / "data")
    signed = tmp_path / "signed.eml"
    signed.write_bytes(sample("postfix_user_unknown.eml", signed_by=secrets, message_id=7, verp_id=1042))
    other = tmp_path / "other.eml"
    other.write_bytes(sample("postfix_user_unknown.eml", signed_by=SecretBox.from_data_dir(tmp_path / "x")))
    files = [str(signed), str(other), str(CORPUS / "postfix_user_unknown.eml")]
    env = {"MAILCONSOLE_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["feedback", "parse", *files, "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["message_id"], x["verp"]) for x in lines] == [(7, "verified"), (1042, "bad_tag"), (1042, "untagged")]


def test_parse_of_a_missing_file_says_so_and_still_reports_the_others(tmp_path: Path) -> None:
    files = [str(tmp_path / "nope.eml"), str(CORPUS / "qmail_no_mailbox.eml")]
    result = CliRunner().invoke(cli, ["feedback", "parse", *files])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.eml'}: cannot read: No such file or directory" in result.output
    assert "qmail_no_mailbox.eml: bounce leo@qmail.example 5.1.1 failed" in result.output
    assert result.output.endswith("1 file(s) could not be read\n")


def test_poll_then_events_and_unparsed_from_the_cli(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(sample("sendmail_dsn.eml", signed_by=SecretBox.from_data_dir(tmp_path / "data")))
    box.add(sample("out_of_office.eml"))
    env = {
        "MAILCONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MAILCONSOLE_DATA_DIR": str(tmp_path / "data"),
        "MAILCONSOLE_BOUNCE_MAILDIR": str(tmp_path / "bounces"),
    }
    runner = CliRunner()
    polled = runner.invoke(cli, ["feedback", "poll"], env=env)
    assert polled.exit_code == 0, polled.output
    assert polled.output == (
        f"maildir:{tmp_path / 'bounces'}: 2 read, 1 recorded, 0 duplicate(s), 1 kept as unparseable\n"
    )
    events = runner.invoke(cli, ["feedback", "events", "--json"], env=env)
    (event,) = [json.loads(line) for line in events.output.splitlines()]
    assert (event["source"], event["kind"], event["recipient"], event["outcome"]) == (
        "dsn", "bounce", "nick@example.edu", "hard_bounce"
    )
    unparsed = runner.invoke(cli, ["feedback", "unparsed", "--json"], env=env)
    (item,) = [json.loads(line) for line in unparsed.output.splitlines()]
    assert item["reason"] == "not a delivery status notification, feedback report or recognisable bounce"
    shown = runner.invoke(cli, ["feedback", "unparsed", "--show", str(item["id"])], env=env)
    assert "I am out of the office until Monday" in shown.output


def test_poll_with_nothing_configured_says_where_to_configure(tmp_path: Path) -> None:
    env = {
        "MAILCONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MAILCONSOLE_DATA_DIR": str(tmp_path / "data"),
    }
    result = CliRunner().invoke(cli, ["feedback", "poll"], env=env)
    assert result.exit_code == 0
    assert result.output == (
        "no bounce mailbox is configured (bounce_imap_host, bounce_maildir or a server's bounce handler)\n"
    )


def test_poll_says_how_many_bounces_were_ignored_for_a_forged_verp_address(tmp_path: Path) -> None:
    """The corpus DSN came to ``b-1042-alice=…``: untagged, so this installation never sent it."""
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(sample("postfix_user_unknown.eml"))
    env = {
        "MAILCONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MAILCONSOLE_DATA_DIR": str(tmp_path / "data"),
        "MAILCONSOLE_BOUNCE_MAILDIR": str(tmp_path / "bounces"),
        "MAILCONSOLE_BOUNCE_DOMAIN": "bounces.sender.test",
    }
    runner = CliRunner()
    polled = runner.invoke(cli, ["feedback", "poll"], env=env)
    assert polled.exit_code == 0, polled.output
    assert polled.output == (
        f"maildir:{tmp_path / 'bounces'}: 1 read, 0 recorded, 0 duplicate(s), 0 kept as unparseable, "
        "1 ignored for a forged VERP address\n"
    )
    events = runner.invoke(cli, ["feedback", "events", "--json"], env=env)
    (event,) = [json.loads(line) for line in events.output.splitlines()]
    assert (event["recipient"], event["outcome"], event["contact_id"]) == (
        "alice@example.com", "forged_verp: untagged (contact unchanged)", None
    )
