"""One root for every exception of ours, and a shallow tree a caller can branch on.

Like httpx's ``HTTPError`` family: ``except MailconsoleError`` catches everything we raise
on purpose, and the four branches say what kind of trouble it is. Each concrete class keeps
the standard base it had (``ValueError``, ``LookupError``, ``RuntimeError``), so existing
``except ValueError`` handlers behave as before.

    MailconsoleError
    ├── InputError         bad input a person can fix; the message says what (field, value)
    │   └── NotFound       no such thing (key, server, request, contact)
    ├── Refused            a rule says no: a role, a policy, a revoked key, a webhook signature
    ├── ConfigError        the installation is set up wrong (settings, TLS, database, secrets)
    └── TemporaryError     the world is not answering now (DNS, a mailbox); try again later
"""

from __future__ import annotations


class MailconsoleError(Exception):
    """Anything mailconsole raises on purpose."""


class InputError(MailconsoleError):
    """Input a person can fix; the message names what is wrong."""


class NotFound(InputError):
    """The thing named does not exist."""


class Refused(MailconsoleError):
    """A rule refuses the action (permissions, message policy, a revoked key)."""


class ConfigError(MailconsoleError):
    """The installation is configured wrongly; an operator has to fix a setting or file."""


class TemporaryError(MailconsoleError):
    """Something outside did not answer; the same action may work later."""


__all__ = ["ConfigError", "InputError", "MailconsoleError", "NotFound", "Refused", "TemporaryError"]
