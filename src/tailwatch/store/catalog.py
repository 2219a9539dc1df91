"""The store's catalog (``STORE/catalog.duckdb``): files, rejects, dirty aircraft-days, derived tables.

Connections are short-lived: every function attaches the catalog to this process's
in-memory DuckDB, does one transaction and detaches it (releasing the file lock), so a reader and a writer process never lock each
other out for more than a moment. Opening retries while another process holds
the DuckDB file lock. Writers (ingest, derived-table writes, recovery) also hold
an advisory ``flock`` on ``STORE/.writer.lock`` so that only one writes at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tailwatch.errors import Rejects, StoreError

CATALOG = "catalog.duckdb"
LOCK = ".writer.lock"

_DDL = """
CREATE TABLE IF NOT EXISTS files (
    file_id BIGINT PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, size BIGINT,
    format VARCHAR, receiver VARCHAR, status VARCHAR NOT NULL, rows_read BIGINT, rows_stored BIGINT,
    duplicates BIGINT, rejects BIGINT, error VARCHAR, started TIMESTAMPTZ, finished TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS rejects (
    file_id BIGINT NOT NULL, reason VARCHAR NOT NULL, count BIGINT NOT NULL, samples VARCHAR);
CREATE TABLE IF NOT EXISTS dirty (icao24 INTEGER NOT NULL, day DATE NOT NULL, PRIMARY KEY (icao24, day));
CREATE TABLE IF NOT EXISTS derived_meta (
    name VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, generation BIGINT NOT NULL, rows BIGINT,
    updated TIMESTAMPTZ);
"""

#: Statuses of the ``files`` table. Only ``done`` files are visible to queries.
RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"


_BASE_LOCK = threading.Lock()
_BASE: dict[int, duckdb.DuckDBPyConnection] = {}
_SEQ = itertools.count()


def _base() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB, into which the catalog is attached for each piece of work.

    Creating a DuckDB database costs 12-18 ms of CPU; attaching a file to a live one about 1 ms.
    Keyed by process id: a forked child never touches its parent's instance (it gets its own,
    and the inherited one is kept referenced so that it is never closed in the child).
    """
    pid = os.getpid()
    con = _BASE.get(pid)
    if con is None:
        con = _BASE[pid] = duckdb.connect()
    return con


def _attach(base: duckdb.DuckDBPyConnection, path: Path, read_only: bool, wait_s: float) -> tuple[
        duckdb.DuckDBPyConnection, str]:
    """Attach ``path`` under a fresh alias, retrying while another process holds its lock."""
    deadline = time.monotonic() + wait_s
    delay = 0.02
    alias = f"tw_catalog_{next(_SEQ)}"
    quoted = str(path).replace("'", "''")
    con = base.cursor()
    while True:
        try:
            con.execute(f"ATTACH '{quoted}' AS {alias}" + (" (READ_ONLY)" if read_only else ""))
            return con, alias
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                con.close()
                raise StoreError(f"cannot open the store catalog {path}: {e}") from e
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


@contextlib.contextmanager
def connect(root: Path, read_only: bool = False, wait_s: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``root/catalog.duckdb`` for one short piece of work, retrying while another process holds it.

    The catalog file is attached to this process's in-memory DuckDB (as the default database
    of a fresh cursor) and detached afterwards, which releases its file lock exactly as closing
    a connection did. Catalog work within one process is serialised.
    """
    with _BASE_LOCK:
        base = _base()
        con, alias = _attach(base, root / CATALOG, read_only, wait_s)
        ok = False
        try:
            con.execute(f"USE {alias}")
            con.execute("SET TimeZone='UTC'")
            yield con
            ok = True
        finally:
            _detach(con, alias, rollback=not ok)


def _detach(con: duckdb.DuckDBPyConnection, alias: str, rollback: bool) -> None:
    """Roll back what an interrupted piece of work left open, detach the catalog, close the cursor.

    If the catalog cannot be detached, this process's DuckDB is closed altogether, so that no
    file lock outlives the piece of work.
    """
    if rollback:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
    try:
        con.execute("USE memory")
        con.execute(f"DETACH {alias}")
        con.close()
    except duckdb.Error:
        con.close()
        stale = _BASE.pop(os.getpid(), None)
        if stale is not None:
            stale.close()
        raise


def create(root: Path) -> None:
    """Create the catalog tables if they are missing."""
    with connect(root) as con:
        con.execute(_DDL)


@contextlib.contextmanager
def writer_lock(root: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold the store's writer lock; yields False (without the lock) if ``blocking`` is off and it is taken."""
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def now() -> datetime:
    return datetime.now(UTC)


def snapshot(root: Path) -> dict[str, pa.Table]:
    """Copies of the catalog tables (``files``, ``rejects``, ``dirty``, ``derived_meta``) as Arrow."""
    with connect(root, read_only=True) as con:
        return {
            name: con.sql(f"SELECT * FROM {name} ORDER BY ALL").to_arrow_table()
            for name in ("files", "rejects", "dirty", "derived_meta")
        }


def state(root: Path) -> tuple[set[int], dict[str, int], dict[str, dict[str, Any]], int]:
    """In one read: ids of ``running`` files, sha256 → id of ``done`` files, derived-table metadata,
    and the largest file id used so far."""
    with connect(root, read_only=True) as con:
        files = con.execute("SELECT file_id, sha256, status FROM files").fetchall()
        meta = con.execute("SELECT name, path, generation, rows FROM derived_meta").fetchall()
    running = {int(i) for i, _s, st in files if st == RUNNING}
    done: dict[str, int] = {}
    for i, sha, st in sorted(files):
        if st == DONE:
            done.setdefault(str(sha), int(i))
    derived = {str(n): {"path": str(p), "generation": int(g), "rows": int(r)} for n, p, g, r in meta}
    max_id = max((int(i) for i, _s, _st in files), default=0)
    return running, done, derived, max_id


@dataclass
class FileRecord:
    """One finished file, as it goes into ``files``, ``rejects`` and ``dirty``."""

    file_id: int
    path: str
    sha256: str
    size: int
    fmt: str | None
    receiver: str | None
    status: str
    rows_read: int
    rows_stored: int
    duplicates: int
    rejects: Rejects
    error: str | None
    touched: pa.Table | None
    started: datetime
    finished: datetime = field(default_factory=now)


def record_files(root: Path, records: list[FileRecord]) -> None:
    """Catalogue finished files (``done`` makes their parts visible) with counts, rejects and dirty days.

    One transaction for all of them: until it commits, their parts are invisible to queries,
    and a crash leaves parts that the next writer removes (their ids are not ``done``).
    """
    if not records:
        return
    with connect(root) as con:
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO files (file_id, path, sha256, size, format, receiver, status, rows_read, rows_stored,"
            " duplicates, rejects, error, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[r.file_id, r.path, r.sha256, r.size, r.fmt, r.receiver, r.status, r.rows_read, r.rows_stored,
              r.duplicates, r.rejects.total, r.error, r.started, r.finished] for r in records],
        )
        rejects = [
            [r.file_id, reason, n, json.dumps([str(x) for x in r.rejects.samples if x.reason == reason])]
            for r in records for reason, n in r.rejects.counts.items()
        ]
        if rejects:
            con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?)", rejects)
        touched = [r.touched for r in records if r.touched is not None and r.touched.num_rows and r.status == DONE]
        if touched:
            con.register("touched_days", pa.concat_tables(touched))
            con.execute("INSERT OR IGNORE INTO dirty SELECT DISTINCT icao24, day FROM touched_days")
            con.unregister("touched_days")
        con.execute("COMMIT")


