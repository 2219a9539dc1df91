"""Scenario files: what the simulator flies, where the receivers are, what happens.

A scenario is a YAML document (see ``docs/simulator.md``) parsed into plain
frozen dataclasses. Built-in scenarios live in ``tailwatch/sim/scenarios/`` and
are found by name (``load_scenario("sahel-2023")``); anything else is a path.
Mistakes raise :class:`~tailwatch.errors.InputError` naming the file and key.

>>> parse_duration("90m"), parse_duration("3.5d"), parse_duration(45)
(5400.0, 302400.0, 45.0)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import airportsdata
import yaml

from tailwatch.errors import InputError
from tailwatch.schema import icao_of

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
CLASSES = ("military", "government", "police", "civil", "unknown")
EVENT_KINDS = ("touch_and_go", "go_around", "divert", "squawk", "transponder_off", "track_lost", "spoof")


def parse_duration(value: Any) -> float:
    """Seconds from ``45``, ``"45s"``, ``"90m"``, ``"2h"``, ``"3.5d"`` or ``"1w"``."""
    if isinstance(value, int | float):
        return float(value)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smhdw]?)\s*", str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. 45s, 90m, 2h, 3.5d)")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def parse_time(value: Any) -> float:
    """Epoch seconds (UTC) from a YAML timestamp or an ISO 8601 string."""
    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, dt.date):
        t = dt.datetime(value.year, value.month, value.day)
    else:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


@dataclass(frozen=True)
class Airport:
    """An airport from ``airportsdata``: ICAO code, position, elevation (ft)."""

    icao: str
    lat: float
    lon: float
    elevation_ft: float
    name: str = ""


@dataclass(frozen=True)
class LegPlan:
    """One scheduled leg: origin, destination and off-block time (epoch s).

    In a rotation, legs after the first have ``ground_s`` set: they leave
    that long after the previous leg's block-in, whatever ``depart`` says.
    """

    origin: str
    destination: str
    depart: float
    ground_s: float | None = None


@dataclass(frozen=True)
class AircraftSpec:
    """One simulated transmitter and its schedule."""

    icao24: int
    registration: str | None
    typecode: str | None
    type_description: str | None
    operator: str | None
    country: str | None
    aircraft_class: str | None
    callsign: str | None
    squawk: str
    category: int
    cruise_alt_ft: float
    cruise_kt: float
    climb_fpm: float
    descent_fpm: float
    approach_kt: float
    rotate_kt: float
    taxi_s: float
    legs: tuple[LegPlan, ...]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outage:
    """A window (epoch s) in which a receiver heard nothing."""

    start: float
    end: float


@dataclass(frozen=True)
class Receiver:
    """A receiver site: position, antenna height, nominal range, outages, random dropout."""

    id: str
    lat: float
    lon: float
    alt_m: float
    range_km: float
    dropout: float
    outages: tuple[Outage, ...]


@dataclass(frozen=True)
class Event:
    """A scripted event; which fields matter depends on ``kind`` (see docs/simulator.md)."""

    kind: str
    icao24: int
    leg: int | None = None
    airport: str | None = None
    to: str | None = None
    code: str | None = None
    start: float | None = None
    end: float | None = None
    distance_km: float = 3.0
    offset_km: tuple[float, float] = (0.0, 0.0)
    lat: float | None = None
    lon: float | None = None
    alt_ft: float | None = None


@dataclass(frozen=True)
class Rates:
    """Seconds between messages of each kind per aircraft (0 = never).

    The defaults are a real transponder's (positions and velocities twice a
    second, identification every 5 s). A scenario thins them out with ``rate: N``
    (every default interval times N) and/or sets kinds one by one under ``rates:``.
    """

    position: float = 0.5
    velocity: float = 0.5
    identification: float = 5.0
    surface: float = 1.0
    gnss: float = 0.0
    status: float = 0.0
    altitude_reply: float = 0.0
    identity_reply: float = 0.0
    all_call: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario: aircraft, receivers, events, message rates."""

    name: str
    description: str
    aircraft: tuple[AircraftSpec, ...]
    receivers: tuple[Receiver, ...]
    events: tuple[Event, ...]
    rates: Rates
    airports: dict[str, Airport] = field(default_factory=dict)
    source: str = ""
    seed: int = 0
    jitter_s: float = 0.2
    #: runway heading (true degrees, either end) by ICAO airport: approaches follow its centreline
    runways: dict[str, float] = field(default_factory=dict)


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with tailwatch."""
    folder = resources.files("tailwatch.sim") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _where(src: str, key: str, msg: str) -> InputError:
    return InputError(src, f"key {key}", msg)


def _req(d: dict[str, Any], key: str, src: str, where: str) -> Any:
    if key not in d:
        raise _where(src, f"{where}.{key}", "missing")
    return d[key]


def _airport(code: Any, db: dict[str, Any], cache: dict[str, Airport], src: str, where: str) -> str:
    c = str(code).upper()
    if c not in db:
        raise _where(src, where, f"unknown ICAO airport {c!r} (not in airportsdata)")
    if c not in cache:
        a = db[c]
        cache[c] = Airport(c, float(a["lat"]), float(a["lon"]), float(a["elevation"] or 0.0), str(a["name"]))
    return c


def _legs(a: dict[str, Any], db: dict[str, Any], cache: dict[str, Airport], src: str, w: str) -> list[LegPlan]:
    legs: list[LegPlan] = []
    for i, leg in enumerate(a.get("legs") or []):
        lw = f"{w}.legs[{i}]"
        o = _airport(_req(leg, "from", src, lw), db, cache, src, lw + ".from")
        d = _airport(_req(leg, "to", src, lw), db, cache, src, lw + ".to")
        legs.append(LegPlan(o, d, parse_time(_req(leg, "depart", src, lw))))
    rot = a.get("rotation")
    if rot:
        rw = f"{w}.rotation"
        airports = [_airport(x, db, cache, src, rw + ".airports") for x in _req(rot, "airports", src, rw)]
        if len(airports) < 2:
            raise _where(src, rw + ".airports", "needs at least two airports")
        first = parse_time(_req(rot, "first", src, rw))
        every = parse_duration(rot.get("every", "7d"))
        repeat = int(rot.get("repeat", 1))
        ground = parse_duration(rot.get("ground", "90m"))
        skip = {int(x) for x in rot.get("skip", [])}
        for r in range(repeat):
            if r in skip:
                continue
            t = first + r * every
            for k, (o, d) in enumerate(itertools.pairwise(airports)):
                legs.append(LegPlan(o, d, t + k, None if k == 0 else ground))
    legs.sort(key=lambda x: x.depart)
    return legs


def _aircraft(a: dict[str, Any], i: int, db: dict[str, Any], cache: dict[str, Airport], src: str) -> AircraftSpec:
    w = f"aircraft[{i}]"
    try:
        icao = icao_of(str(_req(a, "icao24", src, w)))
    except ValueError as e:
        raise _where(src, w + ".icao24", str(e)) from None
    sq = str(a.get("squawk", "2000")).zfill(4)
    if not re.fullmatch(r"[0-7]{4}", sq):
        raise _where(src, w + ".squawk", f"not four octal digits: {sq!r}")
    cls = a.get("class")
    if cls is not None and cls not in CLASSES:
        raise _where(src, w + ".class", f"{cls!r} is not one of {', '.join(CLASSES)}")
    legs = _legs(a, db, cache, src, w)
    return AircraftSpec(
        icao24=icao,
        registration=a.get("registration"),
        typecode=a.get("typecode"),
        type_description=a.get("type"),
        operator=a.get("operator"),
        country=a.get("country"),
        aircraft_class=a.get("class"),
        callsign=a.get("callsign") or (str(a.get("registration") or "").replace("-", "") or None),
        squawk=sq,
        category=int(a.get("category", 0)),
        cruise_alt_ft=float(a.get("cruise_alt_ft", 24000)),
        cruise_kt=float(a.get("cruise_kt", 300)),
        climb_fpm=float(a.get("climb_fpm", 1800)),
        descent_fpm=float(a.get("descent_fpm", 1800)),
        approach_kt=float(a.get("approach_kt", 130)),
        rotate_kt=float(a.get("rotate_kt", 120)),
        taxi_s=parse_duration(a.get("taxi", "8m")),
        legs=tuple(legs),
        tags=tuple(a.get("tags", [])),
    )


def _event(e: dict[str, Any], i: int, db: dict[str, Any], cache: dict[str, Airport], src: str) -> Event:
    w = f"events[{i}]"
    kind = str(_req(e, "kind", src, w))
    if kind not in EVENT_KINDS:
        raise _where(src, w + ".kind", f"unknown event {kind!r}; one of {', '.join(EVENT_KINDS)}")
    ap = _airport(e["airport"], db, cache, src, w + ".airport") if "airport" in e else None
    to = _airport(e["to"], db, cache, src, w + ".to") if "to" in e else None
    off = e.get("offset_km", [0.0, 0.0])
    return Event(
        kind=kind,
        icao24=icao_of(str(_req(e, "icao24", src, w))),
        leg=int(e["leg"]) if "leg" in e else None,
        airport=ap,
        to=to,
        code=str(e["code"]).zfill(4) if "code" in e else None,
        start=parse_time(e["from"]) if "from" in e else None,
        end=parse_time(e["until"]) if "until" in e else None,
        distance_km=float(e.get("distance_km", 3.0)),
        offset_km=(float(off[0]), float(off[1])),
        lat=float(e["lat"]) if "lat" in e else None,
        lon=float(e["lon"]) if "lon" in e else None,
        alt_ft=float(e["alt_ft"]) if "alt_ft" in e else None,
    )


def _receiver(r: dict[str, Any], i: int, src: str) -> Receiver:
    w = f"receivers[{i}]"
    outs = tuple(
        Outage(parse_time(_req(o, "from", src, w + ".outages")), parse_time(_req(o, "until", src, w + ".outages")))
        for o in r.get("outages", [])
    )
    return Receiver(
        id=str(_req(r, "id", src, w)),
        lat=float(_req(r, "lat", src, w)),
        lon=float(_req(r, "lon", src, w)),
        alt_m=float(r.get("alt_m", 10.0)),
        range_km=float(r.get("range_km", 400.0)),
        dropout=float(r.get("dropout", 0.0)),
        outages=outs,
    )


def parse_scenario(doc: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Build a :class:`Scenario` from a parsed YAML mapping."""
    if not isinstance(doc, dict):
        raise InputError(source, "line 1", "a scenario must be a YAML mapping")
    db = airportsdata.load("ICAO")
    cache: dict[str, Airport] = {}

    def each(key: str, parse: Any) -> tuple[Any, ...]:
        items = doc.get(key) or []
        if not isinstance(items, list):
            raise _where(source, key, "must be a list")
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise _where(source, f"{key}[{i}]", "must be a mapping")
            try:
                out.append(parse(item, i))
            except (ValueError, TypeError, AttributeError) as e:
                raise _where(source, f"{key}[{i}]", str(e)) from None
        return tuple(out)

    aircraft = each("aircraft", lambda a, i: _aircraft(a, i, db, cache, source))
    events = each("events", lambda e, i: _event(e, i, db, cache, source))
    receivers = each("receivers", lambda r, i: _receiver(r, i, source))
    try:
        factor = float(doc.get("rate", 1.0))
        if factor <= 0:
            raise ValueError(f"rate must be positive, not {factor}")
        base = {k: v * factor for k, v in dataclasses.asdict(Rates()).items()}
        base.update({k: parse_duration(v) for k, v in (doc.get("rates") or {}).items()})
        rates = Rates(**base)
        runways = {_airport(k, db, cache, source, f"runways.{k}"): float(v) % 360.0
                   for k, v in (doc.get("runways") or {}).items()}
    except (ValueError, TypeError) as e:
        raise InputError(source, "key rate/rates/runways", str(e)) from None
    if not aircraft:
        raise _where(source, "aircraft", "a scenario needs at least one aircraft")
    if not receivers:
        raise _where(source, "receivers", "a scenario needs at least one receiver")
    return Scenario(
        name=str(doc.get("name", Path(source).stem)),
        description=str(doc.get("description", "")),
        aircraft=aircraft,
        receivers=receivers,
        events=events,
        rates=rates,
        airports=cache,
        source=source,
        seed=int(doc.get("seed", 0)),
        jitter_s=float(doc.get("jitter_s", 0.2)),
        runways=runways,
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name (``"sahel-2023"``) or a YAML file by path.

    >>> load_scenario("sahel-2023").aircraft[0].registration
    '5U-MBH'
    """
    p = Path(name_or_path)
    if not p.exists() and str(name_or_path) in builtin_scenarios():
        text = (resources.files("tailwatch.sim") / "scenarios" / f"{name_or_path}.yaml").read_text("utf-8")
        src = f"tailwatch/sim/scenarios/{name_or_path}.yaml"
    elif p.exists():
        text, src = p.read_text("utf-8"), str(p)
    else:
        raise InputError(str(name_or_path), "file", f"no such scenario; built-in: {', '.join(builtin_scenarios())}")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "line ?"
        raise InputError(src, where, f"invalid YAML: {e}") from None
    return parse_scenario(doc, src)
