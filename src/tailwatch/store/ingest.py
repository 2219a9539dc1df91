"""Putting files into the store: expand paths, read, decode, deduplicate, write parts, catalogue.

One input file is handled as follows (see ``docs/architecture.md``, store/):

1. hash the file (sha256 of its bytes); a hash already ingested is skipped;
2. give it the next file id (only the writer-lock holder allocates ids);
3. read it with its :mod:`tailwatch.sources` reader (frames go through one
   :class:`tailwatch.decode.Decoder` per file, fed chunk by chunk);
4. every ``flush_rows`` rows, deduplicate the buffered rows among themselves and
   against the stored rows of the same days, and write them as parts (atomic);
5. catalogue it ``done`` in one transaction (small files in groups of up to 64 or 1 s) —
   only then do queries see its parts. Parts whose file id is not ``done`` (a killed
   ingest) are deleted by the next writer.

Deduplication and part writing live in :mod:`tailwatch.store.writer`.
"""

from __future__ import annotations

import glob
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.schema import POSITIONS
from tailwatch.store import catalog
from tailwatch.store.parts import sync_dirs
from tailwatch.store.writer import FileWriter, PartStats

#: Called as ``progress(path, bytes_done, bytes_total, rows)`` after each chunk of a file.
ProgressFn = Callable[[str, int, int, int], None]

_GLOB_CHARS = set("*?[")


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    status: str = "pending"  # stored | skipped | failed
    file_id: int | None = None
    format: str | None = None
    size: int = 0
    rows_read: int = 0
    rows_stored: int = 0
    duplicates: int = 0
    rejects: Rejects = field(default_factory=Rejects)
    error: str | None = None
    same_as: int | None = None  # id of the already-ingested file with identical content


@dataclass
class IngestReport:
    """Per-file outcome of :meth:`tailwatch.store.Store.ingest`."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def rows_stored(self) -> int:
        """Rows added to the store by this ingest, all files."""
        return sum(f.rows_stored for f in self.files)

    @property
    def duplicates(self) -> int:
        """Rows skipped because the store already had them."""
        return sum(f.duplicates for f in self.files)

    @property
    def rejects(self) -> Rejects:
        """All rejects of all files, merged."""
        total = Rejects()
        for f in self.files:
            total.merge(f.rejects)
        return total

    @property
    def ok(self) -> bool:
        """True if at least one file could be read (stored, or already in the store)."""
        return any(f.status in ("stored", "skipped") for f in self.files)

    def to_table(self) -> pa.Table:
        """One row per file: path, status, format, rows read/stored, duplicates, rejects, first problem."""
        def first_problem(f: FileReport) -> str | None:
            text = f.error or (str(f.rejects.samples[0]) if f.rejects.samples else None)
            for prefix in (f.path + ": ", f.path + " "):
                if text and text.startswith(prefix):
                    text = text[len(prefix):]
            return text

        return pa.table(
            {
                "file_id": pa.array([f.file_id for f in self.files], pa.int64()),
                "path": [f.path for f in self.files],
                "status": [f.status for f in self.files],
                "format": [f.format for f in self.files],
                "rows_read": pa.array([f.rows_read for f in self.files], pa.int64()),
                "rows_stored": pa.array([f.rows_stored for f in self.files], pa.int64()),
                "duplicates": pa.array([f.duplicates for f in self.files], pa.int64()),
                "rejects": pa.array([f.rejects.total for f in self.files], pa.int64()),
                "problem": pa.array([first_problem(f) for f in self.files], pa.string()),
            }
        )


@dataclass
class Ledger:
    """What an ingest needs to know of the catalog while it holds the writer lock."""

    #: sha256 → id of every finished file (updated as files finish).
    done: dict[str, int]
    #: Largest file id used so far; new files take the next ones.
    last_id: int
    #: Finished files not yet committed to the catalog (small files are committed in groups).
    pending: list[catalog.FileRecord] = field(default_factory=list)
    pending_since: float = 0.0
    dirs: set[Path] = field(default_factory=set)
    #: Bounding boxes of parts seen during this ingest (see :func:`part_stats`).
    stats: dict[Path, PartStats] = field(default_factory=dict)

    def next_id(self) -> int:
        """Allocate a file id (only the writer-lock holder allocates, so no race)."""
        self.last_id += 1
        return self.last_id

    def finished(self, root: Path, record: catalog.FileRecord, dirs: set[Path]) -> None:
        """Queue a finished file; commit the queue when it is big, old or holds much data.

        A DuckDB write transaction costs tens of milliseconds, so a folder of small files is
        committed in groups; a crash before the commit only means those files are redone.
        """
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append(record)
        self.dirs |= dirs
        if record.status == catalog.DONE:
            self.done[record.sha256] = record.file_id
        rows = sum(r.rows_stored for r in self.pending)
        if len(self.pending) >= 64 or rows >= 200_000 or time.monotonic() - self.pending_since >= 1.0:
            self.commit(root)

    def commit(self, root: Path) -> None:
        """Make the queued files' parts durable (folder fsyncs), then catalogue them in one transaction."""
        sync_dirs(self.dirs)
        catalog.record_files(root, self.pending)
        self.pending, self.dirs = [], set()


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Files named by ``paths`` (files, folders searched recursively, globs); and the names that matched nothing.

    Hidden files and folders (``.name``) inside folders are skipped. Each file appears once.
    """
    out: list[Path] = []
    missing: list[str] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    def add_any(p: Path) -> bool:
        if p.is_file():
            add(p)
            return True
        if p.is_dir():
            for sub in sorted(p.rglob("*")):
                rel = sub.relative_to(p).parts
                if sub.is_file() and not any(x.startswith(".") for x in rel):
                    add(sub)
            return True
        return False

    for raw in paths:
        text = str(raw)
        p = Path(text).expanduser()
        if add_any(p):
            continue
        if _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(str(p), recursive=True))
            if any([add_any(Path(m)) for m in matches]):
                continue
        missing.append(text)
    return out, missing


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes (as stored on disk, compressed or not)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def table_sha256(table: pa.Table) -> str:
    """sha256 over a table's schema and column buffers (no copy), to recognise a table ingested before."""
    h = hashlib.sha256(table.schema.serialize().to_pybytes())
    for batch in table.to_batches():
        h.update(batch.num_rows.to_bytes(8, "little"))
        for col in batch.columns:
            h.update(col.offset.to_bytes(8, "little"))
            for buf in col.buffers():
                if buf is not None:
                    h.update(memoryview(buf))
    return h.hexdigest()


