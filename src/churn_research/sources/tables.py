"""Sources read where they are: directories or globs of Parquet/CSV files, a DuckDB database
file, or a database reached by a connection URL, loaded by 00_data through the engine.

``source:`` in a params file (or :func:`churn_research.sources.load`) takes, besides the packaged
datasets and the pandas-read mapping of :mod:`churn_research.sources.files`:

a mapping ``.yaml`` whose tables name directories or globs (``file: orders/`` or ``file:
"orders/*.parquet"``), a DuckDB database (``database: shop.duckdb``) or a connection URL
(``url: "postgres://analyst@db.example/crm"``) with a table per data-model table (``table:
sales.orders``); ``columns:``, ``values:``, ``kind:``, ``observation_end:``, ... work as in
the pandas-read mapping (:func:`~churn_research.sources.files.load_mapping`);

a DuckDB database file (``shop.duckdb``) or a connection URL directly, with ``source_options:
{tables: {customers: crm.customers, transactions: sales.orders}}`` (default: the data model's
table names).

Credentials come from the environment only: ``${NAME}`` in a URL is replaced by the
environment variable ``NAME`` when connecting (PostgreSQL also reads ``PGPASSWORD``,
``PGUSER``, ... itself), and a URL holding a literal password is refused. What is recorded
(``meta["source"]``, error messages) is the URL as written, without the password.

The heavy tables (:data:`HEAVY`: transactions, tickets, surveys) never come to pandas whole:
they are checked with SQL aggregates by the rules and messages of
:mod:`churn_research.sources.validate` (counts, a few offending rows), screened for personal
columns by content on a seeded sample of rows (:func:`churn_research.personal.screen`), their
coded values mapped by the vocabulary on their distinct values, and written to the processed
directory by the backend (DuckDB: ``COPY ... TO ... (FORMAT parquet)``; other backends in
batches). The customers, events and campaigns tables are read into pandas and take the pandas
path (:mod:`churn_research.sources.files`), so both paths give the same processed data
(``tests/test_sources_tables.py``; PostgreSQL: ``tests/test_sources_postgres.py``).

Limits: rows of files keep the files' order; rows of a database table come in the order the
database returns them (a table has none). Offending rows are numbered over the files in glob
order. Text columns with more than :data:`MAX_CODES` distinct values are not recoded. The
returned ``ChurnData`` reads the written heavy tables back for 00_data's profile (as every
later stage reads processed data), so the profile, not the load, bounds 00_data's memory.
"""

from __future__ import annotations

import glob as globlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from churn_research.model import (
    DEFAULT_INACTIVITY_DAYS,
    KINDS,
    TABLES,
    ChurnData,
    ChurnDataError,
    infer_end_dates,
    stored_table,
)
from churn_research.personal import header_reason, screen
from churn_research.sources.dates import parse_dates
from churn_research.sources.engine import duckdb_connect
from churn_research.sources.files import _parse_dates, _read_table
from churn_research.sources.packaged import sha256
from churn_research.sources.validate import (
    DATE_COLUMNS,
    NUMERIC_COLUMNS,
    RANGES,
    REQUIRED,
    TOTAL_LABELS,
    _coerce,
    check_far_dates,
    check_kind,
    check_rows,
    empty_id_error,
    late_dates_error,
    latest_date,
    missing_column_error,
    non_numeric_error,
    range_error,
    total_row_error,
    unknown_customers_error,
    validate,
)
from churn_research.sources.vocabulary import VOCABULARY, normalise_values, user_values

__all__ = ["HEAVY", "DATABASE_SUFFIXES", "is_engine_source", "load_engine", "open_source",
           "expand_url", "redact_url"]

#: Tables with rows per event (many per customer): read, checked and written on the engine.
HEAVY = ("transactions", "tickets", "surveys")
#: File names taken as a DuckDB database.
DATABASE_SUFFIXES = (".duckdb", ".ddb")
#: Rows of a heavy table sampled (seeded) to recognise personal columns by content.
PERSONAL_SAMPLE_ROWS = 40_000
#: pandas' Arrow-backed text dtype (missing: NaN), as :func:`churn_research.model.read_parquet`.
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
#: Columns with at most this many distinct values are recoded by the vocabulary.
MAX_CODES = 5_000
_CSV = (".csv", ".tsv", ".txt", ".csv.gz")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FIX_URL = ("write the password as ${PGPASSWORD} (or leave it out: PostgreSQL reads PGPASSWORD "
            "itself) and set that variable in the environment, e.g. in .env, never in params.")


