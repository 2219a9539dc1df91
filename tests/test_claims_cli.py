"""``tailwatch verify`` end to end through a real store (positions for coverage, derived legs/stops/findings).

The store gets the hand-built scenario of ``test_claims_verify`` as derived tables, and
background positions: one aircraft a day within 20 km of Bamako, Gao, Tessalit, Niamey
and Agadez from 2023-08-15 to 2023-09-05, nothing near Arlit or Dirkou.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tailwatch.claims.extract import extract_claims
from tailwatch.claims.gather import coverage_summary, gather, places_of_interest
from tailwatch.claims.gazetteer import Gazetteer
from tailwatch.claims.verify import verify_claims
from tailwatch.cli.main import _register, app
from tailwatch.schema import POSITIONS
from tailwatch.store import open_store
from test_claims_verify import evidence

ARTICLES = Path(__file__).parent / "articles"
# (lat, lon) of the airports in airportsdata, moved ~0.1° (11 km) north so "near" is tested, not "at".
COVERED = {"GABS": (12.6335, -7.94994), "GAGO": (16.3484, -0.00546), "GATS": (20.343, 0.97731),
           "DRRN": (13.5815, 2.18361), "DRZA": (17.066, 8.00011)}
DAYS = 22


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verify-store")
    st = open_store(root)
    rows = []
    for k, (_code, (lat, lon)) in enumerate(sorted(COVERED.items())):
        for day in range(DAYS):
            t = dt.datetime(2023, 8, 15, 12, tzinfo=dt.UTC) + dt.timedelta(days=day)
            rows.append({"time": t, "icao24": 0x3C0000 + k, "lat": lat, "lon": lon, "alt_baro": 9000.0,
                         "source": "test", "quality": 1})
    st.add_positions(pa.Table.from_pylist(rows, POSITIONS), "background")
    ev = evidence()
    st.write_derived("legs", ev.legs)
    st.write_derived("stops", ev.stops)
    st.write_derived("findings", ev.findings)
    return root


@pytest.fixture(scope="module")
def declared_dir(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same store with the scenario's C-130 declared in it (as `tailwatch demo` does)."""
    import shutil

    from tailwatch.cli.context import declare_aircraft

    root = tmp_path_factory.mktemp("declared") / "store"
    shutil.copytree(store_dir, root)
    records = pa.table({"icao24": pa.array([0x062F01], pa.int32()), "registration": ["5U-MBH"],
                        "typecode": ["C130"], "operator": ["Niger Air Force"]})
    declare_aircraft(open_store(root), records, "scenario sahel-2023 (SIMULATED)")
    return root


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-db")


