"""kill -9 at several moments of a real ``tailwatch ingest`` process, then re-run.

Inputs: quickstart.json.gz cut into 6 overlapping gzip files (each repeats the last 4,000 records
of the previous one, so cross-file dedup is exercised too). The reference is a clean run of
the same command on a fresh store. After each kill the store must open and answer queries
(holding only finished files, with no duplicate keys), and a re-run must end with exactly the
rows of the clean run.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from tailwatch.schema import POSITIONS
from tailwatch.store import open_store

N_FILES, OVERLAP = 6, 4_000
QS_ROWS = 284_505  # PROVENANCE.md


@pytest.fixture(scope="module")
def inputs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    with gzip.open(shared_data / "traffic_samples/collections/quickstart.json.gz") as fh:
        records = json.load(fh)
    out = tmp_path_factory.mktemp("crash-inputs")
    step = len(records) // N_FILES
    paths = []
    for i in range(N_FILES):
        lo = max(0, i * step - OVERLAP)
        hi = len(records) if i == N_FILES - 1 else (i + 1) * step
        p = out / f"part{i}.json.gz"
        p.write_bytes(gzip.compress(json.dumps(records[lo:hi]).encode(), compresslevel=1))
        paths.append(p)
    return paths


def _cmd(store: Path, inputs: list[Path]) -> list[str]:
    return [sys.executable, "-m", "tailwatch.cli.main", "ingest", "--quiet", "--summary", "json",
            "--store", str(store), *map(str, inputs)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _rows(store_dir: Path) -> pa.Table:
    t = open_store(store_dir).positions()
    cols = [c for c in POSITIONS.names if c not in ("file_id",)]
    return t.select(cols).sort_by([(c, "ascending") for c in ("icao24", "time", "lat", "lon", "gs", "track")])


def _check_consistent(store_dir: Path) -> int:
    """The store opens, every row belongs to a done file, and no dedup key appears twice."""
    store = open_store(store_dir)
    stats = store.sql(
        "SELECT count(*) AS n, count(DISTINCT (icao24, time, lat, lon)) AS k,"
        " count(*) FILTER (WHERE file_id NOT IN (SELECT file_id FROM files WHERE status = 'done')) AS foreign_rows"
        " FROM positions"
    ).to_pylist()[0]
    assert stats["n"] == stats["k"]
    assert stats["foreign_rows"] == 0
    done = store.sql("SELECT coalesce(sum(rows_stored), 0) AS s FROM files WHERE status = 'done'").to_pylist()[0]
    assert done["s"] == stats["n"]
    leftovers = [p for p in (store_dir / "positions").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    # opening the store after the kill removed the parts of the file that was being written
    done_ids = set(store.sql("SELECT file_id FROM files WHERE status = 'done'").column("file_id").to_pylist())
    on_disk = {int(p.name[1:].split("-")[0]) for p in (store_dir / "positions").rglob("f*.parquet")}
    assert on_disk <= done_ids
    return int(stats["n"])


@pytest.fixture(scope="module")
def clean(inputs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    store = tmp_path_factory.mktemp("clean") / "store"
    res = subprocess.run(_cmd(store, inputs), capture_output=True, text=True, env=_env(), timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["rows_stored"] == QS_ROWS
    assert doc["duplicates"] == OVERLAP * (N_FILES - 1)
    return _rows(store)


def _wait_for(cond: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(cond) and cond():
            return
        time.sleep(0.01)
    raise AssertionError("the ingest process never reached the kill point")


def _done_files(store: Path) -> int:
    if not (store / "catalog.duckdb").exists():
        return 0
    files = open_store(store).files()
    return sum(1 for s in files.column("status").to_pylist() if s == "done")


@pytest.mark.slow
@pytest.mark.parametrize("kill_point", ["0.2s", "0.5s", "1.0s", "mid-part", "between-files"])
def test_kill9_then_rerun_equals_clean_run(kill_point: str, inputs: list[Path], clean: pa.Table,
                                           tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = subprocess.Popen(_cmd(store, inputs), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    try:
        if kill_point[0].isdigit():
            # seconds after the store folder appears (the child has imported and opened it)
            _wait_for(lambda: (store / "catalog.duckdb").exists())
            time.sleep(float(kill_point[:-1]))
        elif kill_point == "mid-part":
            # as soon as a part of the second file shows up, before that file is marked done
            _wait_for(lambda: any(p.name.startswith("f2-") or p.name.startswith(".f2-")
                                  for p in store.rglob("*.parquet*")))
        else:
            _wait_for(lambda: _done_files(store) >= 3, timeout=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    if kill_point == "mid-part":  # killed inside an ingest: the crash marker and a foreign part are there
        assert (store / ".writing").exists()
    stored_after_kill = _check_consistent(store)
    assert stored_after_kill <= QS_ROWS
    rerun = subprocess.run(_cmd(store, inputs), capture_output=True, text=True, env=_env(), timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _check_consistent(store) == QS_ROWS
    got = _rows(store)
    assert got.num_rows == clean.num_rows
    assert got.equals(clean)
    files = open_store(store).files()
    statuses = files.column("status").to_pylist()
    assert statuses.count("done") == N_FILES
    assert set(statuses) <= {"done", "interrupted"}


@pytest.mark.slow
def test_reader_runs_while_ingest_writes(inputs: list[Path], tmp_path: Path) -> None:
    """Queries from another process during an ingest never fail and only ever see whole files."""
    store = tmp_path / "store"
    proc = subprocess.Popen(_cmd(store, inputs), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    seen: list[int] = []
    try:
        _wait_for(lambda: (store / "catalog.duckdb").exists())
        while proc.poll() is None:
            s = open_store(store)
            row = s.sql(
                "SELECT (SELECT count(*) FROM positions) AS n,"
                " (SELECT coalesce(sum(rows_stored), 0) FROM files WHERE status = 'done') AS done_rows"
            ).to_pylist()[0]
            assert row["n"] == row["done_rows"]
            seen.append(int(row["n"]))
    finally:
        proc.wait(timeout=300)
    assert proc.returncode == 0
    assert seen == sorted(seen)  # the store only grows, file by file
    assert len(set(seen)) >= 2  # the reader saw the store between files, not only before and after
    assert _check_consistent(store) == QS_ROWS