# ------------------------------------------------------------------------------------------
# connection URLs and credentials
# ------------------------------------------------------------------------------------------
#: Query parameters of a URL that hold credentials.
_SECRET_KEYS = {"password", "passwd", "pwd", "pass", "token", "secret", "api_key", "apikey",
                "access_token", "private_key", "key"}


def _secret_query(parts) -> list[tuple[str, str]]:
    return [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() in _SECRET_KEYS and not _ENV.fullmatch(v)]


def redact_url(url: str) -> str:
    """``url`` without literal credentials (``user:***@host``, ``?password=***``);
    ``${NAME}`` references stay."""
    parts = urlsplit(url)
    if parts.password is not None and not _ENV.fullmatch(parts.password):
        url = url.replace(f":{parts.password}@", ":***@", 1)
    if _secret_query(parts):
        query = [(k, "***" if (k, v) in _secret_query(parts) else v)
                 for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        url = url.split("?", 1)[0] + "?" + urlencode(query, safe="${}*")
    return url


def expand_url(url: str, *, environment: bool = True) -> str:
    """``url`` with each ``${NAME}`` replaced by the environment variable ``NAME``.

    Raises :class:`ChurnDataError` (naming the variable, never a value) for a variable that is
    not set, and for a URL that holds a literal password (or token): credentials come from
    the environment only. ``environment=False``: only the latter check (params checks)."""
    parts = urlsplit(url)
    if (parts.password is not None and not _ENV.fullmatch(parts.password)) or _secret_query(parts):
        raise ChurnDataError(f"the connection URL {redact_url(url)} holds a password.",
                             fix=_FIX_URL)

    def value(m: re.Match) -> str:
        if m.group(1) not in os.environ:
            raise ChurnDataError(f"the environment variable {m.group(1)} named in the connection "
                                 f"URL {url} is not set.",
                                 fix=f"set {m.group(1)} in the environment (e.g. in .env) before "
                                     "running, or remove it from the URL.")
        return os.environ[m.group(1)]

    return _ENV.sub(value, url) if environment else url


def _secrets(url: str) -> list[str]:
    """The values the environment put into ``url`` (never shown)."""
    found = [os.environ.get(m.group(1), "") for m in _ENV.finditer(url)]
    found.append(os.environ.get("PGPASSWORD", ""))
    return [s for s in found if len(s) >= 3]


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return re.sub(r"(://[^:/@\s]+):[^@\s]+@", r"\1:***@", text)


def _connect_url(url: str):
    full = expand_url(url)
    try:
        return ibis.connect(full)
    except ImportError as exc:
        raise ChurnDataError(f"the Ibis backend for {urlsplit(url).scheme}:// is not installed.",
                             fix=f"install it, e.g. pip install 'ibis-framework[{urlsplit(url).scheme}]'."
                             ) from exc
    except Exception as exc:  # the driver's error, without any credential
        raise ChurnDataError(
            f"cannot connect to {redact_url(url)}: "
            f"{_scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, _secrets(url))}.",
            fix="check the host, database and user in the URL and the credentials in the "
                "environment (PGPASSWORD, ...).") from None


# ------------------------------------------------------------------------------------------
# what a source is
# ------------------------------------------------------------------------------------------
def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _yaml(path: Path) -> dict | None:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return None  # the pandas path's loader says what is wrong
    return spec if isinstance(spec, dict) else None


def is_engine_source(source: str | Path, root: Path | None = None) -> bool:
    """Whether ``source`` is read through the engine: a connection URL, a DuckDB database file,
    or a mapping file with ``url:`` / ``database:``, a ``table:`` entry, or a ``file:`` that is
    a directory or a glob."""
    text = str(source)
    if "://" in text:
        return True
    path = Path(text)
    if root is not None and not path.exists() and not path.is_absolute():
        path = root / path
    if path.suffix.lower() in DATABASE_SUFFIXES:
        return True
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    spec = _yaml(path)
    if not spec:
        return False
    if spec.get("url") or spec.get("database"):
        return True
    for tspec in (spec.get("tables") or {}).values():
        if not isinstance(tspec, dict):
            continue
        if tspec.get("table"):
            return True
        file = str(tspec.get("file") or "")
        if file and (_is_glob(file) or (path.parent / file).is_dir()):
            return True
    return False


@dataclass
class Source:
    """An opened engine source: the backend, each table's raw expression (data-model column
    names) and the mapping's settings."""

    con: Any
    raw: dict[str, Any]                       # table -> Ibis table (heavy) or DataFrame (small)
    settings: dict[str, Any]
    shown: str                                # what meta["source"] records (no password)
    checksums: dict[str, str] = field(default_factory=dict)


def _rename(table: str, obj, columns: dict, where: str):
    """Apply a mapping's ``columns:`` (source header: data-model name; null drops it)."""
    have = list(obj.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise ChurnDataError(
            f"mapped source column(s) {missing} not found in {where}; its columns are "
            f"{have[:12]}.", table=table, column=missing[0],
            fix="correct the `columns:` mapping.")
    drop = [c for c, v in columns.items() if v is None]
    ren = {c: v for c, v in columns.items() if v is not None}
    if isinstance(obj, pd.DataFrame):
        return obj.drop(columns=drop).rename(columns=ren)
    if drop:
        obj = obj.drop(*drop)
    return obj.rename({v: c for c, v in ren.items()}) if ren else obj


def _files(pattern: str, table: str) -> tuple[str, list[str]]:
    """The glob DuckDB reads for a ``file:`` entry (a directory: its Parquet, else CSV files),
    and the files it matches."""
    path = Path(pattern)
    if path.is_dir():
        for ext in (".parquet", *_CSV):
            found = sorted(path.rglob(f"*{ext}"))
            if found:
                pattern = str(path / "**" / f"*{ext}")
                break
        else:
            raise ChurnDataError(f"directory {path} holds no Parquet or CSV file.", table=table,
                                 fix="point `file:` at the directory of the table's .parquet "
                                     "or .csv files (or a glob such as orders/*.parquet).")
    files = sorted(globlib.glob(pattern, recursive=True))
    if not files:
        raise ChurnDataError(f"no file matches {pattern}.", table=table,
                             fix="check `file:` (paths are relative to the mapping file).")
    return pattern, files


def _read_files(con, pattern: str, table: str, tspec: dict, spec: dict):
    pattern, files = _files(pattern, table)
    if files[0].lower().endswith(_CSV):
        enc = str(tspec.get("encoding", spec.get("encoding", "utf-8"))).lower().replace("_", "-")
        if enc not in ("utf-8", "utf8", "utf-8-sig"):
            raise ChurnDataError(
                f"{table} files in {enc} are read by the pandas path only.", table=table,
                fix="convert the files to UTF-8 or Parquet, or name one file (not a directory "
                    "or glob) so that the pandas path reads it.")
        sep = tspec.get("sep", spec.get("sep"))
        kw = {"all_varchar": True, "header": True, **({"delim": sep} if sep else {})}
        return con.read_csv(pattern, table_name=f"raw_{table}", **kw), files
    return con.read_parquet(pattern, table_name=f"raw_{table}"), files


def _backend_table(con, name: str):
    if "." in name:
        db, _, tab = name.rpartition(".")
        return con.table(tab, database=db)
    return con.table(name)


def _has_table(con, name: str) -> bool:
    try:
        con.table(name)
    except Exception:  # the backend's "no such table"
        return False
    return True


def _small_frame(con, expr) -> pd.DataFrame:
    """A table the pandas path checks (customers, events, campaigns) as pandas, through Arrow:
    text in pandas' Arrow-backed ``str`` dtype (as processed data are read), not a Python
    string per cell (10^7 customers' eight text columns: ~1 GB rather than ~5 GB); timestamps
    in nanoseconds, as Ibis' own conversion gives them (a warehouse's microseconds otherwise)."""
    arrow = con.to_pyarrow(expr)
    frame = arrow.to_pandas(types_mapper=_text_dtype, self_destruct=True,
                            coerce_temporal_nanoseconds=True)
    del arrow
    pa.default_memory_pool().release_unused()
    return frame


def _text_dtype(dtype):
    return TEXT_DTYPE if dtype in (pa.string(), pa.large_string()) else None


def open_source(source: str | Path, *, tables: dict[str, str] | None = None,
                root: Path | None = None, **options: Any) -> Source:
    """Open an engine source (see the module docstring): the backend, each table's raw
    expression with the data model's column names (small tables as pandas frames), and the
    settings (``kind``, ``observation_end``, ... from the mapping, overridden by ``options``)."""
    text = str(source)
    path = Path(text)
    if "://" not in text and root is not None and not path.exists() and not path.is_absolute():
        path = root / path
    if "://" in text or path.suffix.lower() in DATABASE_SUFFIXES:
        spec = {"tables": {t: {"table": n} for t, n in (tables or {}).items()}}
        base = Path.cwd()
        if "://" in text:
            spec["url"] = text
        else:
            spec["database"] = str(path)
    else:
        spec = _yaml(path) or {}
        base = path.parent
        if tables:
            raise ChurnDataError("`tables:` in source_options is for a database or URL source.",
                                 fix="name the tables in the mapping file's `tables:`.")
    if spec.get("url"):
        con, shown = _connect_url(str(spec["url"])), redact_url(str(spec["url"]))
    elif spec.get("database"):
        db = Path(spec["database"])
        db = db if db.is_absolute() else (base / db)
        if not db.exists():
            raise ChurnDataError(f"DuckDB database {db} not found.",
                                 fix="check `database:` (relative to the mapping file).")
        con, shown = duckdb_connect(db, read_only=True), str(db)
    else:
        con, shown = duckdb_connect(), str(path)
    named = spec.get("tables") or {}
    if not named and (spec.get("url") or spec.get("database")):
        named = {t: {"table": t} for t in TABLES if _has_table(con, t)}
    if "customers" not in named:
        raise ChurnDataError(f"the source {shown} names no customers table.", table="customers",
                             fix="add `tables: {customers: <table name>}` (a database or URL) "
                                 "or `tables: customers: file: ...` (a mapping file).")
    raw, checksums = {}, {}
    for table, tspec in named.items():
        if table not in TABLES:
            raise ChurnDataError(f"unknown table '{table}' in {shown}.",
                                 fix=f"use one of {', '.join(TABLES)}.")
        tspec = tspec if isinstance(tspec, dict) else {"table": tspec}
        if tspec.get("table"):
            try:
                obj = _backend_table(con, str(tspec["table"]))
            except Exception:
                raise ChurnDataError(f"table {tspec['table']!r} not found in {shown}.",
                                     table=table, fix="check the table name (schema.table) and "
                                     "that the user may read it.") from None
            where = f"table {tspec['table']}"
        elif tspec.get("file"):
            file = str(tspec["file"])
            full = file if Path(file).is_absolute() else str(base / file)
            if table in HEAVY or _is_glob(file) or Path(full).is_dir():
                obj, files = _read_files(con, full, table, tspec, spec)
                checksums.update({Path(f).name: sha256(Path(f)) for f in files})
            else:
                if not Path(full).exists():
                    raise ChurnDataError(f"file {full} not found.", table=table,
                                         fix="check `file:` (paths are relative to the mapping "
                                             "file).")
                obj = _read_table(Path(full), table=table,
                                  encoding=tspec.get("encoding", spec.get("encoding", "utf-8")),
                                  sep=tspec.get("sep", spec.get("sep")), sheet=tspec.get("sheet"))
                checksums[Path(full).name] = sha256(Path(full))
            where = Path(file).name
        else:
            raise ChurnDataError(f"table '{table}' in {shown} has no `file:` or `table:`.",
                                 table=table, fix="name the table's files or database table.")
        obj = _rename(table, obj, tspec.get("columns") or {}, where)
        if table not in HEAVY and not isinstance(obj, pd.DataFrame):
            obj = _small_frame(con, obj)  # customers, events, campaigns: through pandas
        raw[table] = obj
    date_formats = {}
    for table, tspec in named.items():
        fmt = (tspec or {}).get("date_format", spec.get("date_format")) \
            if isinstance(tspec, dict) else spec.get("date_format")
        for col in DATE_COLUMNS[table]:
            chosen = fmt.get(col) if isinstance(fmt, dict) else fmt
            if chosen:
                date_formats[(table, col)] = str(chosen)
    settings = {"kind": spec.get("kind", "contractual"),
                "inactivity_days": spec.get("inactivity_days", DEFAULT_INACTIVITY_DAYS),
                "records_start": spec.get("records_start"),
                "observation_end": spec.get("observation_end"),
                "snapshot": spec.get("snapshot"),
                "licence": spec.get("licence", "user data"),
                "values": user_values(spec.get("values"),
                                      {t: s for t, s in named.items() if isinstance(s, dict)}),
                "date_formats": date_formats}
    unknown = sorted(set(options) - set(settings) - {"values"})
    if unknown:
        raise ChurnDataError(f"unknown option(s) {unknown} for the source {shown}.",
                             fix="use observation_end, kind, inactivity_days, records_start, "
                                 "snapshot or tables.")
    settings.update({k: v for k, v in options.items() if v is not None})
    if options.get("values"):
        settings["values"] = {**settings["values"], **user_values(options["values"])}
    return Source(con=con, raw=raw, settings=settings, shown=shown, checksums=checksums)


# ------------------------------------------------------------------------------------------
# a heavy table on the engine: types, codes, checks
# ------------------------------------------------------------------------------------------
def _n(predicate):
    """Rows where ``predicate`` holds (NULL: not), on every backend (PostgreSQL cannot cast a
    boolean to bigint)."""
    return ibis.ifelse(predicate.fill_null(False), 1, 0).sum()


def _one(con, expr) -> dict:
    return con.execute(expr).iloc[0].to_dict()


def _rows(con, t, predicate, n: int = 5) -> list[str]:
    """A few offending rows as :func:`churn_research.model.offending_rows` names them
    ('row <n> (customer_id=...)', numbered as lines of a CSV file after its header)."""
    hit = t.filter(predicate).order_by("__row").limit(n)
    cols = ["__row", "customer_id"] if "customer_id" in t.columns else ["__row"]
    out = []
    for rec in con.execute(hit.select(*cols)).to_dict("records"):
        label = f"row {int(rec['__row']) + 2}"
        if "customer_id" in rec:
            label += f" (customer_id={rec['customer_id']})"
        out.append(label)
    return out


def _is_text(dtype) -> bool:
    return dtype.is_string()


def _typed(con, table: str, t, settings: dict):
    """``t`` with the pandas path's types: customer_id as text, dates as timestamps (text
    parsed by :func:`~churn_research.sources.dates.parse_dates` on the distinct values),
    numbers from text, coded values mapped by the vocabulary on the distinct values; raising
    the pandas path's errors."""
    schema = t.schema()
    missing = [c for c in REQUIRED[table] if c not in schema]
    if missing:
        raise missing_column_error(table, missing[0], list(schema.names))
    t = t.mutate(__row=ibis.row_number())  # streamed; used only by the queries that need it
    reordered = False
    ids = t.customer_id.cast("string")
    label = ids.strip().lower()
    stats = _one(con, t.aggregate(
        total=_n(label.isin(sorted(TOTAL_LABELS))),
        example=ids.min(where=label.isin(sorted(TOTAL_LABELS))),
        empty=_n(t.customer_id.isnull())))
    if int(stats["total"] or 0):
        raise total_row_error(table, int(stats["total"]), str(stats["example"]),
                              _rows(con, t, label.isin(sorted(TOTAL_LABELS))))
    if int(stats["empty"] or 0):
        raise empty_id_error(table, _rows(con, t, t.customer_id.isnull()))
    changes = {"customer_id": ids}
    for col in DATE_COLUMNS[table]:
        if col not in schema:
            continue
        if schema[col].is_temporal():
            changes[col] = t[col].cast("timestamp(9)")
            continue
        fmt = settings["date_formats"].get((table, col))
        distinct = con.execute(t.select(v=t[col]).distinct().filter(lambda d: d.v.notnull()))["v"]
        parsed = parse_dates(distinct.astype(str), table=table, column=col, date_format=fmt)
        lookup = ibis.memtable(pd.DataFrame({"__v": distinct.astype(str).to_numpy(),
                                             "__d": parsed.to_numpy()}))
        t = t.left_join(lookup, t[col].cast("string") == lookup["__v"]).drop("__v")
        reordered = True  # a join: rows written in __row order again
        changes[col] = t["__d"].cast("timestamp(9)")
    t = t.mutate(**changes)
    changes = {}
    for col in NUMERIC_COLUMNS:
        if col in schema and _is_text(schema[col]):
            num = t[col].strip().try_cast("float64")
            bad = t[col].notnull() & num.isnull()
            hit = con.execute(t.filter(bad).order_by("__row").select(v=t[col]).limit(3))["v"]
            if len(hit):
                raise non_numeric_error(table, col, hit.astype(str).tolist(),
                                        _rows(con, t, bad))
            whole = _one(con, t.aggregate(n=_n(num.isnull()),
                                          f=_n(num != num.floor())))
            integral = not int(whole["n"] or 0) and not int(whole["f"] or 0)
            changes[col] = num.cast("int64") if integral else num
    if "__d" in t.columns:
        t = t.drop("__d")
    t = t.mutate(**changes) if changes else t
    for col, typ in t.schema().items():
        if (table, col) in RANGES and typ.is_numeric():
            t = t.mutate(**{col: t[col].cast("float64")})  # pandera coerces them to float
    return _codes(con, table, t, settings["values"]), reordered


def _codes(con, table: str, t, values: dict):
    """Coded values mapped onto the data model's (:func:`normalise_values` on each text
    column's distinct values, then a CASE on the engine)."""
    schema = t.schema()
    cols = [c for c, typ in schema.items()
            if (typ.is_string() or typ.is_boolean()) and c not in ("customer_id", "__row")
            and c not in DATE_COLUMNS[table]]
    if not cols:
        return t
    counts = _one(con, t.aggregate(**{c: t[c].nunique() for c in cols}))
    cols = [c for c in cols if int(counts[c]) <= MAX_CODES]
    changes = {}
    for col in cols:
        distinct = con.execute(t.select(v=t[col]).distinct())["v"]
        frame = pd.DataFrame({col: distinct.to_numpy(dtype=object)})
        if schema[col].is_boolean():
            frame[col] = distinct.astype("boolean" if distinct.isna().any() else bool)
        own = {k: v for k, v in values.items() if k == (table, col)}
        out = normalise_values({table: frame}, own)[table][col]
        if out.dtype == frame[col].dtype and out.astype(object).equals(frame[col].astype(object)):
            continue
        pairs = [(a, b) for a, b in zip(frame[col].tolist(), out.tolist(), strict=True)
                 if not pd.isna(a) and not (isinstance(b, float) and np.isnan(b))]
        if pd.api.types.is_bool_dtype(out):
            changes[col] = t[col].cases(*[(a, bool(b)) for a, b in pairs], else_=ibis.null("boolean"))
        else:
            changes[col] = t[col].cases(*[(a, str(b)) for a, b in pairs], else_=t[col])
    return t.mutate(**changes) if changes else t


def _personal(con, table: str, t, seed: int, record: dict) -> tuple[Any, dict]:
    """Drop ``t``'s personal columns: by header, and by content on a seeded sample of at most
    :data:`PERSONAL_SAMPLE_ROWS` rows, spread evenly over the table (text columns only;
    numbers, dates and flags never are)."""
    text = [c for c, typ in t.schema().items() if typ.is_string() and c != "__row"]
    n = int(con.execute(t.count()))
    step = -(-n // PERSONAL_SAMPLE_ROWS)  # every step-th row from a seeded offset: any backend
    sample = t.filter(t["__row"] % step == seed % step) if step > 1 else t
    frame = (con.execute(sample.order_by("__row").select(*text).limit(PERSONAL_SAMPLE_ROWS))
             if text else pd.DataFrame())
    for c in t.columns:
        if c not in frame.columns and c != "__row":
            frame[c] = pd.Series(dtype="float64")  # headers are checked for every column
    frame = frame[[c for c in t.columns if c != "__row"]]
    _, rec = screen({table: frame}, churn_categories=VOCABULARY["churn_reason"], record=record)
    gone = [d["column"] for d in rec["dropped"][len(record.get("dropped", [])):]]
    return (t.drop(*gone) if gone else t), rec


def _check_values(con, table: str, t, known, obs: pd.Timestamp) -> None:
    """The pandas path's value checks as SQL aggregates: ranges (:data:`RANGES`), rows for
    unknown customers, dates after ``observation_end``."""
    for (tab, col), (low, high, nullable) in RANGES.items():
        if tab != table or col not in t.columns:
            continue
        v = t[col]
        bad = (v < low) if high is None else ((v < low) | (v > high))
        bad = bad.fill_null(not nullable)
        n = int(con.execute(_n(bad)) or 0)
        if n:
            shown = con.execute(t.filter(bad).order_by("__row").select(v=v).limit(200))["v"]
            examples = pd.unique(shown.astype(float).astype(str))[:3].tolist()
            raise range_error(table, col, n, examples, _rows(con, t, bad))
    unknown = t.anti_join(known, t.customer_id == known.customer_id)
    n = int(con.execute(unknown.count()))
    if n:
        raise unknown_customers_error(table, n, _rows(con, unknown, ibis.literal(True)))
    for col in DATE_COLUMNS[table]:
        if col in t.columns:
            late = t[col] > obs
            n = int(con.execute(_n(late)) or 0)
            if n:
                raise late_dates_error(table, col, n, obs, _rows(con, t, late))


# ------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------
def load_engine(source: str | Path, processed_dir: str | Path | None = None, *,
                random_state: int = 0, root: Path | None = None, **options: Any) -> ChurnData:
    """Load an engine source (see the module docstring) into ``processed_dir``.

    The heavy tables are checked, screened and written as Parquet into ``processed_dir`` by
    the backend (a temporary directory when None) and read back for the returned
    ``ChurnData``; ``meta["engine"]`` names the backend and the tables it wrote, which
    :meth:`ChurnData.write` then leaves as they are. ``random_state`` seeds the sample that
    recognises personal columns by content. ``options``: see :func:`open_source`.
    """
    src = open_source(source, root=root, **options)
    st, con = src.settings, src.con
    if st["kind"] not in KINDS:
        raise ChurnDataError(f"unknown kind {st['kind']!r}.", fix=f"use one of {KINDS}.")
    small = {t: v for t, v in src.raw.items() if isinstance(v, pd.DataFrame)}
    small = _parse_dates(normalise_values(small, {k: v for k, v in st["values"].items()
                                                  if k[0] in small}), st["date_formats"])
    customers = small["customers"]
    if "end_date" not in customers and st["kind"] == "non-contractual":
        small["customers"] = customers.assign(end_date=pd.NaT)
    # `values:` naming a column no table has: the pandas path's error
    normalise_values({t: pd.DataFrame(columns=list(v.columns)) for t, v in src.raw.items()},
                     st["values"])
    typed = {t: _typed(con, t, src.raw[t], st) for t in HEAVY if t in src.raw}
    src.raw.clear()  # the raw small tables: their recoded columns are copies
    heavy = {t: e for t, (e, _) in typed.items()}
    record: dict = {}
    for t in list(heavy):
        heavy[t], record = _personal(con, t, heavy[t], random_state, record)
    # stand-ins for the checks written for whole frames: each heavy table's distinct dates
    # (the gap check, the latest date), the transactions' last purchase per customer
    dates = {t: con.execute(e.select(date=e.date).distinct().order_by("date"))
             for t, e in heavy.items()}
    last = None
    if "transactions" in heavy and st["kind"] == "non-contractual":  # (one row per customer)
        e = heavy["transactions"]
        last = _small_frame(con, e.filter(e.date.notnull()).group_by("customer_id")
                            .aggregate(date=e.date.max()).order_by("customer_id"))
    data = ChurnData(**{t: small.get(t) for t in TABLES if t not in HEAVY}, kind=st["kind"],
                     meta={"source": src.shown, "licence": st["licence"],
                           "checksums": src.checksums, "personal_data": record},
                     observation_end=(pd.Timestamp(st["observation_end"])
                                      if st["observation_end"] else None),
                     inactivity_days=st["inactivity_days"], records_start=st["records_start"],
                     snapshot=st["snapshot"])
    del small, customers  # `data` holds the frames now: validate's copies replace them
    data = _coerce(data)
    check_rows(data)
    check_kind(data.replace(transactions=last))
    probe = data.replace(**dates)
    check_far_dates(probe)
    if data.observation_end is None:
        data.observation_end = latest_date(probe)
    del probe
    obs = pd.Timestamp(data.observation_end)
    if (data.kind == "non-contractual" and "transactions" in heavy
            and data.customers["end_date"].isna().all()):
        data.customers = infer_end_dates(data.customers, last,
                                         observation_end=obs,
                                         inactivity_days=data.inactivity_days)
        data.meta["churn_definition"] = (f"no purchase for more than {data.inactivity_days} "
                                         "days (inferred)")
    last = None
    data = validate(data)
    known = ibis.memtable(_known_customers(data.customers)).cast(
        {"customer_id": "string", "start_date": "timestamp", "end_date": "timestamp"})
    for t, e in heavy.items():
        _check_values(con, t, e, known, obs)
    warnings = _transaction_warnings(con, heavy.get("transactions"), known, data.kind)
    if warnings:
        data.meta["warnings"] = [*data.meta.get("warnings", []), *warnings]
    order = {t: i for i, t in enumerate(TABLES)}
    dropped = data.meta["personal_data"]["dropped"]
    data.meta["personal_data"]["dropped"] = sorted(dropped, key=lambda d: order[d["table"]])
    directory = Path(processed_dir or tempfile.mkdtemp(prefix="churn-engine-"))
    directory.mkdir(parents=True, exist_ok=True)
    for t, e in heavy.items():
        keep = [c for c in e.columns if c != "__row" and header_reason(t, c) is None]
        if typed[t][1] or con.name != "duckdb":  # DuckDB keeps the files' order by itself
            e = e.order_by("__row")
        con.to_parquet(e.select(*keep), directory / f"{t}.parquet")
    data.meta["engine"] = {"backend": con.name, "tables": list(heavy),
                           "directory": str(directory.resolve())}
    # read on first use: at scale the heavy tables stay on disk unless a step needs them whole
    return data.replace(**{t: stored_table(directory / f"{t}.parquet") for t in heavy})


def _known_customers(customers: pd.DataFrame) -> pa.Table:
    """The customers' ids and dates as an Arrow table for the engine's checks (NaT: NULL on
    every backend), never as Python objects: Arrow-backed ids are taken as they are (10^7
    customers: no copy of the ids as Python strings)."""
    ids = customers["customer_id"]
    arr = getattr(ids.array, "_pa_array", None)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array(ids.astype(str).to_numpy(dtype=object), type=pa.string())
    dates = {c: pa.array(customers[c].astype("datetime64[ns]").to_numpy(), type=pa.timestamp("ns"),
                         from_pandas=True) for c in ("start_date", "end_date")}
    return pa.table({"customer_id": arr, **dates})


def _transaction_warnings(con, tx, known, kind: str) -> list[dict]:
    """:func:`~churn_research.sources.validate.transaction_warnings` as one SQL aggregate."""
    if tx is None:
        return []
    j = tx.inner_join(known, tx.customer_id == known.customer_id)
    start = j.start_date.cast("timestamp(9)").truncate("D")
    end = j.end_date.cast("timestamp(9)")
    row = _one(con, j.aggregate(
        before=_n(j.date < start),
        after=_n(j.date > end + ibis.interval(days=1))))
    out = []
    if int(row["before"] or 0):
        out.append({"table": "transactions", "column": "date", "rows": int(row["before"]),
                    "what": "before the customer's start_date"})
    if int(row["after"] or 0) and kind == "contractual":
        out.append({"table": "transactions", "column": "date", "rows": int(row["after"]),
                    "what": "after the customer's end_date"})
    return out