@pytest.fixture(scope="module")
def seed(shared_data: Path) -> str:
    return (shared_data.parent / "seed" / "sahel-c130-article.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def identity(shared_data: Path) -> object:
    from tailwatch.identity import load_identity

    return load_identity(shared_data, watchlist=None)


def test_coverage_summary_counts_positions_near_each_place(store_dir: Path, seed: str) -> None:
    claims = extract_claims(seed)
    st = open_store(store_dir)
    places = places_of_interest(claims, Gazetteer.default(), st.derived("legs"))
    cov = coverage_summary(st, places)
    by_place = {p: 0 for p in COVERED}
    for r in cov.to_pylist():
        by_place[r["place"]] += r["n_positions"]
    # one position a day for 22 days near each covered airport; Agadez (DRZA) is not named by the
    # seed but is an airport (with an IATA code) of a country it names, so its coverage counts too
    assert by_place == {"GABS": DAYS, "GAGO": DAYS, "GATS": DAYS, "DRRN": DAYS, "DRZA": DAYS}
    assert {"GABS", "GAGO", "GATS", "DRRN"} <= set(places.column("place").to_pylist())


def test_seed_against_the_store_with_real_identity(store_dir: Path, seed: str, identity: object) -> None:
    claims = extract_claims(seed)
    verdicts = verify_claims(claims, gather(open_store(store_dir), claims, identity))
    assert [v.verdict for v in verdicts] == ["supported"] * 5
    aircraft = next(v for c, v in zip(claims, verdicts, strict=True) if c.kind == "aircraft")
    assert "062F01 5U-MBH C130 Niger Air Force (plane-alert-db)" in aircraft.evidence["identity"]


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_cli_formats(store_dir: Path, declared_dir: Path, empty_db: Path, shared_data: Path, tmp_path: Path,
                     fmt: str) -> None:
    _register()
    seed_path = shared_data.parent / "seed" / "sahel-c130-article.txt"
    out = tmp_path / f"report.{fmt}"
    # json through the real aircraft databases; md and html through the declared aircraft (faster)
    where = ["--store", str(store_dir), "--db", str(shared_data)] if fmt == "json" else [
        "--store", str(declared_dir), "--db", str(empty_db)]
    result = CliRunner().invoke(app, ["verify", str(seed_path), *where, "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        doc = json.loads(text)
        assert [c["verdict"] for c in doc["claims"]] == ["supported"] * 5
        assert doc["claims"][3]["places"] == ["GABS", "GAGO", "GATS", "DRRN", "GABS"]
        assert doc["claims"][3]["evidence"]["legs"][0] == "062F01-1692511200"  # 2023-08-20T06:00Z
    elif fmt == "md":
        assert text.startswith("# Claims check: sahel-c130-article.txt")
        assert text.count("✅ supported") == 5 and "Tessalit-Niamay-Bamako" in text
    else:
        assert text.startswith("<!doctype html>") and "<script" not in text and "http" not in text
        assert text.count("class='claim'") == 5


def test_cli_contradicted_and_not_observable(declared_dir: Path, empty_db: Path) -> None:
    _register()
    runner = CliRunner()
    got = {}
    for name in ("contradicted_wire.txt", "arlit_no_coverage.txt"):
        r = runner.invoke(app, ["verify", str(ARTICLES / name), "--store", str(declared_dir), "--db", str(empty_db),
                                "--format", "json"])
        assert r.exit_code == 0, r.output
        got[name] = {c["kind"]: c["verdict"] for c in json.loads(r.stdout)["claims"]}
    assert got["contradicted_wire.txt"]["leg"] == "contradicted"
    assert got["contradicted_wire.txt"]["route"] == "contradicted"
    assert got["arlit_no_coverage.txt"]["leg"] == "not observable"
    assert got["arlit_no_coverage.txt"]["event"] == "not observable"


def test_cli_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    _register()
    article = tmp_path / "a.txt"
    article.write_text("5U-MBH flew from Bamako to Gao on 2023-08-20.")
    r = CliRunner().invoke(app, ["verify", str(article), "--store", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "no store at" in r.output


def test_coverage_sql_and_numpy_agree_on_simulated_positions(tmp_path: Path, seed: str) -> None:
    """Two independent implementations (DuckDB range join, NumPy boxes) of the coverage rule."""
    from tailwatch.claims.gather import coverage_from_positions
    from tailwatch.sim import load_scenario, simulate

    positions = simulate(load_scenario("sahel-2023")).positions
    st = open_store(tmp_path / "store")
    st.add_positions(positions, "sahel-2023 (SIMULATED)")
    places = places_of_interest(extract_claims(seed), Gazetteer.default(), st.derived("legs"))
    by_sql = coverage_summary(st, places).sort_by([("place", "ascending"), ("day", "ascending")])
    by_numpy = coverage_from_positions(st.positions(), places).sort_by([("place", "ascending"), ("day", "ascending")])
    assert by_sql.num_rows > 20
    assert by_sql.equals(by_numpy)


def test_check_article_api(store_dir: Path, seed: str, identity: object) -> None:
    from tailwatch.claims import check_article

    got = check_article(seed, open_store(store_dir), identity)
    assert [(c.kind, v.verdict) for c, v in got] == [
        ("operation", "supported"), ("period", "supported"), ("aircraft", "supported"),
        ("route", "supported"), ("event", "supported")]


def test_cli_without_databases_says_why_and_uses_declared_aircraft(store_dir: Path, declared_dir: Path,
                                                                  empty_db: Path, shared_data: Path) -> None:
    _register()
    seed_path = shared_data.parent / "seed" / "sahel-c130-article.txt"
    r = CliRunner().invoke(app, ["verify", str(seed_path), "--store", str(store_dir), "--db", str(empty_db),
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    aircraft = next(c for c in doc["claims"] if c["kind"] == "aircraft")
    assert aircraft["verdict"] == "ambiguous" and "no aircraft database loaded" in aircraft["reason"]
    r = CliRunner().invoke(app, ["verify", str(seed_path), "--store", str(declared_dir), "--db", str(empty_db),
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [c["verdict"] for c in json.loads(r.stdout)["claims"]] == ["supported"] * 5
