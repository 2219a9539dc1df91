"""Materialise the ``findings`` table of a store from its legs, stops and positions.

Legs and stops are small (a row per flight), so they are read whole; positions are
streamed with :meth:`Store.iter_aircraft_batches` (whole aircraft per batch), in one pass
that runs the incident and spoofing kernels, collects in-flight silences and builds the
coverage grid the silences are judged against at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.findings.basing import basing
from tailwatch.analysis.findings.colocation import co_location
from tailwatch.analysis.findings.common import Airports
from tailwatch.analysis.findings.config import FindingsConfig, load_config
from tailwatch.analysis.findings.foreign import foreign_operation
from tailwatch.analysis.findings.gaps import (
    coverage_cells,
    judge_silences,
    merge_coverage,
    silence_candidates,
    transponder_gap,
)
from tailwatch.analysis.findings.incident import incident
from tailwatch.analysis.findings.rotation import rotation
from tailwatch.analysis.findings.spoofing import spoofing
from tailwatch.schema import FINDINGS

KINDS = ("rotation", "foreign_operation", "basing", "co_location", "transponder_gap", "incident", "spoofing")

#: ``progress(stage, done, total)``: called as positions batches are processed (rows).
ProgressFn = Callable[[str, int, int], None]

_POS_COLUMNS = ["time", "icao24", "lat", "lon", "alt_baro", "alt_geom", "gs", "track", "vrate", "squawk",
                "on_ground", "emergency"]


class _Annotator(Protocol):
    def annotate(self, icao24: pa.Array | pa.ChunkedArray) -> pa.Table: ...


class _StoreLike(Protocol):
    def derived(self, name: str, icao24: Any = None) -> pa.Table: ...

    def write_derived(self, name: str, table: pa.Table, icao24: Any = None) -> None: ...

    def iter_aircraft_batches(self, rows: int = ..., since: Any = None, until: Any = None, icao24: Any = None,
                              columns: Any = None) -> Iterable[pa.Table]: ...

    def sql(self, query: str, params: Any = None) -> pa.Table: ...


def aircraft_table(icao24: pa.Array, identity: _Annotator | None = None) -> pa.Table:
    """icao24, registration, operator, country_iso2, aircraft_class (plain strings) for the kernels.

    Without ``identity`` the state of registry comes from the ICAO address block alone.
    """
    ic = pc.unique(icao24.cast(pa.int32()))
    if identity is not None:
        t = identity.annotate(ic)
        cols: dict[str, pa.Array] = {"icao24": ic}
        for name in ("registration", "operator", "country_iso2", "country_iso2_source", "aircraft_class"):
            if name in t.column_names:
                cols[name] = t.column(name).cast(pa.string())
        # On the user's watch list (``tailwatch watch add``): the identity tags it "watch…".
        watched = pa.array([False] * len(ic), pa.bool_())
        if "category" in t.column_names:
            watched = pc.or_(watched, pc.fill_null(pc.equal(t.column("category").cast(pa.string()), "Watch list"),
                                                   False))
        if "tags" in t.column_names:
            tags = t.column("tags").cast(pa.string())
            watched = pc.or_(watched, pc.fill_null(pc.match_substring_regex(tags, r"(^|; )watch"), False))
        cols["watched"] = watched
        return pa.table(cols)
    from tailwatch.identity import country_of

    return pa.table({"icao24": ic, "country_iso2": country_of(ic).cast(pa.string()),
                     "country_iso2_source": pa.array(["ICAO address block"] * len(ic), pa.string())})


def findings_from_tables(legs: pa.Table, stops: pa.Table, aircraft: pa.Table, airports: pa.Table | Airports,
                         config: FindingsConfig | None = None, watch: list[int] | None = None,
                         kinds: Iterable[str] = KINDS) -> list[pa.Table]:
    """The legs/stops-based kinds (everything but incident, spoofing and in-flight silences)."""
    cfg = config or FindingsConfig()
    ap = airports if isinstance(airports, Airports) else Airports.from_table(airports)
    want = set(kinds)
    out: list[pa.Table] = []
    if "rotation" in want:
        out.append(rotation(legs, aircraft, cfg.rotation, ap))
    if "foreign_operation" in want:
        out.append(foreign_operation(legs, stops, aircraft, ap, cfg.foreign_operation))
    if "basing" in want:
        out.append(basing(stops, ap, aircraft, cfg.basing))
    if "co_location" in want:
        out.append(co_location(stops, aircraft, watch, cfg.co_location))
    if "transponder_gap" in want:
        out.append(transponder_gap(legs, ap, aircraft, cfg.transponder_gap))
    return out


def build_findings(store: _StoreLike, identity: _Annotator | None = None, config: FindingsConfig | None = None,
                   progress: ProgressFn | None = None, *, watch: list[int] | None = None,
                   kinds: Iterable[str] = KINDS, batch_rows: int = 1_000_000) -> int:
    """Compute every finding of ``store`` and write the ``findings`` derived table; returns its row count.

    ``config`` defaults to the user's ``findings.yaml`` over the built-in thresholds.
    """
    from tailwatch.analysis.airports import load_airports

    cfg = config or load_config(use_default_file=True)
    want = set(kinds)
    unknown = want - set(KINDS)
    if unknown:
        raise ValueError(f"unknown finding kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    ap = Airports.from_table(load_airports())
    legs = store.derived("legs")
    stops = store.derived("stops")
    ids = pa.concat_arrays([legs.column("icao24").combine_chunks(), stops.column("icao24").combine_chunks()])
    aircraft = aircraft_table(ids, identity)
    parts = findings_from_tables(legs, stops, aircraft, ap, cfg, watch, want)
    if want & {"incident", "spoofing", "transponder_gap"}:
        parts.extend(_stream(store, ap, cfg, want, progress, batch_rows))
    table = pa.concat_tables([p.cast(FINDINGS) for p in parts]) if parts else FINDINGS.empty_table()
    table = table.sort_by([("t_start", "ascending"), ("kind", "ascending")])
    store.write_derived("findings", table)
    return int(table.num_rows)


def _stream(store: _StoreLike, ap: Airports, cfg: FindingsConfig, want: set[str], progress: ProgressFn | None,
            batch_rows: int) -> list[pa.Table]:
    total = 0
    if progress is not None:
        try:
            total = int(store.sql("SELECT count(*) AS n FROM positions").column(0)[0].as_py())
        except Exception:  # the count is only for the progress bar
            total = 0
    data_end: int | None = None
    try:
        end = store.sql("SELECT epoch_us(max(time)) AS t FROM positions").column(0)[0].as_py()
        data_end = None if end is None else int(end)
    except Exception:  # no positions view yet: nothing is said about the end of the data
        data_end = None
    out: list[pa.Table] = []
    cands: list[pa.Table] = []
    cover: list[pa.Table] = []
    done = 0
    for batch in store.iter_aircraft_batches(rows=batch_rows, columns=_POS_COLUMNS):
        if "incident" in want:
            out.append(incident(batch, ap, cfg.incident, data_end))
        if "spoofing" in want:
            out.append(spoofing(batch, cfg.spoofing))
        if "transponder_gap" in want:
            cands.append(silence_candidates(batch, cfg.transponder_gap))
            cover.append(coverage_cells(batch, cfg.transponder_gap.cell_deg))
            if len(cover) >= 16:
                cover = [merge_coverage(cover)]
        done += batch.num_rows
        if progress is not None:
            progress("positions", done, max(total, done))
    if cands:
        out.append(judge_silences(pa.concat_tables(cands), merge_coverage(cover), ap, cfg.transponder_gap))
    return out
