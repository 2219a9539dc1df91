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

Dedup key: ``(icao24, time, lat, lon)`` for rows with a position; rows without a
position (velocity, identification, altitude-only) also compare their value
columns, so that two different messages of one aircraft in the same
microsecond are not collapsed.
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.schema import POSITIONS
from tailwatch.store import catalog
from tailwatch.store.parts import list_parts, part_path, write_atomic

#: Called as ``progress(path, bytes_done, bytes_total, rows)`` after each chunk of a file.
ProgressFn = Callable[[str, int, int, int], None]

_VALUE_COLS = ("alt_baro", "alt_geom", "gs", "track", "vrate", "callsign", "squawk", "on_ground", "emergency")
_KEY_EXPRS = ", ".join(f"CASE WHEN lat IS NULL THEN {c} END AS k_{c}" for c in _VALUE_COLS)
_KEY_COLS = ["icao24", "time", "lat", "lon", *(f"k_{c}" for c in _VALUE_COLS)]
_JOIN = " AND ".join(
    ["u.icao24 = e.icao24", "u.time = e.time"]
    + [f"u.{c} IS NOT DISTINCT FROM e.{c}" for c in _KEY_COLS[2:]]
)
_US_PER_DAY = 86_400_000_000
#: Parts of a day with more rows than this are written as several parts in parallel.
_PART_SPLIT_ROWS = 100_000
_WRITERS = max(1, min(4, os.cpu_count() or 1))
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
            if text and text.startswith(f.path + " "):
                text = text[len(f.path) + 1:]
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

    def next_id(self) -> int:
        """Allocate a file id (only the writer-lock holder allocates, so no race)."""
        self.last_id += 1
        return self.last_id

    def finished(self, root: Path, record: catalog.FileRecord) -> None:
        """Queue a finished file; commit the queue when it is big, old or holds much data.

        A DuckDB write transaction costs tens of milliseconds, so a folder of small files is
        committed in groups; a crash before the commit only means those files are redone.
        """
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append(record)
        if record.status == catalog.DONE:
            self.done[record.sha256] = record.file_id
        rows = sum(r.rows_stored for r in self.pending)
        if len(self.pending) >= 64 or rows >= 200_000 or time.monotonic() - self.pending_since >= 1.0:
            self.commit(root)

    def commit(self, root: Path) -> None:
        """Write the queued files to the catalog in one transaction."""
        catalog.record_files(root, self.pending)
        self.pending = []


class _Reader(Protocol):
    name: str

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = ...) -> Iterator[Any]: ...


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


