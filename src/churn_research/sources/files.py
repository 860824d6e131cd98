"""A user's own files: a directory of CSV/Excel/Parquet tables in the data model's column names,
or a YAML mapping of their files and headers (any encoding, e.g. GB18030 with Chinese headers).

Before validation the coded values are mapped onto the data model's (投诉 -> complaint, 否 ->
False, 代理商 -> intermediary: :mod:`churn_research.sources.vocabulary`) and dates are parsed in
any unambiguous form (2023年1月5日, 2023/1/5, 20230105, Excel serials:
:mod:`churn_research.sources.dates`).
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from churn_research.model import (
    DEFAULT_INACTIVITY_DAYS,
    KINDS,
    TABLES,
    ChurnData,
    ChurnDataError,
    infer_end_dates,
)
from churn_research.sources.dates import day_month_order, parse_dates
from churn_research.sources.packaged import sha256
from churn_research.sources.validate import (
    DATE_COLUMNS,
    _coerce,
    check_far_dates,
    check_kind,
    check_rows,
    latest_date,
    transaction_warnings,
    validate,
)
from churn_research.sources.vocabulary import normalise_values, user_values

#: File types read (``.txt`` is read as CSV).
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Files a directory of tables may not hold unless named after a table (they would be ignored).
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xls", *EXCEL_SUFFIXES)


# ----------------------------------------------------------------------------------------
# user files
# ----------------------------------------------------------------------------------------
def _read_table(path: Path, *, table: str, encoding: str = "utf-8", sep: str | None = None,
                sheet: str | int | None = None, nrows: int | None = None) -> pd.DataFrame:
    """Read one CSV, Excel (.xlsx) or Parquet table, with a clear error for whatever stops it.

    CSV and Excel values are read as text (the loader parses dates and numbers itself, so both
    give the same tables); a UTF-8 byte-order mark, as Excel writes it, is skipped. Without
    ``sep`` the delimiter is the one of ``,``, ``;``, tab and ``|`` the header line holds most
    of. An Excel workbook is read as one whatever its name ends with. An empty file, a row with
    more fields than the header, an unknown encoding name and a header repeated (which pandas
    would rename ``amount.1``) each raise :class:`ChurnDataError` naming the file. ``nrows``:
    only the first rows (all of a Parquet file are read).
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df = pd.read_parquet(path)
        return df if nrows is None else df.head(nrows)
    if path.stat().st_size == 0:
        raise ChurnDataError(f"file {path.name} is empty (0 bytes).", table=table,
                             fix="export the table again (with its header line), or remove the "
                                 "file if the table is not part of your data.")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if suffix == ".xls" or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise ChurnDataError(f"{path.name} is in the old Excel format (.xls).", table=table,
                             fix="save it as .xlsx (or CSV) in Excel and point `file:` at that.")
    if suffix in EXCEL_SUFFIXES or magic.startswith(b"PK\x03\x04"):
        try:
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=str,
                               engine="openpyxl", nrows=nrows)
        except (ValueError, KeyError, OSError) as exc:  # unknown sheet, broken workbook
            raise ChurnDataError(f"cannot read {path.name} as an Excel workbook ({exc}).",
                                 table=table, fix="check `sheet:` (a sheet name or number "
                                 "from 0) and that the file opens in Excel.") from None
        _refuse_repeated_headers(path, table, [str(c) for c in
                                              pd.read_excel(path, sheet_name=0 if sheet is None
                                                            else sheet, header=None, nrows=1,
                                                            dtype=str, engine="openpyxl")
                                              .iloc[0].tolist()] if len(df.columns) else [])
        return df
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ChurnDataError(f"unknown encoding name {encoding!r} for {path.name}.", table=table,
                             column=None, fix="set `encoding:` in the mapping file to a name "
                             "Python knows, e.g. utf-8, gb18030, gbk or latin-1.") from None
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # the same, but skips the byte-order mark Excel writes
    shown = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        with open(path, encoding=encoding, newline="") as fh:
            header = fh.readline()
        if sep is None:
            counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
            sep = max(counts, key=counts.get) if max(counts.values()) else ","
        raw_header = next(csv.reader([header], delimiter=sep)) if header.strip() else []
        _refuse_repeated_headers(path, table, [h.strip() for h in raw_header])
        return pd.read_csv(path, encoding=encoding, sep=sep, dtype=str, keep_default_na=True,
                           nrows=nrows)
    except UnicodeDecodeError as exc:
        hint = "gb18030" if encoding.lower().replace("-", "") in ("utf8", "utf8sig") else "utf-8"
        raise ChurnDataError(
            f"cannot decode {path.name} as {shown} (byte {exc.start}: {exc.reason}).",
            table=table,
            fix=f"set `encoding: {hint}` in the mapping file (Chinese CRM exports are usually "
            "GBK/GB18030), or pass encoding=... to load().",
        ) from None
    except pd.errors.EmptyDataError:
        raise ChurnDataError(f"file {path.name} holds no header line.", table=table,
                             fix="export the table again with its header line.") from None
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        what = (f"line {found.group(2)} of {path.name} has {found.group(3)} fields where the "
                f"header has {found.group(1)} (delimiter {sep!r})" if found
                else f"{path.name} cannot be read as a table with delimiter {sep!r} ({exc})")
        raise ChurnDataError(
            what + ".", table=table,
            fix="quote values that contain the delimiter (\"Smith, Jr.\"), remove the extra "
                "field, or set `sep:` in the mapping file to the file's delimiter.") from None


