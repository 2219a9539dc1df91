"""Gzip decompression that never hands on bytes it cannot vouch for.

A gzip member is checked only at its end (CRC-32 and length). Damaged deflate data can
decode to wrong bytes for a while before the damage shows, so bytes of a *corrupt* member
are never used: :func:`trusted_length` decompresses the file once (isal, about 2 GB/s here)
to learn how many leading bytes can be trusted, and :class:`InputStream` of ``_io`` stops
there. A *truncated* file is different: its bytes before the cut are exactly the original
ones, so they are all used.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, cast

from isal import isal_zlib

GZIP_MAGIC = b"\x1f\x8b"
#: What damaged deflate data raises (isal's stub declares its error class as an instance).
_ERRORS: tuple[type[Exception], ...] = (zlib.error, cast("type[Exception]", isal_zlib.IsalError))
#: Compressed bytes fed to the decompressor at a time.
PIECE = 64 << 10


class Damage(Exception):
    """Where and how a gzip stream is damaged."""

    def __init__(self, kind: Literal["truncated", "corrupt", "stray"], detail: str, at: int) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.at = kind, detail, at


class GzipDecoder:
    """Decompressed pieces of a (possibly multi-member, zero-padded) gzip file."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self._dec: Any = isal_zlib.decompressobj(wbits=31)
        self._tail = b""  # bytes after the end of the last member, not yet looked at
        #: Decompressed bytes produced so far, and where the current member's output began.
        self.produced = 0
        self.member_start = 0

    def next(self) -> bytes:
        """The next decompressed bytes; ``b""`` at the clean end; :class:`Damage` otherwise."""
        while True:
            if self._dec is None:  # between members
                if len(self._tail) < 2:
                    more = self.raw.read(PIECE)
                    if more:
                        self._tail += more
                        continue
                    if self._tail.strip(b"\x00"):
                        raise Damage("stray", "stray bytes after the end of the gzip stream", self.raw.tell())
                    return b""
                if not self._tail.strip(b"\x00"):
                    self._tail = b""
                    continue
                if not self._tail.startswith(GZIP_MAGIC):
                    raise Damage("stray", "stray bytes after the end of the gzip stream", self.raw.tell())
                self._dec = isal_zlib.decompressobj(wbits=31)
                self.member_start = self.produced
                chunk, self._tail = self._tail, b""
            else:
                chunk = self.raw.read(PIECE)
                if not chunk:
                    raise Damage("truncated", "compressed file ended before the end-of-stream marker was reached",
                                 self.raw.tell())
            try:
                out: bytes = self._dec.decompress(chunk)
            except _ERRORS as exc:
                raise Damage("corrupt", str(exc), self.raw.tell()) from None
            self.produced += len(out)
            if self._dec.eof:
                self._tail, self._dec = self._dec.unused_data, None
            if out:
                return out


@dataclass(frozen=True)
class Verdict:
    """How much of a gzip file's decompressed content can be trusted."""

    #: Leading decompressed bytes that are right (None: all of them).
    trusted: int | None
    damage: Damage | None = None


def trusted_length(raw: BinaryIO) -> Verdict:
    """Decompress ``raw`` once, output discarded: how many leading bytes can be used.

    Corrupt member: only the members before it. Truncated: everything before the cut.
    Stray bytes after the last member: every member (each passed its check).
    """
    dec = GzipDecoder(raw)
    try:
        while dec.next():
            pass
    except Damage as d:
        return Verdict(dec.member_start if d.kind == "corrupt" else dec.produced, d)
    return Verdict(None)
