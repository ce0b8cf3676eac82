"""What the poller needs from a bounce mailbox, whatever it is (IMAP, Maildir).

Items are marked, never deleted: processed mail is moved to a folder (or flagged when no
folder is configured), unparseable mail is flagged and stays where it is for a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class MailboxItem:
    ref: str  # IMAP UID or Maildir key
    raw: bytes


class Mailbox(Protocol):
    label: str

    async def fetch(self, limit: int) -> list[MailboxItem]:
        """Items not yet processed nor kept as unparseable, oldest first, at most ``limit``."""
        ...

    async def mark_processed(self, item: MailboxItem) -> None: ...

    async def mark_unparsed(self, item: MailboxItem) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ImapConfig:
    host: str
    user: str
    password: str = field(repr=False)  # never logged
    port: int = 993
    tls: str = "ssl"  # ssl | starttls | none
    folder: str = "INBOX"
    processed_folder: str = "Processed"  # "" flags instead of moving
    ca_file: str = ""  # extra trust anchor (self-hosted servers, tests)
    timeout: float = 30.0

    @property
    def label(self) -> str:
        return f"imap://{self.user}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True)
class MaildirConfig:
    path: str
    processed_folder: str = "Processed"  # Maildir++ subfolder; "" flags instead of moving

    @property
    def label(self) -> str:
        return f"maildir:{self.path}"


MailboxConfig = ImapConfig | MaildirConfig
