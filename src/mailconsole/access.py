"""Who is acting: the ``Actor`` for a person at this terminal, or for an API key.

The role comes from the settings' role table (``roles``: OS user or ``key:<prefix>`` -> role),
with ``default_role`` for anyone not listed; a role asked for on the command line may only
lower it. The console and the CLI build their actor here and hand it to every service.
"""

from __future__ import annotations

import getpass

from mailconsole.domain.roles import Actor, Interface, Role, role_for
from mailconsole.settings import Settings


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def local_actor(settings: Settings, interface: Interface, requested: Role | str | None = None) -> Actor:
    """The OS user running this process, with the role the table grants (or lower, if asked)."""
    who = os_user()
    granted = Actor(who, role_for(who, settings.roles, settings.default_role), interface)
    return granted.lowered_to(requested)


def key_actor(settings: Settings, prefix: str) -> Actor:
    """An API key acting through the HTTP API, named by its prefix (never its secret)."""
    who = f"key:{prefix}"
    return Actor(who, role_for(who, settings.roles, settings.default_role), Interface.API)
