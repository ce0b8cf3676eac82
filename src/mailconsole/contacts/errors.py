"""The one exception the contact services raise for mistakes a person can fix."""

from __future__ import annotations

from mailconsole.domain.errors import InputError


class ContactError(InputError, ValueError):
    """Refused action; ``str(exc)`` is the sentence the console and CLI show."""
