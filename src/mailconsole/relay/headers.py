"""Read and rewrite the header block of raw MIME without re-serialising the message.

Re-serialising through ``email`` would re-fold headers and re-encode bodies, which changes
bytes an application may have signed; here only whole header fields are removed or
prepended and every other byte is kept as received.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def split_head(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(header block, separator, body). A message without a blank line is all headers."""
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n")
    if crlf == -1 and lf == -1:
        return raw, b"", b""
    if crlf != -1 and (lf == -1 or crlf < lf):
        return raw[: crlf + 2], b"\r\n", raw[crlf + 4 :]
    return raw[: lf + 1], b"\n", raw[lf + 2 :]


def _fields(head: bytes) -> list[bytes]:
    """Header fields, each with its continuation lines and line endings."""
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().decode("latin-1").lower()


def header_values(raw: bytes, name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive), unfolded and stripped."""
    head, _, _ = split_head(raw)
    wanted = name.lower()
    out: list[str] = []
    for field in _fields(head):
        if b":" in field and _name(field) == wanted:
            value = field.split(b":", 1)[1]
            out.append(b" ".join(value.split()).decode("utf-8", "replace").strip())
    return out


def first_header(raw: bytes, name: str) -> str | None:
    values = header_values(raw, name)
    return values[0] if values else None


def line_ending(raw: bytes) -> bytes:
    head, _, _ = split_head(raw)
    return b"\r\n" if b"\r\n" in head or b"\n" not in head else b"\n"


def rewrite(raw: bytes, *, remove: Iterable[str], add: Sequence[tuple[str, str]] = ()) -> bytes:
    """Drop the named header fields and prepend ``add``; the rest of the bytes are untouched."""
    dropped = {n.lower() for n in remove}
    head, sep, body = split_head(raw)
    eol = line_ending(raw)
    kept = [f for f in _fields(head) if not (b":" in f and _name(f) in dropped)]
    new = [f"{name}: {value}".encode() + eol for name, value in add]
    return b"".join(new) + b"".join(kept) + sep + body
