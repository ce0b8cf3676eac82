"""Read and rewrite the header block of raw MIME without re-serialising the message.

Re-serialising through ``email`` would re-fold headers and re-encode bodies, which changes
bytes an application may have signed; here only whole header fields are removed or
prepended and every other byte is kept as received. ``HeaderBlock`` splits the header block
once, so the intake can read the routing headers, drop them and read the subject without
scanning the message again for each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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


def _value(field: bytes) -> str:
    """A field's value, unfolded and stripped."""
    return b" ".join(field.split(b":", 1)[1].split()).decode("utf-8", "replace").strip()


@dataclass(frozen=True)
class HeaderBlock:
    """A message split once into its header fields (names lower-cased) and the rest."""

    fields: tuple[tuple[str | None, bytes], ...]  # (name or None for a line without a colon, raw field)
    separator: bytes
    body: bytes
    eol: bytes

    @classmethod
    def parse(cls, raw: bytes) -> HeaderBlock:
        head, separator, body = split_head(raw)
        eol = b"\r\n" if b"\r\n" in head or b"\n" not in head else b"\n"
        return cls(
            fields=tuple((_name(f) if b":" in f else None, f) for f in _fields(head)),
            separator=separator,
            body=body,
            eol=eol,
        )

    def first(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), unfolded and stripped."""
        wanted = name.lower()
        for field_name, field in self.fields:
            if field_name == wanted:
                return _value(field)
        return None

    def without(self, names: Iterable[str]) -> HeaderBlock:
        dropped = {n.lower() for n in names}
        kept = tuple(item for item in self.fields if item[0] not in dropped)
        if len(kept) == len(self.fields):
            return self
        return HeaderBlock(kept, self.separator, self.body, self.eol)

    def to_bytes(self, add: Sequence[tuple[str, str]] = ()) -> bytes:
        """The message with ``add`` prepended; every kept byte as received."""
        new = [f"{name}: {value}".encode() + self.eol for name, value in add]
        return b"".join(new) + b"".join(field for _, field in self.fields) + self.separator + self.body


def rewrite(raw: bytes, *, remove: Iterable[str], add: Sequence[tuple[str, str]] = ()) -> bytes:
    """Drop the named header fields and prepend ``add``; the rest of the bytes are untouched."""
    return HeaderBlock.parse(raw).without(remove).to_bytes(add)

