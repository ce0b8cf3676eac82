"""The relay's fast path for MAIL/RCPT addresses answers exactly as aiosmtpd's parser does.

``RelaySMTP._getaddr`` skips the RFC 5322 parser for plain ``<local@domain>`` paths; any
difference from aiosmtpd's answer would change which addresses the relay accepts.
"""

from __future__ import annotations

import warnings

from aiosmtpd.smtp import SMTP
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailconsole.intake.throttle import AuthThrottle
from mailconsole.relay.server import RelayHandler, RelaySMTP


def _pair() -> tuple[RelaySMTP, SMTP]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = RelaySMTP(RelayHandler(runtime=None), throttle=AuthThrottle())  # type: ignore[arg-type]
        theirs = SMTP(object())
    return ours, theirs


OURS, THEIRS = _pair()

_pieces = st.sampled_from(
    ["a", "Z", "0", ".", "..", "@", "<", ">", " ", "\t", "-", "_", "+", "=", "'", '"', "(", ")", "[", "]",
     ",", ";", ":", "\\", "é", "\x0b", "x.y", "example.com", "SIZE=10", "BODY=8BITMIME"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_pieces, max_size=14).map("".join))
@example("<user@example.com>")
@example("<first.last+tag@mail.example.co.uk> SIZE=1024 BODY=8BITMIME")
@example("  <a@b>")
@example("<.a@b>")
@example("<a..b@c>")
@example("<a@b..c>")
@example("<a@-b.c>")
@example("<>")
@example("<a@b> ")
def test_fast_path_agrees_with_aiosmtpd(arg: str) -> None:
    assert _answer(OURS, arg) == _answer(THEIRS, arg)


def _answer(server: SMTP, arg: str) -> object:
    """The parse, or the exception type (the stdlib parser raises IndexError on some input)."""
    try:
        return server._getaddr(arg)
    except Exception as exc:
        return type(exc)


def test_the_fast_path_is_taken_for_plain_addresses() -> None:
    from mailconsole.relay import server

    assert server._SIMPLE_PATH.fullmatch("<first.last+tag@mail.example.co.uk> SIZE=1")
    assert server._SIMPLE_PATH.fullmatch('<"quoted"@example.com>') is None  # left to aiosmtpd
