"""The relay's sessions and refusals show on /metrics, labelled by the policy rule."""

from __future__ import annotations

import smtplib
import ssl

from mailconsole import metrics
from mailconsole.relay.server import RelayServer, rejection_label

from .clients import in_thread, mime, smtp_ssl


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    got = metrics.COUNTERS.get_sample_value(name, labels or {})
    return got or 0.0


def test_rejection_label_names_the_policy_rule_or_falls_back_to_the_code() -> None:
    assert rejection_label("550 5.6.0 invalid_stream: unknown stream 'promo'") == "invalid_stream"
    assert rejection_label("535 5.7.8 Authentication credentials invalid") == "invalid_api_key"
    assert rejection_label("451 Temporary failure, try again later") == "temporary_failure"
    assert rejection_label("530 5.7.0 Authentication required") == "auth_required"
    assert rejection_label("299 nonsense") == "refused"


async def test_relay_counts_sessions_and_refusals_by_rule(
    relay: RelayServer, api_key: str, client_ctx: ssl.SSLContext
) -> None:
    sessions_before = _value("mailconsole_relay_sessions_total")
    invalid_before = _value("mailconsole_relay_rejections_total", {"code": "invalid_stream"})
    auth_before = _value("mailconsole_relay_rejections_total", {"code": "invalid_api_key"})

    def send() -> None:
        with smtp_ssl(relay.port, client_ctx) as client:
            client.ehlo()
            client.user, client.password = "apikey", "mc_wrong_key"
            try:  # one mechanism only: login() would try PLAIN and then LOGIN
                client.auth("PLAIN", client.auth_plain)
            except smtplib.SMTPAuthenticationError:
                pass
            client.login("apikey", api_key)
            client.mail("app@example.com")
            client.rcpt("user@example.net")
            code, _ = client.data(mime(extra="X-Mailconsole-Stream: promo\r\n"))
            assert code == 550

    await in_thread(send)
    assert _value("mailconsole_relay_sessions_total") == sessions_before + 1
    assert _value("mailconsole_relay_rejections_total", {"code": "invalid_stream"}) == invalid_before + 1
    assert _value("mailconsole_relay_rejections_total", {"code": "invalid_api_key"}) == auth_before + 1
