"""Findings: patterns in legs, stops and positions, each with the evidence behind it.

One module per kind, each a pure kernel returning a ``FINDINGS`` table
(see ``docs/findings.md``); thresholds in :mod:`.config`; :func:`.build.build_findings`
materialises them in a store.
"""

from __future__ import annotations

from tailwatch.analysis.findings.basing import basing
from tailwatch.analysis.findings.build import build_findings
from tailwatch.analysis.findings.colocation import co_location
from tailwatch.analysis.findings.config import FindingsConfig, load_config
from tailwatch.analysis.findings.foreign import foreign_operation
from tailwatch.analysis.findings.gaps import dark_periods, transponder_gap
from tailwatch.analysis.findings.incident import incident
from tailwatch.analysis.findings.rotation import rotation
from tailwatch.analysis.findings.spoofing import spoofing

__all__ = ["FindingsConfig", "basing", "build_findings", "co_location", "dark_periods", "foreign_operation",
           "incident", "load_config", "rotation", "spoofing", "transponder_gap"]
