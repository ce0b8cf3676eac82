"""Process-wide counters that the engine, relay, API and feedback code increment.

Counters live here (not in ``api/``) so lower layers can count things without importing the
HTTP server. They are registered on ``COUNTERS`` — a registry of their own, never the
prometheus-client global one — and each HTTP app exposes them next to its database-sampled
gauges (see ``mailconsole.api.metrics_collector``). Label values are kept to small, fixed
sets (server names, outcomes, reply codes, sources) so the series count stays bounded.

Call the small functions below rather than the Counter objects, so the label names stay in
one place:

* ``record_send(server, outcome)`` — one delivery attempt finished (outcome: accepted,
  transient, permanent).
* ``record_relay_session()`` / ``record_relay_rejection(code)`` — the SMTP relay.
* ``record_webhook_event(source, verdict)`` — an ESP webhook event (verdict: accepted,
  rejected, duplicate, ignored …).
* ``record_auth_failure(interface)`` — a failed SMTP AUTH or HTTP bearer key.
* ``record_api_send(outcome)`` / ``record_api_rejection(code)`` — the HTTP send API.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

COUNTERS = CollectorRegistry(auto_describe=True)

SENDS = Counter(
    "mailconsole_sends",
    "Delivery attempts finished by this process, by sending server and outcome.",
    ["server", "outcome"],
    registry=COUNTERS,
)
RELAY_SESSIONS = Counter(
    "mailconsole_relay_sessions",
    "SMTP relay sessions accepted by this process.",
    registry=COUNTERS,
)
RELAY_REJECTIONS = Counter(
    "mailconsole_relay_rejections",
    "Messages or commands the SMTP relay refused, by policy code (e.g. invalid_stream).",
    ["code"],
    registry=COUNTERS,
)
WEBHOOK_EVENTS = Counter(
    "mailconsole_webhook_events",
    "ESP webhook events received, by source (ses, sendgrid …) and verdict.",
    ["source", "verdict"],
    registry=COUNTERS,
)
API_SENDS = Counter(
    "mailconsole_api_messages_accepted",
    "Messages accepted (committed to the queue) through the HTTP send API, by stream.",
    ["stream"],
    registry=COUNTERS,
)
AUTH_FAILURES = Counter(
    "mailconsole_auth_failures",
    "Failed authentications (wrong or malformed API key, refused identity), by interface (smtp, http).",
    ["interface"],
    registry=COUNTERS,
)
API_REJECTIONS = Counter(
    "mailconsole_api_rejections",
    "HTTP send API requests refused, by error code (e.g. stream_not_allowed).",
    ["code"],
    registry=COUNTERS,
)


def record_send(server: str, outcome: str) -> None:
    SENDS.labels(server=server, outcome=outcome).inc()


def record_relay_session() -> None:
    RELAY_SESSIONS.inc()


def record_relay_rejection(code: str) -> None:
    RELAY_REJECTIONS.labels(code=code).inc()


def record_webhook_event(source: str, verdict: str) -> None:
    WEBHOOK_EVENTS.labels(source=source, verdict=verdict).inc()


def record_api_send(stream: str, count: int = 1) -> None:
    API_SENDS.labels(stream=stream).inc(count)


def record_api_rejection(code: str) -> None:
    API_REJECTIONS.labels(code=code).inc()


def record_auth_failure(interface: str) -> None:
    AUTH_FAILURES.labels(interface=interface).inc()
