"""The sendmail transport against a real sendmail-compatible script (exit 0 / 75 / 1)."""

from __future__ import annotations

import stat
from pathlib import Path

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import Envelope
from mailconsole.transports.sendmail import SendmailTransport

SCRIPT = """#!/bin/sh
# A sendmail stand-in: records its arguments and stdin, exits with the code in $EXIT_FILE.
printf '%s\\n' "$@" > "{dir}/args"
cat > "{dir}/stdin"
code=$(cat "{dir}/exit")
[ "$code" = "0" ] || echo "simulated failure $code" >&2
exit "$code"
"""


def _script(tmp_path: Path, code: int) -> SendmailTransport:
    path = tmp_path / "sendmail"
    path.write_text(SCRIPT.format(dir=tmp_path))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "exit").write_text(str(code))
    return SendmailTransport(path=str(path), timeout=10)


RAW = b"From: a@example.test\nTo: b@example.test, c@example.test\nSubject: hi\n\n.\nbody\n"
ENVELOPE = Envelope("bounce@example.test", ("b@example.test",))


async def test_exit_0_is_accepted_with_envelope_from_and_recipient_as_arguments(tmp_path: Path) -> None:
    result = await _script(tmp_path, 0).send(ENVELOPE, RAW)
    assert result.kind is ResultKind.ACCEPTED
    # -i keeps the lone "." line; recipients come from the envelope, not the To header (no -t).
    assert (tmp_path / "args").read_text().splitlines() == ["-i", "-f", "bounce@example.test", "--", "b@example.test"]
    assert (tmp_path / "stdin").read_bytes() == RAW


async def test_exit_75_is_transient(tmp_path: Path) -> None:
    result = await _script(tmp_path, 75).send(ENVELOPE, RAW)
    assert result.kind is ResultKind.TRANSIENT
    assert result.text == "sendmail exited 75: simulated failure 75"


async def test_exit_1_is_permanent_with_stderr_in_the_reason(tmp_path: Path) -> None:
    result = await _script(tmp_path, 1).send(ENVELOPE, RAW)
    assert result.kind is ResultKind.PERMANENT and result.server_fault
    assert result.text == "sendmail exited 1: simulated failure 1"


async def test_missing_binary_is_a_transient_server_fault_and_fails_the_check(tmp_path: Path) -> None:
    transport = SendmailTransport(path=str(tmp_path / "nope"))
    result = await transport.send(ENVELOPE, RAW)
    assert result.kind is ResultKind.TRANSIENT and result.server_fault
    check = await transport.check()
    assert not check.ok and check.detail == f"{tmp_path / 'nope'} does not exist"
