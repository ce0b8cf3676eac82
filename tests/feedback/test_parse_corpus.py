"""The parser against real-world bounce and complaint formats (tests/data/dsn/manifest.json)."""

from __future__ import annotations

from typing import Any

import pytest

from mailconsole.feedback.classify import effect_for
from mailconsole.feedback.parse import parse_message
from tests.feedback.helpers import CORPUS, manifest

SAMPLES = manifest()


def test_every_corpus_file_has_an_expectation() -> None:
    on_disk = {p.name for p in CORPUS.glob("*.eml")}
    assert on_disk == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_corpus_sample_parses_to_expected_recipient_and_status(name: str) -> None:
    expected: dict[str, Any] = SAMPLES[name]
    parsed = parse_message((CORPUS / name).read_bytes())
    out = parsed.to_json()
    assert out["kind"] == expected["kind"]
    assert out["format"] == expected["format"]
    assert out["recipient"] == expected["recipient"]
    assert out["status"] == expected["status"]
    assert out["action"] == expected["action"]
    if "recipients" in expected:
        assert [[r["recipient"], r["status"]] for r in out["recipients"]] == expected["recipients"]
    if expected["recipient"] is not None:
        assert out["diagnostic"], "a recognised report always carries its reason"


@pytest.mark.parametrize(
    ("name", "effects"),
    [
        ("postfix_user_unknown.eml", ["hard_bounce"]),
        ("postfix_delayed.eml", ["soft_bounce"]),
        ("postfix_two_recipients.eml", ["hard_bounce", "soft_bounce"]),  # unknown user; mailbox full
        ("exim_dsn.eml", ["hard_bounce"]),  # 5.0.0 but the remote said 550 5.1.1
        ("exchange_onprem_policy.eml", ["policy_block"]),  # refuses us, not the address
        ("qmail_no_mailbox.eml", ["hard_bounce"]),
        ("yahoo_arf_complaint.eml", ["complaint"]),
    ],
)
def test_corpus_sample_maps_to_the_contact_effect(name: str, effects: list[str]) -> None:
    parsed = parse_message((CORPUS / name).read_bytes())
    assert [effect_for(r.kind, r.status, r.diagnostic) for r in parsed.recipients] == effects


def test_arf_with_a_non_abuse_type_is_read_but_not_a_complaint() -> None:
    raw = (CORPUS / "yahoo_arf_complaint.eml").read_bytes().replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    parsed = parse_message(raw)
    assert parsed.format == "arf"
    assert parsed.kind == "unknown"
    assert parsed.reason == "feedback type not-spam is not a complaint"


def test_garbage_bytes_are_unknown_with_a_reason() -> None:
    parsed = parse_message(b"\x00\xff not mail at all")
    assert parsed.kind == "unknown"
    assert not parsed.understood
    assert parsed.reason
