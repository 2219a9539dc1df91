"""Shared test fixtures.

Real data lives in ``../shared/data`` beside the clone (never copied into the
repository). Tests that need it use the ``shared_data`` fixture: it skips with
a reason when the folder is absent, and fails instead when
``TAILWATCH_REQUIRE_DATA=1`` (set by ``.ci/run``), so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("TAILWATCH_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()


def require_shared_data() -> Path:
    """The shared data folder, or skip (fail under TAILWATCH_REQUIRE_DATA=1) when absent."""
    if SHARED_DATA.is_dir() and (SHARED_DATA / "PROVENANCE.md").exists():
        return SHARED_DATA
    msg = f"real test data not found at {SHARED_DATA} (expected ../shared/data beside the clone)"
    if os.environ.get("TAILWATCH_REQUIRE_DATA") == "1":
        pytest.fail(msg + "; TAILWATCH_REQUIRE_DATA=1 forbids skipping", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ``../shared/data`` (see module docstring)."""
    return require_shared_data()


def require_tool(present: bool, msg: str) -> None:
    """Skip when a system tool (Debian's chromium, dump1090-mutability...) is missing,
    but fail under ``TAILWATCH_REQUIRE_DATA=1``: CI installs them, so a skip there hides a gap."""
    if present:
        return
    if os.environ.get("TAILWATCH_REQUIRE_DATA") == "1":
        pytest.fail(msg + "; TAILWATCH_REQUIRE_DATA=1 forbids skipping", pytrace=False)
    pytest.skip(msg)
