"""Shipping tailwatch to Spark workers that do not have it (``ship_package`` / ``package_zip``).

The workers here run this venv's Python with ``-S`` and only the venv's site-packages on
``PYTHONPATH``: numpy, pyarrow, pandas and pyspark import, tailwatch (an editable install,
found through a ``.pth`` file that ``-S`` skips) does not — like a cluster node with the
scientific stack but without tailwatch.  Without shipping, the job must fail with
``No module named 'tailwatch'``; after ``addPyFile(package_zip())`` it must give the legs the
kernel gives locally.  Runs in its own process, since ``PYSPARK_PYTHON`` is read when the
JVM starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

SCRIPT = r'''
import json, sys
from pathlib import Path
import pyarrow as pa, pyarrow.compute as pc
from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.legs import legs_and_stops
from tailwatch.analysis.spark import collect, package_zip, run_legs_spark, spark_frame, spark_session
from tailwatch.errors import Rejects
from tailwatch.schema import LEGS, POSITIONS
from tailwatch.sources import get_reader

path = Path(sys.argv[1])
table = pa.Table.from_batches([c.batch for c in get_reader("traffic").read(path, Rejects())]).cast(POSITIONS)
ids = pc.unique(table["icao24"]).slice(0, 25)
table = table.filter(pc.is_in(table["icao24"], ids))
airports = load_airports()
spark = spark_session("local[1]", app_name="tailwatch-ship-test", driver_memory="1g")
df = spark_frame(spark, table)
result = {}
try:
    legs_df, _ = run_legs_spark(df, airports, spark=spark)
    collect(legs_df, LEGS)
    result["unshipped"] = "ran"
except Exception as exc:  # the worker's ModuleNotFoundError comes back as a Py4J/Python exception
    result["unshipped"] = "No module named 'tailwatch'" in str(exc)
spark.catalog.clearCache()
spark.sparkContext.addPyFile(str(package_zip()))
legs_df, _ = run_legs_spark(df, airports, spark=spark)
got = collect(legs_df, LEGS).sort_by("leg_id")
expected = legs_and_stops(table, airports)[0].sort_by("leg_id")
result["legs"] = got.num_rows
result["same"] = got.equals(expected)
spark.stop()
print(json.dumps(result))
'''


def test_package_zip_makes_tailwatch_importable_on_bare_workers(shared_data: Path, tmp_path: Path) -> None:
    site = sysconfig.get_paths()["purelib"]
    wrapper = tmp_path / "bare-python"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{site}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" -S "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PYSPARK_PYTHON": str(wrapper), "SPARK_LOCAL_IP": "127.0.0.1"}
    capture = shared_data / "traffic_samples" / "collections" / "quickstart.json.gz"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(capture)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["unshipped"] is True  # the bare workers really lack tailwatch
    assert result["legs"] > 10
    assert result["same"] is True
