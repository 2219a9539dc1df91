"""Run the analysis kernels on Spark: the same pure functions, one call per Spark partition.

The kernels (:func:`tailwatch.analysis.legs.legs_and_stops`,
:func:`tailwatch.analysis.findings.incident`, :func:`tailwatch.analysis.findings.spoofing`)
take whole aircraft in any order, so Spark only has to put every row of an aircraft in the
same task:

* ``method="map"`` (default): ``repartition(icao24)`` → ``sortWithinPartitions(icao24, time)``
  → ``mapInArrow``; inside a task the sorted batches are regrouped into tables of whole
  aircraft (:func:`~tailwatch.analysis.spark_arrow.group_aligned`), so the kernel is called
  once per ~``batch_rows`` rows, many aircraft at a time, exactly as on a DuckDB stream;
* ``method="group"``: ``groupBy(icao24).applyInArrow`` — one kernel call per aircraft.

Either way the kernel code is not changed: rows are put in one deterministic order
(:func:`~tailwatch.analysis.spark_arrow.canonical_order`; Spark does not hand groups over
in time order) and the kernel is called.  The airport table is broadcast once.  Times stay
UTC instants (``spark.sql.session.timeZone=UTC``).

pyspark is imported only inside these functions (it is a ``dev`` extra, not a dependency).

>>> spark_ddl(LEGS).split(", ")[:2]
['`leg_id` STRING NOT NULL', '`icao24` INT NOT NULL']
"""

from __future__ import annotations

import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from tailwatch.analysis.legs import LegParams
from tailwatch.analysis.spark_arrow import (
    FINDINGS_COLUMNS,
    LEGS_COLUMNS,
    canonical_order,
    group_aligned,
    legs_stops_packed,
    packed_schema,
    select_kernel_columns,
    spark_ddl,
    spark_type,
)
from tailwatch.schema import FINDINGS, LEGS, POSITIONS, STOPS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from tailwatch.analysis.findings.common import Airports
    from tailwatch.analysis.findings.config import FindingsConfig

Method = Literal["map", "group"]
#: Position-based finding kinds that have a per-aircraft kernel.
FINDING_KINDS = ("incident", "spoofing")
#: Spark settings every tailwatch session gets (UTC times, no UI, Arrow batches of 10k rows).
DEFAULT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "10000",
}

__all__ = ["DEFAULT_CONF", "FINDING_KINDS", "collect", "package_zip", "positions_frame", "run_findings_spark",
           "run_legs_spark", "spark_ddl", "spark_frame", "spark_session", "write_legs_spark"]


def spark_session(master: str | None = "local[2]", app_name: str = "tailwatch", driver_memory: str = "2g",
                  conf: dict[str, str] | None = None, ship_package: bool = False) -> SparkSession:
    """A Spark session set up for the tailwatch kernels.

    Workers run this interpreter (``PYSPARK_PYTHON`` is set to ``sys.executable`` unless it is
    already set: a cluster sets it to the Python of its packed environment).  ``master=None``
    leaves the master to ``spark-submit``.  ``driver_memory`` only takes effect when this call
    starts the JVM.  ``ship_package=True`` adds a zip of the ``tailwatch`` package to the
    session (``addPyFile``), for workers whose Python has numpy and pyarrow but not tailwatch.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master is not None and master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
    settings = {**DEFAULT_CONF, "spark.driver.memory": driver_memory, **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    if ship_package:
        spark.sparkContext.addPyFile(str(package_zip()))
    return spark


def package_zip(dest: Path | None = None) -> Path:
    """Zip the installed ``tailwatch`` package (Python files and data) for ``addPyFile``/``--py-files``.

    >>> import zipfile
    >>> "tailwatch/analysis/legs.py" in zipfile.ZipFile(package_zip()).namelist()
    True
    """
    import tailwatch

    root = Path(tailwatch.__file__).resolve().parent
    dest = dest or Path(tempfile.mkdtemp(prefix="tailwatch-spark-")) / "tailwatch.zip"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".so"):
                zf.write(path, Path("tailwatch") / path.relative_to(root))
    return dest


def _store_parts(root: Path) -> list[str] | None:
    """Parquet parts of a tailwatch store's finished files, or None when ``root`` is not a store."""
    if not (root / "catalog.duckdb").exists() or not (root / "positions").is_dir():
        return None
    import pyarrow.compute as pc

    from tailwatch.store import catalog
    from tailwatch.store.parts import list_parts

    files = catalog.snapshot(root)["files"]
    done = set(pc.filter(files.column("file_id"), pc.equal(files.column("status"), catalog.DONE)).to_pylist())
    return [str(p.path) for p in list_parts(root) if p.file_id in done]


