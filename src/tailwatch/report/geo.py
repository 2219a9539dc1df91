"""Legs, stops and tracks as GeoJSON, KML (Google Earth) and CSV.

Pure functions: tables in, text out. Geometry is WGS84 lon/lat; KML altitudes
are metres above sea level (``absolute``) so that Google Earth draws the
climb and descent.

>>> import pyarrow as pa
>>> stops = pa.table({"stop_id": ["s1"], "icao24": pa.array([0x062F01], pa.int32()),
...     "airport": ["GAGO"], "lat": [16.248], "lon": [-0.005], "arrival": [None],
...     "departure": [None], "dwell_s": [None], "reason": ["on ground 3 min"]})
>>> fc = stops_geojson(stops)
>>> fc["features"][0]["geometry"]["coordinates"]
[-0.005, 16.248]
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.schema import hex_of

FT_TO_M = 0.3048


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _props(row: dict[str, Any], skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in skip:
            continue
        if key == "icao24" and isinstance(value, int):
            value = hex_of(value)
        out[key] = _iso(value)
    return out


def leg_lines(tracks: pa.Table) -> dict[str, np.ndarray]:
    """Group a track table (leg_id, lon, lat, alt_baro, sorted by leg then time) into
    one ``(n, 3)`` coordinate array per leg: lon, lat, altitude in feet (NaN if unknown)."""
    if tracks.num_rows == 0:
        return {}
    leg = tracks.column("leg_id").to_numpy(zero_copy_only=False)
    lon = tracks.column("lon").to_numpy(zero_copy_only=False).astype(float)
    lat = tracks.column("lat").to_numpy(zero_copy_only=False).astype(float)
    alt = pc.fill_null(tracks.column("alt_baro").cast(pa.float64()), float("nan")).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, leg[1:] != leg[:-1]])
    ends = np.r_[starts[1:], len(leg)]
    coords = np.column_stack([lon, lat, alt])
    return {str(leg[s]): coords[s:e] for s, e in zip(starts, ends, strict=True)}


def legs_geojson(legs: pa.Table, tracks: pa.Table) -> dict[str, Any]:
    """A FeatureCollection with one LineString per leg (observed track, or the straight
    line between its first and last positions when no track points are given)."""
    lines = leg_lines(tracks)
    features = []
    for row in legs.to_pylist():
        coords = lines.get(row["leg_id"])
        if coords is not None and len(coords) >= 2:
            geometry = [[round(float(x), 5), round(float(y), 5)] for x, y, _ in coords]
        elif row.get("first_lat") is not None and row.get("last_lat") is not None:
            geometry = [[row["first_lon"], row["first_lat"]], [row["last_lon"], row["last_lat"]]]
        else:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": geometry},
                "properties": _props(row, set()),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def stops_geojson(stops: pa.Table) -> dict[str, Any]:
    """A FeatureCollection with one Point per stop that has a position."""
    features = []
    for row in stops.to_pylist():
        if row.get("lat") is None or row.get("lon") is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                "properties": _props(row, {"lat", "lon"}),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _kml_time(value: Any) -> str:
    return str(_iso(value)) if isinstance(value, dt.datetime) else ""


def to_kml(title: str, legs: pa.Table, stops: pa.Table, tracks: pa.Table) -> str:
    """A KML document: a folder of legs (3-D lines) and a folder of stops (placemarks)."""
    lines = leg_lines(tracks)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2">',
        "<Document>",
        f"<name>{escape(title)}</name>",
        '<Style id="leg"><LineStyle><color>ff2b6cd6</color><width>3</width></LineStyle></Style>',
        '<Style id="stop"><IconStyle><scale>1.1</scale></IconStyle></Style>',
        "<Folder><name>Legs</name>",
    ]
    for row in legs.to_pylist():
        coords = lines.get(row["leg_id"])
        if coords is None or len(coords) < 2:
            continue
        text = " ".join(
            f"{x:.5f},{y:.5f},{(0.0 if np.isnan(z) else max(z, 0.0) * FT_TO_M):.0f}" for x, y, z in coords
        )
        name = f"{row.get('origin') or '?'} → {row.get('destination') or '?'}"
        desc = f"origin: {row['origin_reason']}\ndestination: {row['destination_reason']}"
        out += [
            "<Placemark>",
            f"<name>{escape(name)}</name>",
            f"<description>{escape(desc)}</description>",
            f"<TimeSpan><begin>{_kml_time(row['t_start'])}</begin><end>{_kml_time(row['t_end'])}</end></TimeSpan>",
            "<styleUrl>#leg</styleUrl>",
            "<LineString><altitudeMode>absolute</altitudeMode>",
            f"<coordinates>{text}</coordinates>",
            "</LineString></Placemark>",
        ]
    out.append("</Folder><Folder><name>Stops</name>")
    for row in stops.to_pylist():
        if row.get("lat") is None:
            continue
        out += [
            "<Placemark>",
            f"<name>{escape(str(row.get('airport') or 'ground stop'))}</name>",
            f"<description>{escape(str(row.get('reason') or ''))}</description>",
            f"<TimeSpan><begin>{_kml_time(row.get('arrival'))}</begin><end>{_kml_time(row.get('departure'))}</end></TimeSpan>",
            "<styleUrl>#stop</styleUrl>",
            f"<Point><coordinates>{row['lon']:.5f},{row['lat']:.5f},0</coordinates></Point>",
            "</Placemark>",
        ]
    out += ["</Folder>", "</Document>", "</kml>", ""]
    return "\n".join(out)
