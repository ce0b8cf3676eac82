"""The lease arithmetic (domain/leases.py): claims sized to what one lease can send."""

from __future__ import annotations

from mailconsole.domain.leases import claim_size, heartbeat_seconds, lease_capacity, observe_send_time


def test_the_issue_case_leases_what_half_a_lease_can_send() -> None:
    # 10 s per message, 4 connections, the default 120 s lease: 24 messages, not ~68.
    assert lease_capacity(lease_seconds=120, concurrency=4, seconds_per_message=10, unobserved=8) == 24


def test_before_any_send_is_timed_the_base_buffer_applies() -> None:
    assert lease_capacity(lease_seconds=120, concurrency=4, seconds_per_message=None, unobserved=8) == 8


def test_a_server_slower_than_the_lease_still_uses_every_connection() -> None:
    assert lease_capacity(lease_seconds=120, concurrency=4, seconds_per_message=600, unobserved=8) == 4


def test_a_claim_takes_only_the_room_left_under_the_capacity() -> None:
    assert claim_size(64, capacity=24, held=20) == 4
    assert claim_size(64, capacity=24, held=30) == 0
    assert claim_size(3, capacity=24, held=0) == 3


def test_a_slower_send_is_believed_at_once_a_faster_one_gradually() -> None:
    assert observe_send_time(None, 2.0) == 2.0
    slower = observe_send_time(1.0, 9.0)
    faster = observe_send_time(9.0, 1.0)
    assert slower == 5.0 and faster > 8.0


def test_a_lease_survives_two_missed_heartbeats() -> None:
    assert heartbeat_seconds(120) == 40
    assert heartbeat_seconds(0.01) == 0.05
