"""VERP envelope senders: round trip, length limit, the authentication tag, and refusing
addresses that are not ours."""

from __future__ import annotations

import hmac
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailconsole.feedback import verp
from mailconsole.store.secrets import SecretBox

LOCAL = st.from_regex(r"[A-Za-z0-9._+=-]{1,30}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9]{1,12}\.(com|org|example)", fullmatch=True)
KEY = b"k" * 32
OTHER_KEY = b"o" * 32
BOUNCES = "bounces.sender.test"


@given(st.integers(min_value=0, max_value=10**12), LOCAL, DOMAIN)
def test_verp_round_trip_gives_back_message_and_recipient(message_id: int, local: str, domain: str) -> None:
    address = verp.encode(message_id, f"{local}@{domain}", BOUNCES, KEY)
    decoded = verp.decode(address, BOUNCES)
    assert decoded is not None
    assert decoded.message_id == message_id
    if decoded.recipient is not None:
        assert decoded.recipient == f"{local}@{domain}"
    assert verp.verify(decoded, KEY)
    assert len(address.rpartition("@")[0]) <= 64


def test_verp_address_looks_like_the_documented_form() -> None:
    address = verp.encode(1042, "alice@Example.com", "Bounces.Sender.Test", KEY)
    assert re.fullmatch(r"b-1042-[a-z2-7]{10}-alice=example\.com@bounces\.sender\.test", address), address


def test_long_recipient_keeps_only_the_message_id_and_its_tag() -> None:
    address = verp.encode(7, "a" * 60 + "@example.com", BOUNCES, KEY)
    decoded = verp.decode(address)
    assert decoded is not None and (decoded.message_id, decoded.recipient) == (7, None)
    assert address == f"b-7-{decoded.tag}@{BOUNCES}"
    assert verp.verify(decoded, KEY)


def test_tag_survives_an_mta_that_lower_cases_the_whole_address() -> None:
    address = verp.encode(1042, "Alice.Smith@example.com", BOUNCES, KEY)
    upper = verp.decode(address.upper(), BOUNCES)
    lower = verp.decode(address.lower(), BOUNCES)
    assert upper is not None and lower is not None
    assert verp.verify(upper, KEY) and verp.verify(lower, KEY)


def test_tag_from_another_installation_or_for_another_message_does_not_verify() -> None:
    ours = verp.decode(verp.encode(1042, "alice@example.com", BOUNCES, KEY))
    theirs = verp.decode(verp.encode(1042, "alice@example.com", BOUNCES, OTHER_KEY))
    assert ours is not None and theirs is not None
    assert not verp.verify(theirs, KEY)
    moved = verp.VerpAddress(1043, ours.recipient, ours.tag)  # the tag of 1042 on a guessed id
    assert not verp.verify(moved, KEY)
    rerouted = verp.VerpAddress(1042, "mallory@example.com", ours.tag)
    assert not verp.verify(rerouted, KEY)


def test_untagged_address_is_read_but_never_verifies() -> None:
    decoded = verp.decode(f"b-1042-alice=example.com@{BOUNCES}", BOUNCES)
    assert decoded == verp.VerpAddress(1042, "alice@example.com", None)
    assert not verp.verify(decoded, KEY)
    short = verp.decode(f"b-1042@{BOUNCES}", BOUNCES)
    assert short == verp.VerpAddress(1042, None, None)
    assert not verp.verify(short, KEY)


def test_tags_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verp.hmac, "compare_digest", spy)
    decoded = verp.decode(verp.encode(5, "bob@example.com", BOUNCES, KEY))
    assert decoded is not None and decoded.tag is not None
    assert verp.verify(decoded, KEY)
    assert compared == [(decoded.tag, decoded.tag)]


def test_check_prefers_a_verified_candidate_and_reports_why_others_were_refused() -> None:
    good = verp.encode(9, "carol@example.com", BOUNCES, KEY)
    bad = verp.encode(9, "carol@example.com", BOUNCES, OTHER_KEY)
    untagged = f"b-9-carol=example.com@{BOUNCES}"
    assert verp.check([bad, good], BOUNCES, KEY) == verp.VerpCheck(9, "")
    assert verp.check([bad, untagged], BOUNCES, KEY) == verp.VerpCheck(None, verp.BAD_TAG)
    assert verp.check([untagged], BOUNCES, KEY) == verp.VerpCheck(None, verp.UNTAGGED)
    assert verp.check(["postmaster@example.com"], BOUNCES, KEY) == verp.VerpCheck(None, "")


def test_the_key_is_per_installation_and_stable_across_restarts(tmp_path: Path) -> None:
    first = verp.key_from(SecretBox.from_data_dir(tmp_path / "a"))
    again = verp.key_from(SecretBox.from_data_dir(tmp_path / "a"))
    other = verp.key_from(SecretBox.from_data_dir(tmp_path / "b"))
    assert first == again and first != other and len(first) == 32


def test_decode_refuses_other_domains_and_plain_addresses() -> None:
    assert verp.decode("b-1-alice=example.com@elsewhere.test", BOUNCES) is None
    assert verp.decode("orders@sender.test") is None
    assert verp.decode("b-x-alice=example.com@bounces.sender.test") is None
