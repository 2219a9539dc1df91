"""Spoofing / data-quality kernel: motion no aircraft can make.

Three tests on each aircraft's positions (sorted by time, repeated stale positions dropped):

* **jump** — two consecutive positions farther apart than ``max_speed_kt`` allows in the
  time between them (plus ``jump_tolerance_km`` of position noise); a jump followed by a
  jump straight back is **two places at once** (one address, two transmitters);
* **velocity mismatch** — over ``baseline_s`` the displacement disagrees with the reported
  ground speed (by more than ``max(speed_tol_kt, speed_tol_rel × gs)``) or its bearing with
  the reported track (by more than ``track_tol_deg``);
* **slow at altitude** — airborne above ``slow_alt_ft`` with ground speed below ``slow_gs_kt``.

Flagged instants closer than ``merge_s`` form one episode; an episode becomes a
``spoofing`` finding when it has ``min_events`` flags over ``min_duration_s`` or
``min_jumps`` jumps (one bad CPR decode alone is not a finding).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tailwatch.analysis.findings.common import (
    KT_KMH,
    US,
    FindingRows,
    angle_diff_deg,
    bearing_deg,
    col_f64,
    config_dict,
    fast_km,
    haversine_km,
    iso,
    sort_positions,
)
from tailwatch.analysis.findings.config import SpoofingConfig
from tailwatch.schema import hex_of

JUMP, TWO_PLACES, SPEED, TRACK, SLOW = 1, 2, 4, 8, 16
_REASONS = {JUMP: "position jump", TWO_PLACES: "two places at once", SPEED: "speed mismatch",
            TRACK: "track mismatch", SLOW: "too slow at altitude"}


def _moving_rows(lat: np.ndarray[Any, Any], lon: np.ndarray[Any, Any],
                 ic: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Indices of rows with a position, dropping exact repeats of the previous position of the same aircraft."""
    idx = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    if len(idx) == 0:
        return idx
    la, lo, i2 = lat[idx], lon[idx], ic[idx]
    new = np.r_[True, (la[1:] != la[:-1]) | (lo[1:] != lo[:-1]) | (i2[1:] != i2[:-1])]
    return idx[new]


def spoofing(positions: pa.Table, config: SpoofingConfig | None = None) -> pa.Table:
    """``spoofing`` findings (``FINDINGS``) from ``POSITIONS`` of whole aircraft.

    >>> from tailwatch.schema import POSITIONS
    >>> spoofing(POSITIONS.empty_table()).num_rows
    0
    """
    cfg = config or SpoofingConfig()
    out = FindingRows("spoofing")
    pos = sort_positions(positions)
    ic_all = pos.column("icao24").to_numpy().astype(np.int64)
    lat_all, lon_all = col_f64(pos, "lat"), col_f64(pos, "lon")
    keep = _moving_rows(lat_all, lon_all, ic_all)  # NumPy gathers only: no copy of the table
    n = len(keep)
    if n < 2:
        return out.table()
    ic, lat, lon = ic_all[keep], lat_all[keep], lon_all[keep]
    t = pos.column("time").cast(pa.int64()).to_numpy().astype(np.int64)[keep]
    gs, trk = col_f64(pos, "gs")[keep], col_f64(pos, "track")[keep]
    alt = col_f64(pos, "alt_baro")[keep]
    alt = np.where(np.isnan(alt), col_f64(pos, "alt_geom")[keep], alt)
    ground = pos.column("on_ground").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)[keep]
    flags = np.zeros(n, dtype=np.int64)

    # 1. jumps between consecutive positions (flag the arrival point).
    same = ic[1:] == ic[:-1]
    dt_s = (t[1:] - t[:-1]) / US
    d = fast_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    allowed = cfg.max_speed_kt * KT_KMH * np.maximum(dt_s, 0.0) / 3600.0 + cfg.jump_tolerance_km
    jump = same & (d > allowed)
    flags[1:][jump] |= JUMP
    # two places at once: jump out then straight back (i-1 ~ i+1, i far from both).
    if n >= 3:
        back = jump[:-1] & jump[1:] & (ic[2:] == ic[:-2])
        d_skip = fast_km(lat[:-2], lon[:-2], lat[2:], lon[2:])
        dt_skip = (t[2:] - t[:-2]) / US
        ok_skip = d_skip <= cfg.max_speed_kt * KT_KMH * dt_skip / 3600.0 + cfg.jump_tolerance_km
        flags[1:-1][back & ok_skip] |= TWO_PLACES

    # 2. motion over a baseline versus reported ground speed and track.  Windows start at the
    # first row of each baseline/3 time step of an aircraft (overlapping windows say the same).
    rank = np.cumsum(np.r_[0, ic[1:] != ic[:-1]])
    key = rank * (int(t.max() - t.min()) + 1 + int(cfg.baseline_s * US)) + (t - t.min())  # aircraft, then time
    # Steps on the absolute clock, so an aircraft's windows do not depend on what else is in the batch.
    step = np.floor_divide(t, max(int(cfg.baseline_s * US / 3), 1))
    s0 = np.flatnonzero(np.r_[True, (step[1:] != step[:-1]) | (ic[1:] != ic[:-1])])
    j = np.searchsorted(key, key[s0] + int(cfg.baseline_s * US), "left")
    valid = j < n
    jj = np.where(valid, j, n - 1)
    span = (t[jj] - t[s0]) / US
    valid &= (ic[jj] == ic[s0]) & (span <= 2 * cfg.baseline_s) & (span > 0)
    valid &= ~ground[s0] & ~ground[jj]
    dist = fast_km(lat[s0], lon[s0], lat[jj], lon[jj])
    implied = dist / np.where(span > 0, span, np.nan) * 3600.0 / KT_KMH
    g1, g2 = gs[s0], gs[jj]
    rep_gs = np.where(np.isnan(g1), g2, np.where(np.isnan(g2), g1, (g1 + g2) / 2))
    tol = np.maximum(cfg.speed_tol_kt, cfg.speed_tol_rel * rep_gs)
    # Jumps already explain the disagreement of windows that contain them.
    jump_cum = np.cumsum(np.r_[0, (flags[1:] & JUMP) > 0])
    clean = jump_cum[jj] == jump_cum[s0]
    speed_bad = valid & clean & ~np.isnan(rep_gs) & (np.abs(implied - rep_gs) > tol)
    flags[s0[speed_bad]] |= SPEED
    moving = valid & clean & (implied > 50.0) & ~np.isnan(trk[s0]) & ~np.isnan(trk[jj])
    m = np.flatnonzero(moving)  # trigonometry only where it can matter
    a_, b_ = s0[m], jj[m]
    chord = bearing_deg(lat[a_], lon[a_], lat[b_], lon[b_])
    tr_a, tr_b = np.radians(trk[a_]), np.radians(trk[b_])
    mean_trk = np.degrees(np.arctan2(np.sin(tr_a) + np.sin(tr_b), np.cos(tr_a) + np.cos(tr_b))) % 360.0
    flags[a_[angle_diff_deg(chord, mean_trk) > cfg.track_tol_deg]] |= TRACK

    # 3. slow at altitude.
    slow = ~ground & (alt > cfg.slow_alt_ft) & (gs < cfg.slow_gs_kt)
    flags[slow] |= SLOW

    _episodes(out, flags, ic, t, lat, lon, gs, alt, cfg)
    return out.table()


