"""tailwatch.sim: scenario YAML → Mode S frames (Beast/AVR/SBS) + ground truth.

Everything produced here is labelled SIMULATED.

* :func:`load_scenario` (built-in name such as ``"sahel-2023"`` or a YAML path)
* :func:`simulate` → :class:`SimResult` (``positions``, ``frames``, ``truth``)
* :mod:`tailwatch.sim.encode`: the vectorised Mode S encoder
* :func:`write_capture` writes Beast / AVR / SBS files and ``truth.json``
"""

from __future__ import annotations

from tailwatch.sim import encode
from tailwatch.sim.scenario import Scenario, builtin_scenarios, load_scenario
from tailwatch.sim.simulate import SimResult, describe, simulate
from tailwatch.sim.truth import Truth, load_truth
from tailwatch.sim.writers import write_capture

__all__ = [
    "Scenario",
    "SimResult",
    "Truth",
    "builtin_scenarios",
    "describe",
    "encode",
    "load_scenario",
    "load_truth",
    "simulate",
    "write_capture",
]
