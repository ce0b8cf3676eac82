"""Contact statuses and the pure rules that move a contact between them.

No I/O here: the contact service loads a ``ContactState``, asks ``on_delivery_outcome`` (or
``on_check_passed`` / ``on_safelisted``) what happens, and writes the answer with its log entry.
Keeping the rules pure lets the engine, the feedback parsers and the console agree on one table
(DESIGN.md, "Contact statuses") and lets tests cover every transition without a database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass


class ContactStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKLISTED = "blocklisted"
    SPAM_COMPLAINT = "spam_complaint"
    MULTIPLE_SOFT_BOUNCES = "multiple_soft_bounces"


BLOCKED_STATUSES: frozenset[str] = frozenset(
    {ContactStatus.BLOCKLISTED, ContactStatus.SPAM_COMPLAINT, ContactStatus.MULTIPLE_SOFT_BOUNCES}
)

# The delivery effects the engine and the feedback parsers report.
EFFECTS: frozenset[str] = frozenset(
    {"hard_bounce", "soft_bounce", "complaint", "policy_block", "none", "delivered"}
)


def is_mailable(status: str, safelisted: bool) -> bool:
    """May the engine send to this contact? Active ones, and blocked ones put on the safelist."""
    return status == ContactStatus.ACTIVE or bool(safelisted)


def is_blocked(status: str) -> bool:
    return status in BLOCKED_STATUSES


def can_check_again(status: str) -> bool:
    """Check again re-verifies the address; a complaint is a person's choice, not an address fault."""
    return status in (ContactStatus.BLOCKLISTED, ContactStatus.MULTIPLE_SOFT_BOUNCES)


def can_request_safelist(status: str, safelisted: bool) -> bool:
    return status in BLOCKED_STATUSES and not safelisted


CHECK_AGAIN_REFUSAL = (
    "Check again is not available for spam complaints: the recipient marked your mail as spam; "
    "request a safelist instead"
)


@dataclass(frozen=True, slots=True)
class ContactState:
    """What the rules need to know about a contact (a plain copy of the row's fields)."""

    status: str = ContactStatus.ACTIVE
    status_before_block: str | None = None
    safelisted: bool = False
    soft_bounce_count: int = 0
    soft_bounce_window_start: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """The rules' answer: the new state, whether the status changed, and the log entry's words."""

    state: ContactState
    changed: bool  # the status or the safelist flag changed
    kind: str  # log entry kind: hard_bounce, soft_bounce, complaint, ...
    reason: str  # what the contact's status_reason becomes when changed
    log: bool  # write a log entry even without a status change (e.g. counted soft bounce)


def _blocked(state: ContactState, status: ContactStatus) -> ContactState:
    """Block a contact, remembering the status it had before the first block (to restore later)."""
    before = state.status_before_block if is_blocked(state.status) else state.status
    return dataclasses.replace(
        state, status=status, status_before_block=before or ContactStatus.ACTIVE, safelisted=False
    )


def on_delivery_outcome(
    state: ContactState,
    effect: str,
    reply_text: str,
    now: dt.datetime,
    *,
    soft_bounce_threshold: int,
    soft_bounce_window: dt.timedelta,
) -> Transition:
    """Apply one delivery outcome to a contact.

    - hard_bounce: blocklisted with the server's reply as the reason. A safelisted contact is
      blocklisted again (its safelist ends); a contact already blocklisted or complained stays.
    - soft_bounce: counted in a window; reaching the threshold makes an active contact
      ``multiple_soft_bounces``. Blocked or safelisted contacts only count.
    - complaint: spam_complaint (also ends a safelist).
    - policy_block, none, delivered: never change the status.
    """
    if effect not in EFFECTS:
        raise ValueError(f"unknown delivery effect {effect!r}; expected one of {sorted(EFFECTS)}")
    reply = (reply_text or "").strip()
    unchanged = Transition(state, False, effect, "", False)

    if effect == "hard_bounce":
        if state.status in (ContactStatus.BLOCKLISTED, ContactStatus.SPAM_COMPLAINT) and not state.safelisted:
            return Transition(state, False, effect, "", True)
        reason = f"hard bounce: {reply}" if reply else "hard bounce"
        if state.safelisted:
            reason = f"blocklisted again after safelist, {reason}"
        return Transition(_blocked(state, ContactStatus.BLOCKLISTED), True, effect, reason, True)

    if effect == "complaint":
        if state.status == ContactStatus.SPAM_COMPLAINT and not state.safelisted:
            return Transition(state, False, effect, "", True)
        reason = f"spam complaint: {reply}" if reply else "spam complaint"
        return Transition(_blocked(state, ContactStatus.SPAM_COMPLAINT), True, effect, reason, True)

    if effect == "soft_bounce":
        start = state.soft_bounce_window_start
        if start is None or now - start > soft_bounce_window:
            counted = dataclasses.replace(state, soft_bounce_count=1, soft_bounce_window_start=now)
        else:
            counted = dataclasses.replace(state, soft_bounce_count=state.soft_bounce_count + 1)
        if (
            counted.status == ContactStatus.ACTIVE
            and not counted.safelisted
            and counted.soft_bounce_count >= soft_bounce_threshold
        ):
            hours = int(soft_bounce_window.total_seconds() // 3600)
            reason = f"{counted.soft_bounce_count} soft bounces within {hours} hours"
            if reply:
                reason += f"; last: {reply}"
            blocked = _blocked(counted, ContactStatus.MULTIPLE_SOFT_BOUNCES)
            blocked = dataclasses.replace(blocked, soft_bounce_count=0, soft_bounce_window_start=None)
            return Transition(blocked, True, effect, reason, True)
        return Transition(counted, False, effect, "", True)

    return unchanged


def on_check_passed(state: ContactState) -> ContactState:
    """A passed Check again restores the status the contact had before it was blocked."""
    restored = state.status_before_block or ContactStatus.ACTIVE
    if is_blocked(restored):  # never "restore" into another block
        restored = ContactStatus.ACTIVE
    return dataclasses.replace(
        state,
        status=restored,
        status_before_block=None,
        safelisted=False,  # the address itself is fine again: no exception needed any more
        soft_bounce_count=0,
        soft_bounce_window_start=None,
    )


def on_safelisted(state: ContactState) -> ContactState:
    """An approved safelist keeps the status (so people see why) but makes the contact mailable."""
    return dataclasses.replace(state, safelisted=True, soft_bounce_count=0, soft_bounce_window_start=None)
