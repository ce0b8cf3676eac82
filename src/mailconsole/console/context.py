"""Typed access to what the app gives every pane: the Runtime and the operator's Actor, and
how a refusal is shown.

The services check every permission for the ``Actor`` they are given and raise
``PermissionDenied``; panes pass ``actor_of(self)`` and show the refusal with ``refuse``.
``authorize`` asks the same table before a form or dialog is opened, so nobody fills in a
form only to be refused; it decides nothing the service does not decide again.

Panes are also mounted in small host apps by their tests, so they ask the app for these
attributes rather than depend on MailConsoleApp; this is the one place that knows that.
"""

from __future__ import annotations

from typing import Any, cast

from textual.dom import DOMNode

from mailconsole.access import os_user
from mailconsole.domain.roles import Actor, Interface, Permission, PermissionDenied, Role
from mailconsole.runtime import Runtime

REFUSAL_TITLE = "Not allowed"


def runtime_of(node: DOMNode) -> Runtime:
    return cast(Runtime, cast(Any, node.app).runtime)


def actor_of(node: DOMNode) -> Actor:
    """The person at this console (the app's actor; a test host app may give only a role)."""
    app = cast(Any, node.app)
    found = getattr(app, "actor", None)
    if isinstance(found, Actor):
        return found
    return Actor(os_user(), Role(app.role), Interface.CONSOLE)


def role_of(node: DOMNode) -> Role:
    return actor_of(node).role


def refuse(node: DOMNode, exc: PermissionDenied) -> None:
    """Show a service's refusal: ``PermissionDenied``'s text names the role and the permission."""
    node.app.notify(str(exc), title=REFUSAL_TITLE, severity="error", timeout=6)


def authorize(node: DOMNode, permission: Permission) -> bool:
    """Before opening a form or dialog: would the service refuse? If so say so, return False."""
    actor = actor_of(node)
    if actor.may(permission):
        return True
    refuse(node, PermissionDenied(actor.role, permission))
    return False
