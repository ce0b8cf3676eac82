"""Client bytes in log lines, made harmless.

Addresses, AUTH names and commands come from the network: a CR or LF in one would forge a log
line, an ANSI escape would repaint the operator's terminal, and a 100 kB argument would bury
the log. Every log line that carries client text passes it through ``escape_for_log``.

aiosmtpd logs every command and every MAIL/RCPT address at INFO, so a session with 10,000
recipients writes 20,000 lines. ``quiet_smtp_library_logs`` demotes those to DEBUG (with their
arguments escaped), leaving one INFO line per accepted or refused message, written by the relay.
"""

from __future__ import annotations

import logging

MAX_SHOWN = 200


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


def escape_for_log(value: object, limit: int = MAX_SHOWN) -> str:
    """Printable ASCII as is; everything else as a Python escape; cut after ``limit``."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "backslashreplace")
    else:
        text = str(value)
    shown = "".join(c if " " <= c <= "~" else _escaped(c) for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


class _DemoteToDebug(logging.Filter):
    """INFO records of a chatty library become DEBUG records, arguments escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno = logging.DEBUG
            record.levelname = logging.getLevelName(logging.DEBUG)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(a if isinstance(a, int | float) else escape_for_log(a) for a in args)
        return logging.getLogger(record.name).isEnabledFor(record.levelno)


_FILTER = _DemoteToDebug()


def quiet_smtp_library_logs() -> None:
    """Idempotent: aiosmtpd's per-command INFO lines become escaped DEBUG lines."""
    logger = logging.getLogger("mail.log")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
