"""Status bubble data: colour, label, tooltip text and available actions, from one function.

The console draws the bubble, the CLI prints the same tooltip text with ``contacts show`` and the
key that shows details without a mouse reuses it, so all three always say the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailconsole.domain.contact_status import ContactStatus, can_check_again
from mailconsole.domain.safelist import safelist_eligibility

LABELS: dict[str, str] = {
    ContactStatus.ACTIVE: "active",
    ContactStatus.BLOCKLISTED: "blocklisted",
    ContactStatus.SPAM_COMPLAINT: "spam complaint",
    ContactStatus.MULTIPLE_SOFT_BOUNCES: "soft bounces",
}

# Hex colours (terminal themes remap named ANSI colours); colour only where it means something.
COLOURS: dict[str, str] = {
    ContactStatus.ACTIVE: "#2e7d32",
    ContactStatus.BLOCKLISTED: "#c62828",
    ContactStatus.SPAM_COMPLAINT: "#8e24aa",
    ContactStatus.MULTIPLE_SOFT_BOUNCES: "#e65100",
}
SAFELISTED_COLOUR = "#1565c0"

ACTION_LABELS: dict[str, str] = {
    "check_again": "Check again",
    "request_safelist": "Request safelist",
    "edit": "Edit address",
}


@dataclass(frozen=True, slots=True)
class Bubble:
    status: str
    colour: str
    label: str
    tooltip: str
    actions: tuple[str, ...]  # keys of ACTION_LABELS, in display order


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def bubble_for(
    *,
    status: str,
    safelisted: bool,
    reason: str,
    since: dt.datetime | None,
    last_message_at: dt.datetime | None,
    last_message_summary: str,
    failed_check_since_block: bool = False,
    pending_request: bool = False,
) -> Bubble:
    """Everything a person needs to understand a contact's status at a glance, and what to do."""
    label = LABELS.get(status, status)
    colour = COLOURS.get(status, "#757575")
    if safelisted:
        label = "safelisted"
        colour = SAFELISTED_COLOUR
    actions: list[str] = []
    if can_check_again(status):
        actions.append("check_again")
    if safelist_eligibility(
        status,
        safelisted,
        failed_check_since_block=failed_check_since_block,
        pending_request=pending_request,
    ).ok:
        actions.append("request_safelist")
    actions.append("edit")
    status_line = LABELS.get(status, status) + (" (safelisted: mail goes out)" if safelisted else "")
    lines = [
        f"Status: {status_line}",
        f"Reason: {reason or '-'}",
        f"Since: {_when(since)}",
        "Last message: "
        + (f"{_when(last_message_at)} {last_message_summary}".strip() if last_message_at else "none"),
    ]
    if pending_request:
        lines.append("Safelist request waiting for review")
    if status == ContactStatus.SPAM_COMPLAINT:
        lines.append("Check again: not available for spam complaints")
    lines.append("Actions: " + ", ".join(ACTION_LABELS[a] for a in actions))
    return Bubble(status=status, colour=colour, label=label, tooltip="\n".join(lines), actions=tuple(actions))
