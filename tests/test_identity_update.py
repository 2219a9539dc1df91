"""``db update``: the network path against a local HTTP server, and ``--from DIR``.

The server (127.0.0.1, an ephemeral port) serves what GitHub serves: raw files of
plane-alert-db and Mictronics, and .tar.gz archives (one top folder, like GitHub's
``<repo>-<branch>/``) of VRS standing data and dump1090 -- built in tmp_path from a
small part of ../shared/data so the test stays fast.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tailwatch.errors import InputError, TailwatchError
from tailwatch.identity import load_identity
from tailwatch.identity.update import update_from_folder, update_from_network


def _tar(src_root: Path, top: str, members: list[str], out: Path) -> None:
    with tarfile.open(out, "w:gz") as tar:
        for m in members:
            tar.add(src_root / m, arcname=f"{top}/{m}")


@pytest.fixture
def server(tmp_path: Path, shared_data: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    (root / "pad").mkdir(parents=True)
    for name in ("plane-alert-db.csv", "plane-alert-categories.csv", "LICENSE"):
        shutil.copyfile(shared_data / "plane_alert_db" / name, root / "pad" / name)
    (root / "mic").mkdir()
    for name in ("operators.json", "types.json", "dbversion.json"):
        shutil.copyfile(shared_data / "mictronics_readsb_db" / name, root / "mic" / name)
    vrs = shared_data / "vrs_standing_data"
    _tar(vrs, "standing-data-main", ["aircraft/schema-01/3", "code-blocks/schema-01", "countries/schema-01",
                                     "registration-prefixes/schema-01", "LICENSE"], root / "vrs.tar.gz")
    fa = tmp_path / "fa-src" / "public_html" / "db"
    fa.mkdir(parents=True)
    for name in ("0.json", "4B.json"):
        shutil.copyfile(shared_data / "dump1090_fa_db" / name, fa / name)
    _tar(tmp_path / "fa-src", "dump1090-master", ["public_html"], root / "fa.tar.gz")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _urls(base: str) -> dict[str, str]:
    return {"plane-alert-db": f"{base}/pad", "mictronics": f"{base}/mic",
            "vrs-standing-data": f"{base}/vrs.tar.gz", "dump1090-fa": f"{base}/fa.tar.gz"}


def test_network_update(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    target = tmp_path / "cache" / "db"
    seen: list[str] = []
    manifest = update_from_network(target, _urls(base), progress=lambda label, done, total: seen.append(label))
    sources = manifest["sources"]
    assert isinstance(sources, dict)
    want = hashlib.sha256((root / "vrs.tar.gz").read_bytes()).hexdigest()
    assert sources["vrs-standing-data"]["sha256"] == want
    assert sources["plane-alert-db"]["files"]["plane_alert_db/plane-alert-db.csv"]["sha256"] == \
        hashlib.sha256((root / "pad" / "plane-alert-db.csv").read_bytes()).hexdigest()
    assert json.loads((target / "manifest.json").read_text())["sources"]["dump1090-fa"]["url"] == f"{base}/fa.tar.gz"
    assert any(label.startswith("plane-alert-db") for label in seen)
    ident = load_identity(target, watchlist=None)
    rows = ident.annotate(pa.array([0x062F01, 0x4B1901, 0x3C644B], pa.int32())).to_pylist()
    # plane-alert-db 062F01,5U-MBH; dump1090_fa_db/4B.json "1901": {"r": "HB-JMF"};
    # VRS 3C6.csv 3C644B,D-AIBK,...
    assert [r["registration"] for r in rows] == ["5U-MBH", "HB-JMF", "D-AIBK"]
    assert [r["registration_source"] for r in rows] == ["plane-alert-db", "dump1090-fa", "vrs-standing-data"]
    assert (target / ".tailwatch-cache" / "base.parquet").exists()  # parsed once, cached


def test_network_failure_keeps_the_old_databases(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    target = tmp_path / "db"
    update_from_network(target, _urls(base))
    before = (target / "manifest.json").read_text()
    broken = {**_urls(base), "dump1090-fa": f"{base}/missing.tar.gz"}
    with pytest.raises(TailwatchError, match=r"missing\.tar\.gz"):
        update_from_network(target, broken)
    assert (target / "manifest.json").read_text() == before
    assert not list(tmp_path.glob("db.new-*"))


def test_from_folder_verifies_against_manifest(shared_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "db"
    manifest = update_from_folder(shared_data, target)
    assert manifest["checked_against_manifest_tsv"] == manifest["files"]
    assert manifest["rows"] == {"plane-alert-db": 17198, "vrs-standing-data": 16873, "dump1090-fa": 354852}
    # A copy with one altered byte no longer matches MANIFEST.tsv: refused, naming the file.
    bad = tmp_path / "bad"
    (bad / "plane_alert_db").mkdir(parents=True)
    shutil.copyfile(shared_data / "MANIFEST.tsv", bad / "MANIFEST.tsv")
    data = (shared_data / "plane_alert_db/plane-alert-db.csv").read_bytes()
    (bad / "plane_alert_db/plane-alert-db.csv").write_bytes(data.replace(b"5U-MBH", b"5U-MBX"))
    with pytest.raises(InputError, match=r"plane-alert-db\.csv.*MANIFEST\.tsv"):
        update_from_folder(bad, tmp_path / "db2")
    assert not list(tmp_path.glob("db2*"))  # nothing installed, and the half-filled stage is gone


def test_refuses_to_replace_a_foreign_folder(shared_data: Path, tmp_path: Path) -> None:
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "todo.txt").write_text("keep me")
    with pytest.raises(TailwatchError, match="refusing to replace"):
        update_from_folder(shared_data, precious)
    assert (precious / "todo.txt").read_text() == "keep me"



def test_cli_update_through_a_mirror(server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``tailwatch db update`` with ``$TAILWATCH_DB_MIRROR``: <mirror>/<database>/<file or archive name>."""
    import typer
    from typer.testing import CliRunner

    from tailwatch.cli import aircraft

    base, root = server
    mirror = root / "mirror"
    for name, files in (("plane-alert-db", ["plane-alert-db.csv", "plane-alert-categories.csv", "LICENSE"]),
                        ("mictronics", ["operators.json", "types.json", "dbversion.json"])):
        (mirror / name).mkdir(parents=True)
        for f in files:
            shutil.copyfile(root / ("pad" if name == "plane-alert-db" else "mic") / f, mirror / name / f)
    (mirror / "vrs-standing-data").mkdir()
    shutil.copyfile(root / "vrs.tar.gz", mirror / "vrs-standing-data" / "main.tar.gz")
    (mirror / "dump1090-fa").mkdir()
    shutil.copyfile(root / "fa.tar.gz", mirror / "dump1090-fa" / "master.tar.gz")
    monkeypatch.setenv("TAILWATCH_DB_MIRROR", f"{base}/mirror")
    app = typer.Typer()
    aircraft.register(app)
    target = tmp_path / "db"
    result = CliRunner().invoke(app, ["db", "update", "--db", str(target)], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    # the summary names the folder whole on one line, with the rows of each database
    done = next(ln for ln in result.stdout.splitlines() if ln.startswith("databases installed in "))
    assert done.startswith(f"databases installed in {target}: ") and "plane-alert-db" in done
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["sources"]["vrs-standing-data"]["url"] == f"{base}/mirror/vrs-standing-data/main.tar.gz"
    result = CliRunner().invoke(app, ["aircraft", "HB-JMF", "--db", str(target), "-f", "json"],
                                env={"TAILWATCH_CONFIG": str(tmp_path)})
    assert json.loads(result.stdout)[0]["icao24"] == "4B1901"  # dump1090_fa_db/4B.json "1901": {"r": "HB-JMF"}