def positions_frame(spark: SparkSession, source: DataFrame | str | Path,
                    columns: Sequence[str] = LEGS_COLUMNS, fill_missing: bool = False) -> DataFrame:
    """A DataFrame of the kernel's input ``columns`` (those present) in their ``POSITIONS`` types.

    ``source`` is a DataFrame, a Parquet file or folder (any Spark path, e.g. ``hdfs://``;
    hive ``day=`` folders are fine, the ``day`` column is dropped), or a tailwatch store
    folder (only the parts of completely ingested files are read).  ``time`` may be a
    timestamp or int64 microseconds; ``icao24`` an integer or hex text.  With ``fill_missing``
    absent optional columns come as nulls (for kernels that expect every column).
    """
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(source, SparkFrame):
        df = source
    else:
        path = Path(str(source))
        parts = _store_parts(path) if path.exists() else None
        if parts is not None:
            if not parts:
                return spark.createDataFrame(POSITIONS.empty_table().select(
                    [c for c in columns if c in POSITIONS.names]))
            df = spark.read.option("basePath", str(path / "positions")).parquet(*parts)
        else:
            df = spark.read.parquet(str(source))
    have = set(df.columns)
    missing = [c for c in ("time", "icao24") if c not in have]
    if missing:
        raise ValueError(f"positions input lacks column(s) {', '.join(missing)}; it has {', '.join(df.columns)}")
    exprs = []
    for name in columns:
        want = spark_type(POSITIONS.field(name).type)
        if name not in have:
            if fill_missing:
                exprs.append(F.lit(None).cast(want).alias(name))
            continue
        typ = df.schema[name].dataType
        col = F.col(name)
        if name == "time" and isinstance(typ, T.LongType | T.IntegerType):
            col = F.timestamp_micros(col)
        elif name == "icao24" and isinstance(typ, T.StringType):
            col = F.conv(F.regexp_replace(col, "^~", ""), 16, 10)
        exprs.append(col.cast(want).alias(name))
    return df.select(*exprs)


_WIDER = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64()}


def spark_frame(spark: SparkSession, table: pa.Table) -> DataFrame:
    """An Arrow table (e.g. from :meth:`Store.positions`) as a Spark DataFrame.

    Spark has no unsigned integers: ``uint8/16/32`` columns (``quality``) widen to the next
    signed type, as :func:`~tailwatch.analysis.spark_arrow.spark_type` declares them.
    """
    fields = []
    for f in table.schema:
        typ = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        fields.append(f.with_type(_WIDER.get(typ, typ)))
    return spark.createDataFrame(table.cast(pa.schema(fields)))


def _broadcast(spark: SparkSession, value: Any) -> Any:
    return spark.sparkContext.broadcast(value)


def _packed_frame(spark: SparkSession, df: DataFrame, kernel: Any, ddl: str, method: Method,
                  batch_rows: int, partitions: int | None) -> DataFrame:
    """Apply ``kernel(table) -> table`` to whole aircraft of ``df`` with the chosen ``method``."""
    if method == "group":
        def per_group(table: pa.Table) -> pa.Table:
            out: pa.Table = kernel(table)
            return out

        return df.groupBy("icao24").applyInArrow(per_group, ddl)
    if method != "map":
        raise ValueError(f"method must be 'map' or 'group', not {method!r}")

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for table in group_aligned(batches, batch_rows):
            yield from kernel(table).to_batches()

    # one partition per core by default: each task pays a fixed cost (worker, broadcast, airport
    # index), and a big partition costs no memory since it is streamed through ``group_aligned``
    n = partitions or max(int(spark.sparkContext.defaultParallelism), 1)
    shuffled = df.repartition(n, "icao24")
    return shuffled.sortWithinPartitions("icao24", "time").mapInArrow(per_partition, ddl)


def run_legs_spark(df_or_path: DataFrame | str | Path, airports: pa.Table | None = None,
                   params: LegParams | None = None, spark: SparkSession | None = None, *,
                   method: Method = "map", batch_rows: int = 200_000,
                   partitions: int | None = None) -> tuple[DataFrame, DataFrame]:
    """Legs and stops of every aircraft of ``df_or_path`` on Spark: ``(legs, stops)`` DataFrames.

    Their columns are those of ``schema.LEGS`` / ``schema.STOPS`` (:func:`collect` gives them
    back as Arrow tables of exactly those schemas).  The kernel runs once per aircraft into a
    persisted DataFrame that both results select from; ``legs.unpersist()`` is not needed,
    ``spark.catalog.clearCache()`` frees it.  ``airports`` defaults to
    :func:`tailwatch.analysis.airports.load_airports` (broadcast to the workers).
    """
    from pyspark.sql import functions as F

    spark = spark or spark_session()
    if airports is None:
        from tailwatch.analysis.airports import load_airports

        airports = load_airports()
    prm = params or LegParams()
    src = positions_frame(spark, df_or_path, LEGS_COLUMNS)
    bc = _broadcast(spark, airports)

    def kernel(table: pa.Table) -> pa.Table:
        return legs_stops_packed(select_kernel_columns(table, LEGS_COLUMNS), bc.value, prm)

    packed = _packed_frame(spark, src, kernel, spark_ddl(packed_schema()), method, batch_rows, partitions)
    packed = packed.persist()
    legs = packed.where(F.col("legs").isNotNull()).select("legs.*")
    stops = packed.where(F.col("stops").isNotNull()).select("stops.*")
    return legs, stops


