"""How much work one server may hold under lease, learned from how fast it really sends.

A claim is a promise to send within the lease. The engine used to size claims by queue
depth alone (up to concurrency x prefetch x 8 messages), so behind a receiver that takes
10 s per message the tail of a claim was still waiting when its lease ran out, and lease
recovery queued it again while the first copy was about to go: a second send without any
crash. Sizing by the observed send time keeps every claim sendable within one lease; the
heartbeat that extends leases of sends in flight covers the rest (a single send slower than
the whole lease).

Pure arithmetic; the engine owns the clock and the counting (``delivery/leases.py``).
"""

from __future__ import annotations

# Plan to finish what is held within this share of the lease: the observed send time is an
# average, and the receiver may slow down after the claim.
LEASE_SHARE = 0.5
# How fast the average follows a change: a slower send is believed at once (so claims shrink
# before leases run out), a faster one only gradually (one quick reply proves little).
SLOWER_WEIGHT = 0.5
FASTER_WEIGHT = 0.1
# Heartbeats per lease: a lease survives two missed heartbeats (a busy database).
HEARTBEATS_PER_LEASE = 3


def observe_send_time(average: float | None, seconds: float) -> float:
    """The server's new average seconds per message after one send took ``seconds``."""
    seconds = max(0.0, seconds)
    if average is None:
        return seconds
    weight = SLOWER_WEIGHT if seconds > average else FASTER_WEIGHT
    return average + weight * (seconds - average)


def lease_capacity(
    *, lease_seconds: float, concurrency: int, seconds_per_message: float | None, unobserved: int
) -> int:
    """Messages one server may hold (claimed, not yet recorded) so that each is sent in time.

    ``unobserved`` is the limit before any send was timed (the engine's base buffer). Never
    below ``concurrency``: a message on a connection is covered by the heartbeat anyway, and
    a server must be able to use every connection it has.
    """
    concurrency = max(1, concurrency)
    if seconds_per_message is None or seconds_per_message <= 0:
        return max(concurrency, unobserved)
    sendable = int(lease_seconds * LEASE_SHARE * concurrency / seconds_per_message)
    return max(concurrency, sendable)


def claim_size(want: int, *, capacity: int, held: int) -> int:
    """How many of ``want`` a claim may take when ``held`` are already under this engine's lease."""
    return max(0, min(want, capacity - held))


def heartbeat_seconds(lease_seconds: float) -> float:
    """How often leases of messages in flight are extended."""
    return max(0.05, lease_seconds / HEARTBEATS_PER_LEASE)
