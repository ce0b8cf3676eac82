"""A local Maildir as the bounce mailbox (for an MTA that delivers bounces to disk).

The stdlib ``mailbox.Maildir`` is enough and does the atomic renames for us. Processed
items move to a Maildir++ subfolder (``.Processed``) or get the Seen flag; unparseable items
get the Flagged flag and stay in the inbox. Items with either flag are skipped next time.
"""

from __future__ import annotations

import asyncio
import mailbox

from mailconsole.feedback.mailbox import MailboxItem, MaildirConfig

PROCESSED_FLAG = "S"
UNPARSED_FLAG = "F"


class MaildirMailbox:
    def __init__(self, config: MaildirConfig) -> None:
        self.config = config
        self.label = config.label
        self._box = mailbox.Maildir(config.path, factory=None, create=False)

    def _fetch(self, limit: int) -> list[MailboxItem]:
        items: list[tuple[float, str, bytes]] = []
        for key in list(self._box.iterkeys()):
            try:
                msg = self._box.get_message(key)
            except KeyError:  # removed by someone else meanwhile
                continue
            flags = msg.get_flags()
            if PROCESSED_FLAG in flags or UNPARSED_FLAG in flags:
                continue
            items.append((msg.get_date(), key, self._box.get_bytes(key)))
        items.sort()
        return [MailboxItem(key, raw) for _, key, raw in items[:limit]]

    def _set_flag(self, key: str, flag: str) -> None:
        msg = self._box.get_message(key)
        msg.add_flag(flag)
        msg.set_subdir("cur")
        self._box[key] = msg

    def _processed(self, key: str) -> None:
        folder_name = self.config.processed_folder
        if not folder_name:
            self._set_flag(key, PROCESSED_FLAG)
            return
        try:
            folder = self._box.get_folder(folder_name)
        except mailbox.NoSuchMailboxError:
            folder = self._box.add_folder(folder_name)
        msg = self._box.get_message(key)
        msg.add_flag(PROCESSED_FLAG)
        msg.set_subdir("cur")
        folder.add(msg)  # copy first: a crash here leaves a duplicate, which dedup absorbs
        self._box.discard(key)

    async def fetch(self, limit: int) -> list[MailboxItem]:
        return await asyncio.to_thread(self._fetch, limit)

    async def mark_processed(self, item: MailboxItem) -> None:
        await asyncio.to_thread(self._processed, item.ref)

    async def mark_unparsed(self, item: MailboxItem) -> None:
        await asyncio.to_thread(self._set_flag, item.ref, UNPARSED_FLAG)

    async def close(self) -> None:
        return None
