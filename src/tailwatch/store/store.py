"""The store: Parquet parts + a DuckDB catalog, queried through DuckDB views.

>>> import tempfile, pyarrow as pa
>>> from tailwatch.schema import POSITIONS
>>> s = Store.open(tempfile.mkdtemp())
>>> t = pa.table({"time": pa.array([0], pa.timestamp("us", tz="UTC")), "icao24": pa.array([0x062F01], pa.int32()),
...               "lat": [16.25], "lon": [-0.01], "quality": pa.array([1], pa.uint16())})
>>> s.add_positions(t, "example").rows_stored
1
>>> s.sql("SELECT count(*) AS n FROM positions").column("n").to_pylist()
[1]
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tailwatch.errors import StoreError
from tailwatch.paths import default_store
from tailwatch.schema import FINDINGS, LEGS, POSITIONS, STOPS, TimeLike, icao_of, utc_time
from tailwatch.store import catalog
from tailwatch.store.ingest import FileReport, IngestReport, Ledger, ProgressFn, ingest_paths, ingest_table
from tailwatch.store.parts import DERIVED_DIR, list_parts, remove_leftovers, write_atomic

#: Schemas of the derived tables the store knows (others take the schema of their first write).
DERIVED_SCHEMAS: dict[str, pa.Schema] = {"legs": LEGS, "stops": STOPS, "findings": FINDINGS}
_SORT_KEYS = {"legs": "t_start", "stops": "arrival", "findings": "t_start"}
#: Present while a writer works; if the writer is gone (lock free), the next open cleans up.
_WRITING = ".writing"

IcaoLike = int | str | Sequence[int | str]


def _icao_list(icao24: IcaoLike | None) -> list[int] | None:
    """Normalise an address, hex text or list of them.

    >>> _icao_list("062f01"), _icao_list([1, "00000A"])
    ([405249], [1, 10])
    """
    if icao24 is None:
        return None
    items: Sequence[int | str] = [icao24] if isinstance(icao24, int | str) else icao24
    return [v if isinstance(v, int) else icao_of(v) for v in items]


def _sql_list(paths: Sequence[Path | str]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _split_whole(table: pa.Table, rows: int) -> tuple[list[pa.Table], pa.Table]:
    """Cut a (icao24, time)-sorted table at aircraft boundaries into pieces of about ``rows`` rows.

    Returns the pieces before the last aircraft, and the last aircraft (it may continue in the
    next batch). An aircraft is never split.

    >>> t = pa.table({"icao24": [1, 1, 2, 3, 3, 3, 4]})
    >>> whole, tail = _split_whole(t, 2)
    >>> [p.column("icao24").to_pylist() for p in whole], tail.column("icao24").to_pylist()
    ([[1, 1], [2, 3, 3, 3]], [4])
    """
    icao = table.column("icao24").to_numpy()
    starts = np.flatnonzero(np.r_[True, icao[1:] != icao[:-1]])
    last = int(starts[-1])
    pieces: list[pa.Table] = []
    s = 0
    while s + rows < last:
        cut = int(starts[np.searchsorted(starts, s + rows, side="left")])
        pieces.append(table.slice(s, cut - s))
        s = cut
    if last > s:
        pieces.append(table.slice(s, last - s))
    return pieces, table.slice(last)


def _prune_generations(folder: Path, current: int) -> None:
    """Delete a derived table's files other than the current generation and the one before it
    (a reader that listed the catalog just before a switch may still be reading that one)."""
    if not folder.is_dir():
        return
    for f in folder.glob("g*.parquet"):
        try:
            g = int(f.stem[1:])
        except ValueError:
            continue
        if g not in (current, current - 1):
            f.unlink(missing_ok=True)


class Store:
    """A tailwatch store folder. Use :func:`open_store` (or :meth:`Store.open`) to get one."""

    def __init__(self, root: Path, memory_limit: str | None = None) -> None:
        self.root = root
        self.memory_limit = memory_limit

    # -- opening and recovery ------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, memory_limit: str | None = None, create: bool = True) -> Store:
        """Open the store at ``path`` (default :func:`tailwatch.paths.default_store`), creating it
        if missing unless ``create=False`` (then a missing store raises :class:`StoreError`).

        Leftovers of an interrupted ingest are removed, unless another process is writing.
        """
        root = Path(path).expanduser() if path is not None else default_store()
        if not create and not (root / catalog.CATALOG).is_file():
            raise StoreError(f"no store at {root}: run `tailwatch ingest FILES --store {root}` "
                             "or `tailwatch demo` first")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the store folder {root}: {e}") from e
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root} is not a folder")
        store = cls(root, memory_limit or os.environ.get("TAILWATCH_MEMORY_LIMIT"))
        if not os.access(root, os.W_OK):  # a read-only archive: query it, never clean it
            if not (root / catalog.CATALOG).exists():
                raise StoreError(f"{root} is not a tailwatch store and cannot be written")
            return store
        with catalog.writer_lock(root, blocking=False) as locked:
            if not (root / catalog.CATALOG).exists():
                catalog.create(root)
            if locked and (root / _WRITING).exists():
                store._recover()
        return store

    def _recover(self) -> Ledger:
        """Remove parts of unfinished files and stray temporary/derived files (writer lock held).

        Returns the ledger of finished files for the next ingest.
        """
        running, done, meta, last_id = catalog.state(self.root)
        remove_leftovers(self.root, set(done.values()))
        catalog.mark_interrupted(self.root, running)
        for name, m in meta.items():
            _prune_generations(self.root / DERIVED_DIR / name, int(m["generation"]))
        (self.root / _WRITING).unlink(missing_ok=True)
        return Ledger(done, last_id)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Ledger]:
        """Hold the writer lock, recover, and mark the store as being written until done."""
        with catalog.writer_lock(self.root):
            ledger = self._recover()
            (self.root / _WRITING).touch()
            yield ledger  # on an exception the marker stays, so the next open cleans up
            (self.root / _WRITING).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- ingest -------------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | Path] | str | Path,
        format: str = "auto",
        receiver: str | None = None,
        reader_options: dict[str, Any] | None = None,
        reference: tuple[float, float] | None = None,
        progress: ProgressFn | None = None,
        chunk_rows: int = 500_000,
        flush_rows: int = 2_000_000,
    ) -> IngestReport:
        """Ingest files, folders (recursive) and globs; see :mod:`tailwatch.store.ingest`.

        Idempotent (same content skipped by hash, rows deduplicated) and crash-safe.
        ``reader_options`` configure the reader (``tailwatch.sources.get_reader(name, **options)``)
        (e.g. ``{"start_time": datetime}`` for AVR without timestamps); ``reference``
        (lat, lon) is the receiver site for surface and local CPR decoding.
        """
        items = [paths] if isinstance(paths, str | Path) else list(paths)
        with self._writing() as ledger:
            return ingest_paths(
                self.root, items, ledger, fmt=format, receiver=receiver, reader_options=reader_options,
                reference=reference, progress=progress, chunk_rows=chunk_rows, flush_rows=flush_rows,
                memory_limit=self.memory_limit,
            )

    def add_positions(self, table: pa.Table, label: str, receiver: str | None = None,
                      flush_rows: int = 2_000_000) -> FileReport:
        """Ingest an in-memory ``POSITIONS`` table (a simulator run, a notebook result) under ``label``.

        Same guarantees as :meth:`ingest`: identical content is skipped, rows are deduplicated.
        """
        with self._writing() as ledger:
            return ingest_table(self.root, table, label, receiver, ledger, flush_rows, self.memory_limit)

    # -- catalog ------------------------------------------------------------------------------------
    def files(self) -> pa.Table:
        """The ``files`` catalog table: one row per ingested (or failed) file."""
        return catalog.snapshot(self.root)["files"]

    def rejects(self) -> pa.Table:
        """Rejected inputs by file and reason, with sample locations (JSON list)."""
        return catalog.snapshot(self.root)["rejects"]

    def dirty(self) -> pa.Table:
        """(icao24, day) pairs touched by ingests since :meth:`clear_dirty` last removed them."""
        return catalog.dirty(self.root)

    def clear_dirty(self, table: pa.Table | None = None) -> None:
        """Forget the (icao24, day) pairs of ``table`` (as returned by :meth:`dirty`), or all when None.

        An analysis build reads :meth:`dirty`, rebuilds those aircraft, then clears exactly
        that table, so days ingested meanwhile stay dirty.
        """
        catalog.clear_dirty(self.root, table)

    # -- queries ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self, days: set[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB connection with views ``positions`` (plus a ``day`` column),
        ``legs``, ``stops``, ``findings``, ``files``, ``rejects`` and ``dirty``.

        The catalog is read once and released; the connection only reads Parquet files.
        """
        snap = catalog.snapshot(self.root)
        files = snap["files"]
        done = set(
            pc.filter(files.column("file_id"), pc.equal(files.column("status"), catalog.DONE)).to_pylist()
        )
        parts = [p.path for p in list_parts(self.root, days) if p.file_id in done]
        config: dict[str, Any] = {"temp_directory": os.path.join(tempfile.gettempdir(), f"tailwatch-duckdb-{os.getpid()}")}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        con = duckdb.connect(config=config)
        try:
            con.execute("SET TimeZone='UTC'")
            if parts:
                con.execute(
                    "CREATE VIEW positions AS SELECT * FROM read_parquet("
                    f"{_sql_list(parts)}, hive_partitioning = true, hive_types = {{'day': DATE}})"
                )
            else:
                empty = POSITIONS.empty_table().append_column("day", pa.array([], pa.date32()))
                con.register("positions", empty)
            meta = {str(r["name"]): r for r in snap["derived_meta"].to_pylist()}
            for name, schema in DERIVED_SCHEMAS.items():
                if name in meta:
                    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_list([meta[name]['path']])})")
                else:
                    con.register(name, schema.empty_table())
            for name in ("files", "rejects", "dirty"):
                con.register(name, snap[name])
            yield con
        finally:
            con.close()

    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        """Run SQL over the views ``positions``, ``legs``, ``stops``, ``findings``, ``files``, ``rejects``, ``dirty``."""
        with self.connect() as con:
            return con.sql(query, params=params).to_arrow_table()

    def _where(self, icao24: IcaoLike | None, since: TimeLike | None,
               until: TimeLike | None) -> tuple[str, dict[str, Any], set[str] | None]:
        conds: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        ids = _icao_list(icao24)
        if ids is not None:
            conds.append("list_contains($ids, icao24)" if len(ids) > 1 else "icao24 = $ids[1]")
            params["ids"] = ids
        t0, t1 = utc_time(since), utc_time(until, end=True)
        days: set[str] | None = None
        if t0 is not None:
            conds.append("time >= $t0")
            params["t0"] = t0
        if t1 is not None:
            conds.append("time < $t1")
            params["t1"] = t1
        if t0 is not None and t1 is not None:
            n = (t1.date() - t0.date()).days
            days = {str(t0.date() + timedelta(days=i)) for i in range(n + 1)}
        return " AND ".join(conds), params, days

    @staticmethod
    def _schema(columns: Sequence[str] | None) -> pa.Schema:
        if columns is None:
            return POSITIONS
        unknown = [c for c in columns if c not in POSITIONS.names]
        if unknown:
            raise ValueError(f"unknown positions column(s): {', '.join(unknown)}")
        return pa.schema([POSITIONS.field(c) for c in columns])

    def positions(self, icao24: IcaoLike | None = None, since: TimeLike | None = None,
                  until: TimeLike | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """Positions (``POSITIONS`` schema) sorted by (icao24, time); ``until`` is exclusive
        (a bare date includes that whole day). ``icao24`` takes an int, hex text or a list."""
        schema = self._schema(columns)
        where, params, days = self._where(icao24, since, until)
        with self.connect(days) as con:
            q = f"SELECT {', '.join(schema.names)} FROM positions WHERE {where} ORDER BY icao24, time"
            return con.sql(q, params=params).to_arrow_table().cast(schema)

    def iter_aircraft_batches(self, rows: int = 1_000_000, since: TimeLike | None = None,
                              until: TimeLike | None = None, icao24: IcaoLike | None = None,
                              columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """Stream positions sorted by (icao24, time) in tables of about ``rows`` rows, each
        holding only whole aircraft (an aircraft with more rows than ``rows`` comes alone)."""
        cols = list(columns) if columns is not None else list(POSITIONS.names)
        if "icao24" not in cols:
            cols.insert(0, "icao24")
        if "time" not in cols:
            cols.insert(1, "time")
        schema = self._schema(cols)
        where, params, days = self._where(icao24, since, until)
        with self.connect(days) as con:
            q = f"SELECT {', '.join(schema.names)} FROM positions WHERE {where} ORDER BY icao24, time"
            reader = con.sql(q, params=params).to_arrow_reader(min(max(rows, 100_000), 1_000_000))
            pending: list[pa.Table] = []
            count = 0
            for batch in reader:
                if not batch.num_rows:
                    continue
                pending.append(pa.Table.from_batches([batch]))
                count += batch.num_rows
                if count < rows:
                    continue
                whole, tail = _split_whole(pa.concat_tables(pending), rows)
                for t in whole:
                    yield t.cast(schema).combine_chunks()
                pending, count = [tail], tail.num_rows
            if count:
                table = pa.concat_tables(pending)
                whole, tail = _split_whole(table, rows)
                for t in [*whole, tail]:
                    yield t.cast(schema).combine_chunks()

    # -- derived tables -------------------------------------------------------------------------------
    def derived(self, name: str, icao24: IcaoLike | None = None) -> pa.Table:
        """A derived table (``legs``, ``stops``, ``findings`` or one of your own), optionally only some aircraft.

        A table never written is empty: with its schema for the known names, without columns otherwise.
        """
        meta = catalog.derived_meta(self.root).get(name)
        if meta is None:
            return DERIVED_SCHEMAS[name].empty_table() if name in DERIVED_SCHEMAS else pa.table({})
        table = pq.read_table(meta["path"])
        if name in DERIVED_SCHEMAS:
            table = table.cast(DERIVED_SCHEMAS[name])
        ids = _icao_list(icao24)
        if ids is not None:
            table = table.filter(pc.is_in(table.column("icao24"), pa.array(ids, pa.int32())))
        return table

    def derived_outdated(self, name: str, inputs: Sequence[str] = ()) -> bool:
        """True when derived table ``name`` was never written, or is older than the last ingested
        file or than any of the derived tables ``inputs`` (e.g. findings vs ``("legs", "stops")``)."""
        return catalog.derived_outdated(self.root, name, tuple(inputs))

    def write_derived(self, name: str, table: pa.Table, icao24: IcaoLike | None = None) -> None:
        """Replace derived table ``name`` (``icao24=None``), or only the rows of the aircraft ``icao24``.

        The new version is written to a new file and switched in one catalog update, so readers
        see either the old or the new table, never a mix.
        """
        if not name.isidentifier() or name in ("positions", "files", "rejects", "dirty"):
            raise ValueError(f"bad derived table name {name!r}")
        schema = DERIVED_SCHEMAS.get(name, table.schema)
        new = table.select(schema.names).cast(schema)
        ids = _icao_list(icao24)
        with self._writing():
            meta = catalog.derived_meta(self.root).get(name)
            if ids is not None:
                wanted = pa.array(ids, pa.int32())
                outside = pc.sum(pc.invert(pc.fill_null(pc.is_in(new.column("icao24"), wanted), False))).as_py()
                if outside:
                    raise ValueError(f"{outside} rows of {name} belong to aircraft outside icao24={icao24!r}")
                if meta is not None:
                    old = pq.read_table(meta["path"]).cast(schema)
                    kept = old.filter(pc.invert(pc.fill_null(pc.is_in(old.column("icao24"), wanted), False)))
                    new = pa.concat_tables([kept, new])
            sort = [("icao24", "ascending")] if "icao24" in schema.names else []
            if name in _SORT_KEYS:
                sort.append((_SORT_KEYS[name], "ascending"))
            if sort:
                new = new.sort_by(sort)
            generation = (meta["generation"] if meta else 0) + 1
            path = self.root / DERIVED_DIR / name / f"g{generation}.parquet"
            write_atomic(new, path)
            catalog.set_derived(self.root, name, str(path), generation, new.num_rows)
            _prune_generations(path.parent, generation)


def open_store(path: str | Path | None = None, memory_limit: str | None = None, create: bool = True) -> Store:
    """Open the store at ``path`` (default ``$TAILWATCH_STORE`` or the XDG data folder).

    By default a missing store is created (an empty one: what ``ingest`` wants). Code that
    only reads passes ``create=False``: a mistyped path then raises :class:`StoreError`
    ("no store at ...") instead of silently giving an empty store.

    ``memory_limit`` (e.g. ``"2GB"``, default ``$TAILWATCH_MEMORY_LIMIT`` or DuckDB's own) bounds
    DuckDB's memory; larger sorts spill to a temporary folder.
    """
    return Store.open(path, memory_limit, create)
