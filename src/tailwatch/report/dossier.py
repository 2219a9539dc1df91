"""Gather what a dossier shows: identity, legs, stops, findings and thinned tracks.

:func:`assemble` is pure (tables in, :class:`Dossier` out) so it is tested without a
store; :func:`collect` is the thin adapter that reads a store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.schema import Quality, hex_of


class StoreLike(Protocol):
    """What :func:`collect` needs of a store."""

    def positions(
        self,
        icao24: int | list[int] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table: ...

    def derived(self, name: str) -> pa.Table: ...


@dataclass
class IdentityCard:
    """Every known fact about one aircraft, each with the database it came from."""

    icao24: int
    facts: list[tuple[str, str, str]] = field(default_factory=list)  # (field, value, source)

    @property
    def hex(self) -> str:
        """The address as six hex digits."""
        return hex_of(self.icao24)

    def value(self, name: str) -> str | None:
        """The first value recorded for ``name``."""
        return next((v for f, v, _ in self.facts if f == name), None)


@dataclass
class Dossier:
    """Everything one report shows."""

    title: str
    cards: list[IdentityCard]
    legs: pa.Table
    stops: pa.Table
    findings: pa.Table
    tracks: pa.Table  # leg_id, icao24, time, lat, lon, alt_baro; sorted by leg, time
    since: dt.datetime | None
    until: dt.datetime | None
    simulated: bool
    generated: dt.datetime


def cards_from_annotation(table: pa.Table) -> list[IdentityCard]:
    """Identity cards from an ``Identity.annotate`` table: each column ``x`` with a
    sibling ``x_source`` becomes a fact with that source; null values are left out."""
    names = [n for n in table.column_names if not n.endswith("_source") and n != "icao24"]
    cards = []
    for row in table.to_pylist():
        card = IdentityCard(int(row["icao24"]))
        for name in names:
            value = row[name]
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            elif isinstance(value, float):
                value = f"{value:.2f}"
            source = row.get(f"{name}_source") or ""
            card.facts.append((name, str(value), str(source)))
        cards.append(card)
    return cards


def thin_tracks(positions: pa.Table, legs: pa.Table, max_points: int = 600) -> pa.Table:
    """Assign each position to the leg whose [t_start, t_end] holds it and keep at most
    ``max_points`` evenly spaced points per leg (always the first and last).

    Vectorised: one sort and a ``searchsorted`` per aircraft block, no loop per point.
    """
    out_schema = pa.schema(
        [("leg_id", pa.string()), ("icao24", pa.int32()), ("time", positions.schema.field("time").type),
         ("lat", pa.float64()), ("lon", pa.float64()), ("alt_baro", pa.float32())]
    )
    pos = positions.filter(pc.and_(pc.is_valid(positions["lat"]), pc.is_valid(positions["lon"])))
    if pos.num_rows == 0 or legs.num_rows == 0:
        return out_schema.empty_table()
    pos = pos.sort_by([("icao24", "ascending"), ("time", "ascending")])
    lg = legs.sort_by([("icao24", "ascending"), ("t_start", "ascending")])
    # Combine (icao24, time) into one sortable float key: icao24 * 2^40 + seconds.
    p_ic = pos["icao24"].to_numpy().astype(np.int64)
    p_t = pos["time"].cast(pa.int64()).to_numpy() // 1_000_000
    l_ic = lg["icao24"].to_numpy().astype(np.int64)
    l_t0 = lg["t_start"].cast(pa.int64()).to_numpy() // 1_000_000
    l_t1 = lg["t_end"].cast(pa.int64()).to_numpy() // 1_000_000
    shift = np.int64(1) << np.int64(36)
    p_key = p_ic * shift + p_t
    l_key0 = l_ic * shift + l_t0
    l_key1 = l_ic * shift + l_t1
    idx = np.searchsorted(l_key0, p_key, side="right") - 1
    ok = idx >= 0
    ok[ok] &= p_key[ok] <= l_key1[idx[ok]]
    rows = np.flatnonzero(ok)
    leg_of = idx[ok]
    if rows.size == 0:
        return out_schema.empty_table()
    # Thin: rank of each point within its leg, and the leg's size.
    starts = np.flatnonzero(np.r_[True, leg_of[1:] != leg_of[:-1]])
    sizes = np.diff(np.r_[starts, leg_of.size])
    first = np.repeat(starts, sizes)
    rank = np.arange(leg_of.size) - first
    size = np.repeat(sizes, sizes)
    step = np.maximum(1, np.ceil(size / max_points)).astype(np.int64)
    keep = (rank % step == 0) | (rank == size - 1)
    rows, leg_of = rows[keep], leg_of[keep]
    taken = pos.take(pa.array(rows))
    leg_ids = lg["leg_id"].take(pa.array(leg_of))
    return pa.table(
        [leg_ids, taken["icao24"], taken["time"], taken["lat"], taken["lon"], taken["alt_baro"]],
        schema=out_schema,
    )


def _between(table: pa.Table, start: str, end: str, since: dt.datetime | None, until: dt.datetime | None) -> pa.Table:
    mask = None
    if since is not None:
        mask = pc.greater_equal(table[end], pa.scalar(since, table.schema.field(end).type))
    if until is not None:
        m2 = pc.less_equal(table[start], pa.scalar(until, table.schema.field(start).type))
        mask = m2 if mask is None else pc.and_(mask, m2)
    return table if mask is None else table.filter(pc.fill_null(mask, True))


def _of(table: pa.Table, icao24: list[int]) -> pa.Table:
    return table.filter(pc.is_in(table["icao24"], pa.array(icao24, pa.int32())))


def assemble(
    title: str,
    icao24: list[int],
    annotation: pa.Table | None,
    positions: pa.Table,
    legs: pa.Table,
    stops: pa.Table,
    findings: pa.Table,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Dossier:
    """Select the subject's rows in the period and build the :class:`Dossier` (pure)."""
    legs = _between(_of(legs, icao24), "t_start", "t_end", since, until).sort_by("t_start")
    stops_t = _of(stops, icao24)
    stops_t = stops_t.sort_by([("icao24", "ascending"), ("arrival", "ascending")])
    findings = _between(
        findings.filter(pc.fill_null(pc.is_in(findings["icao24"], pa.array(icao24, pa.int32())), False)),
        "t_start", "t_end", since, until,
    ).sort_by("t_start")
    cards = cards_from_annotation(annotation) if annotation is not None else [IdentityCard(i) for i in icao24]
    # Simulated if any row carries the SIMULATED flag, or the identity was declared by a simulated scenario.
    flagged = bool(
        positions.num_rows
        and pc.any(pc.not_equal(pc.bit_wise_and(positions["quality"], pa.scalar(int(Quality.SIMULATED), pa.uint16())), 0)).as_py()
    )
    simulated = flagged or any("SIMULATED" in src.upper() for c in cards for _, _, src in c.facts)
    return Dossier(
        title=title,
        cards=cards,
        legs=legs,
        stops=stops_t,
        findings=findings,
        tracks=thin_tracks(positions, legs),
        since=since,
        until=until,
        simulated=simulated,
        generated=now or dt.datetime.now(dt.UTC),
    )


def collect(
    store: StoreLike,
    icao24: list[int],
    annotation: pa.Table | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    title: str | None = None,
) -> Dossier:
    """Read the subject's positions, legs, stops and findings from ``store``."""
    cols = ["time", "icao24", "lat", "lon", "alt_baro", "quality"]
    positions = store.positions(icao24=icao24, since=since, until=until, columns=cols)
    name = title or ", ".join(hex_of(i) for i in icao24)
    return assemble(
        name, icao24, annotation, positions,
        store.derived("legs"), store.derived("stops"), store.derived("findings"), since, until,
    )


def summary_counts(d: Dossier) -> dict[str, Any]:
    """Headline numbers of a dossier (legs, stops, findings by kind, airports)."""
    kinds: dict[str, int] = {}
    for k in d.findings["kind"].to_pylist() if d.findings.num_rows else []:
        kinds[k] = kinds.get(k, 0) + 1
    airports = sorted(
        {a for a in d.stops["airport"].to_pylist() if a} if d.stops.num_rows else set()
    )
    return {"legs": d.legs.num_rows, "stops": d.stops.num_rows, "findings": kinds, "airports": airports}
