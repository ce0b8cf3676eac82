"""Typed access to what the app gives every pane: the Runtime and the operator's Role.

Panes are also mounted in small host apps by their tests, so they ask the app for these two
attributes rather than depend on MailConsoleApp; this is the one place that knows that.
"""

from __future__ import annotations

from typing import Any, cast

from textual.dom import DOMNode

from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime


def runtime_of(node: DOMNode) -> Runtime:
    return cast(Runtime, cast(Any, node.app).runtime)


def role_of(node: DOMNode) -> Role:
    return Role(cast(Any, node.app).role)
