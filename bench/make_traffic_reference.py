"""Write traffic 2.13's landings on the quickstart sample: the independent reference for tests.

Run with the PEER environment, never tailwatch's (see bench/setup_peers.sh):

    bash bench/setup_peers.sh
    bench/.venv-peers/bin/pip install bluesky-navdata==1.0.0   # offline runway thresholds
    bench/.venv-peers/bin/python bench/make_traffic_reference.py \
        ../shared/data/traffic_samples/collections/quickstart.json.gz \
        tests/fixtures/traffic_reference/quickstart_landings.csv

traffic downloads its airport and runway tables on first use; this script
writes them beforehand into a private cache so nothing is downloaded:
airports from the ``airportsdata`` wheel, runway thresholds from the X-Plane
``apt.dat`` (2013.10) shipped in the ``bluesky-navdata`` wheel.  The flights
are cut the idiomatic way (``Traffic.iterate(by="10 min")``), and each
landing attempt of ``flight.landing(method="any")`` is one output row:
``icao24, flight_start, flight_stop, airport, runway, attempt_start, attempt_stop``.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import zipfile
from pathlib import Path


def _prepare_cache(cache: Path) -> None:
    import airportsdata
    import pandas as pd

    cache.mkdir(parents=True, exist_ok=True)
    ap = pd.DataFrame.from_dict(airportsdata.load("ICAO"), orient="index")
    ap = ap.rename(columns={"lat": "latitude", "lon": "longitude", "elevation": "altitude", "city": "municipality"})
    ap["type"] = "airport"
    ap["iata"] = ap["iata"].replace("", None)
    ap[["name", "iata", "icao", "latitude", "longitude", "country", "altitude", "type", "municipality"]].reset_index(
        drop=True
    ).to_parquet(cache / "airports_ourairports.parquet")

    import bluesky.resources.navdata as nd  # type: ignore[import-not-found]

    apt = Path(nd.__file__).parent / "apt.zip"
    rows = []
    icao = None
    with zipfile.ZipFile(apt) as z, z.open("apt.dat") as raw:
        for line in io.TextIOWrapper(raw, encoding="latin-1"):
            f = line.split()
            if not f:
                continue
            if f[0] in ("1", "16", "17") and len(f) >= 5:
                icao = f[4]
            elif f[0] == "100" and len(f) >= 20 and icao:
                rows.append(
                    dict(
                        airport_ident=icao,
                        le_ident=f[8], le_latitude_deg=float(f[9]), le_longitude_deg=float(f[10]),
                        he_ident=f[17], he_latitude_deg=float(f[18]), he_longitude_deg=float(f[19]),
                    )
                )
    pd.DataFrame(rows).to_parquet(cache / "runways_ourairports.parquet")


def main(src: str, out: str) -> None:
    """Compute traffic's landings for every 10-minute-gap flight of ``src``, write them to ``out``."""
    work = Path(tempfile.mkdtemp(prefix="traffic-ref-"))
    os.environ["TRAFFIC_CACHE_PATH"] = str(work / "cache")
    os.environ["TRAFFIC_CACHE_EXPIRATION"] = "36500 days"
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    os.environ["MPLCONFIGDIR"] = str(work / "mpl")
    _prepare_cache(work / "cache")

    from traffic.core import Traffic

    t = Traffic.from_file(src)
    assert t is not None
    out_rows = []
    for flight in t.iterate(by="10 min"):
        for att in flight.landing(method="any"):
            out_rows.append(
                dict(
                    icao24=flight.icao24,
                    callsign=flight.callsign if isinstance(flight.callsign, str) else "",
                    flight_start=flight.start.isoformat(),
                    flight_stop=flight.stop.isoformat(),
                    airport=att.data["airport"].iloc[0] if "airport" in att.data else att.airport_max,
                    runway=att.ILS_max,
                    attempt_start=att.start.isoformat(),
                    attempt_stop=att.stop.isoformat(),
                )
            )
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out_rows[0]))
        w.writeheader()
        w.writerows(out_rows)
    print(f"{len(out_rows)} landing attempts written to {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
