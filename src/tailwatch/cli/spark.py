"""``tailwatch spark legs|findings``: run the analysis kernels on a Spark cluster (or local Spark).

The input is a Parquet folder of positions (a tailwatch store folder, its ``positions/``
folder, or any ``POSITIONS``-shaped Parquet, on any path Spark reads: local, ``hdfs://``,
``s3a://``); the output is Parquet folders ``OUT/legs`` and ``OUT/stops`` (or ``OUT/findings``).
Needs ``pyspark`` (``pip install 'tailwatch[dev]'`` or ``pip install pyspark pandas``) and Java 17.
See ``docs/spark.md`` for spark-submit on a cluster.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tailwatch.cli.output import FORMAT_OPTION, Format, emit, messages

spark_app = typer.Typer(help="Run legs and findings on Spark (same kernels as the local commands).",
                        no_args_is_help=True)

INPUT = typer.Option("--input", "-i", help="Parquet folder of positions, or a tailwatch store folder")
OUT = typer.Option("--out", "-o", help="Output folder (any Spark path)")
MASTER = typer.Option("--master", help="Spark master; 'submit' leaves it to spark-submit")
METHOD = typer.Option("--method", help="map (mapInArrow, many aircraft per call) or group (one call per aircraft)")
DRIVER_MEMORY = typer.Option("--driver-memory", help="Driver heap (local mode: the only heap)")
SHIP = typer.Option("--ship/--no-ship", help="Send a zip of tailwatch to the workers (addPyFile)")


def _session(master: str, driver_memory: str, ship: bool) -> Any:
    try:
        from tailwatch.analysis.spark import spark_session

        return spark_session(None if master == "submit" else master, driver_memory=driver_memory,
                             ship_package=ship)
    except ImportError as exc:
        raise typer.BadParameter(f"pyspark is not installed ({exc}); pip install pyspark pandas",
                                 param_hint="spark") from None


def _with_progress(spark: Any, label: str, work: Any) -> Any:
    """Run ``work()`` while a bar shows the tasks of the running Spark stages (from the status tracker)."""
    tracker = spark.sparkContext.statusTracker()
    done = threading.Event()
    result: list[Any] = []
    console = messages()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("tasks"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def run() -> None:
            try:
                result.append(work())
            except BaseException as exc:
                result.append(exc)
            finally:
                done.set()

        th = threading.Thread(target=run, daemon=True)
        th.start()
        while not done.wait(0.5):
            stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
            stages = [s for s in stages if s is not None]
            if stages:
                bar.update(task, total=sum(s.numTasks for s in stages),
                           completed=sum(s.numCompletedTasks for s in stages),
                           description=f"{label} (stage {', '.join(str(s.stageId) for s in stages)})")
        th.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


@spark_app.command("legs")
def legs_cmd(
    input_path: Annotated[str, INPUT],
    out: Annotated[str, OUT],
    master: Annotated[str, MASTER] = "local[2]",
    method: Annotated[str | None, METHOD] = None,
    driver_memory: Annotated[str, DRIVER_MEMORY] = "2g",
    ship: Annotated[bool, SHIP] = False,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Legs and stops of every aircraft, written to OUT/legs and OUT/stops (Parquet)."""
    from tailwatch.analysis.spark import write_legs_spark

    spark, how = _start(input_path, master, driver_memory, ship, method)
    base = out.rstrip("/")
    n_legs, n_stops = _with_progress(
        spark, "legs on Spark", lambda: write_legs_spark(input_path, base, spark=spark, method=how))
    emit(pa.table({"table": ["legs", "stops"], "rows": [n_legs, n_stops], "path": [f"{base}/legs", f"{base}/stops"]}),
         fmt, title=None)


@spark_app.command("findings")
def findings_cmd(
    input_path: Annotated[str, INPUT],
    out: Annotated[str, OUT],
    master: Annotated[str, MASTER] = "local[2]",
    method: Annotated[str | None, METHOD] = None,
    driver_memory: Annotated[str, DRIVER_MEMORY] = "2g",
    ship: Annotated[bool, SHIP] = False,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Incident and spoofing findings (the per-aircraft position kinds), written to OUT/findings (Parquet)."""
    from tailwatch.analysis.findings.config import load_config
    from tailwatch.analysis.spark import run_findings_spark

    spark, how = _start(input_path, master, driver_memory, ship, method)
    base = out.rstrip("/")
    cfg = load_config(use_default_file=True)

    def work() -> int:
        df = run_findings_spark(input_path, config=cfg, spark=spark, method=how).persist()
        df.write.mode("overwrite").parquet(f"{base}/findings")
        n = int(df.count())
        df.unpersist()
        return n

    n = _with_progress(spark, "findings on Spark", work)
    emit(pa.table({"table": ["findings"], "rows": [n], "path": [f"{base}/findings"]}), fmt, title=None)


def _start(input_path: str, master: str, driver_memory: str, ship: bool,
           method: str | None) -> tuple[Any, Literal["map", "group"]]:
    """Check the options both commands share, then start the Spark session."""
    if method not in (None, "map", "group"):
        raise typer.BadParameter("--method is map or group")
    if "://" not in input_path and not Path(input_path).exists():
        raise typer.BadParameter(f"no such file or folder: {input_path}", param_hint="--input")
    return _session(master, driver_memory, ship), "group" if method == "group" else "map"


def register(app: typer.Typer) -> None:
    """Add the ``spark`` command group."""
    app.add_typer(spark_app, name="spark")
