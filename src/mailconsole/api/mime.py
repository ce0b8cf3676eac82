"""Build RFC 5322 bytes from a JSON send request, and read the envelope of a raw MIME send.

The API hands bytes to the same intake as the SMTP relay, so the stream and tracking
choices travel as the relay's routing headers (``X-Mailconsole-Stream``,
``X-Mailconsole-Tracking-Enabled``) and the shared policy strips them before sending.
Bcc addresses are envelope recipients only: they never appear in the stored message.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP
from email.policy import default as default_policy

from mailconsole.api.errors import ApiError
from mailconsole.api.schemas import SendRequest, check_address, to_address
from mailconsole.clock import Clock
from mailconsole.domain.policy import STREAM_HEADER, TRACKING_HEADER


def _set_unstructured(msg: EmailMessage, name: str, value: str) -> None:
    """Set a free-text header so that it reads back exactly as given.

    CPython's folder puts the space at a fold point outside the encoded words when it splits a
    long non-ASCII value, and RFC 2047 readers then drop it ("a ¡" comes back as "a¡").
    ``email.header.Header`` encodes the spaces inside the words; ``set_raw`` keeps those lines
    as they are (each under the line limit, so the SMTP policy does not refold them).
    """
    if value.isascii():
        msg[name] = value
    else:
        msg.set_raw(name, Header(value, "utf-8", header_name=name).encode(linesep="\r\n"))


def build_mime(request: SendRequest, clock: Clock) -> bytes:
    msg = EmailMessage()
    msg["From"] = to_address(request.sender)
    msg["To"] = [to_address(a) for a in request.to]
    if request.cc:
        msg["Cc"] = [to_address(a) for a in request.cc]
    if request.reply_to:
        msg["Reply-To"] = [to_address(a) for a in request.reply_to]
    if request.subject:
        _set_unstructured(msg, "Subject", request.subject)
    msg["Date"] = email.utils.format_datetime(clock.now())
    domain = request.envelope_from.rpartition("@")[2] or None
    if not any(name.lower() == "message-id" for name in request.headers):
        msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    for name, value in request.headers.items():
        _set_unstructured(msg, name, value)
    if request.stream is not None:
        msg[STREAM_HEADER] = request.stream
    if request.tracking is not None:
        msg[TRACKING_HEADER] = "true" if request.tracking else "false"
    if request.text is not None:
        msg.set_content(request.text)
        if request.html is not None:
            msg.add_alternative(request.html, subtype="html")
    elif request.html is not None:
        msg.set_content(request.html, subtype="html")
    for att in request.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg.as_bytes(policy=SMTP)


def raw_envelope(
    raw: bytes, query_from: str | None, query_to: Sequence[str]
) -> tuple[str, list[str]]:
    """Envelope for a ``message/rfc822`` send: query parameters win, else the headers.

    ``from`` defaults to the address in the From header; recipients default to every
    address in To, Cc and Bcc.
    """
    if not raw.strip():
        raise ApiError(400, "invalid_field", "body: the message is empty")
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    try:
        if query_from:
            sender = check_address("from", query_from)
        else:
            from_header = headers.get("From")
            if from_header is None:
                raise ApiError(
                    400, "invalid_field", "from: the message has no From header and no ?from="
                )
            sender = check_address("From", str(from_header))
        if query_to:
            rcpts = [check_address(f"to[{i}]", v) for i, v in enumerate(query_to)]
        else:
            values = [
                str(v) for name in ("To", "Cc", "Bcc") for v in (headers.get_all(name) or [])
            ]
            rcpts = [
                check_address(name, email.utils.formataddr(pair))
                for name, pair in (("To", p) for p in email.utils.getaddresses(values))
                if pair[1]
            ]
    except (ValueError, TypeError, IndexError) as exc:  # broken header syntax
        raise ApiError(400, "invalid_field", f"headers: cannot read addresses ({exc})") from None
    if not rcpts:
        raise ApiError(
            400, "invalid_field", "to: the message has no To, Cc or Bcc recipient and no ?to="
        )
    envelope_from = email.utils.parseaddr(sender)[1]
    seen: dict[str, str] = {}
    for value in rcpts:
        addr = email.utils.parseaddr(value)[1]
        seen.setdefault(addr.lower(), addr)
    return envelope_from, list(seen.values())
