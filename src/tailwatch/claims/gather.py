"""The thin adapter between a store (and the identity databases) and :func:`verify_claims`.

It reads only what the claims need: the legs, stops and findings of the
aircraft they name, identity records for those aircraft, and a coverage
summary — positions of *any* aircraft within :data:`NEAR_KM` of each place the
claims mention (and of the airports of the countries they mention), per day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.claims.gazetteer import Gazetteer
from tailwatch.claims.model import Claim
from tailwatch.claims.verify import COVERAGE, IDENTITY, Evidence

#: A position within this distance of an airport (box approximation) counts as coverage there.
NEAR_KM = 80.0
#: Low-altitude coverage (could a landing be seen?): within this distance and below
#: :data:`LOW_FT` above the field, or on the ground.
LOW_KM = 30.0
LOW_FT = 3000.0


def identity_records(identity: Any, claims: Sequence[Claim], extra_icao24: Sequence[int] = ()) -> pa.Table:
    """:data:`IDENTITY` rows for the registrations and addresses the claims name.

    ``identity`` is a :class:`tailwatch.identity.Identity` (or None: no rows).
    Addresses in ``extra_icao24`` (e.g. every aircraft with legs) are annotated
    too, so a claim naming only a type ("the C-130") can find its aircraft.
    """
    if identity is None:
        return IDENTITY.empty_table()
    rows: list[dict[str, Any]] = []
    queries = {r for c in claims for r in c.registrations} | {f"{i:06X}" for c in claims for i in c.icao24}
    for q in sorted(queries):
        for m in identity.lookup(q):
            if m.matched_on in ("registration", "registration (N-number)", "hex address"):
                rows.append(_row(m.icao24, m.record))
    if extra_icao24:
        ann = identity.annotate(pa.array(sorted(set(extra_icao24)), pa.int32()))
        rows.extend(_row(r["icao24"], r) for r in ann.to_pylist())
    return pa.Table.from_pylist(rows, IDENTITY)


def _row(icao24: int, rec: dict[str, Any]) -> dict[str, Any]:
    sources = [rec.get(f"{f}_source") for f in ("registration", "typecode", "operator")]
    return {"icao24": icao24, "registration": rec.get("registration"), "typecode": rec.get("typecode"),
            "operator": rec.get("operator"), "country_iso2": rec.get("country_iso2"),
            "source": ", ".join(dict.fromkeys(s for s in sources if s)) or None}


def places_of_interest(claims: Sequence[Claim], gazetteer: Gazetteer, legs: pa.Table) -> pa.Table:
    """Airports whose coverage matters: the claims' places, the airports of the countries they
    name that have an IATA code, and the airports the aircraft's legs touch in those countries."""
    codes = {p for c in claims for p in c.places}
    countries = {s for c in claims for s in c.states}
    for code, a in gazetteer.airports.items():
        if a.get("country") in countries and a.get("iata") and len(code) == 4:
            codes.add(code)
    for p in legs.column("origin").to_pylist() + legs.column("destination").to_pylist():
        rec = gazetteer.airport(p) if p else None
        if rec is not None and rec.get("country") in countries:
            codes.add(str(p))
    rows = []
    for code in sorted(codes):
        info = gazetteer.airport(code)
        if info is None:
            continue
        lat, lon = float(info["lat"]), float(info["lon"])  # type: ignore[arg-type]
        km_lon = 111.2 * max(math.cos(math.radians(lat)), 0.05)
        elev = float(info.get("elevation") or 0.0)  # type: ignore[arg-type]
        rows.append({"place": code, "lat": lat, "lon": lon, "dlat": NEAR_KM / 111.2, "dlon": NEAR_KM / km_lon,
                     "low_dlat": LOW_KM / 111.2, "low_dlon": LOW_KM / km_lon, "low_ft": elev + LOW_FT})
    return pa.Table.from_pylist(rows, pa.schema(
        [("place", pa.string())] + [(n, pa.float64()) for n in
                                    ("lat", "lon", "dlat", "dlon", "low_dlat", "low_dlon", "low_ft")]))


def coverage_summary(store: Any, places: pa.Table) -> pa.Table:
    """:data:`COVERAGE`: positions and distinct aircraft near each place, per UTC day."""
    if places.num_rows == 0:
        return COVERAGE.empty_table()
    query = """
        SELECT p.place AS place, CAST(pos.time AS DATE) AS day,
               count(*)::BIGINT AS n_positions, count(DISTINCT pos.icao24)::BIGINT AS n_aircraft,
               count(*) FILTER (WHERE abs(pos.lat - p.lat) <= p.low_dlat AND abs(pos.lon - p.lon) <= p.low_dlon
                                AND (pos.on_ground OR coalesce(pos.alt_baro, pos.alt_geom) <= p.low_ft))::BIGINT
                 AS n_low
        FROM (SELECT * FROM positions WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4) AS pos
        JOIN claim_places AS p
          ON pos.lat BETWEEN p.lat - p.dlat AND p.lat + p.dlat
         AND pos.lon BETWEEN p.lon - p.dlon AND p.lon + p.dlon
        GROUP BY ALL ORDER BY 1, 2"""
    lat, lon = places.column("lat").to_numpy(), places.column("lon").to_numpy()
    dlat, dlon = places.column("dlat").to_numpy(), places.column("dlon").to_numpy()
    box = [float((lat - dlat).min()), float((lat + dlat).max()), float((lon - dlon).min()), float((lon + dlon).max())]
    with store.connect() as con:
        con.register("claim_places", places)
        table = con.sql(query, params=box).to_arrow_table()
    return table.cast(COVERAGE)


