"""The databases of a db folder, parsed lazily and cached as Parquet.

Each database is parsed the first time it is needed and the Arrow table is
cached in ``<db_dir>/.tailwatch-cache/<name>.parquet`` (only in folders that
``tailwatch db update`` installed, recognised by their ``manifest.json``) with the
signature of its files (paths, sizes, mtimes) and the rows it rejected, so the
next process reads the Parquet (milliseconds) instead of re-parsing thousands of
CSV and JSON files. Any other folder (such as ``../shared/data``) is parsed
without writing anything into it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tailwatch import __version__
from tailwatch.errors import Reject, Rejects
from tailwatch.identity import loaders as L

CACHE_DIR = ".tailwatch-cache"
CACHE_VERSION = "3"  # bump when a cached table changes shape

_PREFIX_COLS = {"Prefix": "prefix", "CountryISO2": "iso2", "HasHyphen": "has_hyphen",
                "DecodeNoHyphenRegex": "nohyphen", "FormatTemplate": "template"}


def _fa_type(v: object) -> tuple[object, object]:
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return v["desc"], v.get("wtc")


def _loaders() -> dict[str, tuple[str, Callable[[Path, L.LoadLog], pa.Table | None]]]:
    return {
        "pad": (L.PAD_CSV, L.load_plane_alert),
        "vrs_aircraft": (L.VRS_AIRCRAFT, L.load_vrs_aircraft),
        "fa": (L.FA_DIR, L.load_fa),
        "code_blocks": (L.VRS_BLOCKS, L.load_code_blocks),
        "prefixes": (L.VRS_PREFIXES, lambda d, log: L.load_simple_csv(
            d, L.VRS_PREFIXES, L.VRS_PREFIXES_HEADER, _PREFIX_COLS, log)),
        "countries": (L.VRS_COUNTRIES, lambda d, log: L.load_simple_csv(
            d, L.VRS_COUNTRIES, L.VRS_COUNTRIES_HEADER, {"ISO": "iso2", "Name": "name"}, log)),
        "vrs_models": (L.VRS_MODELS, L.load_vrs_models),
        "fa_types": (L.FA_TYPES, lambda d, log: L.load_json_map(
            d, L.FA_TYPES, ["icao_class", "wtc"], _fa_type, log)),
        "mic_types": (L.MIC_TYPES, lambda d, log: L.load_json_map(
            d, L.MIC_TYPES, ["name", "icao_class", "wtc"], lambda v: (v[0], v[1], v[2]), log)),  # type: ignore[index]
        "mic_operators": (L.MIC_OPERATORS, lambda d, log: L.load_json_map(
            d, L.MIC_OPERATORS, ["name", "country", "callsign"], lambda v: (v[0], v[1], v[2]), log)),  # type: ignore[index]
    }


#: Databases that hold aircraft (at least one must exist for ``load_identity``).
AIRCRAFT_DBS = ("pad", "vrs_aircraft", "fa")


def signature(db_dir: Path, rel: str) -> str:
    """Hash of the paths, sizes and mtimes of a database's files ("missing" if absent)."""
    root = db_dir / rel
    if not root.exists():
        return "missing"
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    h = hashlib.sha256(f"{CACHE_VERSION} {__version__}".encode())
    for p in files:
        if CACHE_DIR in p.parts:
            continue
        st = p.stat()
        h.update(f"{p.relative_to(db_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _ledger_to_json(r: Rejects) -> dict[str, object]:
    return {"counts": r.counts, "samples": [[s.reason, s.path, s.location, s.detail] for s in r.samples]}


def _ledger_from_json(d: dict[str, object], into: Rejects) -> None:
    counts = d.get("counts", {})
    samples = d.get("samples", [])
    if isinstance(counts, dict):
        for k, v in counts.items():
            into.counts[str(k)] = into.counts.get(str(k), 0) + int(v)
    if isinstance(samples, list):
        into.samples.extend(Reject(*map(str, s)) for s in samples)


class Databases:
    """Lazily parsed databases of one folder (same layout as ``../shared/data``)."""

    def __init__(self, db_dir: Path) -> None:
        self.db_dir = db_dir
        self.log = L.LoadLog()
        self._tables: dict[str, pa.Table | None] = {}
        self._specs = _loaders()

    def present(self, name: str) -> bool:
        """True when the database's file or folder exists."""
        return (self.db_dir / self._specs[name][0]).exists()

    def signature(self, names: tuple[str, ...] | list[str]) -> str:
        """Combined signature of several databases (for caching derived tables)."""
        return hashlib.sha256("|".join(signature(self.db_dir, self._specs[n][0]) for n in names).encode()).hexdigest()

    def cache_dir(self) -> Path | None:
        """Where parsed tables are cached: only in folders installed by ``tailwatch db update``
        (they hold ``manifest.json``) -- never inside someone else's copy of the data."""
        if not (self.db_dir / "manifest.json").is_file():
            return None
        d = self.db_dir / CACHE_DIR
        if d.is_dir() and os.access(d, os.W_OK):
            return d
        if os.access(self.db_dir, os.W_OK):
            try:
                d.mkdir(exist_ok=True)
            except OSError:
                return None
            return d
        return None

    def cached(self, name: str, sig: str, build: Callable[[], pa.Table | None]) -> pa.Table | None:
        """Table ``name`` from the cache when its signature matches, else built (and cached)."""
        cache = self.cache_dir()
        if cache is not None:
            meta_path = cache / f"{name}.json"
            try:
                meta = json.loads(meta_path.read_text())
                if meta.get("signature") == sig:
                    _ledger_from_json(meta.get("rejects", {}), self.log.rejects)
                    _ledger_from_json(meta.get("repairs", {}), self.log.repairs)
                    return pq.read_table(cache / f"{name}.parquet") if meta.get("present") else None
            except (OSError, ValueError, pa.ArrowException):
                pass
        before = L.LoadLog()
        log, self.log = self.log, before
        try:
            table = build()
        finally:
            self.log = log
        self.log.rejects.merge(before.rejects)
        self.log.repairs.merge(before.repairs)
        if cache is not None:
            try:
                if table is not None:
                    pq.write_table(table, cache / f"{name}.parquet.tmp")
                    (cache / f"{name}.parquet.tmp").replace(cache / f"{name}.parquet")
                meta = {"signature": sig, "present": table is not None,
                        "rejects": _ledger_to_json(before.rejects), "repairs": _ledger_to_json(before.repairs)}
                (cache / f"{name}.json").write_text(json.dumps(meta))
            except OSError:
                pass
        return table

    def get(self, name: str) -> pa.Table | None:
        """The parsed table of database ``name`` (None when absent)."""
        if name not in self._tables:
            rel, loader = self._specs[name]
            sig = signature(self.db_dir, rel)
            if sig == "missing":
                self._tables[name] = None
            else:
                self._tables[name] = self.cached(name, sig, lambda: loader(self.db_dir, self.log))
        return self._tables[name]
