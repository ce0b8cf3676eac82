"""Take our raw MIME apart into the pieces JSON mail APIs want (SendGrid, Postmark, Elastic Email).

SES and Mailgun accept the raw message as is; the JSON providers rebuild the message from
fields, so we hand them exactly what the sender wrote: the From name and address, Reply-To,
the decoded subject, the text and HTML bodies chosen the way a mail client would
(``EmailMessage.get_body``), every other leaf part as an attachment (inline when it has a
Content-ID or says so), and the remaining top-level headers in their raw, already-encoded form
so non-ASCII values survive the round trip.
"""

from __future__ import annotations

import email
import email.policy
import mimetypes
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from typing import Literal

# Headers every JSON API builds itself from its own fields; passing them as custom headers
# would duplicate or be rejected.
STRUCTURAL_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-id",
        "received",
        "return-path",
        "dkim-signature",
        "sender",
    }
)
# Structural headers the JSON APIs do not build themselves and accept as custom headers: the
# message's identity (threading, duplicate detection at the recipient) and its written Cc.
KEPT_HEADERS = frozenset({"message-id", "date", "cc"})
_FOLD = re.compile(r"\r?\n(?=[ \t])")


@dataclass(frozen=True)
class Address:
    email: str
    name: str = ""

    def formatted(self) -> str:
        """``Name <addr>`` as Postmark and Elastic Email accept it (quotes when needed)."""
        if not self.name:
            return self.email
        name = self.name
        if re.search(r'[(),.:;<>@\[\]"\\]', name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{self.email}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    disposition: Literal["attachment", "inline"] = "attachment"
    content_id: str | None = None


@dataclass(frozen=True)
class MessageParts:
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    headers: tuple[tuple[str, str], ...]
    # The message's own Message-ID, Date and Cc as written (raw, unfolded), in that order, for
    # the APIs that accept them as custom headers; empty ones left out.
    kept: tuple[tuple[str, str], ...] = ()

    def custom_headers(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, str]:
        """Custom headers as a dict, for APIs whose ``headers`` is a JSON object (one value per
        name: a repeated header keeps its last value; the docs say so per provider)."""
        return {name: value for name, value in self.header_list(exclude=exclude)}

    def header_list(self, *, exclude: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """Every custom header in message order, repeats kept, for APIs that take a list."""
        return [(n, v) for n, v in (*self.kept, *self.headers) if n.lower() not in exclude]


def _addresses(msg: EmailMessage, name: str) -> tuple[Address, ...]:
    header = msg.get(name)
    if header is None:
        return ()
    addresses = getattr(header, "addresses", ())
    return tuple(Address(email=a.addr_spec, name=a.display_name or "") for a in addresses if a.addr_spec)


def _leaves(part: Message, parent: str = "") -> list[tuple[Message, str]]:
    """Leaf parts in order with their parent's content type; an attached message
    (message/rfc822) counts as one leaf."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        return [(part, parent)]
    out: list[tuple[Message, str]] = []
    payload = part.get_payload()
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                out.extend(_leaves(sub, part.get_content_type()))
    return out


def _attachment(part: Message, parent: str, index: int) -> Attachment:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload(0)
        content = inner.as_bytes() if isinstance(inner, Message) else b""
    else:
        raw = part.get_payload(decode=True)
        content = raw if isinstance(raw, bytes) else b""
    content_id = part.get("Content-ID")
    cid = str(content_id).strip().strip("<>") if content_id else None
    # A part with a Content-ID inside multipart/related is referenced by the HTML (cid:):
    # it must stay inline whatever its Content-Disposition says, or the image breaks.
    disposition = part.get_content_disposition()
    if cid and (parent == "multipart/related" or disposition is None):
        disposition = "inline"
    filename = part.get_filename()
    if not filename:
        filename = f"attachment-{index}{mimetypes.guess_extension(content_type) or '.bin'}"
    return Attachment(
        filename=str(filename),
        content_type=content_type,
        content=content,
        disposition="inline" if disposition == "inline" else "attachment",
        content_id=cid,
    )


def _body_text(part: Message | None) -> str | None:
    """The decoded text of a body part; an unknown or lying charset degrades to UTF-8 with
    replacement characters rather than failing the message forever."""
    if part is None or not isinstance(part, EmailMessage):
        return None
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):
        raw = part.get_payload(decode=True)
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def extract_parts(raw: bytes) -> MessageParts:
    """Parse ``raw`` once into ``MessageParts`` (see module doc for the rules)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    bodies = {id(p) for p in (text_part, html_part) if p is not None}
    others = [(leaf, parent) for leaf, parent in _leaves(msg) if id(leaf) not in bodies]
    attachments = tuple(_attachment(leaf, parent, i) for i, (leaf, parent) in enumerate(others, start=1))
    headers = tuple(
        (name, _FOLD.sub("", str(value)).strip())
        for name, value in msg.raw_items()
        if name.lower() not in STRUCTURAL_HEADERS and not name.lower().startswith("x-mailconsole-")
    )
    kept = tuple(
        (name, _FOLD.sub("", str(value)).strip())
        for name, value in msg.raw_items()
        if name.lower() in KEPT_HEADERS and str(value).strip()
    )
    senders = _addresses(msg, "From")
    return MessageParts(
        sender=senders[0] if senders else None,
        reply_to=_addresses(msg, "Reply-To"),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        subject=str(msg.get("Subject", "")),
        text=_body_text(text_part),
        html=_body_text(html_part),
        attachments=attachments,
        headers=headers,
        kept=kept,
    )
