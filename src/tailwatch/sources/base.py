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
from pathlib import Path
from typing import Literal, Protocol

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