def conform(batch: pa.RecordBatch | pa.Table, file_id: int, receiver: str | None, path: str,
            rejects: Rejects) -> pa.Table:
    """A reader's or decoder's batch as a ``POSITIONS`` table with ``file_id``/``receiver`` filled.

    Rows without a time or with an address outside 24 bits are counted in ``rejects`` and dropped.
    """
    t = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    n = t.num_rows
    cols = []
    for f in POSITIONS:
        if f.name == "file_id":
            cols.append(pa.array(np.full(n, file_id, dtype=np.int64)))
        elif f.name == "receiver" and receiver is not None:
            cols.append(pa.array([receiver] * n, pa.string()) if n else pa.array([], pa.string()))
        elif f.name in t.column_names:
            cols.append(t.column(f.name).cast(f.type))
        elif f.name == "quality":
            cols.append(pa.array(np.zeros(n, dtype=np.uint16)))
        else:
            cols.append(pa.nulls(n, f.type))
    out = pa.Table.from_arrays(cols, schema=POSITIONS)
    icao = out.column("icao24")
    bad = pc.or_kleene(
        pc.or_kleene(pc.is_null(out.column("time")), pc.is_null(icao)),
        pc.or_kleene(pc.less(icao, 0), pc.greater(icao, 0xFFFFFF)),
    )
    bad = pc.fill_null(bad, True)
    n_bad = pc.sum(bad).as_py() or 0
    if n_bad:
        rejects.add("row without time or valid ICAO address", path, "rows", f"{n_bad} rows", n=n_bad)
        out = out.filter(pc.invert(bad))
    return out


def reason_key(text: str) -> str:
    """The category of a file-level error message, for counting by reason (details stay in samples).

    >>> reason_key("truncated or corrupt gzip after 23330816 good decompressed bytes (EOF)")
    'truncated or corrupt gzip'
    >>> reason_key("truncated JSON: unexpected end of data")
    'truncated JSON'
    """
    cut = len(text)
    for sep in (":", " (", " after ", " at ", " in "):
        i = text.find(sep)
        if 0 < i < cut:
            cut = i
    return text[:cut].strip()


def _why_nothing(rejects: Rejects) -> str:
    """Why a file gave no rows, when one reject reason explains (almost) all of it ('' otherwise).

    >>> r = Rejects(); r.add("unverified address", "x.csv", "line 2", n=5000)
    >>> _why_nothing(r)[:56]
    ': all 5,000 frames rejected as unverified address (Comm-'
    """
    from tailwatch.decode import REASON_HELP

    if not rejects.total:
        return ""
    reason, n = max(rejects.counts.items(), key=lambda kv: kv[1])
    if reason not in REASON_HELP or n < 0.9 * rejects.total:
        return ""
    share = "all" if n == rejects.total else "most of the"
    return f": {share} {rejects.total:,} frames rejected as {reason} ({REASON_HELP[reason]})"