def _is_sorted(d: np.ndarray[Any, Any], icao: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> bool:
    """True if rows are already ordered by (day, icao24, time).

    >>> import numpy as np
    >>> _is_sorted(np.array([0, 0, 1]), np.array([5, 5, 1]), np.array([1, 2, 9]))
    True
    >>> _is_sorted(np.array([0, 0]), np.array([5, 4]), np.array([1, 2]))
    False
    """
    dd, di, dt = np.diff(d), np.diff(icao), np.diff(t)
    return bool(np.all((dd > 0) | ((dd == 0) & ((di > 0) | ((di == 0) & (dt >= 0))))))


def _first_occurrences(rows: pa.Table) -> np.ndarray[Any, Any]:
    """For rows that may repeat: True for the first row of each dedup key, False for later copies."""
    lat_null = pc.is_null(rows.column("lat"))
    cols: dict[str, Any] = {c: rows.column(c) for c in ("icao24", "time", "lat", "lon")}
    for c in _VALUE_COLS:
        col = rows.column(c)
        cols[f"k_{c}"] = pc.if_else(lat_null, col, pa.nulls(rows.num_rows, col.type))
    cols["idx"] = pa.array(np.arange(rows.num_rows))
    keyed = pa.table(cols)
    first = keyed.group_by([k for k in keyed.column_names if k != "idx"], use_threads=False).aggregate(
        [("idx", "min")]
    )
    out = np.zeros(rows.num_rows, dtype=bool)
    out[first.column("idx_min").to_numpy()] = True
    return out


def _pieces(icao: np.ndarray[Any, Any], min_rows: int, k: int) -> list[tuple[int, int]]:
    """Split an icao24-sorted run into at most ``k`` pieces of at least ``min_rows`` rows, at aircraft boundaries.

    >>> import numpy as np
    >>> _pieces(np.array([1, 1, 2, 2, 3, 3]), 2, 2)
    [(0, 2), (2, 6)]
    >>> _pieces(np.array([1, 1, 2]), 5, 2)
    [(0, 3)]
    """
    n = len(icao)
    k = max(1, min(k, n // max(min_rows, 1)))
    cuts = [0]
    for j in range(1, k):
        c = int(np.searchsorted(icao, icao[min(n * j // k, n - 1)], side="left"))
        if c > cuts[-1]:
            cuts.append(c)
    cuts.append(n)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _iso(us: int) -> str:
    """ISO text of a UTC time in microseconds, for a DuckDB literal.

    >>> _iso(1_000_001)
    '1970-01-01T00:00:01.000001+00:00'
    """
    return f"{np.datetime64(us, 'us')}+00:00"


class FileWriter:
    """Buffers one file's rows and writes them, deduplicated, as atomic parts."""

    def __init__(self, root: Path, file_id: int, done_ids: set[int], flush_rows: int,
                 memory_limit: str | None) -> None:
        self.root = root
        self.file_id = file_id
        self.done_ids = done_ids
        self.flush_rows = flush_rows
        self.memory_limit = memory_limit
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows_in = 0
        self.rows_stored = 0
        self.n_parts = 0
        self.touched: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        """Buffer rows; flush when the buffer is full."""
        if not table.num_rows:
            return
        self.buffer.append(table)
        self.buffered += table.num_rows
        self.rows_in += table.num_rows
        if self.buffered >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        """Deduplicate the buffer (within itself and against stored rows) and write it as parts."""
        if not self.buffer:
            return
        seg = pa.concat_tables(self.buffer).combine_chunks()
        self.buffer, self.buffered = [], 0
        t = seg.column("time").cast(pa.int64()).to_numpy()
        icao = seg.column("icao24").to_numpy()
        d = t // _US_PER_DAY
        if not _is_sorted(d, icao, t):
            order = np.lexsort((t, icao, d))
            seg, t, icao, d = seg.take(order), t[order], icao[order], d[order]
        keep = np.ones(seg.num_rows, dtype=bool)
        same = (icao[1:] == icao[:-1]) & (t[1:] == t[:-1])
        if same.any():  # only rows sharing (icao24, time) with a neighbour can be duplicates
            cand = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
            keep[cand] = _first_occurrences(seg.take(cand))
        days = {str(np.datetime64(int(x), "D")) for x in np.unique(d)}
        ids = self.done_ids | {self.file_id}
        existing = [p.path for p in list_parts(self.root, days) if p.file_id in ids]
        if existing:
            keep[self._stored_already(seg, keep, existing, int(t.min()), int(t.max()))] = False
        if not keep.all():
            seg, d = seg.filter(pa.array(keep)), d[keep]
        self._write(seg, d)

    def _stored_already(self, seg: pa.Table, keep: np.ndarray[Any, Any], existing: list[Path],
                        lo_us: int, hi_us: int) -> np.ndarray[Any, Any]:
        """Row indices of ``seg`` whose dedup key is already in the ``existing`` parts."""
        idx = np.flatnonzero(keep)
        keys = seg.select(["icao24", "time", "lat", "lon", *_VALUE_COLS]).take(idx)
        keys = keys.append_column("idx", pa.array(idx))
        con = duckdb.connect(config={"memory_limit": self.memory_limit} if self.memory_limit else {})
        try:
            con.execute("SET TimeZone='UTC'")
            con.register("s", keys)
            files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in existing)
            q = (
                f"SELECT u.idx FROM (SELECT idx, icao24, time, lat, lon, {_KEY_EXPRS} FROM s) u SEMI JOIN"
                f" (SELECT icao24, time, lat, lon, {_KEY_EXPRS} FROM read_parquet([{files}])"
                f" WHERE time BETWEEN '{_iso(lo_us)}'::TIMESTAMPTZ AND '{_iso(hi_us)}'::TIMESTAMPTZ) e"
                f" ON {_JOIN}"
            )
            found = con.sql(q).to_arrow_table().column("idx").to_numpy()
        finally:
            con.close()
        return np.asarray(found, dtype=np.int64)

    def _write(self, out: pa.Table, d: np.ndarray[Any, Any]) -> None:
        if not out.num_rows:
            return
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        ends = np.r_[starts[1:], len(d)]
        icao = out.column("icao24").to_numpy()
        jobs: list[tuple[pa.Table, Path]] = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            day = str(np.datetime64(int(d[s]), "D"))
            for a, b in _pieces(icao[s:e], _PART_SPLIT_ROWS, _WRITERS):
                jobs.append((out.slice(s + a, b - a), part_path(self.root, day, self.file_id, self.n_parts)))
                self.n_parts += 1
        if len(jobs) > 1:  # Parquet encoding releases the GIL: write parts on all cores
            with ThreadPoolExecutor(max_workers=min(_WRITERS, len(jobs))) as pool:
                list(pool.map(lambda job: write_atomic(*job), jobs))
        else:
            for job in jobs:
                write_atomic(*job)
        self.rows_stored += out.num_rows
        pairs = pa.table({"icao24": out.column("icao24"), "d": pa.array(d.astype(np.int32))})
        pairs = pairs.group_by(["icao24", "d"], use_threads=False).aggregate([])
        self.touched.append(
            pa.table({"icao24": pairs.column("icao24"), "day": pairs.column("d").cast(pa.date32())})
        )

    def finish(self) -> pa.Table:
        """Flush what is left; return the distinct (icao24, day) pairs written."""
        self.flush()
        if not self.touched:
            return pa.table({"icao24": pa.array([], pa.int32()), "day": pa.array([], pa.date32())})
        return pa.concat_tables(self.touched)


def _sources() -> tuple[Callable[[Path], str], Callable[..., _Reader]]:
    mod = importlib.import_module("tailwatch.sources")
    return mod.detect, mod.get_reader


def _decoder(reference: tuple[float, float] | None, source: str) -> Any:
    mod = importlib.import_module("tailwatch.decode")
    return mod.Decoder(reference=reference, source=source)


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
    detect, get_reader = _sources()
    started = catalog.now()
    file_id = rep.file_id = ledger.next_id()
    writer = FileWriter(root, file_id, set(ledger.done.values()), flush_rows, memory_limit)
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
                    decoder = _decoder(reference, rep.format)
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
        rep.error = f"{name}: no usable records"
        if not rep.rejects.total:
            rep.rejects.add("no usable records", name, "whole file")
    status = catalog.DONE if rep.rows_read > 0 else catalog.FAILED
    rep.status = "stored" if status == catalog.DONE else "failed"
    ledger.finished(root, catalog.FileRecord(
        file_id, path=name, sha256=sha, size=rep.size, fmt=rep.format, receiver=receiver, status=status,
        rows_read=rep.rows_read, rows_stored=rep.rows_stored, duplicates=rep.duplicates, rejects=rep.rejects,
        error=rep.error, touched=touched, started=started,
    ))
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
    writer = FileWriter(root, file_id, set(ledger.done.values()), flush_rows, memory_limit)
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
    ))
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
