"""Every threshold the findings use, in one place, overridable by the user.

Defaults live in the dataclasses below.  A user changes them in
``paths.config_dir()/findings.yaml`` (same nesting as here) or on the command
line with ``--set section.name=value``; each finding's ``evidence`` JSON records
the thresholds that produced it, so a reader can always see why it fired.

>>> cfg = load_config(path=None, overrides={"rotation.min_count": "4"})
>>> cfg.rotation.min_count
4
>>> cfg.spoofing.max_speed_kt
1000.0

Example ``findings.yaml``::

    rotation:
      min_count: 2
      window_days: 60
    incident:
      low_agl_ft: 2000
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tailwatch import paths
from tailwatch.errors import InputError


@dataclass
class RotationConfig:
    """Recurring circuits (A→B→…→A) and shuttles (A→B→A)."""

    #: Minimum completed cycles inside ``window_days`` to report a rotation.
    min_count: int = 3
    #: Sliding window in which ``min_count`` cycles must fall.
    window_days: float = 30.0
    #: Longest cycle looked for (number of distinct airports).
    max_len: int = 5
    #: Report fleet-level rotations (same operator, several aircraft).
    fleet: bool = True
    #: A leg lasting longer than its direct distance at ``hidden_stop_kt`` plus
    #: ``hidden_stop_slack_h`` may hide an unseen stop: it can stand for two legs of a cycle.
    hidden_stop_kt: float = 150.0
    hidden_stop_slack_h: float = 1.0
    #: A leg with no origin (destination) whose first (last) point is within ``infer_km`` of an
    #: airfield and at most ``infer_agl_ft`` above it is taken to start (end) there, stated as inferred.
    infer_km: float = 30.0
    infer_agl_ft: float = 8000.0


@dataclass
class ForeignConfig:
    """An aircraft working airfields of a country other than its state of registry."""

    #: Legs with both ends in the same foreign country needed to report ("flies between").
    min_domestic_legs: int = 1
    #: Or: hours on the ground in that country needed to report ("stays at").
    min_dwell_h: float = 24.0
    #: Only these identity classes (when an identity table is given). Empty = every aircraft.
    classes: list[str] = field(default_factory=lambda: ["military", "government"])
    #: Also aircraft whose class is unknown (no database says what they are).
    include_unknown_class: bool = True
    #: A leg with no origin/destination whose first/last point is within ``infer_km`` of an
    #: airfield and at most ``infer_agl_ft`` above it counts as using that airfield (0 = never).
    infer_km: float = 30.0
    infer_agl_ft: float = 8000.0


@dataclass
class BasingConfig:
    """Where an aircraft spends its nights."""

    #: Local solar hour (from longitude) at which an aircraft on the ground "spends the night".
    night_hour: float = 2.0
    #: Nights are grouped in blocks of this many days; a block's base is its most-used airfield.
    period_days: int = 14
    #: Nights at the base within a block needed to call it a base.
    min_nights: int = 3
    #: A stop whose departure is unknown (data ends on the ground) is counted this long at most.
    open_stop_h: float = 12.0


@dataclass
class CoLocationConfig:
    """Several watched or military/government aircraft on the ground at one airfield."""

    #: Minimum time with two or more of them on the ground together.
    min_overlap_min: float = 30.0
    #: Identity classes that count (when an identity table is given).
    classes: list[str] = field(default_factory=lambda: ["military", "government"])
    #: A stop whose departure is unknown is counted this long at most.
    open_stop_h: float = 12.0


@dataclass
class GapConfig:
    """Transponder off between two airfields."""

    #: Shortest dark period considered.
    min_gap_min: float = 20.0
    #: Shortest straight-line distance between disappearance and reappearance.
    min_distance_km: float = 50.0
    #: The mean speed across the gap must lie in [min_speed_kt, max_speed_kt].
    min_speed_kt: float = 60.0
    max_speed_kt: float = 600.0
    #: "near A": disappearance/reappearance within this distance of an airfield.
    near_km: float = 40.0
    #: Report an airfield pair whose observed A→B and B→A counts differ by at least this.
    min_imbalance: int = 2
    #: In-flight silences: coverage grid cell size (degrees) and the path length through
    #: cells where receivers hear aircraft at that height needed to call it "transponder off".
    cell_deg: float = 0.25
    min_covered_km: float = 50.0


@dataclass
class IncidentConfig:
    """Emergencies, possible crashes / forced landings, abrupt descents."""

    #: Rows with the same emergency squawk needed for an episode (one garbled reply is not one).
    min_squawk_rows: int = 2
    #: Rows of the same DF17 emergency state needed for an episode.
    min_emergency_rows: int = 2
    #: Episodes closer than this are merged.
    merge_s: float = 300.0
    #: A track "ends" when the aircraft is not seen again for this long (or the data ends).
    end_gap_min: float = 30.0
    #: Track end below this height above the nearest airfield's elevation is "low".
    low_agl_ft: float = 1500.0
    #: Descending at the end: vertical rate at or below this (ft/min) ...
    descent_fpm: float = -300.0
    #: ... or altitude lost over the last ``descent_window_s`` seconds of the track.
    descent_window_s: float = 120.0
    descent_drop_ft: float = 200.0
    #: Farther than this from the nearest airfield reference point = away from a runway.
    runway_km: float = 4.0
    #: Airfield search radius for track ends.
    airport_search_km: float = 50.0
    #: A track ending within this distance of an airfield while heading towards it
    #: (within ``approach_deg``) is an ordinary approach seen until coverage was lost.
    approach_km: float = 20.0
    approach_deg: float = 30.0
    #: ... except on short final: a track ending on approach within this distance of the
    #: airfield reference point and never seen again (a receiver that followed it down to a
    #: few hundred feet that close would normally see the landing) is reported, at low confidence.
    short_final_km: float = 3.0
    #: Short final means: farther than this from the reference point (closer is over the
    #: runway) and between ``short_final_min_agl_ft`` and ``short_final_max_agl_ft`` above the
    #: field (below is rolling on the runway given pressure-altitude error, above is not final).
    short_final_min_km: float = 1.5
    short_final_min_agl_ft: float = 100.0
    short_final_max_agl_ft: float = 800.0
    #: Abrupt descent: vertical rate at or below this (ft/min) ...
    abrupt_fpm: float = -6000.0
    #: ... lasting at least this long ...
    abrupt_min_s: float = 10.0
    #: ... and confirmed by at least this altitude loss.
    abrupt_drop_ft: float = 1500.0


@dataclass
class SpoofingConfig:
    """Implausible motion: jumps, one address in two places, positions vs reported velocity."""

    #: Fastest plausible ground speed (kt); faster implied motion is a jump.
    max_speed_kt: float = 1000.0
    #: Position noise allowance added to the distance a jump must exceed (km).
    jump_tolerance_km: float = 2.0
    #: Baseline for comparing motion between positions with reported speed/track.
    baseline_s: float = 30.0
    #: Implied speed differs from reported ground speed by more than max(abs, rel × gs).
    speed_tol_kt: float = 60.0
    speed_tol_rel: float = 0.35
    #: Chord bearing differs from the mean reported track by more than this (degrees).
    track_tol_deg: float = 45.0
    #: Airborne above ``slow_alt_ft`` with ground speed below ``slow_gs_kt`` is implausible.
    slow_alt_ft: float = 10000.0
    slow_gs_kt: float = 100.0
    #: Flagged instants closer than this form one episode.
    merge_s: float = 300.0
    #: An episode needs at least this many flagged instants ...
    min_events: int = 3
    #: ... spread over at least this long, unless it holds ``min_jumps`` position jumps
    #: (jumps are never noise: max_speed_kt plus jump_tolerance_km already allow for it).
    min_duration_s: float = 60.0
    min_jumps: int = 1


@dataclass
class FindingsConfig:
    """All thresholds of all finding kinds."""

    rotation: RotationConfig = field(default_factory=RotationConfig)
    foreign_operation: ForeignConfig = field(default_factory=ForeignConfig)
    basing: BasingConfig = field(default_factory=BasingConfig)
    co_location: CoLocationConfig = field(default_factory=CoLocationConfig)
    transponder_gap: GapConfig = field(default_factory=GapConfig)
    incident: IncidentConfig = field(default_factory=IncidentConfig)
    spoofing: SpoofingConfig = field(default_factory=SpoofingConfig)

    def as_dict(self) -> dict[str, Any]:
        """The whole configuration as plain data (what ``findings.yaml`` would hold)."""
        return dataclasses.asdict(self)


def default_path() -> Path:
    """``paths.config_dir()/findings.yaml``."""
    return paths.config_dir() / "findings.yaml"


def _coerce(current: Any, value: Any, where: str) -> Any:
    if isinstance(current, bool):
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{where}: expected true/false, got {value!r}")
        return bool(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, list):
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return [str(v) for v in value]
    return value


def _apply(cfg: FindingsConfig, section: str, name: str, value: Any, where: str) -> None:
    if not hasattr(cfg, section):
        known = ", ".join(f.name for f in dataclasses.fields(cfg))
        raise ValueError(f"{where}: unknown section {section!r} (known: {known})")
    sub = getattr(cfg, section)
    if not hasattr(sub, name):
        known = ", ".join(f.name for f in dataclasses.fields(sub))
        raise ValueError(f"{where}: unknown setting {section}.{name} (known: {known})")
    setattr(sub, name, _coerce(getattr(sub, name), value, f"{where} {section}.{name}"))


def load_config(path: Path | None = None, overrides: dict[str, str] | None = None,
                *, use_default_file: bool = False) -> FindingsConfig:
    """Defaults, then the YAML file (``path``, or the user's file when ``use_default_file``), then overrides.

    ``overrides`` maps ``"section.name"`` to a value (as typed on the command line).
    A malformed file raises :class:`~tailwatch.errors.InputError` naming the file.
    """
    cfg = FindingsConfig()
    file = path if path is not None else (default_path() if use_default_file else None)
    if file is not None and file.exists():
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "line ?"
            raise InputError(str(file), where, f"not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise InputError(str(file), "line 1", "expected a mapping of sections")
        for section, values in data.items():
            if not isinstance(values, dict):
                raise InputError(str(file), f"section {section}", "expected a mapping of settings")
            for name, value in values.items():
                try:
                    _apply(cfg, str(section), str(name), value, str(file))
                except (ValueError, TypeError) as exc:
                    raise InputError(str(file), f"{section}.{name}", str(exc)) from None
    for key, value in (overrides or {}).items():
        section, _, name = key.partition(".")
        _apply(cfg, section, name, value, "override")
    return cfg
