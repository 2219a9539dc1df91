"""Ground truth of a simulation: legs, stops, events, coverage, identities.

:class:`Truth` holds Arrow tables (for tests and kernels) and serialises to
``truth.json`` (for people and for ``tailwatch demo``); :func:`load_truth`
reads the file back into the same tables. Times in JSON are ISO 8601 UTC.

Table columns:

* ``legs``: icao24 (int32), origin, destination (where it landed, or meant to
  when the track was lost), takeoff, landing (null if never landed),
  block_off, block_on (start of taxi-out / end of taxi-in or of the track),
  touch_and_go, go_around (lists of ICAO codes), diverted_from, track_lost
  (bool), observed_fraction (airborne position messages heard by at least one
  receiver over the number the leg's airborne time should produce at the
  scenario's position rate: 0 means the leg is invisible in the data).
* ``stops``: icao24, airport, arrival (null before the first leg), departure
  (null after the last leg).
* ``events``: kind, icao24, t_start, t_end, place (ICAO code or "lat,lon"), detail.
* ``aircraft``: identity records (see :meth:`Truth.identity_records`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tailwatch.schema import TIME, hex_of, icao_of
from tailwatch.sim import messages as msg
from tailwatch.sim.flight import LegTruth
from tailwatch.sim.scenario import AircraftSpec, Scenario

TRUTH_LEGS = pa.schema([
    pa.field("icao24", pa.int32(), nullable=False), pa.field("origin", pa.string()),
    pa.field("destination", pa.string()), pa.field("takeoff", TIME), pa.field("landing", TIME),
    pa.field("block_off", TIME), pa.field("block_on", TIME),
    pa.field("touch_and_go", pa.list_(pa.string())), pa.field("go_around", pa.list_(pa.string())),
    pa.field("diverted_from", pa.string()), pa.field("track_lost", pa.bool_()),
    pa.field("observed_fraction", pa.float32()),
])
TRUTH_STOPS = pa.schema([
    pa.field("icao24", pa.int32(), nullable=False), pa.field("airport", pa.string()),
    pa.field("arrival", TIME), pa.field("departure", TIME),
])
TRUTH_EVENTS = pa.schema([
    pa.field("kind", pa.string(), nullable=False), pa.field("icao24", pa.int32(), nullable=False),
    pa.field("t_start", TIME), pa.field("t_end", TIME), pa.field("place", pa.string()),
    pa.field("detail", pa.string()),
])
_TIME_COLS = {"takeoff", "landing", "block_off", "block_on", "arrival", "departure", "t_start", "t_end"}


def iso(t: float | None, timespec: str = "microseconds") -> str | None:
    """ISO 8601 UTC text (microseconds by default) of epoch seconds, None stays None.

    >>> iso(1692514800.0)
    '2023-08-20T07:00:00.000000Z'
    """
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _epoch(text: str | None) -> float | None:
    if text is None:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Truth:
    """Ground truth tables plus metadata (scenario name, seed, files written)."""

    legs: pa.Table
    stops: pa.Table
    events: pa.Table
    coverage: list[dict[str, Any]]
    aircraft: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (icao24 as hex, times ISO 8601)."""

        def rows(t: pa.Table) -> list[dict[str, Any]]:
            out = []
            for r in t.to_pylist():
                for k, v in r.items():
                    if k == "icao24":
                        r[k] = hex_of(v)
                    elif k in _TIME_COLS and v is not None:
                        r[k] = iso(v.timestamp())
                out.append(r)
            return out

        return {**self.meta, "legs": rows(self.legs), "stops": rows(self.stops), "events": rows(self.events),
                "coverage": self.coverage, "aircraft": self.aircraft}

    def write(self, path: Path) -> None:
        """Write ``truth.json``."""
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", "utf-8")

    def identity_records(self) -> list[dict[str, Any]]:
        """Per-aircraft identity records for ``Identity.with_records``: icao24 (hex), registration,
        typecode, type_desc, operator, country, aircraft_class, callsign, tags ("; "-joined).

        Label them yourself as simulated, e.g. ``with_records(recs, "scenario sahel-2023 (SIMULATED)")``.
        """
        return [dict(a) for a in self.aircraft]


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    cols: dict[str, list[Any]] = {f.name: [] for f in schema}
    for r in rows:
        for f in schema:
            v = r.get(f.name)
            if f.name == "icao24" and isinstance(v, str):
                v = icao_of(v)
            elif f.name in _TIME_COLS and isinstance(v, str):
                v = _epoch(v)
            if f.name in _TIME_COLS and v is not None:
                v = round(float(v) * 1e6)
            cols[f.name].append(v)
    arrays = []
    for f in schema:
        if f.name in _TIME_COLS:
            arrays.append(pa.array(cols[f.name], pa.int64()).cast(f.type))
        else:
            arrays.append(pa.array(cols[f.name], f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def load_truth(path: str | Path) -> Truth:
    """Read a ``truth.json`` back into a :class:`Truth`."""
    doc = json.loads(Path(path).read_text("utf-8"))
    meta = {k: v for k, v in doc.items() if k not in ("legs", "stops", "events", "coverage", "aircraft")}
    return Truth(_table(doc["legs"], TRUTH_LEGS), _table(doc["stops"], TRUTH_STOPS),
                 _table(doc["events"], TRUTH_EVENTS), doc["coverage"], doc["aircraft"], meta)


def _identity(ac: AircraftSpec) -> dict[str, Any]:
    """The fields ``Identity.with_records`` reads (plus country and callsign for people)."""
    return {
        "icao24": hex_of(ac.icao24), "registration": ac.registration, "typecode": ac.typecode,
        "type_desc": ac.type_description, "operator": ac.operator, "country": ac.country,
        "aircraft_class": ac.aircraft_class, "callsign": ac.callsign,
        "tags": "; ".join(ac.tags) if ac.tags else None,
    }


def build_truth(scn: Scenario, flown: list[tuple[AircraftSpec, list[LegTruth]]], m: msg.Messages,
                heard: npt.NDArray[np.bool_], seed: int) -> Truth:
    """Assemble the truth of a run from the legs flown and which messages were heard."""
    legs: list[dict[str, Any]] = []
    stops: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    airpos = m.kind == msg.AIRPOS
    for ac, lts in flown:
        mine = airpos & (m.icao24 == ac.icao24)
        where: str | None = None
        for i, lt in enumerate(lts):
            end = lt.landing if lt.landing is not None else lt.block_on
            span = mine & (m.time >= lt.takeoff) & (m.time <= end)
            # expected position messages: airborne time / position interval (transponder-off time counts as unseen)
            n = max(int((end - lt.takeoff) / scn.rates.position), 1) if scn.rates.position > 0 else 0
            legs.append({
                "icao24": ac.icao24, "origin": lt.origin, "destination": lt.destination, "takeoff": lt.takeoff,
                "landing": lt.landing, "block_off": lt.block_off, "block_on": lt.block_on,
                "touch_and_go": list(lt.touch_and_go), "go_around": list(lt.go_around),
                "diverted_from": lt.diverted_from, "track_lost": lt.landing is None,
                "observed_fraction": min(float(heard[span].sum()) / n, 1.0) if n else 0.0,
            })
            stops.append({"icao24": ac.icao24, "airport": where if i else lt.origin,
                          "arrival": lts[i - 1].landing if i else None, "departure": lt.takeoff})
            for what, apt, t in lt.marks:
                kind = {"touch": "touch_and_go", "low": "go_around", "approach": "divert"}[what]
                detail = f"diverted to {lt.destination}" if kind == "divert" else ""
                events.append({"kind": kind, "icao24": ac.icao24, "t_start": t, "t_end": t, "place": apt,
                               "detail": detail})
            if lt.landing is None:
                events.append({"kind": "track_lost", "icao24": ac.icao24, "t_start": lt.block_on,
                               "t_end": lt.block_on, "place": lt.destination,
                               "detail": f"track lost on approach to {lt.destination}"})
            where = lt.destination if lt.landing is not None else None
        if lts and lts[-1].landing is not None:
            stops.append({"icao24": ac.icao24, "airport": lts[-1].destination, "arrival": lts[-1].landing,
                          "departure": None})
    for e in scn.events:
        if e.kind in ("squawk", "transponder_off", "spoof"):
            place = f"{e.lat:.4f},{e.lon:.4f}" if e.lat is not None and e.lon is not None else None
            detail = {"squawk": f"squawk {e.code}", "transponder_off": "transponder off",
                      "spoof": ("second transmitter" if e.lat is not None
                                else f"position offset {e.offset_km[0]:g} km N, {e.offset_km[1]:g} km E")}[e.kind]
            events.append({"kind": e.kind, "icao24": e.icao24, "t_start": e.start, "t_end": e.end,
                           "place": place, "detail": detail})
    events.sort(key=lambda r: (r["t_start"] or 0.0, r["icao24"]))
    coverage = [{"receiver": r.id, "lat": r.lat, "lon": r.lon, "alt_m": r.alt_m, "range_km": r.range_km,
                 "dropout": r.dropout, "outages": [{"from": iso(o.start), "until": iso(o.end)} for o in r.outages]}
                for r in scn.receivers]
    seen: set[int] = set()
    idents = []
    for ac in scn.aircraft:
        if ac.icao24 not in seen:
            seen.add(ac.icao24)
            idents.append(_identity(ac))
    meta = {"scenario": scn.name, "description": scn.description, "simulated": True, "seed": seed,
            "source": scn.source}
    return Truth(_table(legs, TRUTH_LEGS), _table(stops, TRUTH_STOPS), _table(events, TRUTH_EVENTS),
                 coverage, idents, meta)
