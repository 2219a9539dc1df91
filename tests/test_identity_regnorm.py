"""Registration spellings normalised by nationality prefix (VRS registration-prefixes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tailwatch.identity import load_identity
from tailwatch.identity.loaders import LoadLog, load_vrs_aircraft
from tailwatch.identity.regnorm import RegistrationFormats, compact
from tailwatch.identity.sources import Databases


@pytest.fixture(scope="module")
def formats(shared_data: Path) -> RegistrationFormats:
    table = Databases(shared_data).get("prefixes")
    assert table is not None and table.num_rows == 242
    return RegistrationFormats(table)


@pytest.mark.parametrize(("text", "want"), [
    ("5UMBH", ("5U-MBH", "NE")), ("5u mbh", ("5U-MBH", "NE")),  # reg-prefixes.csv: 5U,NE,1,...,5U-{code}
    ("tzprm", ("TZ-PRM", "ML")),                                  # TZ,ML,1,...,TZ-{code}
    ("DAIBK", ("D-AIBK", "DE")),                                  # D,DE,1,...,D-{code}
    ("N899DN", ("N899DN", "US")),                                 # N,US,0,...,N{code}  (no hyphen)
    ("FOMAB", ("F-OMAB", "MQ")),                                  # F,MQ,1,F-(?<code>OM[\dA-Z]{2})...
    ("HBJMF", ("HB-JMF", "CH")),
])
def test_known_spellings(formats: RegistrationFormats, text: str, want: tuple[str, str]) -> None:
    assert formats.normalise(text) == want


def test_vrs_registrations_round_trip(formats: RegistrationFormats, shared_data: Path) -> None:
    """Compact form of each VRS registration, normalised, gives back the registration as written.

    Misses are military serials that look like civil marks (RAF ``ZK019`` read as New Zealand
    ``ZK-019``) and registers without a VRS format; civil marks round-trip.
    """
    vrs = load_vrs_aircraft(shared_data, LoadLog())
    assert vrs is not None
    regs = [r for r in vrs["registration"].to_pylist() if r]
    back = [formats.normalise(compact(r)) for r in regs]
    same = sum(1 for r, b in zip(regs, back, strict=True) if b is not None and b[0] == r)
    assert same / len(regs) > 0.95


def test_identity_exposes_it(shared_data: Path) -> None:
    ident = load_identity(shared_data, watchlist=None)
    assert ident.normalise_registration("5u-mbh") == ("5U-MBH", "NE")
    assert ident.normalise_registration("not a mark 123") is None