def coverage_from_positions(positions: pa.Table, places: pa.Table) -> pa.Table:
    """:data:`COVERAGE` computed from a positions table in memory (same rule as :func:`coverage_summary`).

    Vectorised with NumPy: one pass over the positions per place of interest (a few dozen).
    """
    if places.num_rows == 0 or positions.num_rows == 0:
        return COVERAGE.empty_table()
    lat = pc.fill_null(positions.column("lat"), float("nan")).to_numpy()
    lon = pc.fill_null(positions.column("lon"), float("nan")).to_numpy()
    day = positions.column("time").cast(pa.int64()).to_numpy() // 86_400_000_000
    icao = positions.column("icao24").to_numpy().astype(np.int64)
    alt = pc.fill_null(pc.coalesce(positions.column("alt_baro"), positions.column("alt_geom")).cast(pa.float64()),
                       float("nan")).to_numpy()
    ground = pc.fill_null(positions.column("on_ground"), False).to_numpy(zero_copy_only=False)
    out: dict[str, list[Any]] = {"place": [], "day": [], "n_positions": [], "n_aircraft": [], "n_low": []}
    for p in places.to_pylist():
        near = ((lat >= p["lat"] - p["dlat"]) & (lat <= p["lat"] + p["dlat"])
                & (lon >= p["lon"] - p["dlon"]) & (lon <= p["lon"] + p["dlon"]))
        if not near.any():
            continue
        days, n_pos = np.unique(day[near], return_counts=True)
        pairs = np.unique(day[near] * (1 << 24) + icao[near])
        _, n_ac = np.unique(pairs >> 24, return_counts=True)  # same days, in the same order
        low = (near & (np.abs(lat - p["lat"]) <= p["low_dlat"]) & (np.abs(lon - p["lon"]) <= p["low_dlon"])
               & (ground | (alt <= p["low_ft"])))
        n_low = np.zeros(len(days), dtype=np.int64)
        low_days, low_counts = np.unique(day[low], return_counts=True)
        n_low[np.searchsorted(days, low_days)] = low_counts
        out["place"] += [p["place"]] * len(days)
        out["day"] += days.tolist()
        out["n_positions"] += n_pos.tolist()
        out["n_aircraft"] += n_ac.tolist()
        out["n_low"] += n_low.tolist()
    return pa.table({"place": pa.array(out["place"], pa.string()),
                     "day": pa.array(out["day"], pa.int32()).cast(pa.date32()),
                     "n_positions": pa.array(out["n_positions"], pa.int64()),
                     "n_aircraft": pa.array(out["n_aircraft"], pa.int64()),
                     "n_low": pa.array(out["n_low"], pa.int64())}, schema=COVERAGE)


def gather(store: Any, claims: Sequence[Claim], identity: Any = None,
           gazetteer: Gazetteer | None = None, has_identity: bool | None = None) -> Evidence:
    """Everything :func:`verify_claims` needs about ``claims``, read from ``store``.

    ``has_identity`` says whether any aircraft database (or declared aircraft) stands behind
    ``identity`` (default: whether ``identity`` is given), so an unresolved registration is
    explained as "not in any database" or "no database loaded".
    """
    g = gazetteer or Gazetteer.default()
    ident = identity_records(identity, claims)
    named = set(ident.column("icao24").to_pylist()) | {i for c in claims for i in c.icao24}
    type_only = any(c.type_code and not c.registrations and not c.icao24 for c in claims)
    ids = None if type_only else sorted(named)  # only a type-only claim needs every aircraft
    legs = store.derived("legs", icao24=ids)
    stops = store.derived("stops", icao24=ids)
    findings = store.derived("findings")
    if ids is not None:
        findings = findings.filter(pc.is_in(findings.column("icao24"), pa.array(ids, pa.int32())))
    if type_only and identity is not None:
        ident = pa.concat_tables([ident, identity_records(
            identity, [], extra_icao24=pc.unique(legs.column("icao24")).to_pylist())])
    coverage = coverage_summary(store, places_of_interest(claims, g, legs))

    def country_of(code: str) -> str | None:
        a = g.airport(code) if code else None
        return None if a is None else str(a["country"])

    known = identity is not None if has_identity is None else has_identity
    return Evidence(legs, stops, findings, coverage, ident, country_of, has_identity=known)
