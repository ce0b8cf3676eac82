"""A DMARC policy record read by RFC 7489 §6.3-§6.4 and §6.6.3, as receivers read it.

Pure: the TXT strings in, what a receiver makes of them out. The rules that matter for the
verdict an admin sees:

- Only a record whose first tag is ``v=DMARC1`` is one (§6.6.3 step 4). The grammar allows
  whitespace around ``=`` and ``;`` (``v = DMARC1; p = reject``); the value ``DMARC1`` is
  written as %x44 %x4d ... in the ABNF, so it is case-sensitive: ``v=dmarc1`` is not a record.
- Several records, or none, mean no DMARC policy at all (step 5).
- A record without a valid ``p=`` (or, for the subdomain case, with an invalid ``sp=``) is
  applied as ``p=none`` when its ``rua=`` holds at least one valid URI, else ignored (step 6).
- Unknown tags are ignored (§6.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POLICIES = ("none", "quarantine", "reject")
_WSP = " \t"
_VERSION = re.compile(r"^[vV][ \t]*=[ \t]*DMARC1$")
_LOOKALIKE = re.compile(r"^[ \t]*v[ \t]*=[ \t]*dmarc", re.IGNORECASE)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s!]+(?:![0-9]+[kmgtKMGT]?)?$")


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """One parsed record. ``policy``/``subdomain_policy`` are None when absent or invalid."""

    text: str
    tags: dict[str, str]
    policy: str | None
    subdomain_policy: str | None
    rua_valid: bool

    @property
    def p_problem(self) -> str:
        """Why ``p=`` is not usable ("" when it is)."""
        if self.policy is not None:
            return ""
        return "has no p= tag" if "p" not in self.tags else f"has p={self.tags['p']} (not none, quarantine or reject)"

    @property
    def sp_invalid(self) -> bool:
        return "sp" in self.tags and self.subdomain_policy is None

    def applied(self, *, subdomain: bool) -> tuple[str, str] | None:
        """(tag, policy) a receiver applies, RFC 7489 §6.6.3 step 6; None: no DMARC processing.

        ``subdomain``: the record was found at the organisational domain of the sending
        domain, so ``sp=`` (when present) is the policy.
        """
        if self.policy is None or (subdomain and self.sp_invalid):
            return ("p", "none") if self.rua_valid else None
        if subdomain and self.subdomain_policy is not None:
            return "sp", self.subdomain_policy
        return "p", self.policy


def _policy(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.lower()
    return lowered if lowered in POLICIES else None


def _valid_uri(entry: str) -> bool:
    text = entry.strip(_WSP)
    if not _URI.match(text):
        return False
    if text.lower().startswith("mailto:"):
        local, at, domain = text[7:].split("!", 1)[0].partition("@")
        return bool(local and at and "." in domain)
    return True


def parse_record(text: str) -> DmarcRecord | None:
    """The record ``text`` as a receiver reads it; None when it is not a DMARC record."""
    parts = text.split(";")
    if not _VERSION.match(parts[0].strip(_WSP)) or parts[0][:1] not in "vV":
        return None
    tags: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        name = name.strip(_WSP).lower()
        if sep and name and name not in tags:
            tags[name] = value.strip(_WSP)
    rua = tags.get("rua", "")
    return DmarcRecord(
        text=text,
        tags=tags,
        policy=_policy(tags.get("p")),
        subdomain_policy=_policy(tags.get("sp")),
        rua_valid=any(_valid_uri(u) for u in rua.split(",")) if rua else False,
    )


def looks_like_dmarc(text: str) -> bool:
    """Starts like a DMARC record but is not one (``v=dmarc1``, ``v=DMARC1p=``): worth telling the admin."""
    return _LOOKALIKE.match(text) is not None and parse_record(text) is None


__all__ = ["POLICIES", "DmarcRecord", "looks_like_dmarc", "parse_record"]
