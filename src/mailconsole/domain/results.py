"""The three things that can happen to one message on one server: the engine's vocabulary.

It lives in ``domain`` because the reply rules (``domain.replies``) decide it and the
transports report it; ``domain`` imports nothing of ours, so the transports import it from here.
"""

from __future__ import annotations

import enum


class ResultKind(enum.StrEnum):
    ACCEPTED = "accepted"  # the server took the message
    TRANSIENT = "transient"  # try again later (4xx, timeout, 429, 5xx from an API)
    PERMANENT = "permanent"  # do not retry this message (5xx to the recipient)
