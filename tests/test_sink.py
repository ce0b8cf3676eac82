from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from mailconsole.sink import CaptureHandler, CaptureSink


def _message(to: str = "rcpt@example.test") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "app@example.test"
    msg["To"] = to
    msg["Subject"] = "hello"
    msg.set_content("body")
    return msg


def test_sink_receives_mail_from_smtplib_and_stores_it_in_the_maildir(tmp_path: Path) -> None:
    handler = CaptureHandler(tmp_path / "Maildir")
    with CaptureSink(handler) as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        client.send_message(_message())
    assert handler.stats.accepted == 1
    assert handler.messages[0].rcpt_tos == ["rcpt@example.test"]
    stored = list((tmp_path / "Maildir" / "new").iterdir())
    assert len(stored) == 1
    assert b"Subject: hello" in stored[0].read_bytes()


async def test_sink_receives_mail_from_aiosmtplib(sink: CaptureSink) -> None:
    await aiosmtplib.send(_message(), hostname="127.0.0.1", port=sink.port)
    assert sink.handler.stats.accepted == 1
    assert sink.handler.messages[0].message["Subject"] == "hello"


def test_sink_injects_tempfail_and_fail_at_the_promised_rates() -> None:
    handler = CaptureHandler(tempfail_rate=0.5, fail_rate=0.5, seed=7)
    codes: list[int] = []
    with CaptureSink(handler) as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        for _ in range(40):
            try:
                client.send_message(_message())
                codes.append(250)
            except smtplib.SMTPDataError as exc:
                codes.append(exc.smtp_code)
                client.rset()
    assert set(codes) == {451, 550}
    assert handler.stats.accepted == 0
    assert handler.stats.tempfailed + handler.stats.failed == 40


def test_sink_scripted_reply_then_accepts() -> None:
    handler = CaptureHandler()
    handler.scripted.append("451 4.3.0 try later")
    with CaptureSink(handler) as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as info:
            client.send_message(_message())
        assert info.value.smtp_code == 451
        client.rset()
        client.send_message(_message())
    assert handler.stats.accepted == 1


def test_sink_delay_slows_the_data_reply() -> None:
    handler = CaptureHandler(delay=0.3)
    with CaptureSink(handler) as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        started = time.monotonic()
        client.send_message(_message())
        assert time.monotonic() - started >= 0.3


def test_sink_refuses_rates_out_of_range() -> None:
    with pytest.raises(ValueError, match="--fail-rate must be between 0 and 1"):
        CaptureHandler(fail_rate=1.5)


def test_sink_command_refuses_bad_rate_with_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mailconsole", "sink", "--fail-rate", "2"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "must be between 0 and 1" in proc.stderr
    assert "Traceback" not in proc.stderr
