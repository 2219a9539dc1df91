"""US N-numbers <-> addresses, checked against real registration/address pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from tailwatch.identity import address_of_n, registration_of_us
from tailwatch.identity.loaders import LoadLog, load_vrs_aircraft
from tailwatch.identity.nnumber import FIRST, LAST


def test_range_ends() -> None:
    # The FAA block: A00001 is N1, ADF7C7 the last address (N99999).
    assert (FIRST, LAST) == (0xA00001, 0xADF7C7)
    assert registration_of_us(pa.array([0xA00001, 0xADF7C7, 0xA00000, 0xADF7C8], pa.int32())).to_pylist() == \
        ["N1", "N99999", None, None]


def test_published_trace_pair(shared_data: Path) -> None:
    # traffic's readsb trace sample: {"icao": "ac671b", "r": "N899DN", ...}
    trace = json.loads((shared_data / "traffic_samples/readsb/trace_full_ac671b.json").read_text())
    assert registration_of_us(pa.array([int(trace["icao"], 16)], pa.int32())).to_pylist() == [trace["r"]]
    assert address_of_n(trace["r"]) == int(trace["icao"], 16)


def test_vrs_pairs(shared_data: Path) -> None:
    """Every N-registered aircraft in VRS standing data in the FAA range, except re-registrations."""
    vrs = load_vrs_aircraft(shared_data, LoadLog())
    assert vrs is not None
    icao = vrs["icao24"].to_numpy()
    inside = pa.array((icao >= FIRST) & (icao <= LAST))
    sub = vrs.filter(inside)
    sub = sub.filter(pc.fill_null(pc.starts_with(sub["registration"], "N"), False))
    calc = registration_of_us(sub["icao24"])
    ok = pc.equal(calc, sub["registration"]).to_numpy(zero_copy_only=False)
    assert len(ok) > 3000
    wrong = {f"{a:06X}": r for a, r, good in zip(sub["icao24"].to_pylist(), sub["registration"].to_pylist(), ok,
                                                strict=True) if not good}
    # A8690A N641AY and AB9413 N845SZ: VRS keeps the address of the aircraft's previous N-number
    # (the algorithm gives N641AZ / N845SY, one letter away) -- a known effect of re-registration.
    assert wrong == {"A8690A": "N641AY", "AB9413": "N845SZ"}
    for a, r in zip(sub["icao24"].to_pylist()[:300], sub["registration"].to_pylist()[:300], strict=True):
        if f"{a:06X}" not in wrong:
            assert address_of_n(r) == a


@given(st.integers(FIRST, LAST))
def test_round_trip(address: int) -> None:
    [reg] = registration_of_us(pa.array([address], pa.int32())).to_pylist()
    assert reg is not None and reg.startswith("N") and 2 <= len(reg) <= 6
    assert "I" not in reg[1:] and "O" not in reg[1:]
    assert address_of_n(reg) == address


def test_invalid_n_numbers() -> None:
    assert address_of_n("N0") is None  # no leading zero
    assert address_of_n("NI1") is None
    assert address_of_n("N1ABC") is None  # at most two suffix letters
    assert address_of_n("G-EUPA") is None
