"""The pure contact rules: which statuses are mailable, what each outcome does, what a pass restores."""

from __future__ import annotations

import datetime as dt

import pytest

from mailconsole.domain.bubbles import bubble_for
from mailconsole.domain.contact_status import (
    ContactState,
    ContactStatus,
    is_mailable,
    on_check_passed,
    on_delivery_outcome,
)
from mailconsole.domain.safelist import auto_approves

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def apply(state: ContactState, effect: str) -> ContactState:
    return on_delivery_outcome(state, effect, "550 5.1.1 x", NOW, soft_bounce_threshold=3,
                               soft_bounce_window=dt.timedelta(hours=72)).state


def test_status_values_are_the_documented_strings() -> None:
    assert [s.value for s in ContactStatus] == ["active", "blocklisted", "spam_complaint", "multiple_soft_bounces"]


@pytest.mark.parametrize(("status", "safelisted", "mailable"), [
    ("active", False, True), ("blocklisted", False, False), ("spam_complaint", False, False),
    ("multiple_soft_bounces", False, False), ("blocklisted", True, True), ("spam_complaint", True, True),
])
def test_only_active_or_safelisted_contacts_are_mailable(status: str, safelisted: bool, mailable: bool) -> None:
    assert is_mailable(status, safelisted) is mailable


@pytest.mark.parametrize("effect", ["policy_block", "none", "delivered"])
def test_outcomes_that_are_not_the_contacts_fault_change_nothing(effect: str) -> None:
    state = ContactState()
    assert apply(state, effect) == state


def test_unknown_effect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown delivery effect 'bounced'"):
        apply(ContactState(), "bounced")


def test_soft_bounces_then_hard_bounce_keep_active_as_the_status_to_restore() -> None:
    state = ContactState()
    for _ in range(3):
        state = apply(state, "soft_bounce")
    assert (state.status, state.status_before_block) == ("multiple_soft_bounces", "active")
    state = apply(state, "hard_bounce")
    assert (state.status, state.status_before_block) == ("blocklisted", "active")
    assert on_check_passed(state).status == "active"


def test_auto_approval_is_strictly_after_the_configured_days() -> None:
    assert auto_approves(NOW - dt.timedelta(days=91), NOW, 90)
    assert not auto_approves(NOW - dt.timedelta(days=89), NOW, 90)


def test_bubble_for_a_spam_complaint_offers_safelist_but_no_check_again() -> None:
    bubble = bubble_for(status="spam_complaint", safelisted=False, reason="spam complaint", since=NOW,
                        last_message_at=None, last_message_summary="")
    assert (bubble.label, bubble.actions) == ("spam complaint", ("request_safelist", "edit"))
    assert bubble.tooltip.splitlines()[:4] == [
        "Status: spam complaint", "Reason: spam complaint", "Since: 2026-03-02 09:00 UTC", "Last message: none"]
