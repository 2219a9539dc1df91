"""What every reader in :mod:`tailwatch.sources` promises.

A reader turns one file into a stream of :class:`Chunk` objects. Raw-frame
formats (Beast, AVR, hex CSV) yield ``FRAMES`` batches that the ingest sends
through :mod:`tailwatch.decode`; decoded formats (SBS, traces, state vectors)
yield ``POSITIONS`` batches directly. Bad records are counted in the
:class:`~tailwatch.errors.Rejects` ledger with their location and skipped; a
file that cannot be read at all raises :class:`~tailwatch.errors.InputError`
after yielding whatever was good before the damage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

import pyarrow as pa

from tailwatch.errors import Rejects

ChunkKind = Literal["frames", "positions"]


@dataclass(frozen=True)
class Chunk:
    """A batch from a reader plus how far into the file it got (for progress bars)."""

    kind: ChunkKind
    batch: pa.RecordBatch
    #: Bytes of the (compressed) file consumed so far, cumulative.
    bytes_read: int


class Reader(Protocol):
    """One file format."""

    #: Format name as given to ``--format`` and stored in the ``source`` column.
    name: str

    def sniff(self, head: bytes, path: Path) -> bool:
        """True if ``head`` (the first KiB of the decompressed file) looks like this format."""
        ...

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield chunks of at most ``chunk_rows`` rows; count bad records in ``rejects``."""
        ...


@dataclass(frozen=True)
class ReaderOptions:
    """Per-ingest settings some formats need (``get_reader(name, **options)``).

    * ``start_time``: UTC time of the first frame of a raw capture (Beast, AVR)
      whose timestamps are relative; a ``datetime`` (naive = UTC) or epoch seconds.
      Without it, the capture is anchored so its *last* frame is at the file's mtime.
    * ``sbs_tz``: IANA zone of the date/time fields of SBS lines (receiver local
      time); default ``"UTC"``.
    """

    start_time: float | None = None
    sbs_tz: str = "UTC"

    @staticmethod
    def make(**options: object) -> ReaderOptions:
        """Build from keyword options, validating names and types.

        >>> ReaderOptions.make(start_time="2023-08-20T06:00:00Z").start_time
        1692511200.0
        """
        known = {"start_time", "sbs_tz"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown reader option(s): {', '.join(unknown)} (known: start_time, sbs_tz)")
        start = options.get("start_time")
        start_s: float | None
        if start is None:
            start_s = None
        elif isinstance(start, datetime):
            start_s = (start if start.tzinfo else start.replace(tzinfo=UTC)).timestamp()
        elif isinstance(start, int | float):
            start_s = float(start)
        elif isinstance(start, str):
            dt = datetime.fromisoformat(start.replace("Z", "+00:00"))
            start_s = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
        else:
            raise ValueError(f"start_time must be a datetime, epoch seconds or ISO text, not {start!r}")
        tz = options.get("sbs_tz", "UTC")
        if not isinstance(tz, str):
            raise ValueError(f"sbs_tz must be an IANA zone name, not {tz!r}")
        ZoneInfo(tz)  # raises ZoneInfoNotFoundError early for a bad name
        return ReaderOptions(start_s, tz)
