"""Bounces that are not RFC 3464 reports: qmail, old Exim, old Gmail and other plain-text
"mail delivery failed" messages.

Deliberately conservative: a message counts only if it clearly comes from a mail system
(null sender, MAILER-DAEMON/postmaster, X-Failed-Recipients, a bounce subject) and names a
recipient; anything else stays unknown so a person looks at it instead of a contact being
blocked on a guess.
"""

from __future__ import annotations

import re

from mailconsole.feedback import mime
from mailconsole.feedback.dsn import normalize_status, overall_kind
from mailconsole.feedback.model import ParsedMail, RecipientReport

_FROM_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (sub)?system", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status notification|failure|has failed)|failure notice"
    r"|mail delivery failed|delivery failed|not delivered|warning: could not send|delayed mail",
    re.I,
)
_DELAY_HINT = re.compile(r"\bdelay(ed)?\b|will (keep )?retry|not yet been delivered|still trying|temporar", re.I)
_QMAIL_RCPT = re.compile(r"^<([^<>\s]+@[^<>\s]+)>:\s*$", re.M)
_EXIM_FAILED = re.compile(
    r"(?:following address(?:\(es\))? failed|address(?:\(es\))? to which the message has not yet"
    r" been delivered (?:is|are)):\s*\n+((?:[ \t]+\S.*\n?)+)",
    re.I,
)
_GMAIL_FAILED = re.compile(
    r"(?:delivery to the following recipients? (?:failed|has been delayed)[^\n]*)\n+\s*([^\s@]+@[^\s@]+)", re.I
)
_SMTP_REPLY = re.compile(r"\b([245]\d\d)[ -]((?:[245]\.\d{1,3}\.\d{1,3})?[^\n]*)")
_QMAIL_CODE = re.compile(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")


def looks_like_bounce(msg: mime.Message) -> bool:
    return bool(
        msg.get("X-Failed-Recipients")
        or _FROM_DAEMON.search(mime.header(msg, "From"))
        or _BOUNCE_SUBJECT.search(mime.header(msg, "Subject"))
        or mime.header(msg, "Return-Path").strip() == "<>"
    )


def _body(msg: mime.Message) -> str:
    return "\n".join(mime.text_parts(msg)).replace("\r\n", "\n")


def _diagnostic_near(text: str) -> tuple[str, str]:
    """(status, diagnostic line) from the first SMTP reply or qmail (#x.y.z) in a section."""
    reply = _SMTP_REPLY.search(text)
    qmail = _QMAIL_CODE.search(text)
    if reply:
        line = f"{reply.group(1)} {reply.group(2)}".strip()
        return normalize_status(line) or _class_status(reply.group(1)), line
    if qmail:
        line = " ".join(text.split())
        return qmail.group(1), line
    return "", " ".join(text.split())[:500]


def _class_status(code: str) -> str:
    return f"{code[0]}.0.0" if code[:1] in "45" else ""


def _qmail(body: str) -> list[tuple[str, str]]:
    """qmail-send: '<addr>:' on its own line, then the remote's words until a blank line."""
    out = []
    matches = list(_QMAIL_RCPT.finditer(body))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        section = body[match.end():end].split("\n--- ", 1)[0]
        out.append((match.group(1), section))
    return out


def _exim(body: str) -> list[tuple[str, str]]:
    match = _EXIM_FAILED.search(body)
    if not match:
        return []
    lines = match.group(1).splitlines()
    out: list[tuple[str, str]] = []
    current: str | None = None
    detail: list[str] = []
    for line in lines:
        stripped = line.strip()
        addr = mime.clean_address(stripped) if "@" in stripped and " " not in stripped else ""
        if addr and len(line) - len(line.lstrip()) <= 2:
            if current:
                out.append((current, "\n".join(detail)))
            current, detail = addr, []
        elif current:
            detail.append(stripped)
    if current:
        out.append((current, "\n".join(detail)))
    return out


def parse(msg: mime.Message) -> ParsedMail | None:
    """Recipients and reasons from a plain-text bounce; None when it is not recognisably one."""
    if not looks_like_bounce(msg):
        return None
    body = _body(msg)
    delay = bool(_DELAY_HINT.search(mime.header(msg, "Subject"))) or bool(
        re.search(r"has been delayed|not yet been delivered|will (keep )?retry", body, re.I)
    )
    sections: list[tuple[str, str]] = _qmail(body) or _exim(body)
    if not sections:
        gmail = _GMAIL_FAILED.search(body)
        if gmail:
            sections = [(mime.clean_address(gmail.group(1)), body[gmail.end():])]
    if not sections:
        failed = mime.header(msg, "X-Failed-Recipients")
        sections = [(mime.clean_address(a), body) for a in failed.split(",") if mime.clean_address(a)]
    recipients = []
    for addr, section in sections:
        if not addr:
            continue
        status, diagnostic = _diagnostic_near(section)
        if status.startswith("4") or (delay and not status.startswith("5")):
            kind, action = "delay", "delayed"
        else:
            kind, action = "bounce", "failed"
        recipients.append(RecipientReport(addr, kind, action, status, diagnostic))
    original = mime.original_headers(msg)
    return ParsedMail(
        kind=overall_kind(recipients) if recipients else "unknown",
        format="heuristic",
        recipients=tuple(recipients),
        original_message_id=mime.header(original, "Message-ID") if original is not None else "",
        envelope_candidates=mime.envelope_candidates(msg),
        reason="" if recipients else "looks like a bounce but names no recipient we can read",
    )
