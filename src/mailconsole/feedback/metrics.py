"""Counters for the feedback loop, exported on /metrics by the HTTP server.

Module-level so every route and poller in a process adds to the same series; refused
webhooks are counted here (never stored: an attacker must not be able to fill the database).
"""

from __future__ import annotations

from prometheus_client import Counter

FEEDBACK_EVENTS = Counter(
    "mailconsole_feedback_events_total",
    "Feedback reports recorded, by source and kind (duplicates excluded).",
    ["source", "kind"],
)
FEEDBACK_DUPLICATES = Counter(
    "mailconsole_feedback_duplicates_total",
    "Feedback reports ignored because the same report was already recorded.",
    ["source"],
)
WEBHOOK_REFUSED = Counter(
    "mailconsole_webhook_refused_total",
    "Webhook requests refused (unsigned, bad signature, stale, replayed, malformed).",
    ["provider", "reason"],
)
FORGED_VERP = Counter(
    "mailconsole_feedback_forged_verp_total",
    "Bounce reports ignored because the VERP address they came to did not verify (untagged or bad tag).",
    ["reason"],
)
UNPARSED_MAIL = Counter(
    "mailconsole_unparsed_mail_total",
    "Bounce-mailbox items kept because they could not be parsed.",
    ["mailbox"],
)


def refused_count(provider: str, reason: str | None = None) -> float:
    """Current count of refused requests (for tests and the console)."""
    total = 0.0
    for metric in WEBHOOK_REFUSED.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            if sample.labels.get("provider") != provider:
                continue
            if reason is not None and sample.labels.get("reason") != reason:
                continue
            total += sample.value
    return total


def forged_verp_count(reason: str | None = None) -> float:
    """Current count of reports refused for a forged VERP address (for tests and the console)."""
    total = 0.0
    for metric in FORGED_VERP.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and (reason is None or sample.labels.get("reason") == reason):
                total += sample.value
    return total
