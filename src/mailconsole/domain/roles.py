"""Who may do what. One table, checked by the services for the ``Actor`` each call carries.

The console and the CLI never decide a permission themselves: they build an ``Actor`` (who,
role, interface), pass it into the service, and show the ``PermissionDenied`` it raises. The
role comes from the settings' role table (OS user or API key -> role), never from a flag: a
flag such as ``--role`` may only lower it (``Actor.lowered_to``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from mailconsole.domain.errors import InputError, Refused


class Role(enum.StrEnum):
    VIEWER = "viewer"
    SUPPORT = "support"
    ADMIN = "admin"


# Lowest first: a role may look as any role at or below it, never above.
_RANK = {Role.VIEWER: 0, Role.SUPPORT: 1, Role.ADMIN: 2}


class Interface(enum.StrEnum):
    """Where an action came from; written into the audit log beside the person."""

    CONSOLE = "console"
    CLI = "cli"
    API = "api"
    SYSTEM = "system"  # the process itself: demo seeding, housekeeping, the engine


class Permission(enum.StrEnum):
    VIEW = "view"
    CONTACT_ACTION = "contact_action"  # check again, request safelist, edit address
    REVIEW = "review"  # approve / reject safelist requests
    CONTACT_BULK = "contact_bulk"  # act on a filtered selection of contacts, import contacts
    QUEUE_ACTION = "queue_action"  # hold, release, retry, cancel
    CONFIG = "config"  # servers, identity, domains, API keys, bounce mailbox poll


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.SUPPORT: frozenset({Permission.VIEW, Permission.CONTACT_ACTION}),
    Role.ADMIN: frozenset(Permission),
}


class PermissionDenied(Refused):
    def __init__(self, role: Role, permission: Permission) -> None:
        super().__init__(f"the {role.value} role may not do this ({permission.value}); ask an admin")
        self.role = role
        self.permission = permission


class RoleError(InputError, ValueError):
    """A role request that would raise the caller above the role the settings give them."""


def allowed(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


def require(role: Role, permission: Permission) -> None:
    if not allowed(role, permission):
        raise PermissionDenied(role, permission)


@dataclass(frozen=True, slots=True)
class Actor:
    """The party a service acts for: checked against the table, named in the audit log."""

    who: str  # the OS user, or ``key:<prefix>`` for an API key
    role: Role
    interface: Interface

    @property
    def label(self) -> str:
        """How contact logs and safelist requests name the actor (``support:alice``)."""
        return f"{self.role.value}:{self.who}"

    def may(self, permission: Permission) -> bool:
        return allowed(self.role, permission)

    def require(self, permission: Permission) -> None:
        require(self.role, permission)

    def lowered_to(self, role: Role | str | None) -> Actor:
        """This actor looking as ``role``; refused when that is above the granted role."""
        if role is None:
            return self
        wanted = Role(role)
        if _RANK[wanted] > _RANK[self.role]:
            raise RoleError(
                f"{self.who} has the {self.role.value} role; --role may only lower it, not raise it to {wanted.value}"
            )
        return Actor(self.who, wanted, self.interface)


# The process acting on its own behalf (demo seeding, summaries, tests of the services).
SYSTEM = Actor("mailconsole", Role.ADMIN, Interface.SYSTEM)


def role_for(who: str, table: Mapping[str, str], default: Role | str) -> Role:
    """The role the settings' role table gives ``who`` (an OS user or ``key:<prefix>``)."""
    raw = table.get(who)
    try:
        return Role(raw if raw is not None else default)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise RoleError(f"role table: {raw or default!r} for {who} is not a role ({choices})") from None
