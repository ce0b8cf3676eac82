"""Elastic Email's HTTP Web Notifications.

Format (Elastic Email help centre, "Notification Settings" / "How to manage HTTP Web
Notifications", https://help.elasticemail.com/en/articles/4804685-notification-settings): a
``GET`` to the notification URL with the URL parameters ``from``, ``to``, ``date``, ``subject``,
``status`` (Sent, Opened, Clicked, Error, AbuseReport, Unsubscribed), ``channel``, ``account``,
``category`` (the bounce category: Ignore, Spam, BlackListed, NoMailbox, GreyListed, Throttled,
Timeout, ConnectionProblem, SPFProblem, AccountProblem, DNSProblem, WhitelistingProblem,
CodeError, ManualCancel, ConnectionTerminated, ContentFilter, NotDelivered, Unknown),
``messageid`` (the MessageID the send API returned, which we store) and ``transaction``.
A form-encoded ``POST`` with the same fields is read the same way.

Elastic Email does not sign notifications, so the operator puts a secret of ours in the
notification URL (``?secret=…``); a request without it is refused before anything is read.
Only the categories that are the recipient's doing change the contact: a full or unknown
mailbox is, a greylisting, throttle or SPF problem is ours or the receiver's policy.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.providers.common import WebhookRefused, not_configured, unsigned

SECRET_PARAMETER = "secret"

# category -> (kind, effect); None lets the status/diagnostic decide.
_CATEGORIES: dict[str, tuple[str, str]] = {
    "nomailbox": ("bounce", "hard_bounce"),
    "notdelivered": ("bounce", "soft_bounce"),
    "dnsproblem": ("bounce", "soft_bounce"),
    "spam": ("bounce", "policy_block"),
    "blacklisted": ("bounce", "policy_block"),
    "contentfilter": ("bounce", "policy_block"),
    "spfproblem": ("bounce", "policy_block"),
    "whitelistingproblem": ("bounce", "policy_block"),
    "greylisted": ("delay", "none"),
    "throttled": ("delay", "none"),
    "timeout": ("delay", "none"),
    "connectionproblem": ("delay", "none"),
    "connectionterminated": ("delay", "none"),
}


def verify(secret: str, given: str) -> None:
    if not secret:
        raise not_configured("Elastic Email")
    if not given:
        raise unsigned(f"the notification URL has no {SECRET_PARAMETER} parameter")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise WebhookRefused(403, "bad_credentials", f"the {SECRET_PARAMETER} parameter is wrong")


def reports(params: Mapping[str, str]) -> list[FeedbackReport]:
    """The contact-relevant notifications (Error, AbuseReport, Unsubscribed); Sent, Opened and
    Clicked say nothing about the contact."""
    status = params.get("status", "").strip().lower()
    recipient = params.get("to", "").strip()
    if not recipient:
        return []
    provider_id = params.get("messageid", "").strip()
    category = params.get("category", "").strip()
    key = f"{provider_id or params.get('transaction', '')}:{status}:{category}"

    def make(kind: str, diagnostic: str, effect: str) -> FeedbackReport:
        return FeedbackReport("elasticemail", kind, recipient, "", diagnostic, effect=effect,
                              provider_message_id=provider_id, event_key=key)

    if status == "error":
        kind, effect = _CATEGORIES.get(category.lower(), ("unknown", "none"))
        return [make(kind, f"Elastic Email: Error, category {category or 'none'}", effect)]
    if status == "abusereport":
        return [make("complaint", "Elastic Email: AbuseReport", "complaint")]
    if status == "unsubscribed":
        return [make("unsubscribe", "Elastic Email: Unsubscribed", "unsubscribe")]
    if not status:
        raise WebhookRefused(400, "malformed", "the notification has no status parameter")
    return []