def _refuse_repeated_headers(path: Path, table: str, header: list[str]) -> None:
    """Raise for a header that appears twice (pandas would silently rename it ``x.1``)."""
    seen, repeated = set(), []
    for h in header:
        if h in seen and h not in repeated and h not in ("", "nan"):
            repeated.append(h)
        seen.add(h)
    if repeated:
        raise ChurnDataError(
            f"{path.name} has the column header {repeated[0]!r} more than once.",
            table=table, column=repeated[0],
            fix="rename or delete the repeated column in the file, so that each header is "
                "unique (pandas would otherwise read the second one as "
                f"'{repeated[0]}.1' and the loader use only the first).")


def _find(directory: Path, table: str) -> Path | None:
    for ext in (".parquet", ".csv", *EXCEL_SUFFIXES, ".txt"):
        p = directory / f"{table}{ext}"
        if p.exists():
            return p
    return None


def _checksums(paths: dict[str, Path]) -> dict[str, str]:
    return {p.name: sha256(p) for p in paths.values()}


def load_directory(directory: str | Path, *, observation_end: str | None = None,
                   kind: str = "contractual", inactivity_days: int = DEFAULT_INACTIVITY_DAYS,
                   records_start: str | None = None,
                   encoding: str = "utf-8", sep: str | None = None, values: dict | None = None,
                   date_format: str | None = None) -> ChurnData:
    """Load ``customers`` (required) and optional tables from a directory of CSV, Excel (.xlsx)
    or Parquet files.

    Column names must already be the data model's; use a YAML mapping (:func:`load_mapping`)
    to rename. ``values`` (``{"tickets.kind": {"售后": "technical"}}``) and ``date_format``
    (``"DD/MM/YYYY"``) work as in the mapping file. For ``kind="non-contractual"`` without end dates they are inferred from
    transactions with ``inactivity_days``.
    """
    directory = Path(directory)
    paths = {t: p for t in TABLES if (p := _find(directory, t)) is not None}
    if "customers" not in paths:
        raise ChurnDataError(
            f"no customers.csv or customers.parquet in {directory}.", table="customers",
            fix="add a customers file with customer_id, start_date, end_date columns.")
    unused = sorted(p.name for p in directory.iterdir()
                    if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                    and p not in paths.values() and not p.name.startswith((".", "~$")))
    if unused:
        raise ChurnDataError(
            f"{directory.name}/ holds data file(s) the loader does not know: {unused[:5]}; a "
            f"directory is read by file name ({', '.join(t + '.csv' for t in TABLES)}).",
            table=None,
            fix="rename each file after the table it holds (e.g. orders.csv -> transactions.csv), "
                "or describe the files in a YAML mapping (`tables: transactions: file: "
                "orders.csv`), or move files that are not tables out of the directory.")
    tables = {t: _read_table(p, table=t, encoding=encoding, sep=sep) for t, p in paths.items()}
    meta = {"source": str(directory), "licence": "user data", "checksums": _checksums(paths)}
    formats = {(t, c): date_format for t in tables for c in DATE_COLUMNS[t]} if date_format else {}
    return _assemble(tables, observation_end=observation_end, kind=kind,
                     inactivity_days=inactivity_days, records_start=records_start, meta=meta,
                     values=user_values(values), date_formats=formats)


