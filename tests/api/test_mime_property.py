"""Any JSON a client may send either becomes a well-formed message or a 400 naming the field.

Unicode names and subjects, header values, attachments of any bytes: ``build_mime`` must never
raise, and what it builds must read back as what was asked for.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import string
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailconsole.api.errors import ApiError
from mailconsole.api.mime import build_mime
from mailconsole.api.schemas import parse_send_request
from mailconsole.clock import FixedClock

CLOCK = FixedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
local = st.text(string.ascii_lowercase + string.digits + "._+-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
domain = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(org|com|example)", fullmatch=True)
bare = st.builds(lambda lp, d: f"{lp}@{d}", local, domain)
# Lone surrogates (Cs) are valid in JSON strings: they must be refused, never crash.
name = st.text(st.characters(blacklist_categories=("Cc",)), max_size=30)
address = st.one_of(bare, st.builds(lambda n, a: f"{n} <{a}>", name, bare))
printable = st.text(st.characters(blacklist_categories=("Cc",)), max_size=200)
payloads = st.fixed_dictionaries(
    {"from": address, "to": st.one_of(address, st.lists(address, min_size=1, max_size=4))},
    optional={
        "cc": st.lists(address, max_size=3),
        "bcc": st.lists(address, max_size=3),
        "reply_to": address,
        "subject": printable,
        "text": st.text(max_size=500),
        "html": st.text(max_size=500),
        "headers": st.dictionaries(st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True), printable, max_size=3),
        "attachments": st.lists(
            st.fixed_dictionaries({"filename": st.text(min_size=1, max_size=30), "content": st.binary(max_size=300)}),
            max_size=2,
        ),
        "tracking": st.booleans(),
    },
)


def _lines(text: str) -> list[str]:
    """Lines without trailing blank ones: MIME bodies always end with a line break."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip() for line in lines]


def _encode(payload: dict[str, Any]) -> dict[str, Any]:
    if "attachments" in payload:
        payload = {
            **payload,
            "attachments": [
                {**a, "content": base64.b64encode(a["content"]).decode()} for a in payload["attachments"]
            ],
        }
    return payload


@settings(max_examples=150, deadline=None)
@given(payloads)
# Found by this test: a space at the point where a long non-ASCII value is folded was lost.
@example(payload={"from": "0@a.org", "to": "b@a.org", "text": "",
                  "headers": {"X-000000000000000": "0\U00010000\U00010000\U00010000\U00010000\U00010000"
                              "\U00010000\U00010000\U00010000 \xa1 \xa0"}})
@example(payload={"from": "0@a.org", "to": "b@a.org", "subject": "Grüße aus Köln " + "\U00010000" * 12 + " ¡ x"})
def test_any_valid_looking_json_builds_a_message_that_reads_back_or_is_refused_with_400(
    payload: dict[str, Any],
) -> None:
    try:
        request = parse_send_request(_encode(payload))
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "invalid_field"
        return
    raw = build_mime(request, CLOCK)
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    assert " ".join(str(parsed["Subject"] or "").split()) == " ".join(request.subject.split())
    assert parsed["Bcc"] is None
    for header, value in request.headers.items():
        assert " ".join(str(parsed[header]).split()) == " ".join(value.split())
    if request.text is not None:
        body = parsed.get_body(("plain",))
        assert body is not None
        assert _lines(body.get_content()) == _lines(request.text)
    if request.html is not None:
        body = parsed.get_body(("html",))
        assert body is not None
        assert _lines(body.get_content()) == _lines(request.html)
    attachments = list(parsed.iter_attachments())
    assert [a.get_content() for a in attachments] == [a.content for a in request.attachments]
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line endings throughout


def test_lone_surrogates_are_refused_naming_the_field() -> None:
    payload = {"from": "a@example.com", "to": ["b@example.org"], "text": "x", "subject": "\ud800"}
    try:
        parse_send_request(payload)
    except ApiError as exc:
        assert (exc.status, exc.message) == (400, "subject: contains a lone surrogate; send valid Unicode")
    else:
        raise AssertionError("a lone surrogate was accepted")
