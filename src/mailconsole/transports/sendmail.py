"""Local sendmail-compatible binary (the seed's "PHP mail" server type).

Invoked as ``sendmail -i -f <envelope from> -- <recipient>…`` with the message on stdin.
Not ``-t``: with ``-t`` the binary takes the recipients from the To/Cc/Bcc headers, so a
message queued once per recipient would go to *every* header recipient each time (duplicates)
and the envelope recipient we chose would be ignored. ``-i`` stops a lone "." line from
ending the message early; ``--`` keeps an address starting with "-" from being read as a flag.

Exit status follows sysexits(3): 0 accepted, 75 (EX_TEMPFAIL) transient, anything else
permanent with the binary's stderr as the reason.
"""

from __future__ import annotations

import asyncio
import os
from typing import ClassVar

from mailconsole.domain.results import ResultKind
from mailconsole.transports.base import (
    CheckResult,
    Envelope,
    FieldSpec,
    SendResult,
    positive_validator,
)

EX_TEMPFAIL = 75
EX_NOUSER = 67
EX_NOHOST = 68


class SendmailTransport:
    TYPE: ClassVar[str] = "sendmail"
    LABEL: ClassVar[str] = "Local sendmail"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("path", "Sendmail path", "text", default="/usr/sbin/sendmail",
                  help="a sendmail-compatible binary (sendmail, postfix, exim, msmtp)"),
        FieldSpec("timeout", "Timeout (s)", "float", default=60.0, validator=positive_validator,
                  help="seconds before a hanging binary is killed (counted as transient)"),
    )

    def __init__(self, path: str = "/usr/sbin/sendmail", timeout: float = 60.0, concurrency: int = 4) -> None:
        self.path = path or "/usr/sbin/sendmail"
        self.timeout = float(timeout or 60.0)
        self._slots = asyncio.Semaphore(max(1, int(concurrency or 1)))

    async def send(self, envelope: Envelope, raw_message: bytes) -> SendResult:
        args = [self.path, "-i", "-f", envelope.sender, "--", *envelope.recipients]
        async with self._slots:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *args,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                reason = f"cannot run {self.path}: {exc.strerror or exc}"
                return SendResult(ResultKind.TRANSIENT, reason, server_fault=True)
            try:
                _out, err = await asyncio.wait_for(proc.communicate(raw_message), timeout=self.timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                reason = f"{self.path} did not finish in {self.timeout:g} s"
                return SendResult(ResultKind.TRANSIENT, reason, server_fault=True)
        code = proc.returncode
        stderr = err.decode("utf-8", "replace").strip()
        if code == 0:
            return SendResult(ResultKind.ACCEPTED, stderr or "accepted by sendmail")
        reason = f"{os.path.basename(self.path)} exited {code}" + (f": {stderr}" if stderr else "")
        if code == EX_TEMPFAIL:
            return SendResult(ResultKind.TRANSIENT, reason)
        # No such user / host: the address is bad. Anything else is the local setup's fault.
        recipient_fault = code in (EX_NOUSER, EX_NOHOST)
        return SendResult(
            ResultKind.PERMANENT, reason,
            enhanced_code="5.1.1" if code == EX_NOUSER else ("5.1.2" if code == EX_NOHOST else None),
            server_fault=not recipient_fault,
        )

    async def check(self) -> CheckResult:
        return await asyncio.to_thread(self._check)

    def _check(self) -> CheckResult:
        if not os.path.isfile(self.path):
            return CheckResult(False, f"{self.path} does not exist")
        if not os.access(self.path, os.X_OK):
            return CheckResult(False, f"{self.path} is not executable")
        return CheckResult(True, f"{self.path} is present and executable")

    async def close(self) -> None:
        return None
