"""A user's own files: a directory of CSV/Parquet tables in the data model's column names, or a
YAML mapping of their files and headers (any encoding, e.g. GB18030 with Chinese headers).
"""

from __future__ import annotations

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
from churn_research.sources.packaged import sha256
from churn_research.sources.validate import _coerce, latest_date, validate


# ----------------------------------------------------------------------------------------
# user files
# ----------------------------------------------------------------------------------------
def _read_table(path: Path, *, table: str, encoding: str = "utf-8", sep: str = ",",
                usecols: dict[str, str | None] | None = None) -> pd.DataFrame:
    """Read one CSV/Parquet/Excel-free table, with a clear error for a wrong encoding."""
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, encoding=encoding, sep=sep, dtype=str, keep_default_na=True)
    except UnicodeDecodeError as exc:
        hint = "gb18030" if encoding.lower().replace("-", "") in ("utf8", "utf8sig") else "utf-8"
        raise ChurnDataError(
            f"cannot decode {path.name} as {encoding} (byte {exc.start}: {exc.reason}).",
            table=table,
            fix=f"set `encoding: {hint}` in the mapping file (Chinese CRM exports are usually "
            "GBK/GB18030), or pass encoding=... to load().",
        ) from None


def _find(directory: Path, table: str) -> Path | None:
    for ext in (".parquet", ".csv", ".txt"):
        p = directory / f"{table}{ext}"
        if p.exists():
            return p
    return None


def _checksums(paths: dict[str, Path]) -> dict[str, str]:
    return {p.name: sha256(p) for p in paths.values()}


def load_directory(directory: str | Path, *, observation_end: str | None = None,
                   kind: str = "contractual", inactivity_days: int = DEFAULT_INACTIVITY_DAYS,
                   records_start: str | None = None,
                   encoding: str = "utf-8", sep: str = ",") -> ChurnData:
    """Load ``customers`` (required) and optional tables from a directory of CSV/Parquet files.

    Column names must already be the data model's; use a YAML mapping (:func:`load_mapping`)
    to rename. For ``kind="non-contractual"`` without end dates they are inferred from
    transactions with ``inactivity_days``.
    """
    directory = Path(directory)
    paths = {t: p for t in TABLES if (p := _find(directory, t)) is not None}
    if "customers" not in paths:
        raise ChurnDataError(
            f"no customers.csv or customers.parquet in {directory}.", table="customers",
            fix="add a customers file with customer_id, start_date, end_date columns.")
    tables = {t: _read_table(p, table=t, encoding=encoding, sep=sep) for t, p in paths.items()}
    meta = {"source": str(directory), "licence": "user data", "checksums": _checksums(paths)}
    return _assemble(tables, observation_end=observation_end, kind=kind,
                     inactivity_days=inactivity_days, records_start=records_start, meta=meta)


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
            values:                  # optional recoding of values
              churn_reason: {价格: price, 竞争对手: competitor}
          transactions:
            file: 交易.csv
            columns: {客户编号: customer_id, 交易日期: date, 金额: amount}

    Unmapped columns are kept under their own names, except personal data (names, phones,
    e-mails, also 姓名/电话/手机/邮箱), which is never written to processed data.
    """
    path = Path(path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(spec.get("tables"), dict) or "customers" not in spec["tables"]:
        raise ChurnDataError(f"mapping file {path.name} has no `tables: customers:` entry.",
                             table="customers", fix="see the example in load_mapping's docstring.")
    default_enc = spec.get("encoding", "utf-8")
    tables, files = {}, {}
    for table, tspec in spec["tables"].items():
        if table not in TABLES:
            raise ChurnDataError(f"unknown table '{table}' in {path.name}.",
                                 fix=f"use one of {', '.join(TABLES)}.")
        file = (path.parent / tspec["file"]).resolve()
        if not file.exists():
            raise ChurnDataError(f"file {file} not found.", table=table,
                                 fix="check `file:` (paths are relative to the mapping file).")
        df = _read_table(file, table=table, encoding=tspec.get("encoding", default_enc),
                         sep=tspec.get("sep", spec.get("sep", ",")))
        cols = tspec.get("columns") or {}
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ChurnDataError(
                f"mapped source column(s) {missing} not found in {file.name}; its columns are "
                f"{list(df.columns)[:12]}.", table=table, column=missing[0],
                fix="correct the `columns:` mapping (or the file's encoding).")
        df = df.drop(columns=[c for c, v in cols.items() if v is None])
        df = df.rename(columns={c: v for c, v in cols.items() if v is not None})
        for col, recode in (tspec.get("values") or {}).items():
            if col in df:
                df[col] = df[col].replace(recode)
        tables[table], files[table] = df, file
    meta = {"source": str(path), "licence": spec.get("licence", "user data"),
            "checksums": _checksums(files)}
    kind = overrides.pop("kind", spec.get("kind", "contractual"))
    inactivity = overrides.pop("inactivity_days",
                               spec.get("inactivity_days", DEFAULT_INACTIVITY_DAYS))
    records_start = overrides.pop("records_start", spec.get("records_start"))
    obs = observation_end or spec.get("observation_end")
    return _assemble(tables, observation_end=obs, kind=kind, inactivity_days=inactivity,
                     records_start=records_start, meta=meta)


def _assemble(tables: dict[str, pd.DataFrame], *, observation_end, kind: str,
              inactivity_days: int, meta: dict[str, Any],
              records_start=None) -> ChurnData:
    if kind not in KINDS:
        raise ChurnDataError(f"unknown kind {kind!r}.", fix=f"use one of {KINDS}.")
    customers = tables.get("customers")
    if customers is not None and "end_date" not in customers and kind == "non-contractual":
        customers = customers.assign(end_date=pd.NaT)
        tables["customers"] = customers
    data = ChurnData(**{t: tables.get(t) for t in TABLES}, kind=kind, meta=meta,
                     observation_end=pd.Timestamp(observation_end) if observation_end else None,
                     inactivity_days=inactivity_days, records_start=records_start)
    data = _coerce(data)
    if data.observation_end is None:
        data.observation_end = latest_date(data)
    if kind == "non-contractual" and data.has("transactions") and data.customers["end_date"].isna().all():
        data.customers = infer_end_dates(
            data.customers, data.transactions, observation_end=data.observation_end,
            inactivity_days=inactivity_days)
        data.meta["churn_definition"] = f"no purchase for more than {inactivity_days} days (inferred)"
    return validate(data)