def mark_interrupted(root: Path, ids: set[int]) -> None:
    """Mark unfinished files ``interrupted`` after their parts were removed."""
    if not ids:
        return
    with connect(root) as con:
        con.execute(
            "UPDATE files SET status = ?, error = 'interrupted; removed and redone on the next ingest'"
            " WHERE list_contains(?, file_id)",
            [INTERRUPTED, sorted(ids)],
        )


def dirty(root: Path) -> pa.Table:
    """The (icao24, day) pairs touched by ingests since they were last cleared."""
    with connect(root, read_only=True) as con:
        return con.sql("SELECT icao24, day FROM dirty ORDER BY icao24, day").to_arrow_table()


def clear_dirty(root: Path, pairs: pa.Table | None) -> None:
    """Forget the given (icao24, day) pairs (all of them when ``pairs`` is None)."""
    with connect(root) as con:
        if pairs is None:
            con.execute("DELETE FROM dirty")
            return
        con.register("done_pairs", pairs.select(["icao24", "day"]))
        con.execute(
            "DELETE FROM dirty WHERE EXISTS (SELECT 1 FROM done_pairs d"
            " WHERE d.icao24 = dirty.icao24 AND d.day = dirty.day)"
        )
        con.unregister("done_pairs")


def derived_meta(root: Path) -> dict[str, dict[str, Any]]:
    """name → {path, generation, rows} of each derived table written so far."""
    with connect(root, read_only=True) as con:
        rows = con.execute("SELECT name, path, generation, rows FROM derived_meta").fetchall()
    return {str(n): {"path": str(p), "generation": int(g), "rows": int(r)} for n, p, g, r in rows}


def derived_outdated(root: Path, name: str, inputs: tuple[str, ...] = ()) -> bool:
    """Whether derived table ``name`` was never written, or was written before the last file was
    catalogued ``done`` or before one of the derived tables ``inputs`` was last rewritten."""
    with connect(root, read_only=True) as con:
        row = con.execute(
            "SELECT (SELECT updated FROM derived_meta WHERE name = ?) AS mine,"
            " (SELECT max(finished) FROM files WHERE status = 'done') AS data,"
            " (SELECT max(updated) FROM derived_meta WHERE list_contains(?, name)) AS inputs",
            [name, list(inputs)],
        ).fetchone()
        if row is None or row[0] is None:
            return True
        newer = con.execute(
            "SELECT coalesce(?::TIMESTAMPTZ > ?::TIMESTAMPTZ, false) OR coalesce(?::TIMESTAMPTZ > ?::TIMESTAMPTZ, false)",
            [row[1], row[0], row[2], row[0]],
        ).fetchone()
    return bool(newer and newer[0])


def set_derived(root: Path, name: str, path: str, generation: int, rows: int) -> None:
    """Point derived table ``name`` at a new generation file (atomic switch)."""
    with connect(root) as con:
        con.execute(
            "INSERT OR REPLACE INTO derived_meta VALUES (?, ?, ?, ?, ?)", [name, path, generation, rows, now()]
        )
