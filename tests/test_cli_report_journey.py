"""``tailwatch report`` as a new user meets it (journey 1, step 7), on a real readsb trace.

Found walking the journey: ``--store`` with a typo created an empty store and wrote an empty
dossier; ``--since 2023-13-01`` ended in a ValueError traceback; the dossier of 5U-MBH was
headed "5U-MBH — 5U-MBH"; ``--aircraft 062F0G`` advised ``tailwatch db update`` although the
databases were installed.
"""

from __future__ import annotations

import html as htmlmod
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailwatch.cli.main import _register, app
from tailwatch.errors import StoreError

TRACE = "traffic_samples/readsb/trace_full_ac671b.json"


@pytest.fixture(scope="module")
def trace_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    _register()
    store = tmp_path_factory.mktemp("trace") / "store"
    r = CliRunner().invoke(app, ["ingest", str(shared_data / TRACE), "--store", str(store), "-q"])
    assert r.exit_code == 0, r.output
    return store


def test_missing_store_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    _register()
    nope = tmp_path / "typo-store"
    r = CliRunner().invoke(app, ["report", "--aircraft", "AC671B", "--store", str(nope), "--out", str(tmp_path / "d")])
    assert isinstance(r.exception, StoreError) and "no store at" in str(r.exception)
    assert not nope.exists() and not (tmp_path / "d").exists()


def test_bad_date_is_a_usage_error(trace_store: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["report", "--aircraft", "AC671B", "--store", str(trace_store),
                                 "--since", "2025-13-01", "--out", str(tmp_path / "d")])
    assert r.exit_code == 2 and r.exception is not None and not isinstance(r.exception, ValueError)
    assert "not an ISO date" in r.output


def test_typo_hex_names_the_bad_digit(trace_store: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["report", "--aircraft", "AC671G", "--store", str(trace_store),
                                 "--db", str(tmp_path / "no-db"), "--out", str(tmp_path / "d")])
    assert r.exit_code == 2
    assert "'G' is not a hex digit" in " ".join(r.output.split())


def test_dossier_is_headed_by_registration_and_address(trace_store: Path, tmp_path: Path) -> None:
    # The trace file itself says "icao":"ac671b", "r":"N899DN"; with no database installed the
    # registration comes from the FAA N-number algorithm, which must agree with it.
    out = tmp_path / "d"
    r = CliRunner().invoke(app, ["report", "--aircraft", "ac671b", "--store", str(trace_store),
                                 "--db", str(tmp_path / "no-db"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = re.search(r"<title>(.*?) — tailwatch dossier</title>", (out / "dossier.html").read_text())
    assert m is not None and htmlmod.unescape(m.group(1)) == "N899DN (AC671B)"
