"""Render a :class:`~tailwatch.report.dossier.Dossier` as one self-contained HTML file,
and write the dossier folder (HTML, GeoJSON, KML, CSV)."""

from __future__ import annotations

import datetime as dt
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tailwatch import __version__
from tailwatch.report.assets import Assets, load_assets
from tailwatch.report.dossier import Dossier, summary_counts
from tailwatch.report.geo import legs_geojson, stops_geojson, to_kml
from tailwatch.schema import hex_of


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for row in rows:
        if isinstance(row.get("icao24"), int):
            row["icao24"] = hex_of(row["icao24"])
    return [_jsonable(r) for r in rows]


def _finding_marks(d: Dossier) -> list[dict[str, Any]]:
    """Places of findings that have a position in their evidence (``lat``/``lon`` keys, or an
    incident's ``last_point`` = [time, lat, lon, alt])."""
    marks = []
    for row in d.findings.to_pylist():
        try:
            ev = json.loads(row["evidence"])
        except (TypeError, ValueError):
            continue
        if not isinstance(ev, dict):
            continue
        lat, lon = ev.get("lat"), ev.get("lon")
        point = ev.get("last_point")  # incidents: [time, lat, lon, alt] of the last position seen
        if not isinstance(lat, int | float) and isinstance(point, list) and len(point) >= 3:
            lat, lon = point[1], point[2]
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            marks.append({"kind": row["kind"], "summary": row["summary"], "lat": lat, "lon": lon})
    return marks


def _script_safe(text: str) -> str:
    return text.replace("</", "<\\/")


def dossier_data(d: Dossier) -> dict[str, Any]:
    """The JSON document the page draws from."""
    return {
        "title": d.title,
        "since": _jsonable(d.since),
        "until": _jsonable(d.until),
        "generated": _jsonable(d.generated),
        "simulated": d.simulated,
        "cards": [{"hex": c.hex, "facts": [list(f) for f in c.facts]} for c in d.cards],
        "summary": summary_counts(d),
        "legs": _rows(d.legs),
        "legs_geojson": _jsonable(legs_geojson(d.legs, d.tracks)),
        "stops": _rows(d.stops),
        "stops_geojson": _jsonable(stops_geojson(d.stops)),
        "findings": _rows(d.findings),
        "finding_marks": _finding_marks(d),
    }


def render_html(d: Dossier, assets: Assets | None = None) -> str:
    """The dossier as one HTML page with everything inlined (works offline)."""
    assets = assets or load_assets()
    template = files("tailwatch.report").joinpath("templates/dossier.html").read_text(encoding="utf-8")
    data = json.dumps(dossier_data(d), separators=(",", ":"), allow_nan=False, default=str)
    title = d.title.replace("&", "&amp;").replace("<", "&lt;")
    parts = {
        "__TITLE__": title + (" (SIMULATED)" if d.simulated else ""),
        "__VERSION__": __version__,
        "__LEAFLET_CSS__": assets.leaflet_css,
        "__DATA__": _script_safe(data),
        "__COUNTRIES__": _script_safe(assets.countries_topojson),
        "__LEAFLET_JS__": _script_safe(assets.leaflet_js),
        "__TOPOJSON_JS__": _script_safe(assets.topojson_js),
    }
    out = template
    for key, value in parts.items():
        out = out.replace(key, value)
    return out


def _csv_ready(table: pa.Table) -> pa.Table:
    cols = []
    for name in table.column_names:
        col = table[name]
        if name == "icao24" and pa.types.is_integer(col.type):
            col = pa.array([None if v is None else hex_of(v) for v in col.to_pylist()], pa.string())
        elif pa.types.is_list(col.type):
            col = pa.array([None if v is None else " ".join(map(str, v)) for v in col.to_pylist()], pa.string())
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def write_dossier(d: Dossier, out_dir: Path, assets: Assets | None = None) -> dict[str, Path]:
    """Write ``dossier.html``, ``legs.geojson``, ``stops.geojson``, ``dossier.kml``,
    ``legs.csv``, ``stops.csv`` and ``findings.csv`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": out_dir / "dossier.html",
        "legs_geojson": out_dir / "legs.geojson",
        "stops_geojson": out_dir / "stops.geojson",
        "kml": out_dir / "dossier.kml",
        "legs_csv": out_dir / "legs.csv",
        "stops_csv": out_dir / "stops.csv",
        "findings_csv": out_dir / "findings.csv",
    }
    paths["html"].write_text(render_html(d, assets), encoding="utf-8")
    paths["legs_geojson"].write_text(json.dumps(_jsonable(legs_geojson(d.legs, d.tracks))), encoding="utf-8")
    paths["stops_geojson"].write_text(json.dumps(_jsonable(stops_geojson(d.stops))), encoding="utf-8")
    paths["kml"].write_text(to_kml(d.title, d.legs, d.stops, d.tracks), encoding="utf-8")
    pacsv.write_csv(_csv_ready(d.legs), str(paths["legs_csv"]))
    pacsv.write_csv(_csv_ready(d.stops), str(paths["stops_csv"]))
    pacsv.write_csv(_csv_ready(d.findings), str(paths["findings_csv"]))
    return paths
