"""The one exception the contact services raise for mistakes a person can fix."""

from __future__ import annotations


class ContactError(ValueError):
    """Refused action; ``str(exc)`` is the sentence the console and CLI show."""
