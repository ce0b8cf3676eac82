"""Registers the senders area's startup hook (the placeholder identity) with the store.

Imported by ``mailconsole.runtime`` so every process that opens a Runtime runs it.
"""

from __future__ import annotations

from mailconsole.senders.identity import ensure_placeholder_identities
from mailconsole.store.bootstrap import BOOTSTRAP_HOOKS

if ensure_placeholder_identities not in BOOTSTRAP_HOOKS:
    BOOTSTRAP_HOOKS.append(ensure_placeholder_identities)