def ingest_file(
    root: Path,
    path: Path,
    rep: FileReport,
    ledger: Ledger,
    *,
    fmt: str,
    receiver: str | None,
    reader_options: dict[str, Any] | None,
    reference: tuple[float, float] | None,
    progress: ProgressFn | None,
    chunk_rows: int,
    flush_rows: int,
    memory_limit: str | None,
) -> None:
    """Ingest one file into the store, filling ``rep``. Never raises for bad input."""
    name = str(path)
    try:
        rep.size = path.stat().st_size
        sha = sha256_of(path)
    except OSError as e:
        rep.status, rep.error = "failed", f"{name}: cannot read ({e.strerror or e})"
        rep.rejects.add("unreadable file", name, "byte 0", str(e))
        return
    if sha in ledger.done:
        rep.status, rep.same_as = "skipped", ledger.done[sha]
        return
    from tailwatch.decode import Decoder  # imported here: only ingest needs readers and decoder
    from tailwatch.sources import detect, get_reader

    started = catalog.now()
    file_id = rep.file_id = ledger.next_id()
    writer = FileWriter(root, file_id, set(ledger.done.values()), flush_rows, memory_limit, ledger.stats)
    decoder = None
    try:
        if rep.size == 0:
            raise InputError(name, "byte 0", "empty file")
        rep.format = detect(path) if fmt == "auto" else fmt
        try:
            reader = get_reader(rep.format, **(reader_options or {}))
        except ValueError as e:  # unknown format or reader option
            raise InputError(name, "whole file", f"unusable format or option ({e})") from None
        for chunk in reader.read(path, rep.rejects, chunk_rows):
            batch = chunk.batch
            if chunk.kind == "frames":
                if decoder is None:
                    decoder = Decoder(reference=reference, source=rep.format)
                batch = decoder.decode(batch, name, rep.rejects)
            table = conform(batch, file_id, receiver, name, rep.rejects)
            rep.rows_read += table.num_rows
            writer.add(table)
            if progress:
                progress(name, min(int(chunk.bytes_read), rep.size), rep.size, rep.rows_read)
    except InputError as e:
        rep.error = str(e)
        rep.rejects.add(reason_key(e.reason), e.path, e.location, e.reason)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as e:  # a reader/decoder bug (or a Rust panic) must not stop the other files
        rep.error = f"{name}: {type(e).__name__}: {e}"
        rep.rejects.add("reader failure", name, "unknown", f"{type(e).__name__}: {e}")
    touched = writer.finish()
    rep.rows_stored = writer.rows_stored
    rep.duplicates = rep.rows_read - rep.rows_stored
    if rep.rows_read == 0 and rep.error is None:
        rep.error = f"{name}: no usable records{_why_nothing(rep.rejects)}"
        if not rep.rejects.total:
            rep.rejects.add("no usable records", name, "whole file")
    status = catalog.DONE if rep.rows_read > 0 else catalog.FAILED
    rep.status = "stored" if status == catalog.DONE else "failed"
    ledger.finished(root, catalog.FileRecord(
        file_id, path=name, sha256=sha, size=rep.size, fmt=rep.format, receiver=receiver, status=status,
        rows_read=rep.rows_read, rows_stored=rep.rows_stored, duplicates=rep.duplicates, rejects=rep.rejects,
        error=rep.error, touched=touched, started=started,
    ), writer.dirs)
    if progress:
        progress(name, rep.size, rep.size, rep.rows_read)


def ingest_table(root: Path, table: pa.Table, label: str, receiver: str | None, ledger: Ledger,
                 flush_rows: int, memory_limit: str | None) -> FileReport:
    """Ingest an in-memory ``POSITIONS`` table as if it were a file called ``label``."""
    sha = table_sha256(table)
    rep = FileReport(path=label, format=str(table.column("source")[0]) if table.num_rows and
                     "source" in table.column_names else None, size=table.nbytes)
    if sha in ledger.done:
        rep.status, rep.same_as = "skipped", ledger.done[sha]
        return rep
    started = catalog.now()
    file_id = rep.file_id = ledger.next_id()
    writer = FileWriter(root, file_id, set(ledger.done.values()), flush_rows, memory_limit, ledger.stats)
    for batch in table.to_batches(max_chunksize=flush_rows):
        t = conform(batch, file_id, receiver, label, rep.rejects)
        rep.rows_read += t.num_rows
        writer.add(t)
    touched = writer.finish()
    rep.rows_stored = writer.rows_stored
    rep.duplicates = rep.rows_read - rep.rows_stored
    status = catalog.DONE if rep.rows_read else catalog.FAILED
    rep.status = "stored" if rep.rows_read else "failed"
    ledger.finished(root, catalog.FileRecord(
        file_id, path=label, sha256=sha, size=rep.size, fmt=rep.format, receiver=receiver, status=status,
        rows_read=rep.rows_read, rows_stored=rep.rows_stored, duplicates=rep.duplicates, rejects=rep.rejects,
        error=None if rep.rows_read else "no rows", touched=touched, started=started,
    ), writer.dirs)
    ledger.commit(root)
    return rep


def ingest_paths(root: Path, paths: Sequence[str | Path], ledger: Ledger, **kw: Any) -> IngestReport:
    """Expand ``paths`` and ingest each file (the caller holds the writer lock)."""
    files, missing = expand_paths(paths)
    report = IngestReport()
    for m in missing:
        rep = FileReport(path=m, status="failed", error=f"{m}: no such file, folder or match")
        rep.rejects.add("no such file", m, "path")
        report.files.append(rep)
    try:
        for p in files:
            rep = FileReport(path=str(p))
            report.files.append(rep)
            ingest_file(root, p, rep, ledger, **kw)
    finally:  # files finished before an interruption still count
        ledger.commit(root)
    return report
