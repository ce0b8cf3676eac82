"""The reply table: what each answer means for the message, the contact and the server."""

from __future__ import annotations

import ssl

import aiosmtplib
import pytest

from mailconsole.domain.replies import classify_smtp, classify_status, classify_transport_error
from mailconsole.domain.results import ResultKind


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "kind", "effect", "server_fault"),
    [
        (250, "2.0.0", "OK", ResultKind.ACCEPTED, "none", False),
        (550, "5.1.1", "no such user", ResultKind.PERMANENT, "hard_bounce", False),
        (550, None, "5.1.1 <bob@x.test>: Recipient address rejected: User unknown", ResultKind.PERMANENT,
         "hard_bounce", False),
        (552, "5.2.2", "mailbox full", ResultKind.PERMANENT, "soft_bounce", False),
        (452, "4.2.2", "mailbox full", ResultKind.TRANSIENT, "soft_bounce", False),
        (451, "4.3.0", "try later", ResultKind.TRANSIENT, "none", False),
        (450, "4.1.1", "recipient unknown for now", ResultKind.TRANSIENT, "soft_bounce", False),
        (550, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using Spamhaus", ResultKind.PERMANENT,
         "policy_block", True),
        (550, "5.7.1", "Our system has detected poor reputation of your sending domain", ResultKind.PERMANENT,
         "policy_block", True),
        (554, None, "Sender address blocklisted", ResultKind.PERMANENT, "policy_block", True),
        (550, None, "Message rejected: your IP is listed on an RBL", ResultKind.PERMANENT, "policy_block", True),
        (550, "5.7.1", "Recipient address rejected: user unknown", ResultKind.PERMANENT, "hard_bounce", False),
        (535, "5.7.8", "authentication credentials invalid", ResultKind.PERMANENT, "none", True),
        (550, None, "Requested action not taken: mailbox unavailable", ResultKind.PERMANENT, "hard_bounce", False),
        (421, "4.7.0", "too many connections from your IP", ResultKind.TRANSIENT, "policy_block", True),
    ],
)
def test_smtp_reply_table(code: int, enhanced: str | None, text: str, kind: ResultKind, effect: str,
                          server_fault: bool) -> None:
    got = classify_smtp(code, enhanced, text)
    assert (got.kind, got.effect, got.server_fault) == (kind, effect, server_fault)


def test_reputation_block_never_counts_against_the_contact() -> None:
    got = classify_smtp(550, "5.7.1", "IP 203.0.113.9 has a poor reputation")
    assert got.effect != "hard_bounce" and got.server_fault


def test_a_temporary_reply_is_never_a_hard_bounce() -> None:
    assert classify_smtp(450, "4.1.1", "mailbox unknown").effect == "soft_bounce"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (ConnectionResetError(104, "reset"), "connection reset"),
        (TimeoutError(), "timed out"),
        (ssl.SSLCertVerificationError("certificate verify failed"), "TLS certificate verification failed"),
        (aiosmtplib.SMTPConnectError("cannot connect"), "cannot connect"),
        (aiosmtplib.SMTPAuthenticationError(535, "bad creds"), "authentication failed"),
    ],
)
def test_transport_errors_are_transient_server_faults(exc: BaseException, reason: str) -> None:
    got = classify_transport_error(exc)
    assert (got.kind, got.effect, got.server_fault, got.reason) == (ResultKind.TRANSIENT, "none", True, reason)


def test_dsn_status_uses_the_same_table() -> None:
    assert classify_status("5.1.1", "smtp; 550 5.1.1 user unknown").effect == "hard_bounce"
    blocked = classify_status("5.7.1", "smtp; 554 5.7.1 sending IP blocklisted")
    assert (blocked.effect, blocked.server_fault) == ("policy_block", True)
    assert classify_status("4.2.2", "mailbox full").kind is ResultKind.TRANSIENT