def run_findings_spark(df_or_path: DataFrame | str | Path, airports: pa.Table | Airports | None = None,
                       config: FindingsConfig | None = None, spark: SparkSession | None = None, *,
                       kinds: Sequence[str] = FINDING_KINDS, method: Method = "map",
                       batch_rows: int = 200_000, partitions: int | None = None,
                       data_end: int | Literal["auto"] | None = "auto") -> DataFrame:
    """``incident`` and ``spoofing`` findings (``schema.FINDINGS`` columns) of every aircraft, on Spark.

    These are the finding kinds computed from positions aircraft by aircraft; the other kinds
    read legs and stops (small tables: collect them and call
    :func:`tailwatch.analysis.findings.build.findings_from_tables` on the driver).
    ``config`` defaults to the built-in thresholds (not the user's ``findings.yaml``, which
    lives on the driver's machine: load it with ``load_config`` and pass it).

    ``data_end`` (epoch µs) is when the whole data set ends (``incident`` says when a track
    ends shortly before it); ``"auto"`` takes the latest ``time`` of the input, as
    :func:`tailwatch.analysis.findings.build.build_findings` takes the store's.
    """
    from tailwatch.analysis.findings import incident, spoofing
    from tailwatch.analysis.findings.common import Airports
    from tailwatch.analysis.findings.config import FindingsConfig

    unknown = set(kinds) - set(FINDING_KINDS)
    if unknown:
        raise ValueError(f"no per-aircraft Spark kernel for {sorted(unknown)}; known: {', '.join(FINDING_KINDS)}")
    spark = spark or spark_session()
    if airports is None:
        from tailwatch.analysis.airports import load_airports

        airports = load_airports()
    ap = airports if isinstance(airports, Airports) else Airports.from_table(airports)
    cfg = config or FindingsConfig()
    want = tuple(k for k in FINDING_KINDS if k in set(kinds))
    src = positions_frame(spark, df_or_path, FINDINGS_COLUMNS, fill_missing=True)
    if data_end == "auto":
        from pyspark.sql import functions as F

        last = src.agg(F.max(F.unix_micros("time")).alias("end")).collect()[0]["end"]
        data_end = None if last is None else int(last)
    end = data_end
    bc = _broadcast(spark, ap)

    def kernel(table: pa.Table) -> pa.Table:
        pos = canonical_order(select_kernel_columns(table, FINDINGS_COLUMNS))
        parts = []
        if "incident" in want:
            parts.append(incident(pos, bc.value, cfg.incident, end).cast(FINDINGS))
        if "spoofing" in want:
            parts.append(spoofing(pos, cfg.spoofing).cast(FINDINGS))
        return pa.concat_tables(parts) if parts else FINDINGS.empty_table()

    return _packed_frame(spark, src, kernel, spark_ddl(FINDINGS, not_null=False), method, batch_rows, partitions)


def collect(df: DataFrame, schema: pa.Schema) -> pa.Table:
    """A (small) result DataFrame brought to the driver as an Arrow table of ``schema``."""
    table = df.toArrow()
    return table.select(schema.names).cast(schema)


def write_legs_spark(df_or_path: DataFrame | str | Path, out: str | Path, airports: pa.Table | None = None,
                     params: LegParams | None = None, spark: SparkSession | None = None, *,
                     method: Method = "map", mode: str = "overwrite") -> tuple[int, int]:
    """Compute legs and stops on Spark and write them as Parquet folders ``OUT/legs`` and ``OUT/stops``.

    Returns the row counts ``(legs, stops)``.  ``out`` is any Spark path (local, ``hdfs://``...).
    """
    spark = spark or spark_session()
    legs, stops = run_legs_spark(df_or_path, airports, params, spark, method=method)
    base = str(out).rstrip("/")
    legs.write.mode(mode).parquet(f"{base}/legs")
    stops.write.mode(mode).parquet(f"{base}/stops")
    counts = (legs.count(), stops.count())
    spark.catalog.clearCache()
    return counts


#: Re-exported for callers that check results against the local kernel.
SCHEMAS = {"legs": LEGS, "stops": STOPS, "findings": FINDINGS}
