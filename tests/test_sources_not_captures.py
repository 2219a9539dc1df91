"""Files a new user drops into ``tailwatch ingest`` that are not captures get a reason they can act on.

Found walking journey 1: ``tailwatch ingest sim/`` after ``tailwatch simulate`` failed on
``truth.json`` with "cannot tell the format: starts with 7b 0a 20 22 ..." (hex for ``{\\n "``),
and traffic's ``patterns.json`` was shown the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tailwatch.errors import InputError
from tailwatch.sim import load_scenario, simulate, write_capture
from tailwatch.sources import detect


def test_json_text_is_shown_as_text(shared_data: Path) -> None:
    # traffic's ICAO address patterns file begins '{\n  "registers":' (read with `head -c 20`).
    with pytest.raises(InputError, match=r"""starts with '\{\\n  "registers":""") as exc:
        detect(shared_data / "traffic_samples" / "basic" / "patterns.json")
    assert exc.value.location == "byte 0"


def test_simulator_truth_is_named_and_its_captures_still_detected(tmp_path: Path) -> None:
    scenarios = Path(__file__).parent / "scenarios"
    write_capture(simulate(load_scenario(scenarios / "track-lost.yaml")), tmp_path, "beast")
    # The ingest summary groups rejects by the text before the reason's first ':', so that part is short.
    with pytest.raises(InputError, match=r"^\S+ byte 0: not a receiver capture: the simulator's ground truth \(truth.json\)"):
        detect(tmp_path / "truth.json")
    captures = sorted(tmp_path.glob("*.beast"))
    assert captures and all(detect(c) == "beast" for c in captures)
