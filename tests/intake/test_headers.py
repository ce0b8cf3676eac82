"""Header rewriting keeps every byte it does not mean to change."""

from __future__ import annotations

from mailconsole.intake import headers

RAW = (
    b"From: a@example.com\r\n"
    b"X-Mailconsole-Stream: broadcast\r\n"
    b"Subject: a long\r\n subject folded\r\n"
    b"x-mailconsole-tracking-enabled:\r\n\ttrue\r\n"
    b"\r\n"
    b"body line\r\nX-Mailconsole-Stream: in the body stays\r\n"
)


def test_routing_headers_are_removed_with_their_continuation_lines_and_body_is_untouched() -> None:
    out = headers.rewrite(RAW, remove=["X-Mailconsole-Stream", "X-Mailconsole-Tracking-Enabled"])
    assert out == (
        b"From: a@example.com\r\n"
        b"Subject: a long\r\n subject folded\r\n"
        b"\r\n"
        b"body line\r\nX-Mailconsole-Stream: in the body stays\r\n"
    )


def test_header_values_are_unfolded_and_case_insensitive() -> None:
    block = headers.HeaderBlock.parse(RAW)
    assert block.first("x-mailconsole-stream") == "broadcast"
    assert block.first("X-Mailconsole-Tracking-Enabled") == "true"
    assert block.first("Subject") == "a long subject folded"
    assert block.first("Missing") is None


def test_added_headers_use_the_message_line_endings() -> None:
    lf = b"Subject: x\n\nbody\n"
    assert headers.rewrite(lf, remove=[], add=[("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]) == (
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\nSubject: x\n\nbody\n"
    )


def test_message_without_blank_line_is_all_headers() -> None:
    assert headers.rewrite(b"Subject: x\r\nX-Mailconsole-Stream: y\r\n", remove=["x-mailconsole-stream"]) == (
        b"Subject: x\r\n"
    )

