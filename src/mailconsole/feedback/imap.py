"""An IMAP bounce mailbox, read with the stdlib ``imaplib`` in a worker thread.

Why imaplib and not aioimaplib: it is maintained with Python itself, supports implicit TLS
and STARTTLS, and a poll is a short batch every few minutes, so a thread costs nothing the
event loop would notice; aioimaplib would be one more dependency for no gain here.

Items are fetched with BODY.PEEK (a person's \\Seen state is left alone) and selected with
``UNKEYWORD $McProcessed UNKEYWORD $McUnparsed``; processed mail is MOVEd (or COPY + delete
where MOVE is missing) to the processed folder, or flagged when none is configured;
unparseable mail gets ``$McUnparsed`` and stays where it is.
"""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from collections.abc import Sequence
from typing import Any

from mailconsole.domain.errors import TemporaryError
from mailconsole.feedback.mailbox import ImapConfig, MailboxItem

PROCESSED_KEYWORD = "$McProcessed"
UNPARSED_KEYWORD = "$McUnparsed"


class ImapError(TemporaryError, RuntimeError):
    """The IMAP server refused something; the message says what, never the password."""


def _check(typ: str, data: Sequence[Any], what: str) -> Sequence[Any]:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what} failed: {detail or typ}")
    return data


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.label = config.label
        self._conn: imaplib.IMAP4 | None = None
        self._capabilities: set[str] = set()

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.config.ca_file:
            context.load_verify_locations(cafile=self.config.ca_file)
        return context

    def _connect(self) -> imaplib.IMAP4:
        if self._conn is not None:
            return self._conn
        cfg = self.config
        try:
            if cfg.tls == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    cfg.host, cfg.port, ssl_context=self._ssl_context(), timeout=cfg.timeout
                )
            else:
                conn = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)
                if cfg.tls == "starttls":
                    _check(*conn.starttls(ssl_context=self._ssl_context()), "STARTTLS")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ImapError(f"cannot connect to {cfg.host}:{cfg.port}: {exc}") from None
        try:
            conn.login(cfg.user, cfg.password)
        except imaplib.IMAP4.error:
            conn.shutdown()
            raise ImapError(f"login refused for user {cfg.user!r} on {cfg.host}:{cfg.port}") from None
        self._capabilities = {c.upper() for c in conn.capabilities}
        _check(*conn.select(_quote(cfg.folder)), f"SELECT {cfg.folder}")
        self._conn = conn
        return conn

    def _fetch(self, limit: int) -> list[MailboxItem]:
        conn = self._connect()
        data = _check(
            *conn.uid("SEARCH", "UNKEYWORD", PROCESSED_KEYWORD, "UNKEYWORD", UNPARSED_KEYWORD),
            "SEARCH",
        )
        uids = [u.decode() for u in (data[0] or b"").split()] if isinstance(data[0], bytes) else []
        items: list[MailboxItem] = []
        for uid in uids[:limit]:
            typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            _check(typ, fetched, f"FETCH {uid}")
            raw = next((p[1] for p in fetched if isinstance(p, tuple) and len(p) == 2), None)
            if isinstance(raw, bytes):
                items.append(MailboxItem(uid, raw))
        return items

    def _ensure_folder(self, conn: imaplib.IMAP4, name: str) -> None:
        typ, _ = conn.create(_quote(name))  # NO when it exists already: fine
        del typ

    def _processed(self, uid: str) -> None:
        conn = self._connect()
        target = self.config.processed_folder
        if not target:
            _check(*conn.uid("STORE", uid, "+FLAGS", f"({PROCESSED_KEYWORD})"), f"STORE {uid}")
            return
        self._ensure_folder(conn, target)
        # Tag first: if the move fails halfway the item is not read again.
        _check(*conn.uid("STORE", uid, "+FLAGS", f"({PROCESSED_KEYWORD})"), f"STORE {uid}")
        if "MOVE" in self._capabilities:
            _check(*conn.uid("MOVE", uid, _quote(target)), f"MOVE {uid}")
            return
        _check(*conn.uid("COPY", uid, _quote(target)), f"COPY {uid}")
        _check(*conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), f"STORE {uid}")
        if "UIDPLUS" in self._capabilities:
            _check(*conn.uid("EXPUNGE", uid), f"EXPUNGE {uid}")
        else:
            _check(*conn.expunge(), "EXPUNGE")

    def _unparsed(self, uid: str) -> None:
        conn = self._connect()
        _check(*conn.uid("STORE", uid, "+FLAGS", f"({UNPARSED_KEYWORD})"), f"STORE {uid}")

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.close()
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            conn.shutdown()

    async def fetch(self, limit: int) -> list[MailboxItem]:
        return await asyncio.to_thread(self._fetch, limit)

    async def mark_processed(self, item: MailboxItem) -> None:
        await asyncio.to_thread(self._processed, item.ref)

    async def mark_unparsed(self, item: MailboxItem) -> None:
        await asyncio.to_thread(self._unparsed, item.ref)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)
