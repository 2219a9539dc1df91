"""Opening inputs: plain or gzip (via ``isal``), streaming, with honest errors.

:func:`open_binary` returns an :class:`InputStream`: ``read(n)`` gives
decompressed bytes, ``compressed_pos`` says how much of the file on disk was
consumed (for progress bars). A truncated or corrupt gzip raises
:class:`~tailwatch.errors.InputError` naming the compressed byte offset, but
only on the read *after* all the good data was returned: everything before a
truncation, nothing of a corrupt member (see ``_gzip.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import orjson

from tailwatch.errors import InputError
from tailwatch.sources._gzip import GZIP_MAGIC, Damage, GzipDecoder, Verdict, trusted_length

#: How much decompressed data the readers pull at a time.
BLOCK = 8 << 20


class InputStream:
    """A readable, decompressed view of one input file.

    For gzip, a first pass learns how much of the content can be trusted (see
    ``sources/_gzip.py``): all of it, everything before a truncation, or nothing of a
    corrupt member. ``verify=False`` skips that pass, for a peek at the first bytes only.
    """

    def __init__(self, path: Path, verify: bool = True) -> None:
        self.path = path
        self._raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in close()
        magic = self._raw.read(2)
        self._raw.seek(0)
        self.gzipped = magic == GZIP_MAGIC
        self._verdict = Verdict(None)
        if self.gzipped and verify:
            self._verdict = trusted_length(self._raw)
            self._raw.seek(0)
        self._gz = GzipDecoder(self._raw) if self.gzipped else None
        #: Decompressed but not yet returned.
        self._pending = b""
        #: Decompressed bytes returned so far.
        self.pos = 0
        self._error: InputError | None = None

    @property
    def compressed_pos(self) -> int:
        """Bytes of the file on disk consumed so far."""
        return self._raw.tell()

    def _damage(self, d: Damage, good: int) -> InputError:
        why = d.detail
        if d.kind == "corrupt":
            why += ("; nothing of the damaged gzip member is used: damaged deflate data can decode "
                    "to wrong bytes before the damage shows")
        return InputError(str(self.path), f"byte {d.at}",
                          f"truncated or corrupt gzip after {good} good decompressed bytes ({why})")

    def _next_gzip(self) -> bytes:
        """The next trusted decompressed bytes (``b""`` at the end); ``InputError`` at the damage."""
        assert self._gz is not None
        limit, found = self._verdict.trusted, self._verdict.damage
        if limit is not None and self._gz.produced >= limit:
            if found is not None:
                raise self._damage(found, limit)
            return b""
        start = self._gz.produced
        try:
            out = self._gz.next()
        except Damage as d:  # a file that changed since the first pass, or verify=False
            raise self._damage(d, start) from None
        if limit is not None and self._gz.produced > limit:
            out = out[: limit - start]
        return out

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` decompressed bytes (all that is left if ``n < 0``); ``b""`` at the end.

        For gzip, everything trusted before a damaged spot is returned first; the
        ``InputError`` comes on the next call.
        """
        if self._gz is None:
            data = self._raw.read(n)
            self.pos += len(data)
            return data
        if self._error is not None and not self._pending:
            raise self._error
        parts = [self._pending] if self._pending else []
        got = len(self._pending)
        self._pending = b""
        while self._error is None and (n < 0 or got < n):
            try:
                piece = self._next_gzip()
            except InputError as exc:
                self._error = exc
                if not parts:
                    raise
                break
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        data = b"".join(parts)
        if 0 <= n < len(data):
            data, self._pending = data[:n], data[n:]
        self.pos += len(data)
        return data

    def close(self) -> None:
        """Close the file."""
        self._raw.close()

    def __enter__(self) -> InputStream:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_binary(path: str | Path, verify: bool = True) -> InputStream:
    """Open ``path`` for reading, transparently decompressing gzip (detected by magic bytes).

    ``verify=False`` skips the first pass that decides how much of a gzip file can be
    trusted: for peeking at the first bytes (format detection), never for reading data.

    >>> import gzip, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.gz")
    >>> with gzip.open(p, "wb") as f: _ = f.write(b"*8D4840D6202CC371C32CE0576098;")
    >>> with open_binary(p) as s: s.read()
    b'*8D4840D6202CC371C32CE0576098;'
    """
    return InputStream(Path(path), verify=verify)


def read_head(path: str | Path, n: int = 1024) -> bytes:
    """The first ``n`` decompressed bytes of ``path`` (fewer if the file is shorter), for
    format detection: not checked against the gzip CRC, never to be stored."""
    with open_binary(path, verify=False) as s:
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