def load_mapping(path: str | Path, *, observation_end: str | None = None, **overrides: Any) -> ChurnData:
    """Load a user's files described by a YAML mapping onto the data model.

    Example (a GB18030 export with Chinese headers)::

        encoding: gb18030            # default utf-8; per-table `encoding:` overrides it
        kind: contractual            # or non-contractual (+ inactivity_days: 180)
        records_start: 2021-01-01    # optional: records begin here (earlier customers left-truncated)
        observation_end: 2024-12-31  # optional: default is the latest date in the data
        tables:
          customers:
            file: 客户.csv            # relative to this YAML file
            columns:                 # source header: data-model name (null drops it)
              客户编号: customer_id
              开户日期: start_date
              销户日期: end_date
              流失原因: churn_reason
              姓名: null
            values:                  # optional recoding of values (adds to the vocabulary)
              churn_reason: {价格: price, 竞争对手: competitor}
          transactions:
            file: 交易.xlsx          # .csv, .xlsx (first sheet, or `sheet:`) or .parquet
            columns: {客户编号: customer_id, 交易日期: date, 金额: amount}
            date_format: DD/MM/YYYY  # only for dd/mm/yyyy-like dates the data leave ambiguous
        values:                      # the same recoding, at the top as table.column
          tickets.kind: {售后: technical}

    Coded values are mapped onto the data model's by the vocabulary
    (:mod:`churn_research.sources.vocabulary`: 投诉 -> complaint, 是/否 -> True/False, 代理商 ->
    intermediary, ...), extended by ``values:``; an unknown ticket kind or yes/no value stops
    loading. Dates are read in any unambiguous form (:mod:`churn_research.sources.dates`);
    ``date_format:`` (top level, per table, or per column as ``{start_date: DD/MM/YYYY}``)
    fixes the form.

    Unmapped columns are kept under their own names, except personal data, recognised by header
    or by content in any table (:mod:`churn_research.personal`; validation drops it before
    anything else), which is never written to processed data.
    """
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ChurnDataError(
            f"mapping file {path.name} is not valid YAML{where}: {problem}.",
            fix="check the indentation (spaces, not tabs) and the `key: value` form on that "
                "line, and quote values holding ':' or '#'.") from None
    except UnicodeDecodeError:
        raise ChurnDataError(f"mapping file {path.name} is not UTF-8 text.",
                             fix="save the mapping file as UTF-8 (the data files may keep "
                                 "their own encoding: `encoding:`).") from None
    if not isinstance(spec, dict):
        raise ChurnDataError(f"mapping file {path.name} does not hold `key: value` settings.",
                             fix="see the example in load_mapping's docstring.")
    if not isinstance(spec.get("tables"), dict) or "customers" not in spec["tables"]:
        raise ChurnDataError(f"mapping file {path.name} has no `tables: customers:` entry.",
                             table="customers", fix="see the example in load_mapping's docstring.")
    default_enc = spec.get("encoding", "utf-8")
    tables, files, date_formats = {}, {}, {}
    for table, tspec in spec["tables"].items():
        if table not in TABLES:
            raise ChurnDataError(f"unknown table '{table}' in {path.name}.",
                                 fix=f"use one of {', '.join(TABLES)}.")
        if not isinstance(tspec, dict) or not tspec.get("file"):
            raise ChurnDataError(
                f"table '{table}' in {path.name} has no `file:`.", table=table, column="file",
                fix=f"add `file: <name of the {table} file>` under `tables: {table}:` (paths are "
                    "relative to the mapping file).")
        file = (path.parent / str(tspec["file"])).resolve()
        if not file.exists():
            raise ChurnDataError(f"file {file} not found.", table=table,
                                 fix="check `file:` (paths are relative to the mapping file).")
        df = _read_table(file, table=table, encoding=tspec.get("encoding", default_enc),
                         sep=tspec.get("sep", spec.get("sep")), sheet=tspec.get("sheet"))
        cols = tspec.get("columns") or {}
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ChurnDataError(
                f"mapped source column(s) {missing} not found in {file.name}; its columns are "
                f"{list(df.columns)[:12]}.", table=table, column=missing[0],
                fix="correct the `columns:` mapping (or the file's encoding).")
        df = df.drop(columns=[c for c, v in cols.items() if v is None])
        df = df.rename(columns={c: v for c, v in cols.items() if v is not None})
        twice = df.columns[df.columns.duplicated()]
        if len(twice):
            raise ChurnDataError(
                f"two columns of {file.name} end up named '{twice[0]}' (mapped by `columns:`, "
                "or one mapped onto a name the file already has).", table=table,
                column=str(twice[0]), fix="map only one source column onto each data-model name "
                "(map the other to another name, or to null to drop it).")
        tables[table], files[table] = df, file
        fmt = tspec.get("date_format", spec.get("date_format"))
        for col in DATE_COLUMNS[table]:
            chosen = fmt.get(col) if isinstance(fmt, dict) else fmt
            if chosen:
                date_formats[(table, col)] = str(chosen)
    meta = {"source": str(path), "licence": spec.get("licence", "user data"),
            "checksums": _checksums(files)}
    kind = overrides.pop("kind", spec.get("kind", "contractual"))
    inactivity = overrides.pop("inactivity_days",
                               spec.get("inactivity_days", DEFAULT_INACTIVITY_DAYS))
    records_start = overrides.pop("records_start", spec.get("records_start"))
    if overrides:
        raise ChurnDataError(
            f"unknown option(s) {sorted(overrides)} for the mapping file {path.name}.",
            fix="use observation_end, kind, inactivity_days or records_start.")
    obs = observation_end or spec.get("observation_end")
    return _assemble(tables, observation_end=obs, kind=kind, inactivity_days=inactivity,
                     records_start=records_start, meta=meta,
                     values=user_values(spec.get("values"), spec["tables"]),
                     date_formats=date_formats)


