"""Opening inputs: plain or gzip (via ``isal``), streaming, with honest errors.

:func:`open_binary` returns an :class:`InputStream`: ``read(n)`` gives
decompressed bytes, ``compressed_pos`` says how much of the file on disk was
consumed (for progress bars). A truncated or corrupt gzip raises
:class:`~tailwatch.errors.InputError` naming the compressed byte offset, but
only on the read *after* all the good data was returned.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import orjson
from isal import igzip

from tailwatch.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
#: How much decompressed data the readers pull at a time.
BLOCK = 8 << 20
#: Gzip is decompressed in pieces this big, so little is lost before a damaged spot.
_PIECE = 64 << 10


class InputStream:
    """A readable, decompressed view of one input file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in close()
        magic = self._raw.read(2)
        self._raw.seek(0)
        self.gzipped = magic == GZIP_MAGIC
        self._gz: igzip.IGzipFile | None = (
            igzip.IGzipFile(fileobj=self._raw, mode="rb") if self.gzipped else None  # type: ignore[no-untyped-call]
        )
        #: Decompressed bytes returned so far.
        self.pos = 0
        self._error: InputError | None = None

    @property
    def compressed_pos(self) -> int:
        """Bytes of the file on disk consumed so far."""
        return self._raw.tell()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` decompressed bytes (all that is left if ``n < 0``); ``b""`` at the end.

        For gzip, data is pulled in small pieces so that everything decompressed
        before a damaged spot is returned first; the ``InputError`` comes on the next call.
        """
        if self._gz is None:
            data = self._raw.read(n)
            self.pos += len(data)
            return data
        if self._error is not None:
            raise self._error
        parts: list[bytes] = []
        got = 0
        while n < 0 or got < n:
            want = _PIECE if n < 0 else min(_PIECE, n - got)
            try:
                piece = self._gz.read(want)
            except (EOFError, zlib.error, OSError) as exc:
                self._error = InputError(
                    str(self.path),
                    f"byte {self._raw.tell()}",
                    f"truncated or corrupt gzip after {self.pos + got} good decompressed bytes ({exc})",
                )
                if not parts:
                    raise self._error from None
                break
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        data = b"".join(parts)
        self.pos += len(data)
        return data

    def close(self) -> None:
        """Close the file."""
        if self._gz is not None:
            self._gz.close()
        self._raw.close()

    def __enter__(self) -> InputStream:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_binary(path: str | Path) -> InputStream:
    """Open ``path`` for reading, transparently decompressing gzip (detected by magic bytes).

    >>> import gzip, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.gz")
    >>> with gzip.open(p, "wb") as f: _ = f.write(b"*8D4840D6202CC371C32CE0576098;")
    >>> with open_binary(p) as s: s.read()
    b'*8D4840D6202CC371C32CE0576098;'
    """
    return InputStream(Path(path))


def read_head(path: str | Path, n: int = 1024) -> bytes:
    """The first ``n`` decompressed bytes of ``path`` (fewer if the file is shorter)."""
    with open_binary(path) as s:
        out = b""
        while len(out) < n:
            try:
                piece = s.read(n - len(out))
            except InputError:
                break
            if not piece:
                break
            out += piece
        return out


def read_all(path: Path) -> tuple[bytes, int]:
    """The whole decompressed content and the compressed size; ``InputError`` if empty."""
    with open_binary(path) as s:
        data = s.read()
        s.read()  # raises the InputError of a damaged gzip found after the good data
        size = s.compressed_pos
    if not data.strip():
        raise InputError(str(path), "byte 0", "empty file")
    return data, size


def iter_blocks(path: Path, block: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(lines, first_line_number, compressed_pos)`` blocks cut at newlines.

    Line numbers are 1-based. The last block may lack a final newline. Raises
    ``InputError("empty file")`` if the file has no bytes at all.
    """
    block = block or BLOCK
    with open_binary(path) as s:
        carry = b""
        line = 1
        seen = False
        while True:
            data = s.read(block)
            if not data:
                break
            seen = True
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            body, carry = data[: cut + 1], data[cut + 1 :]
            yield body, line, s.compressed_pos
            line += body.count(b"\n")
        if carry:
            yield carry, line, s.compressed_pos
        elif not seen:
            raise InputError(str(path), "byte 0", "empty file")


def json_error(path: str, raw: bytes, exc: orjson.JSONDecodeError) -> InputError:
    """An ``InputError`` naming the byte offset of a JSON syntax or encoding error."""
    pos, msg = exc.pos, exc.msg
    if "UTF-8" in msg:  # orjson reports encoding errors at position 0: find the byte
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            pos, msg = bad.start, f"invalid UTF-8 byte 0x{raw[bad.start]:02x}"
    what = "truncated JSON" if pos >= len(raw.rstrip()) - 1 else "invalid JSON"
    return InputError(path, f"byte {pos}", f"{what}: {msg}")
