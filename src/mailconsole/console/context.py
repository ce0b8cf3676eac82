"""Typed access to what the app gives every pane: the Runtime and the operator's Role, and the
one role check every console action goes through.

Panes are also mounted in small host apps by their tests, so they ask the app for these two
attributes rather than depend on MailConsoleApp; this is the one place that knows that.
"""

from __future__ import annotations

from typing import Any, cast

from textual.dom import DOMNode

from mailconsole.domain.roles import Permission, PermissionDenied, Role, require
from mailconsole.runtime import Runtime

REFUSAL_TITLE = "Not allowed"


def runtime_of(node: DOMNode) -> Runtime:
    return cast(Runtime, cast(Any, node.app).runtime)


def role_of(node: DOMNode) -> Role:
    return Role(cast(Any, node.app).role)


def authorize(node: DOMNode, permission: Permission) -> bool:
    """Check the operator's role before an action; on refusal say so and return False.

    Every pane calls this (never its own ``allowed`` + notify), so a refusal reads the same
    everywhere: ``domain.roles.PermissionDenied``'s text, which names the role and the
    permission, exactly as the CLI and the services word it.
    """
    try:
        require(role_of(node), permission)
    except PermissionDenied as exc:
        node.app.notify(str(exc), title=REFUSAL_TITLE, severity="error", timeout=6)
        return False
    return True
