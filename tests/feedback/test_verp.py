"""VERP envelope senders: round trip, length limit, and refusing addresses that are not ours."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailconsole.feedback import verp

LOCAL = st.from_regex(r"[A-Za-z0-9._+=-]{1,30}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9]{1,12}\.(com|org|example)", fullmatch=True)


@given(st.integers(min_value=0, max_value=10**12), LOCAL, DOMAIN)
def test_verp_round_trip_gives_back_message_and_recipient(message_id: int, local: str, domain: str) -> None:
    address = verp.encode(message_id, f"{local}@{domain}", "bounces.sender.test")
    decoded = verp.decode(address, "bounces.sender.test")
    assert decoded is not None
    assert decoded.message_id == message_id
    if decoded.recipient is not None:
        assert decoded.recipient == f"{local}@{domain}"
    assert len(address.rpartition("@")[0]) <= 64


def test_verp_address_looks_like_the_documented_form() -> None:
    address = verp.encode(1042, "alice@Example.com", "Bounces.Sender.Test")
    assert address == "b-1042-alice=example.com@bounces.sender.test"


def test_long_recipient_keeps_only_the_message_id() -> None:
    address = verp.encode(7, "a" * 60 + "@example.com", "bounces.sender.test")
    assert address == "b-7@bounces.sender.test"
    assert verp.decode(address) == verp.VerpAddress(7, None)


def test_decode_refuses_other_domains_and_plain_addresses() -> None:
    assert verp.decode("b-1-alice=example.com@elsewhere.test", "bounces.sender.test") is None
    assert verp.decode("orders@sender.test") is None
    assert verp.decode("b-x-alice=example.com@bounces.sender.test") is None