def _episodes(out: FindingRows, flags: np.ndarray[Any, Any], ic: np.ndarray[Any, Any],
              t: np.ndarray[Any, Any], lat: np.ndarray[Any, Any], lon: np.ndarray[Any, Any],
              gs: np.ndarray[Any, Any], alt: np.ndarray[Any, Any], cfg: SpoofingConfig) -> None:
    f_idx = np.flatnonzero(flags)
    if len(f_idx) == 0:
        return
    fi, ft = ic[f_idx], t[f_idx]
    start = np.r_[True, (fi[1:] != fi[:-1]) | ((ft[1:] - ft[:-1]) > cfg.merge_s * US)]
    bounds = np.flatnonzero(start)
    n_ev = np.diff(np.r_[bounds, len(f_idx)])
    t0 = ft[bounds]
    t1 = np.maximum.reduceat(ft, bounds)
    n_jump = np.add.reduceat(((flags[f_idx] & JUMP) > 0).astype(np.int64), bounds)
    keep = ((n_ev >= cfg.min_events) & ((t1 - t0) >= cfg.min_duration_s * US)) | (n_jump >= cfg.min_jumps)
    thresholds = config_dict(cfg)
    # A jump is between two points: its episode starts at the point it jumped from.
    t_from = np.where((flags[f_idx] & JUMP) > 0, t[np.maximum(f_idx - 1, 0)], ft)
    t0 = np.minimum.reduceat(t_from, bounds)
    for e in np.flatnonzero(keep):
        rows = f_idx[bounds[e]:bounds[e] + n_ev[e]]
        fl = flags[rows]
        counts = {name: int(((fl & bit) > 0).sum()) for bit, name in _REASONS.items() if ((fl & bit) > 0).any()}
        jumps_at = rows[(fl & JUMP) > 0][:20]
        worst = ""
        if len(jumps_at):
            km = haversine_km(lat[jumps_at - 1], lon[jumps_at - 1], lat[jumps_at], lon[jumps_at])
            k = int(np.argmax(km))
            worst = f", the largest a {km[k]:.0f} km jump at {iso(int(t[jumps_at[k]]))[11:19]}"
        icao = int(ic[rows[0]])
        reasons = ", ".join(f"{v} {k}" for k, v in counts.items())
        conf = min(0.95, 0.4 + 0.1 * len(counts) + 0.05 * min(len(rows), 6))
        summary = (f"{hex_of(icao)} reported motion no aircraft can make from {iso(int(t0[e]))} to "
                   f"{iso(int(t1[e]))} ({reasons}{worst}): likely spoofing, jamming or a shared address.")
        evidence = {
            "reasons": counts,
            "flagged_points": [[iso(int(t[r])), round(float(lat[r]), 5), round(float(lon[r]), 5),
                                None if np.isnan(gs[r]) else float(gs[r]),
                                None if np.isnan(alt[r]) else float(alt[r])] for r in rows[:50]],
            "n_flagged": len(rows),
            "point_time_range": [iso(int(t0[e])), iso(int(t1[e]))],
            "thresholds": thresholds,
        }
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(t0[e]), t_end=int(t1[e]), places=[],
                confidence=conf, summary=summary, evidence=evidence)
