"""Who may ask for a safelist, and when a request is approved without a person looking at it.

Pure rules: the service passes the facts (status, flags, the account's age) and acts on the
answer, so the console, the CLI and the tests explain a refusal in the same words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailconsole.domain.contact_status import ContactStatus, is_blocked


@dataclass(frozen=True, slots=True)
class Eligibility:
    ok: bool
    reason: str  # why not, for people; empty when ok


def safelist_eligibility(
    status: str, safelisted: bool, *, failed_check_since_block: bool, pending_request: bool
) -> Eligibility:
    """A safelist is the answer when the address cannot be fixed.

    Spam complaints may ask at once (Check again does not apply to them); blocklisted and
    multiple-soft-bounce contacts first need a failed Check again (DESIGN.md's table), so an
    address with a typo is fixed rather than safelisted.
    """
    if safelisted:
        return Eligibility(False, "the contact is already on the safelist")
    if not is_blocked(status):
        return Eligibility(False, f"the contact is {status}: only blocked contacts need a safelist")
    if pending_request:
        return Eligibility(False, "a safelist request for this contact is already waiting for review")
    if status != ContactStatus.SPAM_COMPLAINT and not failed_check_since_block:
        return Eligibility(
            False, "run Check again first: a safelist is offered when the check fails"
        )
    return Eligibility(True, "")


def auto_approves(account_created_at: dt.datetime, now: dt.datetime, days: int) -> bool:
    """Accounts older than ``days`` (90 by default) are trusted to safelist without review."""
    return now - account_created_at > dt.timedelta(days=days)
