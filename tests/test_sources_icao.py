"""Address parsing (``icao_ints``) against Python's own ``int(text, 16)``, on random and repeated texts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from tailwatch.sources._arrow import icao_ints


def _reference(text: str | None) -> tuple[int, bool, bool]:
    """What the address text means, one row at a time (independent of the vectorised code)."""
    if text is None:
        return 0, False, False
    non_icao = text.startswith("~")
    core = text.lstrip("~").strip(" ")
    ok = 1 <= len(core) <= 6 and all(c in "0123456789abcdefABCDEF" for c in core)
    return (int(core, 16) if ok else 0), ok, non_icao


TEXTS = st.one_of(
    st.none(),
    st.text(alphabet="0123456789abcdefABCDEF~ xz", max_size=8),
    st.sampled_from(["062f01", "062F01", "~ae503d", " 4b18b8 ", "", "ffffff", "1000000"]),
)


@given(st.lists(TEXTS, max_size=60), st.integers(1, 4))
def test_icao_ints_matches_python(texts: list[str | None], repeat: int) -> None:
    rows = texts * repeat  # addresses repeat row after row in real data
    vals, ok, non = icao_ints(pa.array(rows, pa.string()))
    expected = [_reference(t) for t in rows]
    assert [(int(v), bool(o), bool(n)) for v, o, n in zip(vals, ok, non, strict=True)] == expected


def test_icao_ints_chunked_and_all_null() -> None:
    vals, ok, _ = icao_ints(pa.chunked_array([["062f01"], [None, "062F01"]]))
    assert vals.tolist() == [0x062F01, 0, 0x062F01] and ok.tolist() == [True, False, True]
    vals, ok, non = icao_ints(pa.nulls(3, pa.string()))
    assert vals.tolist() == [0, 0, 0] and not ok.any() and not non.any()
    assert vals.dtype == np.int32 and ok.dtype == np.bool_ and non.dtype == np.bool_  # the documented types
