"""Who may do what. One table, checked by the console, the CLI and the services alike."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    VIEWER = "viewer"
    SUPPORT = "support"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    VIEW = "view"
    CONTACT_ACTION = "contact_action"  # check again, request safelist, edit address
    REVIEW = "review"  # approve / reject safelist requests
    CONTACT_BULK = "contact_bulk"  # act on a filtered selection of contacts, import contacts
    QUEUE_ACTION = "queue_action"  # hold, release, retry, cancel
    CONFIG = "config"  # servers, identity, domains, API keys


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.SUPPORT: frozenset({Permission.VIEW, Permission.CONTACT_ACTION}),
    Role.ADMIN: frozenset(Permission),
}


class PermissionDenied(Exception):
    def __init__(self, role: Role, permission: Permission) -> None:
        super().__init__(f"the {role.value} role may not do this ({permission.value}); ask an admin")
        self.role = role
        self.permission = permission


def allowed(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


def require(role: Role, permission: Permission) -> None:
    if not allowed(role, permission):
        raise PermissionDenied(role, permission)
