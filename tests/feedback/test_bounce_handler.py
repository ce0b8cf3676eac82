"""The per-server bounce handler declaration: validation messages and the stored password."""

from __future__ import annotations

from mailconsole.feedback.handler import build_bounce_handler
from mailconsole.feedback.mailbox import ImapConfig, MaildirConfig
from mailconsole.feedback.poller import config_from_handler
from mailconsole.runtime import Runtime


async def test_imap_handler_without_host_user_or_password_names_each_field(runtime: Runtime) -> None:
    handler, errors = build_bounce_handler(runtime, {"type": "imap"})
    assert handler == {}
    assert errors == {
        "host": "IMAP host is required for an IMAP bounce mailbox",
        "user": "IMAP user is required for an IMAP bounce mailbox",
        "password": "IMAP password is required for an IMAP bounce mailbox",
    }


async def test_unknown_field_is_refused(runtime: Runtime) -> None:
    _, errors = build_bounce_handler(runtime, {"type": "maildir", "path": "/x", "pasword": "y"})
    assert errors["pasword"].startswith("unknown field 'pasword'")


async def test_blank_password_on_edit_keeps_the_stored_one(runtime: Runtime) -> None:
    first, _ = build_bounce_handler(runtime, {"type": "imap", "host": "imap.example.com", "user": "b",
                                              "password": "pw-1"})
    edited, errors = build_bounce_handler(runtime, {"type": "imap", "host": "imap2.example.com", "user": "b",
                                                    "password": ""}, existing=first)
    assert errors == {}
    config = config_from_handler(edited, runtime)
    assert isinstance(config, ImapConfig)
    assert (config.host, config.password, config.port, config.tls) == ("imap2.example.com", "pw-1", 993, "ssl")
    assert "pw-1" not in repr(config)


async def test_maildir_handler_with_dash_flags_instead_of_moving(runtime: Runtime) -> None:
    handler, errors = build_bounce_handler(runtime, {"type": "maildir", "path": "/var/bounces",
                                                     "processed_folder": "-"})
    assert errors == {}
    assert config_from_handler(handler, runtime) == MaildirConfig("/var/bounces", processed_folder="")