def _parse_dates(tables: dict[str, pd.DataFrame],
                 date_formats: dict[tuple[str, str], str]) -> dict[str, pd.DataFrame]:
    """Parse each table's date columns (new frames): with the declared ``date_format``, else in
    any unambiguous form, a day/month order settled by one column serving the table's others."""
    out = {}
    for table, df in tables.items():
        cols = [c for c in DATE_COLUMNS.get(table, ()) if df is not None and c in df]
        if not cols:
            out[table] = df
            continue
        df = df.copy(deep=False)
        orders = {day_month_order(df[c], table=table, column=c)
                  for c in cols if (table, c) not in date_formats} - {None}
        order = orders.pop() if len(orders) == 1 else None
        for c in cols:
            df[c] = parse_dates(df[c], table=table, column=c, frame=df, order=order,
                                date_format=date_formats.get((table, c)))
        out[table] = df
    return out


def _assemble(tables: dict[str, pd.DataFrame], *, observation_end, kind: str,
              inactivity_days: int, meta: dict[str, Any],
              records_start=None, values=None, date_formats=None) -> ChurnData:
    if kind not in KINDS:
        raise ChurnDataError(f"unknown kind {kind!r}.", fix=f"use one of {KINDS}.")
    tables = _parse_dates(normalise_values(tables, values), date_formats or {})
    customers = tables.get("customers")
    if customers is not None and "end_date" not in customers and kind == "non-contractual":
        customers = customers.assign(end_date=pd.NaT)
        tables["customers"] = customers
    data = ChurnData(**{t: tables.get(t) for t in TABLES}, kind=kind, meta=meta,
                     observation_end=pd.Timestamp(observation_end) if observation_end else None,
                     inactivity_days=inactivity_days, records_start=records_start)
    data = _coerce(data)
    check_rows(data)
    check_kind(data)
    check_far_dates(data)
    if data.observation_end is None:
        data.observation_end = latest_date(data)
    if kind == "non-contractual" and data.has("transactions") and data.customers["end_date"].isna().all():
        data.customers = infer_end_dates(
            data.customers, data.transactions, observation_end=data.observation_end,
            inactivity_days=inactivity_days)
        data.meta["churn_definition"] = f"no purchase for more than {inactivity_days} days (inferred)"
    data = validate(data)
    warnings = transaction_warnings(data)
    if warnings:
        data.meta["warnings"] = [*data.meta.get("warnings", []), *warnings]
    return data
