"""Claims → verdicts: a pure function over Arrow tables (no store, no I/O).

Inputs are the store's ``legs``, ``stops`` and ``findings`` (schemas in
:mod:`tailwatch.schema`), a coverage summary (:data:`COVERAGE`: positions of
*any* aircraft near each place of interest, per day) and identity records
(:data:`IDENTITY`). Each claim gets one of:

* **supported** — rows in the data show it;
* **contradicted** — the place was covered when the claim says something
  happened there, and the data shows otherwise;
* **not observable** — no coverage at that place and time: absence of data is
  not evidence, so nothing is concluded;
* **ambiguous** — the data shows part of it, or the claim itself is unclear.

Every verdict carries a one-line reason and its evidence (leg, stop and
finding ids, times, coverage counts).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.claims.model import Claim, Verdict, VerdictKind
from tailwatch.claims.refs import FAMILIES
from tailwatch.schema import FINDINGS, LEGS, STOPS, hex_of

#: Coverage summary: how many positions (of any aircraft) were seen near a place each day.
COVERAGE = pa.schema([
    pa.field("place", pa.string(), nullable=False),  # ICAO airport code
    pa.field("day", pa.date32(), nullable=False),
    pa.field("n_positions", pa.int64(), nullable=False),
    pa.field("n_aircraft", pa.int64(), nullable=False),
    #: positions low enough near the field to see a landing (within 30 km, on the ground or
    #: below 3,000 ft above the field elevation)
    pa.field("n_low", pa.int64(), nullable=False),
])

#: Identity records of the aircraft an article names (one row per database answer).
IDENTITY = pa.schema([
    pa.field("icao24", pa.int32(), nullable=False),
    pa.field("registration", pa.string()),
    pa.field("typecode", pa.string()),
    pa.field("operator", pa.string()),
    pa.field("country_iso2", pa.string()),
    pa.field("source", pa.string()),
])

#: Tolerance around a stated start date: first seen within this many days of it supports it.
EARLY_DAYS = 2
LATE_DAYS = 3
_US_DAY = 86_400_000_000
#: Said wherever a verdict rests on the aircraft's absence from covered airspace.
_DARK = " (unless it flew with its transponder off)"


@dataclass(frozen=True)
class Evidence:
    """The tables a verdict is drawn from."""

    legs: pa.Table
    stops: pa.Table
    findings: pa.Table
    coverage: pa.Table
    identity: pa.Table
    #: ISO country of an ICAO airport code (None if unknown).
    country_of: Callable[[str], str | None]
    #: False when no aircraft database was available (registrations cannot be resolved).
    has_identity: bool = True

    @staticmethod
    def empty(country_of: Callable[[str], str | None]) -> Evidence:
        """No data at all (every claim comes out not observable or ambiguous)."""
        return Evidence(LEGS.empty_table(), STOPS.empty_table(), FINDINGS.empty_table(),
                        COVERAGE.empty_table(), IDENTITY.empty_table(), country_of, has_identity=False)


def _us(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * _US_DAY


def _day(us: int) -> str:
    return np.datetime_as_string(np.datetime64(int(us), "us"), unit="s") + "Z"


def _col(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


def _times(table: pa.Table, name: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    c = pc.fill_null(table.column(name).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()), -1)
    return np.asarray(c.to_numpy(), dtype=np.int64)


class _Checker:
    def __init__(self, ev: Evidence) -> None:
        self.ev = ev

    # ------------------------------------------------------------------ lookups
    def aircraft(self, claim: Claim) -> tuple[set[int], pa.Table]:
        """icao24 addresses the claim names, and the identity rows behind them."""
        ident = self.ev.identity
        regs = {r.replace("-", "").upper() for r in claim.registrations}
        reg_col = pc.utf8_upper(pc.replace_substring(pc.fill_null(ident.column("registration"), ""), "-", ""))
        mask = pc.is_in(reg_col, pa.array(sorted(regs), pa.string()))
        mask = pc.or_(mask, pc.is_in(ident.column("icao24"), pa.array(list(claim.icao24), pa.int32())))
        if not claim.registrations and not claim.icao24 and claim.type_code:
            fam = sorted(FAMILIES.get(claim.type_code, frozenset({claim.type_code})))
            mask = pc.is_in(ident.column("typecode"), pa.array(fam, pa.string()))
        rows = ident.filter(mask)
        return set(claim.icao24) | set(rows.column("icao24").to_pylist()), rows

    def legs_of(self, icao: set[int], t0: int | None = None, t1: int | None = None) -> pa.Table:
        legs = self.ev.legs.filter(pc.is_in(self.ev.legs.column("icao24"), pa.array(sorted(icao), pa.int32())))
        if t0 is not None:
            legs = legs.filter(pc.greater_equal(legs.column("t_end").cast(pa.int64()), t0))
        if t1 is not None:
            legs = legs.filter(pc.less(legs.column("t_start").cast(pa.int64()), t1))
        return legs.sort_by([("icao24", "ascending"), ("t_start", "ascending")])

    def findings_of(self, kind: str, icao: set[int]) -> pa.Table:
        f = self.ev.findings.filter(pc.equal(self.ev.findings.column("kind"), kind))
        return f.filter(pc.is_in(f.column("icao24"), pa.array(sorted(icao), pa.int32())))

    def coverage(self, places: Sequence[str], t0: int | None, t1: int | None,
                 low: bool = False) -> tuple[int, int, int]:
        """(positions, max aircraft a day, days) seen near ``places`` between t0 and t1
        (``low``: only days with low-altitude coverage, and those positions)."""
        cov = self.ev.coverage.filter(pc.is_in(self.ev.coverage.column("place"), pa.array(list(places), pa.string())))
        day_us = pc.cast(cov.column("day"), pa.timestamp("us")).cast(pa.int64()) if cov.num_rows else None
        if day_us is not None and t0 is not None:
            cov = cov.filter(pc.greater_equal(day_us, t0 - t0 % _US_DAY))
            day_us = pc.cast(cov.column("day"), pa.timestamp("us")).cast(pa.int64())
        if day_us is not None and t1 is not None:
            cov = cov.filter(pc.less(day_us, t1))
        if low and cov.num_rows:
            cov = cov.filter(pc.greater(cov.column("n_low"), 0))
        if cov.num_rows == 0:
            return 0, 0, 0
        days = len(set(cov.column("day").to_pylist()))
        count = cov.column("n_low" if low else "n_positions")
        return (int(pc.sum(count).as_py()), int(pc.max(cov.column("n_aircraft")).as_py()), days)

    def places_in(self, country: str) -> list[str]:
        """Covered places (those in the coverage summary) that lie in ``country``."""
        places = set(self.ev.coverage.column("place").to_pylist())
        for name in ("origin", "destination"):
            places |= set(pc.unique(self.ev.legs.column(name).drop_null()).to_pylist())
        return sorted(p for p in places if self.ev.country_of(p) == country)

    def in_country(self, codes: pa.ChunkedArray, country: str) -> pa.ChunkedArray:
        """Which airport codes lie in ``country`` (one lookup per distinct airport, not per row)."""
        inside = [c for c in pc.unique(codes.drop_null()).to_pylist() if self.ev.country_of(c) == country]
        return pc.fill_null(pc.is_in(codes, pa.array(inside, pa.string())), False)

    @staticmethod
    def window(claim: Claim) -> tuple[int | None, int | None]:
        if not claim.year_stated:
            return None, None
        if claim.on is not None:
            return _us(claim.on) - _US_DAY // 2, _us(claim.on) + _US_DAY + _US_DAY // 2
        return (_us(claim.since) if claim.since else None,
                _us(claim.until) + _US_DAY if claim.until else None)

    @staticmethod
    def who(claim: Claim) -> str:
        names = list(claim.registrations) + [hex_of(i) for i in claim.icao24]
        return "/".join(names) or (f"the {claim.type_code}" if claim.type_code else "the aircraft")

    def unknown(self, claim: Claim) -> Verdict:
        why = ("not in any aircraft database" if self.ev.has_identity
               else "no aircraft database loaded (run `tailwatch db update`)")
        return Verdict(claim.claim_id, "ambiguous", f"{self.who(claim)} cannot be tied to an ICAO address: {why}")

    def no_coverage(self, claim: Claim, places: Sequence[str], what: str) -> Verdict:
        return Verdict(claim.claim_id, "not observable",
                       f"no positions of any aircraft near {', '.join(dict.fromkeys(places)) or 'those places'} {what}: "
                       "absence of data is not evidence", {"coverage": ["0 positions"]})

    # ------------------------------------------------------------------ kinds
    def check_aircraft(self, claim: Claim) -> Verdict:
        icao, rows = self.aircraft(claim)
        if rows.num_rows == 0:
            return self.unknown(claim)
        ev = {"identity": [f"{hex_of(r['icao24'])} {r['registration'] or '?'} {r['typecode'] or '?'} "
                           f"{r['operator'] or ''} ({r['source'] or '?'})" for r in rows.to_pylist()]}
        if claim.registrations and claim.icao24:
            regs = {r.replace("-", "") for r in claim.registrations}
            by_reg = {r["icao24"] for r in rows.to_pylist()
                      if (r["registration"] or "").replace("-", "").upper() in regs}
            if by_reg and not by_reg & set(claim.icao24):
                return Verdict(claim.claim_id, "contradicted",
                               f"the databases give {', '.join(claim.registrations)} the address "
                               f"{', '.join(hex_of(i) for i in sorted(by_reg))}, not "
                               f"{', '.join(hex_of(i) for i in claim.icao24)}", ev)
        n_legs = self.legs_of(icao).num_rows
        ev["legs"] = [f"{n_legs} legs of {', '.join(hex_of(i) for i in sorted(icao))} in the store"]
        if claim.type_code is None:
            return Verdict(claim.claim_id, "supported", f"{self.who(claim)} is a known aircraft", ev)
        types = {t for t in rows.column("typecode").to_pylist() if t}
        family = FAMILIES.get(claim.type_code, frozenset({claim.type_code}))
        if types & family:
            return Verdict(claim.claim_id, "supported",
                           f"{self.who(claim)} is {', '.join(sorted(types))} in the databases", ev)
        if types:
            return Verdict(claim.claim_id, "contradicted",
                           f"the databases give {self.who(claim)} as {', '.join(sorted(types))}, "
                           f"not {claim.type_code}", ev)
        return Verdict(claim.claim_id, "ambiguous", f"no database gives the type of {self.who(claim)}", ev)

    def check_route(self, claim: Claim) -> Verdict:
        icao, _ = self.aircraft(claim)
        t0, t1 = self.window(claim)
        if claim.unresolved:
            return Verdict(claim.claim_id, "ambiguous", f"place(s) not found: {', '.join(claim.unresolved)}")
        cov = self.coverage(claim.places, t0, t1)
        if not icao:
            return self.no_coverage(claim, claim.places, "in that period") if cov[0] == 0 else self.unknown(claim)
        legs = self.legs_of(icao, t0, t1)
        o = np.asarray(pc.fill_null(legs.column("origin"), "").to_numpy(zero_copy_only=False), dtype=object)
        d = np.asarray(pc.fill_null(legs.column("destination"), "").to_numpy(zero_copy_only=False), dtype=object)
        ids = _col(legs, "leg_id")
        hops = list(zip(claim.places[:-1], claim.places[1:], strict=True))
        exact_iv, gap_iv = _sequences(o, d, list(claim.places))
        rot = self._rotation_findings(claim, icao)
        count = len(exact_iv) + len(gap_iv)
        t = _times(legs, "t_start")
        spans = sorted([(a, b) for a, b, _ in exact_iv + gap_iv])
        ev: dict[str, list[str]] = {
            "legs": [ids[i] for a, b in spans for i in range(a, b)],
            "findings": [f"{fid}: {summary}" for fid, summary, _ in rot],
        }
        if count:
            ev["times"] = [f"first {_day(int(t[spans[0][0]]))}", f"last {_day(int(t[spans[-1][1] - 1]))}"]
        best_finding = max((c for _, _, c in rot), default=0)
        route = " → ".join(claim.places)
        skipped = sorted({p for _, _, p in gap_iv if p})
        gaps = ""
        if gap_iv:
            t_end = _times(legs, "t_end")
            # was anything seen low near the unseen stop while each of those rotations was flown?
            covered = [iv for iv in gap_iv if iv[2] and self.coverage(
                [iv[2]], int(t[iv[0]]), int(t_end[iv[1] - 1]), low=True)[0] > 0]
            ev["coverage"] = [f"{p}: low-altitude positions on {self.coverage([p], None, None, low=True)[2]} day(s)"
                              for p in skipped]
            gaps = (f" ({len(exact_iv)} with every landing seen, {len(gap_iv)} without the landing at "
                    f"{', '.join(skipped)}: ")
            if not covered:
                gaps += "not observable, no receiver saw any aircraft low near it then)"
            else:
                gaps += (f"{len(gap_iv) - len(covered)} when it was not observable, {len(covered)} although "
                         "receivers saw aircraft low near it then)")
                if not exact_iv:
                    return Verdict(claim.claim_id, "ambiguous",
                                   f"{count} sequence(s) of legs match {route} only without a landing at "
                                   f"{', '.join(skipped)}, where receivers saw aircraft low at those times", ev)
        if count >= claim.min_count or (exact_iv and best_finding >= claim.min_count):
            return Verdict(claim.claim_id, "supported",
                           f"{count} sequence(s) of legs match {route}{gaps}"
                           + (f"; the rotation finding counts {best_finding}" if best_finding else ""), ev)
        if count:
            return Verdict(claim.claim_id, "ambiguous",
                           f"only {count} sequence(s) of legs match{gaps}; the article says at least {claim.min_count}",
                           ev)
        seen = {(a, b) for a, b in zip(o.tolist(), d.tolist(), strict=True)}
        hit = [f"{a}→{b}" for a, b in hops if (a, b) in seen]
        if hit:
            ev["legs"] = [i for i, a, b in zip(ids, o, d, strict=True) if (a, b) in set(hops)]
            return Verdict(claim.claim_id, "ambiguous",
                           f"legs {', '.join(hit)} seen, but never the whole sequence in order", ev)
        if cov[0] == 0:
            return self.no_coverage(claim, claim.places, "in that period")
        flown = sorted({f"{a or '?'}→{b or '?'}" for a, b in seen})[:8]
        ev["coverage"] = [f"{cov[0]} positions, up to {cov[1]} aircraft a day, on {cov[2]} day(s)"]
        also = f"; it flew {', '.join(flown)}" if flown else ""
        return Verdict(claim.claim_id, "contradicted",
                       f"receivers covered {', '.join(dict.fromkeys(claim.places))} but {self.who(claim)} flew none of "
                       f"these legs{also}{_DARK}", ev)

    def _rotation_findings(self, claim: Claim, icao: set[int]) -> list[tuple[str, str, int]]:
        cycle = list(claim.places[:-1] if claim.round_trip else claim.places)
        out = []
        for r in self.findings_of("rotation", icao).to_pylist():
            places = [p for p in (r["places"] or [])]
            core = places[:-1] if len(places) > 1 and places[0] == places[-1] else places
            if len(core) == len(cycle) and any(core[i:] + core[:i] == cycle for i in range(len(core))):
                evid = orjson.loads(r["evidence"] or "{}")
                n = next((int(evid[k]) for k in ("count", "n", "repetitions", "n_cycles")
                          if isinstance(evid, dict) and isinstance(evid.get(k), int | float)), 1)
                out.append((r["finding_id"], r["summary"], n))
        return out

    def check_leg(self, claim: Claim) -> Verdict:
        icao, _ = self.aircraft(claim)
        t0, t1 = self.window(claim)
        cov = self.coverage(claim.places, t0, t1)
        if not icao:
            return self.no_coverage(claim, claim.places, "that day") if cov[0] == 0 else self.unknown(claim)
        legs = self.legs_of(icao, t0, t1)
        rows = legs.to_pylist()
        a, b = claim.places
        match = [r for r in rows if r["origin"] == a and r["destination"] == b]
        ev = {"legs": [r["leg_id"] for r in match] or [r["leg_id"] for r in rows]}
        if match:
            return Verdict(claim.claim_id, "supported",
                           f"leg {a}→{b} at {_day(int(_times(legs, 't_start')[rows.index(match[0])]))}", ev)
        partial = [r for r in rows if r["origin"] in (a, None) and r["destination"] in (b, None)
                   and (r["origin"], r["destination"]) != (None, None)]
        if partial:
            ev["legs"] = [r["leg_id"] for r in partial]
            return Verdict(claim.claim_id, "ambiguous", f"a leg touching {a}/{b} with one end not evidenced", ev)
        if cov[0] == 0:
            return self.no_coverage(claim, claim.places, "that day")
        ev["coverage"] = [f"{cov[0]} positions, up to {cov[1]} aircraft near {a}/{b} that day"]
        flown = [f"{r['origin'] or '?'}→{r['destination'] or '?'}" for r in rows]
        elsewhere = f"; it flew {', '.join(flown)}" if flown else ""
        return Verdict(claim.claim_id, "contradicted",
                       f"{a} and {b} were covered but no {a}→{b} leg of {self.who(claim)}{elsewhere}{_DARK}", ev)

    def check_event(self, claim: Claim) -> Verdict:
        icao, _ = self.aircraft(claim)
        t0, t1 = self.window(claim)
        place = claim.places[0] if claim.places else None
        if not icao:
            cov = self.coverage(claim.places, t0, t1)
            return self.no_coverage(claim, claim.places, "then") if cov[0] == 0 else self.unknown(claim)
        if claim.event == "landing":
            return self._landing(claim, icao, place, t0, t1)
        inc = self.findings_of("incident", icao)
        rows = inc.to_pylist()
        if t0 is not None:
            rows = [r for r in rows if int(r["t_end"].timestamp() * 1e6) >= t0 and
                    (t1 is None or int(r["t_start"].timestamp() * 1e6) < t1)]
        wanted = _EMERGENCY_TYPES if claim.event == "emergency" else _CRASH_TYPES
        other = [r for r in rows if _incident_type(r) not in wanted]
        rows = [r for r in rows if _incident_type(r) in wanted]
        if not rows and other:
            return Verdict(claim.claim_id, "ambiguous",
                           f"{self.who(claim)} has incident findings, but none of the kind a {claim.event} leaves "
                           f"({', '.join(sorted({_incident_type(r) or '?' for r in other}))})",
                           {"findings": [f"{r['finding_id']}: {r['summary']}" for r in other]})
        at = [r for r in rows if place is None or place in (r["places"] or [])]
        ev = {"findings": [f"{r['finding_id']}: {r['summary']}" for r in (at or rows)]}
        where = f" at {place}" if place else ""
        if at:
            return Verdict(claim.claim_id, "supported", f"incident finding{where}: {at[0]['summary']}", ev)
        if rows:
            others = sorted({p for r in rows for p in (r["places"] or [])})
            return Verdict(claim.claim_id, "ambiguous",
                           f"incident(s) of {self.who(claim)} found, but at {', '.join(others) or 'no airport'}", ev)
        cov = self.coverage([place] if place else [], t0, t1) if place else (1, 0, 0)
        if cov[0] == 0:
            return self.no_coverage(claim, claim.places, "then")
        if claim.event == "crash" and place is not None:
            stops = self.ev.stops.filter(pc.is_in(self.ev.stops.column("icao24"), pa.array(sorted(icao), pa.int32())))
            at_place = stops.filter(pc.equal(stops.column("airport"), place))
            if at_place.num_rows and at_place.column("departure").null_count == 0:
                return Verdict(claim.claim_id, "contradicted",
                               f"every arrival of {self.who(claim)} at {place} was an ordinary landing followed by a "
                               f"departure, and no incident was found",
                               {"stops": at_place.column("stop_id").to_pylist()})
        return Verdict(claim.claim_id, "ambiguous",
                       f"no incident of {self.who(claim)}{where} in the data, though the place was covered",
                       {"coverage": [f"{cov[0]} positions on {cov[2]} day(s)"]})

    def _landing(self, claim: Claim, icao: set[int], place: str | None, t0: int | None,
                 t1: int | None) -> Verdict:
        stops = self.ev.stops.filter(pc.is_in(self.ev.stops.column("icao24"), pa.array(sorted(icao), pa.int32())))
        rows = [r for r in stops.to_pylist() if r["airport"] == place and r["arrival"] is not None and
                (t0 is None or r["arrival"].timestamp() * 1e6 >= t0) and
                (t1 is None or r["arrival"].timestamp() * 1e6 < t1)]
        if rows:
            return Verdict(claim.claim_id, "supported", f"landed at {place} at {rows[0]['arrival']:%Y-%m-%d %H:%MZ}",
                           {"stops": [r["stop_id"] for r in rows]})
        cov = self.coverage([place] if place else [], t0, t1)
        if cov[0] == 0:
            return self.no_coverage(claim, claim.places, "then")
        return Verdict(claim.claim_id, "contradicted",
                       f"{place} was covered ({cov[0]} positions) but {self.who(claim)} did not land there{_DARK}",
                       {"coverage": [f"{cov[0]} positions on {cov[2]} day(s)"]})

    def presence(self, icao: set[int], country: str, t0: int | None, t1: int | None) -> tuple[pa.Table, pa.Table]:
        """Legs and stops of ``icao`` at airports of ``country``."""
        legs = self.legs_of(icao, t0, t1)
        in_c = pc.or_(self.in_country(legs.column("origin"), country),
                      self.in_country(legs.column("destination"), country))
        stops = self.ev.stops.filter(pc.is_in(self.ev.stops.column("icao24"), pa.array(sorted(icao), pa.int32())))
        return legs.filter(in_c), stops.filter(self.in_country(stops.column("airport"), country))

    def check_operation(self, claim: Claim) -> Verdict:
        icao, rows = self.aircraft(claim)
        x, y = claim.states
        if not icao:
            return self.unknown(claim)
        reg_c = {c for c in rows.column("country_iso2").to_pylist() if c}
        ev: dict[str, list[str]] = {}
        if reg_c and x not in reg_c:
            return Verdict(claim.claim_id, "contradicted",
                           f"{self.who(claim)} is registered in {', '.join(sorted(reg_c))}, not {x}",
                           {"identity": rows.column("source").to_pylist()})
        fo = [r for r in self.findings_of("foreign_operation", icao).to_pylist()
              if y in (r["places"] or []) or any(self.ev.country_of(p) == y for p in (r["places"] or []))]
        legs, stops = self.presence(icao, y, None, None)
        ev["findings"] = [f"{r['finding_id']}: {r['summary']}" for r in fo]
        ev["legs"] = legs.column("leg_id").to_pylist()
        ev["stops"] = stops.column("stop_id").to_pylist()
        owner = f"registered in {x}" if reg_c else "registry country not in the databases"
        if fo or legs.num_rows or stops.num_rows:
            t = np.concatenate([_times(legs, "t_start"), _times(stops, "arrival")])
            t = t[t >= 0]
            if t.size:
                ev["times"] = [f"first {_day(int(t.min()))}", f"last {_day(int(t.max()))}"]
            how = "foreign-operation finding" if fo else "own check of legs/stops"
            return Verdict(claim.claim_id, "supported",
                           f"{self.who(claim)} ({owner}) has {legs.num_rows} legs and {stops.num_rows} stops at "
                           f"airports in {y} ({how})", ev)
        cov = self.coverage(self.places_in(y), None, None)
        if cov[0] == 0:
            return self.no_coverage(claim, self.places_in(y) or [y], "at any time")
        return Verdict(claim.claim_id, "contradicted",
                       f"airports in {y} were covered ({cov[0]} positions) but {self.who(claim)} never appears there{_DARK}",
                       {"coverage": [f"{cov[0]} positions on {cov[2]} day(s)"]})

    def check_period(self, claim: Claim) -> Verdict:
        if not claim.year_stated:
            return Verdict(claim.claim_id, "ambiguous", "the article gives no year; pass --year")
        icao, _ = self.aircraft(claim)
        if not icao:
            return self.unknown(claim)
        y = claim.states[1] if len(claim.states) == 2 else None
        if y is not None:
            legs, stops = self.presence(icao, y, None, None)
            places = self.places_in(y)
        else:
            legs, stops = self.legs_of(icao), self.ev.stops.filter(pc.equal(self.ev.stops.column("icao24"), -1))
            places = sorted(set(self.ev.coverage.column("place").to_pylist()))
        t = np.concatenate([_times(legs, "t_start"), _times(legs, "t_end"), _times(stops, "arrival")])
        t = t[t >= 0]
        ev = {"legs": legs.column("leg_id").to_pylist()[:3] + (["…"] if legs.num_rows > 6 else [])
              + legs.column("leg_id").to_pylist()[max(3, legs.num_rows - 3):]}
        where = f" in {y}" if y else ""
        if t.size == 0:
            cov = self.coverage(places, _us(claim.since) if claim.since else None, None)
            if cov[0] == 0:
                return self.no_coverage(claim, places, "in that period")
            return Verdict(claim.claim_id, "contradicted",
                           f"receivers covered{where} ({cov[0]} positions) but {self.who(claim)} was never seen{_DARK}", ev)
        first, last = int(t.min()), int(t.max())
        ev["times"] = [f"first seen{where} {_day(first)}", f"last seen{where} {_day(last)}"]
        verdicts: list[tuple[VerdictKind, str]] = []
        if claim.since is not None:
            s = _us(claim.since)
            if first < s - EARLY_DAYS * _US_DAY:
                verdicts.append(("contradicted", f"already seen{where} on {_day(first)}, before {claim.since}"))
            elif first <= s + (LATE_DAYS + 1) * _US_DAY:
                verdicts.append(("supported", f"first seen{where} {_day(first)}, matching {claim.since}"))
            else:
                cov = self.coverage(places, s, first)
                verdicts.append(("ambiguous", f"first seen{where} only {_day(first)}; receivers covered "
                                 f"{cov[2]} day(s) in between") if cov[0] else
                                ("not observable", f"first seen{where} {_day(first)}; no coverage between "
                                 f"{claim.since} and then"))
        if claim.until is not None:
            u = _us(claim.until) + _US_DAY
            if last > u + LATE_DAYS * _US_DAY:
                verdicts.append(("contradicted", f"still seen{where} on {_day(last)}, after {claim.until}"))
            else:
                verdicts.append(("supported", f"last seen{where} {_day(last)}"))
        order = {"contradicted": 0, "ambiguous": 1, "not observable": 2, "supported": 3}
        worst = min(verdicts, key=lambda v: order[v[0]])
        return Verdict(claim.claim_id, worst[0], "; ".join(v[1] for v in verdicts), ev)


#: ``evidence["type"]`` of incident findings that bear out each event.
_EMERGENCY_TYPES = frozenset({"squawk", "emergency"})
_CRASH_TYPES = frozenset({"track_end_low", "track_end_short_final", "abrupt_descent"})


def _incident_type(row: dict[str, Any]) -> str | None:
    try:
        evid = orjson.loads(row["evidence"] or "{}")
    except orjson.JSONDecodeError:
        return None
    return str(evid["type"]) if isinstance(evid, dict) and evid.get("type") else None


def _starts(o: np.ndarray[Any, np.dtype[Any]], d: np.ndarray[Any, np.dtype[Any]],
            places: list[str]) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.bool_]]]:
    """For each start index: how many hops of ``places`` match legs exactly, and whether every
    hop at least fits (an exact match, or a leg whose origin or destination is not evidenced)."""
    hops = list(itertools.pairwise(places))
    n, h = len(o), len(hops)
    m = n - h + 1
    if m <= 0 or h == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    exact = np.zeros(m, dtype=np.int64)
    fits = np.ones(m, dtype=bool)
    for k, (a, b) in enumerate(hops):  # one vectorised pass per hop, not per leg
        ok = (o[k:k + m] == a) & (d[k:k + m] == b)
        exact += ok
        fits &= ok | (o[k:k + m] == "") | (d[k:k + m] == "")
    return exact, fits


def _sequences(o: np.ndarray[Any, np.dtype[Any]], d: np.ndarray[Any, np.dtype[Any]],
               places: list[str]) -> tuple[list[tuple[int, int, str | None]], list[tuple[int, int, str | None]]]:
    """Non-overlapping runs of consecutive legs flying ``places`` in order, as (first, end, unseen place).

    Exact runs first (unseen place None); then runs with one landing not evidenced: either the
    legs around it have a null end (A→?, ?→C for A→B→C) or the stop was not seen at all (one
    leg A→C for A→B→C); the third item names that airport.
    """
    h = len(places) - 1
    exact, fits = _starts(o, d, places)
    taken: list[tuple[int, int]] = []

    def take(starts: Any, width: int, skipped: Callable[[int], str | None],
             into: list[tuple[int, int, str | None]]) -> None:
        for s in np.asarray(starts).tolist():
            iv = (int(s), int(s) + width)
            if all(iv[1] <= a or iv[0] >= b for a, b in taken):
                taken.append(iv)
                into.append((iv[0], iv[1], skipped(iv[0])))

    def null_end(s: int) -> str | None:
        for k in range(h - 1):
            if d[s + k] == "" or o[s + k + 1] == "":
                return places[k + 1]
        return None

    exact_iv: list[tuple[int, int, str | None]] = []
    gap_iv: list[tuple[int, int, str | None]] = []
    take(np.flatnonzero(exact == h), h, lambda s: None, exact_iv)
    if h >= 2:
        take(np.flatnonzero(fits & (exact >= max(1, h - 2)) & (exact < h)), h, null_end, gap_iv)
    if h >= 3:
        for j in range(1, h):
            ex, _ = _starts(o, d, places[:j] + places[j + 1:])
            take(np.flatnonzero(ex == h - 1), h - 1, lambda s, j=j: places[j], gap_iv)  # type: ignore[misc]
    return sorted(exact_iv), sorted(gap_iv, key=lambda iv: iv[0])


def verify_claims(claims: Sequence[Claim], evidence: Evidence) -> list[Verdict]:
    """One verdict per claim, in the claims' order (pure: reads only ``evidence``)."""
    c = _Checker(evidence)
    table: dict[str, Callable[[Claim], Verdict]] = {
        "aircraft": c.check_aircraft, "route": c.check_route, "leg": c.check_leg, "event": c.check_event,
        "operation": c.check_operation, "period": c.check_period,
    }
    return [table[claim.kind](claim) for claim in claims]
