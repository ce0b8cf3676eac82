"""One entry point from raw mailbox bytes to a ParsedMail: ARF first, then DSN, then the
plain-text heuristics; anything else is unknown and must be kept for a person."""

from __future__ import annotations

from mailconsole.feedback import arf, dsn, heuristic, mime
from mailconsole.feedback.model import ParsedMail


def parse_message(raw: bytes) -> ParsedMail:
    try:
        msg = mime.load(raw)
    except Exception as exc:  # compat32 is lenient, but a broken MIME tree must not stop a poll
        return ParsedMail(kind="unknown", format="none", reason=f"cannot read the message: {exc}")
    for parser in (arf.parse, dsn.parse, heuristic.parse):
        try:
            result = parser(msg)
        except Exception as exc:  # one odd report is kept, not fatal
            return ParsedMail(kind="unknown", format="none", reason=f"parser error: {exc}")
        if result is not None:
            return result
    return ParsedMail(
        kind="unknown",
        format="none",
        envelope_candidates=mime.envelope_candidates(msg),
        reason="not a delivery status notification, feedback report or recognisable bounce",
    )
