"""One table from a server's answer to what it means: for the message and for the contact.

Every transport, the engine and the feedback parsers (DSN status codes) classify through here,
so "is this a hard bounce?" is decided in exactly one place.

Three questions are answered for each reply:

- ``kind``: accepted / transient (retry later) / permanent (do not retry this message);
- ``effect`` on the contact: ``hard_bounce`` (the address does not exist), ``soft_bounce``
  (mailbox full, temporarily unavailable), ``policy_block`` (the receiver refuses *us*: our IP,
  our domain, our reputation, our authentication) or ``none``;
- ``server_fault``: the outcome says something about the sending server, not the recipient,
  so it feeds the server's circuit breaker and never the contact's status.

A reputation block (``550 5.7.1 … IP … blocked``, ``554 … blocklisted``) is a ``policy_block``
with ``server_fault``: a contact must never be blocklisted because our server is.

``ResultKind`` lives in ``domain.results``; the transports return that very enum
(``SendResult.accepted`` compares by identity).
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import Literal

from mailconsole.domain.results import ResultKind

Effect = Literal["hard_bounce", "soft_bounce", "policy_block", "none"]


@dataclass(frozen=True)
class Classification:
    kind: ResultKind
    effect: Effect
    server_fault: bool
    reason: str = ""  # a short label for people: "mailbox does not exist", "connection refused"


_ENHANCED_RE = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")

# Words a receiver uses when it refuses the *sender* (IP, domain, reputation, authentication)
# rather than the recipient. Matched case-insensitively as whole words or phrases.
_POLICY_RE = re.compile(
    r"\b(ip|client host|reputation|block ?list(ed)?|black ?list(ed)?|listed|spamhaus|rbl|dnsbl|"
    r"barracuda|spamcop|sorbs|blocked|banned|policy|spf|dkim|dmarc|not authori[sz]ed|"
    r"relay(ing)? (denied|not permitted|access denied)|rate ?limit(ed)?|too many|spam)\b",
    re.IGNORECASE,
)
# Words that mean the recipient address itself is bad, even under a policy-looking code.
_NO_MAILBOX_RE = re.compile(
    r"\b(user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|"
    r"mailbox (not found|unavailable)|unknown recipient|invalid recipient|recipient not found|"
    r"address rejected)\b",
    re.IGNORECASE,
)

# Enhanced status code subject.detail (RFC 3463, RFC 5248) -> (effect, server_fault, reason).
# Looked up with the exact detail first, then the subject with detail None.
_ENHANCED_TABLE: dict[tuple[int, int | None], tuple[Effect, bool, str]] = {
    (1, 0): ("hard_bounce", False, "bad address"),
    (1, 1): ("hard_bounce", False, "mailbox does not exist"),
    (1, 2): ("hard_bounce", False, "recipient domain does not exist"),
    (1, 3): ("hard_bounce", False, "bad recipient address syntax"),
    (1, 4): ("none", False, "ambiguous recipient address"),
    (1, 5): ("none", False, "recipient address valid"),
    (1, 6): ("hard_bounce", False, "mailbox has moved"),
    (1, 7): ("none", True, "bad sender address syntax"),
    (1, 8): ("none", True, "bad sender domain"),
    (1, 10): ("hard_bounce", False, "recipient domain accepts no mail (null MX)"),
    (1, None): ("hard_bounce", False, "bad address"),
    (2, 0): ("soft_bounce", False, "mailbox problem"),
    (2, 1): ("hard_bounce", False, "mailbox disabled"),
    (2, 2): ("soft_bounce", False, "mailbox full"),
    (2, 3): ("none", False, "message too large for the mailbox"),
    (2, 4): ("none", False, "mailing list expansion problem"),
    (2, None): ("soft_bounce", False, "mailbox problem"),
    (3, 4): ("none", False, "message too large"),
    (3, None): ("none", False, "receiving mail system problem"),
    (4, 1): ("soft_bounce", False, "no answer from the recipient's host"),
    (4, 4): ("soft_bounce", False, "unable to route to the recipient's domain"),
    (4, 7): ("soft_bounce", False, "delivery time expired"),
    (4, None): ("soft_bounce", False, "network or routing problem"),
    (5, None): ("none", True, "protocol error"),
    (6, None): ("none", False, "message content problem"),
    (7, 0): ("policy_block", True, "refused by the receiver's policy"),
    (7, 1): ("policy_block", True, "delivery not authorised by the receiver's policy"),
    (7, 8): ("none", True, "authentication credentials rejected"),
    (7, None): ("policy_block", True, "refused by the receiver's security policy"),
}

# Basic reply codes without an enhanced code -> (effect, server_fault, reason).
_BASIC_TABLE: dict[int, tuple[Effect, bool, str]] = {
    421: ("none", True, "receiving service not available"),
    450: ("soft_bounce", False, "mailbox unavailable"),
    451: ("none", False, "local error at the receiver"),
    452: ("none", False, "insufficient storage at the receiver"),
    454: ("none", True, "TLS or authentication temporarily unavailable"),
    500: ("none", True, "syntax error"),
    501: ("none", True, "syntax error in parameters"),
    502: ("none", True, "command not implemented"),
    503: ("none", True, "bad sequence of commands"),
    504: ("none", True, "parameter not implemented"),
    521: ("hard_bounce", False, "recipient domain accepts no mail"),
    530: ("none", True, "authentication required"),
    534: ("none", True, "authentication mechanism too weak"),
    535: ("none", True, "authentication credentials rejected"),
    550: ("hard_bounce", False, "mailbox unavailable"),
    551: ("hard_bounce", False, "user not local"),
    552: ("soft_bounce", False, "mailbox storage exceeded"),
    553: ("hard_bounce", False, "mailbox name not allowed"),
    554: ("none", False, "transaction failed"),
    556: ("hard_bounce", False, "recipient domain accepts no mail"),
}


def _kind_for(code: int | None, enhanced_class: int | None) -> ResultKind:
    first = code // 100 if code is not None else enhanced_class
    if first == 2:
        return ResultKind.ACCEPTED
    if first == 4:
        return ResultKind.TRANSIENT
    if first == 5:
        return ResultKind.PERMANENT
    # No code at all, or a nonsense one: retrying is the safe choice.
    return ResultKind.TRANSIENT


def split_enhanced(text: str) -> str | None:
    """The enhanced status code at the start of a reply text ("5.1.1 no such user"), if any."""
    match = _ENHANCED_RE.match(text or "")
    return f"{match.group(1)}.{match.group(2)}.{match.group(3)}" if match else None


def _apply_text(
    effect: Effect, server_fault: bool, reason: str, text: str, *, policy_codes: bool
) -> tuple[Effect, bool, str]:
    """Refine an ambiguous code with the reply's words.

    ``policy_codes``: the code itself is a policy one (5.7.x): only explicit "no such user"
    words turn it into a hard bounce. Otherwise (plain 550/554): policy words turn a would-be
    hard bounce into a policy block against the server.
    """
    if policy_codes:
        if _NO_MAILBOX_RE.search(text):
            return "hard_bounce", False, "mailbox does not exist"
        return effect, server_fault, reason
    if _POLICY_RE.search(text) and not _NO_MAILBOX_RE.search(text):
        return "policy_block", True, "refused by the receiver's policy (sender, IP or reputation)"
    return effect, server_fault, reason


def classify_smtp(code: int | None, enhanced: str | None, text: str) -> Classification:
    """Classify one SMTP reply (basic code, optional enhanced code, text).

    The enhanced code, when present, decides the effect; the basic code decides the kind
    (a 4xx is never permanent, whatever the enhanced code claims). An enhanced code missing
    from ``enhanced`` is looked for at the start of ``text``.
    """
    text = text or ""
    enhanced = enhanced or split_enhanced(text)
    enh_class: int | None = None
    subject: int | None = None
    detail: int | None = None
    if enhanced:
        match = _ENHANCED_RE.match(enhanced)
        if match:
            enh_class, subject, detail = (int(g) for g in match.groups())
    kind = _kind_for(code, enh_class)
    if kind is ResultKind.ACCEPTED:
        return Classification(kind, "none", False, "accepted")

    effect: Effect
    if subject is not None:
        entry = _ENHANCED_TABLE.get((subject, detail)) or _ENHANCED_TABLE.get((subject, None))
        effect, server_fault, reason = entry or ("none", False, "unrecognised status code")
        if subject == 7:
            effect, server_fault, reason = _apply_text(effect, server_fault, reason, text, policy_codes=True)
        elif (subject, detail) in ((1, 0), (2, 0)):
            effect, server_fault, reason = _apply_text(effect, server_fault, reason, text, policy_codes=False)
    else:
        entry = _BASIC_TABLE.get(code or 0)
        if entry is None:
            effect, server_fault, reason = ("none", False, "unrecognised reply")
        else:
            effect, server_fault, reason = entry
        if code in (550, 553, 554, 450, 451, 421):
            effect, server_fault, reason = _apply_text(effect, server_fault, reason, text, policy_codes=False)

    # A temporary answer never proves the address is gone: at most a soft bounce.
    if kind is ResultKind.TRANSIENT and effect == "hard_bounce":
        effect = "soft_bounce"
    return Classification(kind, effect, server_fault, reason)


def classify_status(enhanced: str, diagnostic: str = "") -> Classification:
    """Classify a DSN ``Status:`` (e.g. "5.1.1") with its ``Diagnostic-Code`` text.

    The diagnostic often carries the remote SMTP reply ("smtp; 550 5.7.1 … blocked"); its basic
    code is used when present so the same table applies.
    """
    diag = (diagnostic or "").strip()
    if diag.lower().startswith("smtp;"):
        diag = diag[5:].strip()
    code: int | None = None
    match = re.match(r"^([245]\d\d)[\s-]", diag)
    if match:
        code = int(match.group(1))
        diag = diag[4:].strip()
    status = (enhanced or "").strip()
    return classify_smtp(code, status or None, diag)


# Transport errors, by exception class name (so this module needs no network library).
_ERROR_NAMES: tuple[tuple[str, str], ...] = (
    ("SMTPAuthenticationError", "authentication failed"),
    ("SMTPNotSupported", "server does not support a required extension (e.g. STARTTLS)"),
    ("SSLCertVerificationError", "TLS certificate verification failed"),
    ("SSLError", "TLS failure"),
    ("ConnectionRefusedError", "connection refused"),
    ("ConnectionResetError", "connection reset"),
    ("SMTPConnectTimeoutError", "connection timed out"),
    ("SMTPReadTimeoutError", "timed out waiting for the server"),
    ("SMTPTimeoutError", "timed out"),
    ("TimeoutError", "timed out"),
    ("gaierror", "server name does not resolve"),
    ("SMTPServerDisconnected", "server closed the connection"),
    ("SMTPConnectError", "cannot connect"),
    ("ConnectionError", "connection error"),
    ("OSError", "network error"),
)


def classify_transport_error(exc: BaseException) -> Classification:
    """A failure to talk to the server at all: always transient and always the server's fault.

    Refused, reset, timed out, TLS or authentication failures say nothing about the recipient,
    so the message is retried (on another server of the group when possible) and the contact
    is left alone.
    """
    # Libraries wrap the OS error (aiosmtplib's SMTPConnectError from ConnectionRefusedError):
    # look through the cause chain so the most specific reason wins.
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 5:
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = {cls.__name__ for item in chain for cls in type(item).__mro__}
    if "OSError" not in names and ("UnicodeError" in names or "ValueError" in names):
        # Raised before a byte went out (aiosmtplib refuses a non-ASCII envelope without
        # SMTPUTF8 and a control character in a command argument): this message can never be
        # put on the wire as it is, on any server. It is the message's fault, not the server's,
        # so it must not feed the breaker or the cap.
        return Classification(ResultKind.PERMANENT, "none", False, "the message cannot be put on the wire")
    if any(isinstance(item, ssl.SSLCertVerificationError) for item in chain):
        names.add("SSLCertVerificationError")
    for name, reason in _ERROR_NAMES:
        if name in names:
            return Classification(ResultKind.TRANSIENT, "none", True, reason)
    return Classification(ResultKind.TRANSIENT, "none", True, f"unexpected error ({type(exc).__name__})")
