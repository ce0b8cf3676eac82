"""The shared per-message policy: one decision, the same words for SMTP and HTTP."""

from __future__ import annotations

import pytest

from mailconsole.domain import policy
from mailconsole.domain.policy import PolicyViolation


def test_absent_or_transactional_stream_header_means_transactional() -> None:
    assert policy.resolve_stream(None) == "transactional"
    assert policy.resolve_stream("") == "transactional"
    assert policy.resolve_stream(" Transactional ") == "transactional"
    assert policy.resolve_stream("broadcast") == "broadcast"


def test_unknown_stream_is_invalid_stream_with_the_same_words_for_smtp_and_http() -> None:
    with pytest.raises(PolicyViolation) as info:
        policy.resolve_stream("marketing")
    v = info.value
    assert v.code == "invalid_stream"
    assert v.http_status == 422
    assert v.message == "X-Mailconsole-Stream must be transactional or broadcast, not 'marketing'"
    assert v.smtp_reply == f"550 5.6.0 invalid_stream: {v.message}"
    assert v.as_dict() == {"error": "invalid_stream", "message": v.message}


def test_stream_outside_the_keys_allowed_streams_is_refused_403() -> None:
    with pytest.raises(PolicyViolation) as info:
        policy.resolve_stream("broadcast", allowed_streams=["transactional"])
    assert info.value.code == "stream_not_allowed"
    assert info.value.http_status == 403
    assert info.value.smtp_reply == (
        "550 5.7.1 stream_not_allowed: this API key is not allowed to send to the broadcast stream"
    )


def test_invalid_stream_reply_stays_one_printable_line() -> None:
    with pytest.raises(PolicyViolation) as info:
        policy.resolve_stream("bad\r\nRCPT TO:<x@y>\u00e9" + "x" * 100)
    reply = info.value.smtp_reply
    assert "\r" not in reply and "\n" not in reply
    assert reply.isascii()


@pytest.mark.parametrize(
    ("stream", "header", "expected"),
    [
        ("transactional", None, False),
        ("broadcast", None, True),
        ("transactional", "TRUE", True),
        ("broadcast", "False", False),
        ("broadcast", "yes", True),  # other values are ignored
        ("transactional", "1", False),
    ],
)
def test_tracking_defaults_by_stream_and_header_overrides_only_true_or_false(
    stream: str, header: str | None, expected: bool
) -> None:
    assert policy.resolve_tracking(stream, header) is expected


def test_missing_scope_and_size_map_to_403_and_413_552() -> None:
    with pytest.raises(PolicyViolation) as scope:
        policy.check_scope([])
    assert (scope.value.code, scope.value.http_status) == ("missing_scope", 403)
    assert scope.value.smtp_reply == "550 5.7.1 missing_scope: this API key lacks the mail:send scope"
    policy.check_size(policy.MAX_MESSAGE_BYTES)
    with pytest.raises(PolicyViolation) as size:
        policy.check_size(policy.MAX_MESSAGE_BYTES + 1)
    assert (size.value.code, size.value.http_status) == ("message_too_large", 413)
    assert size.value.smtp_reply.startswith("552 5.3.4 message_too_large: ")
    assert policy.MAX_MESSAGE_BYTES == 26214400


def test_sandbox_allowlist_accepts_addresses_and_domains_and_names_the_refused_recipient() -> None:
    allow = ["ops@example.com", "@test.example", "other.example"]
    policy.check_sandbox(
        sandbox=True,
        daily_cap=10,
        sent_today=0,
        allowlist=allow,
        recipients=["OPS@example.com", "a@test.example", "b@other.example"],
    )
    with pytest.raises(PolicyViolation) as info:
        policy.check_sandbox(sandbox=True, daily_cap=10, sent_today=0, allowlist=allow, recipients=["eve@example.com"])
    assert info.value.code == "sandbox_recipient_not_allowed"
    assert info.value.http_status == 403
    assert "eve@example.com is not on it" in info.value.smtp_reply


def test_sandbox_daily_cap_counts_each_recipient_and_ignores_non_sandbox_accounts() -> None:
    policy.check_sandbox(
        sandbox=True, daily_cap=3, sent_today=1, allowlist=["x.example"], recipients=["a@x.example"] * 2
    )
    with pytest.raises(PolicyViolation) as info:
        policy.check_sandbox(
            sandbox=True, daily_cap=3, sent_today=2, allowlist=["x.example"], recipients=["a@x.example"] * 2
        )
    assert info.value.code == "sandbox_daily_cap"
    assert info.value.smtp_reply.startswith("550 5.7.1 sandbox_daily_cap: sandbox account reached its daily cap of 3")
    policy.check_sandbox(sandbox=False, daily_cap=0, sent_today=99, allowlist=[], recipients=["a@b.example"])


def test_decide_checks_scope_before_size_before_stream() -> None:
    with pytest.raises(PolicyViolation) as info:
        policy.decide(
            scopes=[], allowed_streams=["transactional"], stream_header="nope", tracking_header=None, size=10**9
        )
    assert info.value.code == "missing_scope"
    decision = policy.decide(
        scopes=["mail:send"],
        allowed_streams=policy.STREAMS,
        stream_header="broadcast",
        tracking_header="false",
        size=10,
    )
    assert decision == policy.Decision(stream="broadcast", tracking=False)
