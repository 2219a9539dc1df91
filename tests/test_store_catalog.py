"""The catalog is attached to a per-process DuckDB for each piece of work: its file lock must be
released afterwards exactly as closing a connection did, and unfinished work rolled back."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from tailwatch.errors import Rejects, StoreError
from tailwatch.store import catalog


def _other_process_writes(root: Path) -> str:
    """Open the catalog read-write from a separate process (DuckDB refuses while a lock is held)."""
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]);"
        "print(c.execute('SELECT count(*) FROM files').fetchone()[0]); c.close()"
    )
    r = subprocess.run([sys.executable, "-c", code, str(root / catalog.CATALOG)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def _record(file_id: int) -> catalog.FileRecord:
    return catalog.FileRecord(file_id, path=f"f{file_id}", sha256=f"sha{file_id}", size=1, fmt="sbs",
                              receiver=None, status=catalog.DONE, rows_read=1, rows_stored=1, duplicates=0,
                              rejects=Rejects(), error=None, touched=None, started=catalog.now())


def test_lock_released_after_each_piece_of_work(tmp_path: Path) -> None:
    catalog.create(tmp_path)
    catalog.record_files(tmp_path, [_record(1), _record(2)])
    assert _other_process_writes(tmp_path) == "2"  # two rows inserted above, lock free
    running, done, _meta, last = catalog.state(tmp_path)
    assert (running, done, last) == (set(), {"sha1": 1, "sha2": 2}, 2)
    assert _other_process_writes(tmp_path) == "2"


def test_failed_work_is_rolled_back_and_released(tmp_path: Path) -> None:
    catalog.create(tmp_path)
    with pytest.raises(RuntimeError), catalog.connect(tmp_path) as con:
        con.execute("BEGIN")
        con.execute("INSERT INTO files (file_id, path, sha256, status) VALUES (7, 'x', 'y', 'done')")
        raise RuntimeError("crash in the middle of a transaction")
    assert _other_process_writes(tmp_path) == "0"
    catalog.record_files(tmp_path, [_record(3)])
    assert catalog.state(tmp_path)[1] == {"sha3": 3}


def test_held_lock_is_waited_for_then_reported(tmp_path: Path) -> None:
    catalog.create(tmp_path)
    other = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(30)", str(tmp_path / catalog.CATALOG)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match="cannot open the store catalog"), \
                catalog.connect(tmp_path, wait_s=0.1):
            pass
    finally:
        other.kill()
        other.wait()
    assert catalog.state(tmp_path)[3] == 0


def _child_state(root: str, q: multiprocessing.Queue[object]) -> None:
    q.put(catalog.state(Path(root))[1])


def test_forked_child_uses_its_own_duckdb(tmp_path: Path) -> None:
    catalog.create(tmp_path)
    catalog.record_files(tmp_path, [_record(5)])  # the parent's DuckDB exists before the fork
    ctx = multiprocessing.get_context("fork")
    q: multiprocessing.Queue[object] = ctx.Queue()
    p = ctx.Process(target=_child_state, args=(str(tmp_path), q))
    p.start()
    got = q.get(timeout=60)
    p.join(60)
    assert p.exitcode == 0 and got == {"sha5": 5}
