"""Validation of a :class:`~churn_research.model.ChurnData` against the data model: required
columns, types, dates and cross-table checks, each failure a :class:`ChurnDataError` naming the
table, the column, a few offending rows and the fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.model import (
    KINDS,
    TABLES,
    ChurnData,
    ChurnDataError,
    offending_rows,
)
from churn_research.personal import key_problem, screen
from churn_research.sources.dates import parse_dates
from churn_research.sources.vocabulary import VOCABULARY

#: Required columns per table (the data model; README, "Your own data").
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "start_date", "end_date"),
    "transactions": ("customer_id", "date", "amount"),
    "tickets": ("customer_id", "date", "kind"),
    "surveys": ("customer_id", "date"),
    "events": ("date", "name"),
    "campaigns": ("customer_id", "date", "campaign", "treated"),
}
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("start_date", "end_date"),
    "transactions": ("date",),
    "tickets": ("date",),
    "surveys": ("date",),
    "events": ("date",),
    "campaigns": ("date",),
}
#: Numeric columns of the data model (parsed from text; optional ones where present).
NUMERIC_COLUMNS = ("amount", "csat", "nps", "age", "monthly_revenue", "quantity", "margin",
                   "resolution_days", "tenure_months", "monthly_charges", "total_charges", "cost")


# ----------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------
def _arrow_text(x):
    """The Arrow array behind a Series or array of pandas' Arrow-backed text, else None."""
    import pyarrow as pa  # noqa: PLC0415

    arr = getattr(getattr(x, "array", x), "_pa_array", None)
    if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    return None


def isin(s: pd.Series, values) -> np.ndarray:
    """``s.isin(values)`` as a boolean array. Arrow-backed text in both: looked up by Arrow
    itself (pandas turns each of ``values`` into a Python object first: 30 s and ~0.5 GB for
    the campaigns against 10^6 customer ids)."""
    arr = _arrow_text(s)
    other = None if arr is None else _arrow_text(values)
    if other is None:
        return np.asarray(s.isin(values), dtype=bool)
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    value_set = pa.chunked_array(other).cast(arr.type).combine_chunks()
    return np.asarray(pc.is_in(arr, value_set=value_set).fill_null(False), dtype=bool)


def per_value(s: pd.Series, test) -> np.ndarray:
    """``s.map(test)`` as a boolean array (missing values: False), ``test`` called once per
    distinct value, a chunk of them at a time: a column of 10^7 ids never becomes a Python
    string per row."""
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    hit = np.zeros(len(uniq) + 1, dtype=bool)  # code -1 (missing) takes the last slot
    for start in range(0, len(uniq), _CHUNK):
        chunk = uniq[start:start + _CHUNK]
        hit[start:start + len(chunk)] = [bool(test(v)) for v in chunk]
    return hit[codes]


#: Distinct values turned into Python objects at a time (:func:`per_value`).
_CHUNK = 100_000


def _ids(df: pd.DataFrame, mask, n: int = 5) -> list:
    """A few offending rows (see :func:`churn_research.model.offending_rows`)."""
    return offending_rows(df, mask, n)


# The messages of the checks, one home for the pandas path (below) and the engine path
# (:mod:`churn_research.sources.tables`, which counts the same rows with SQL aggregates).
def missing_column_error(table: str, column: str, found: list) -> ChurnDataError:
    return ChurnDataError(f"required column '{column}' is missing (found: {found[:12]}).",
                          table=table, column=column,
                          fix=f"add the column or map your header onto '{column}' in the YAML "
                              "mapping.")


def empty_id_error(table: str, rows: list) -> ChurnDataError:
    return ChurnDataError("customer_id is empty.", table=table, column="customer_id", rows=rows,
                          fix="every row needs a customer_id.")


def non_numeric_error(table: str, column: str, examples: list, rows: list) -> ChurnDataError:
    return ChurnDataError(f"non-numeric values such as {examples}.", table=table, column=column,
                          rows=rows, fix="remove currency symbols/thousand separators or fix "
                                         "the rows.")


def range_error(table: str, column: str, n: int, examples: list, rows: list) -> ChurnDataError:
    """Values outside :data:`RANGES` (or a duplicate customer_id) in ``n`` rows."""
    return ChurnDataError(
        f"{_WHAT.get((table, column), 'invalid values')} in {n} row(s), e.g. {examples}.",
        table=table, column=column, rows=rows,
        fix=_FIXES.get((table, column), "fix the listed rows."))


def unknown_customers_error(table: str, n: int, rows: list) -> ChurnDataError:
    return ChurnDataError(f"{n} row(s) refer to customers not in the customers table.",
                          table=table, column="customer_id", rows=rows,
                          fix="add those customers to the customers table or drop their rows.")


def late_dates_error(table: str, column: str, n: int, obs, rows: list) -> ChurnDataError:
    return ChurnDataError(f"{n} date(s) after observation_end {pd.Timestamp(obs).date()}.",
                          table=table, column=column, rows=rows,
                          fix="pass a later observation_end, or drop rows dated after the "
                              "snapshot.")


def total_row_error(table: str, n: int, example: str, rows: list) -> ChurnDataError:
    return ChurnDataError(
        f"{n} row(s) have customer_id {example!r}: a spreadsheet's summary row, not a "
        "customer.", table=table, column="customer_id", rows=rows,
        fix="delete the total/summary row(s) from the export (or export the table without "
            "them).")


def _check_columns(data: ChurnData) -> None:
    if data.customers is None:
        raise ChurnDataError("the customers table is required.", table="customers",
                             fix="provide customers with customer_id, start_date, end_date.")
    for table, df in data.tables().items():
        missing = [c for c in REQUIRED[table] if c not in df.columns]
        if missing:
            raise missing_column_error(table, missing[0], list(df.columns))
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
                raise empty_id_error(table, _ids(df, df["customer_id"].isna()))
            if not (pd.api.types.is_string_dtype(df["customer_id"])
                    or isinstance(df["customer_id"].dtype, pd.CategoricalDtype)):
                df["customer_id"] = df["customer_id"].astype(str)
        for col in DATE_COLUMNS[table]:
            if col not in df or pd.api.types.is_datetime64_any_dtype(df[col]):
                continue
            df[col] = parse_dates(df[col], table=table, column=col, frame=df)
        for col in NUMERIC_COLUMNS:
            if col in df and not pd.api.types.is_numeric_dtype(df[col]):
                num = pd.to_numeric(df[col], errors="coerce")
                bad = df[col].notna() & num.isna()
                if bad.any():
                    raise non_numeric_error(table, col, df[col][bad].astype(str).tolist()[:3],
                                            _ids(df, bad))
                df[col] = num
        out[table] = df
    return data.replace(**{t: out.get(t) for t in TABLES})


#: Value ranges of numeric columns, ``(table, column): (low, high, nullable)`` (``None``: no
#: bound). One home for the pandas path (pandera schemas) and the engine path
#: (:mod:`churn_research.sources.tables`, SQL aggregates).
RANGES: dict[tuple[str, str], tuple[float | None, float | None, bool]] = {
    ("transactions", "amount"): (0, None, False),
    ("surveys", "csat"): (1, 5, True),
    ("surveys", "nps"): (0, 10, True),
}


def _range_check(low, high):
    import pandera.pandas as pa  # noqa: PLC0415 - only when data are validated (00_data)

    return pa.Check.ge(low) if high is None else pa.Check.in_range(low, high)


def _schemas():
    import pandera.pandas as pa  # noqa: PLC0415 - only when data are validated (00_data)

    schemas = {"customers": {"customer_id": pa.Column(unique=True)}}
    for (table, col), (low, high, nullable) in RANGES.items():
        schemas.setdefault(table, {})[col] = pa.Column(
            float, _range_check(low, high), nullable=nullable, coerce=True,
            required=not nullable)
    return {t: pa.DataFrameSchema(cols, strict=False) for t, cols in schemas.items()}


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
    transactions / tickets / surveys / campaigns for unknown customers; no date after
    ``observation_end``; the campaigns table's own rules (:func:`check_campaigns`).
    Column-level rules use pandera schemas; cross-table rules are checked here.

    First of all, personal data are removed (:func:`screen_personal`), so that no later
    check, error message or written file can show them.
    """
    if data.kind not in KINDS:
        raise ChurnDataError(f"unknown kind {data.kind!r}.", fix=f"use one of {KINDS}.")
    data = screen_personal(data)
    data = _coerce(data)
    if data.observation_end is None:
        data.observation_end = latest_date(data)
    obs = pd.Timestamp(data.observation_end)
    import pandera.pandas as pa  # noqa: PLC0415 - not imported by the analysis stages (0.6 s)

    for table, schema in _schemas().items():
        df = getattr(data, table)
        if df is None:
            continue
        try:
            # on a shallow copy (pandera's own copy is a deep one: 10^7 customers twice)
            df = schema.validate(df.copy(deep=False), lazy=True, inplace=True)
        except pa.errors.SchemaErrors as err:
            fc = err.failure_cases
            col = fc["column"].dropna().iloc[0] if fc["column"].notna().any() else None
            idx = fc.loc[fc["column"] == col, "index"].dropna().astype(int).unique()
            mask = np.zeros(len(df), dtype=bool)
            mask[np.searchsorted(df.index.to_numpy(), idx)] = True
            if col == "amount":
                mask |= df["amount"].isna().to_numpy()
            raise range_error(
                table, col, int(mask.sum()),
                fc.loc[fc['column'] == col, 'failure_case'].astype(str).unique()[:3].tolist(),
                _ids(df, mask)) from None
        setattr(data, table, df)
    c = data.customers
    before = c["end_date"].notna() & (c["end_date"] < c["start_date"])
    if before.any():
        raise ChurnDataError("end_date before start_date.", table="customers", column="end_date",
                             rows=_ids(c, before),
                             fix="correct the dates (swapped columns?) or drop the rows.")
    known = c["customer_id"].unique()
    for table in ("transactions", "tickets", "surveys", "campaigns"):
        df = getattr(data, table)
        if df is None:
            continue
        unknown = ~isin(df["customer_id"], known)
        if unknown.any():
            raise unknown_customers_error(table, int(unknown.sum()), _ids(df, unknown))
    for table, df in data.tables().items():
        for col in DATE_COLUMNS[table]:
            if col not in df:
                continue
            late = df[col] > obs
            if late.any():
                raise late_dates_error(table, col, int(late.sum()), obs, _ids(df, late))
    if data.campaigns is not None:
        data.campaigns = check_campaigns(data.campaigns, data.customers,
                                         records_start=data.records_start)
    return data


def check_campaigns(campaigns: pd.DataFrame, customers: pd.DataFrame, *,
                    records_start=None) -> pd.DataFrame:
    """The ``campaigns`` table checked (after the generic checks: required columns, known
    customers, no date after ``observation_end``), with ``treated`` as 0/1 (``int8``).

    Raises :class:`ChurnDataError` for a ``treated`` value that is not 0/1 (or yes/no) or
    missing, a campaign date before the records begin (``records_start``, else the earliest
    ``start_date``: the data could not show whom the campaign kept), a negative or
    non-numeric ``cost``, an empty campaign name, and a customer listed twice in one campaign.
    """
    df = campaigns.copy(deep=False)
    raw = df["treated"]
    if pd.api.types.is_bool_dtype(raw) or str(raw.dtype) == "boolean":
        num = raw.astype("Float64").astype(float)
    else:
        num = pd.to_numeric(raw, errors="coerce")
    bad = ~np.isin(num.to_numpy(dtype=float, na_value=np.nan), (0.0, 1.0))
    if bad.any():
        shown = raw[bad].astype(str).unique()[:3].tolist()
        raise ChurnDataError(
            f"treated must be 1 (contacted) or 0 (control, held out) in every row; "
            f"{int(bad.sum())} row(s) hold {shown}.", table="campaigns", column="treated",
            rows=_ids(df, bad),
            fix="write 1 for a customer the campaign contacted and 0 for one held out as "
                "control (是/否 and yes/no are read too), or map your codes with "
                "`values: {campaigns.treated: {...: true}}`.")
    df["treated"] = num.astype(np.int8)
    name = df["campaign"]
    empty = (name.isna() | name.astype(str).str.strip().eq("")).to_numpy()
    if empty.any():
        raise ChurnDataError(f"{int(empty.sum())} row(s) have no campaign name.",
                             table="campaigns", column="campaign", rows=_ids(df, empty),
                             fix="name the campaign each row belongs to (one name per campaign).")
    if df["date"].isna().any():
        missing = df["date"].isna().to_numpy()
        raise ChurnDataError(f"{int(missing.sum())} row(s) have no date.", table="campaigns",
                             column="date", rows=_ids(df, missing),
                             fix="give every row the date the customer was contacted (or, for "
                                 "the control group, the campaign's date).")
    begin = (pd.Timestamp(records_start) if records_start is not None
             else pd.to_datetime(customers["start_date"]).min())
    early = (df["date"] < begin).to_numpy()
    if early.any():
        raise ChurnDataError(
            f"{int(early.sum())} campaign date(s) before the records begin ({begin.date()}); "
            "the data cannot show whom such a campaign kept.", table="campaigns", column="date",
            rows=_ids(df, early),
            fix="correct the dates, or drop the campaigns run before the records begin.")
    if "cost" in df:
        negative = (df["cost"] < 0).to_numpy()
        if negative.any():
            raise ChurnDataError(f"{int(negative.sum())} negative cost(s).", table="campaigns",
                                 column="cost", rows=_ids(df, negative),
                                 fix="cost is what contacting the customer cost (>= 0); leave "
                                     "it empty when unknown.")
    twice = df.duplicated(["campaign", "customer_id"], keep="first").to_numpy()
    if twice.any():
        raise ChurnDataError(
            f"{int(twice.sum())} customer(s) appear more than once in the same campaign.",
            table="campaigns", column="customer_id", rows=_ids(df, twice),
            fix="keep one row per customer and campaign (the contact date, treated 1/0).")
    return df


def screen_personal(data: ChurnData) -> ChurnData:
    """``data`` without personal columns, free-text churn reasons reduced to ``"other"``, and
    the decisions recorded in ``meta["personal_data"]`` (:func:`churn_research.personal.screen`;
    raises :class:`ChurnDataError` for a customer_id that looks like phone numbers).

    A customer_id that looks like phone numbers, e-mails or ID numbers is refused rather than
    hashed: a hash of a phone number with a salt kept in the project can be reversed by trying
    every number, and one kept outside it is the user's to manage; the fix says how."""
    if data.customers is not None and "customer_id" in data.customers:
        problem = key_problem(data.customers["customer_id"])
        if problem:
            what, n, of = problem
            raise ChurnDataError(
                f"{n} of {of} customer ids checked look like {what}; a customer id appears in "
                "every report that lists customers (the 40_segments watchlist), so it must not "
                "be personal data.", table="customers", column="customer_id",
                fix="map the CRM's own customer number onto customer_id (the `columns:` of the "
                    "YAML mapping), or replace the phone numbers by pseudonyms before loading "
                    "(e.g. a salted hash whose salt stays outside the project).")
    tables, record = screen(data.tables(), churn_categories=VOCABULARY["churn_reason"],
                            record=data.meta.get("personal_data"))
    meta = {**data.meta, "personal_data": record}
    return data.replace(**{t: tables.get(t) for t in TABLES}, meta=meta)


def latest_date(data: ChurnData) -> pd.Timestamp:
    """The latest date in any table (the default ``observation_end`` of user files)."""
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
# checks of a user's files (the packaged sources are known to pass them)
# ----------------------------------------------------------------------------------------
#: customer_id values that are a spreadsheet's summary row, not a customer (lower case).
TOTAL_LABELS = frozenset({"total", "totals", "grand total", "sum", "subtotal", "sub-total",
                          "合计", "总计", "小计", "共计", "总和", "汇总"})
#: What Arrow's regex lets through to :func:`_is_total`: a label in any case between blanks,
#: separators or control characters (a superset of Python's ``strip``; case folding covers
#: ``lower``).
_TOTAL_PATTERN = ("(?i)^[\\s\\p{Z}\\p{C}]*(?:"
                  + "|".join(sorted(label.replace("-", "\\-") for label in TOTAL_LABELS))
                  + ")[\\s\\p{Z}\\p{C}]*$")
#: A latest date this much beyond the rest of the data is taken as a typo (unless
#: ``observation_end`` is given): at least a year, and at least half the span of the rest.
FAR_GAP_DAYS = 365


def _is_total(value) -> bool:
    return str(value).strip().lower() in TOTAL_LABELS


def _total_rows(ids: pd.Series) -> np.ndarray:
    """Rows whose customer_id is a summary row's label (:data:`TOTAL_LABELS`, ignoring case
    and surrounding blanks). Arrow-backed text is narrowed by Arrow to the ids that could be
    one (a label between any blanks or control characters, any case) first, so that only
    those are judged in Python: 10^7 ids are never each a Python string."""
    arr = _arrow_text(ids)
    if arr is None:
        return per_value(ids, _is_total)
    import pyarrow.compute as pc  # noqa: PLC0415

    maybe = np.asarray(pc.match_substring_regex(arr, _TOTAL_PATTERN).fill_null(False), dtype=bool)
    out = np.zeros(len(ids), dtype=bool)
    if maybe.any():
        rows = np.flatnonzero(maybe)
        out[rows] = per_value(ids.iloc[rows], _is_total)
    return out


def check_rows(data: ChurnData) -> None:
    """Refuse rows a user's export holds by mistake (before :func:`validate`): a spreadsheet's
    "Total" row taken as a customer (or as a customer's transaction), and customers without a
    start date."""
    for table, df in data.tables().items():
        if "customer_id" not in df:
            continue
        total = _total_rows(df["customer_id"])
        if total.any():
            raise total_row_error(table, int(total.sum()),
                                  df['customer_id'][total].astype(str).iloc[0], _ids(df, total))
    c = data.customers
    if c is not None and "start_date" in c:
        missing = c["start_date"].isna().to_numpy()
        if missing.any():
            raise ChurnDataError(
                f"{int(missing.sum())} of {len(c)} customer(s) have no start_date; every churn "
                "rate and survival curve counts from it.", table="customers",
                column="start_date", rows=_ids(c, missing),
                fix="fill in the start dates from the source system, or drop those customers "
                    "from the export.")


def check_far_dates(data: ChurnData) -> None:
    """Refuse a latest date far beyond the bulk of the data (a typo such as 2052 for 2025 would
    otherwise become the observation end) when ``observation_end`` is not given."""
    if data.observation_end is not None:
        return
    found = [(t, c, df[c]) for t, df in data.tables().items() for c in DATE_COLUMNS[t]
             if c in df and df[c].notna().any()]
    if not found:
        return
    days = pd.Series(np.sort(pd.concat([s.dropna() for *_x, s in found]).unique()))
    gaps = days.diff().dt.days
    # the latest gap past which only a few dates lie (at most 1% of the distinct dates, 1..20)
    tail = max(1, min(20, len(days) // 100))
    for pos in range(len(days) - 1, max(len(days) - 1 - tail, 0), -1):
        span = (days.iloc[pos - 1] - days.iloc[0]).days
        if gaps.iloc[pos] > max(FAR_GAP_DAYS, span / 2):
            cut = days.iloc[pos]
            for table, col, s in found:
                late = (s >= cut).fillna(False).to_numpy()
                if late.any():
                    df = getattr(data, table)
                    raise ChurnDataError(
                        f"{int(late.sum())} date(s) from {cut.date()} lie {int(gaps.iloc[pos])} "
                        f"days beyond every other date in the data (which end on "
                        f"{days.iloc[pos - 1].date()}); the latest date would become the "
                        "observation end.", table=table, column=col, rows=_ids(df, late),
                        fix="correct the mistyped date(s), or set `observation_end:` in the "
                            "mapping file (dates after it are then refused row by row).")
    return


def check_kind(data: ChurnData) -> None:
    """Non-contractual data need transactions (churn is inferred from them) and no end dates of
    their own (the reports say churn was inferred)."""
    if data.kind != "non-contractual":
        return
    if not data.has("transactions"):
        raise ChurnDataError(
            "kind is non-contractual (churn inferred from inactivity) but there are no "
            "transactions to infer it from; every customer would count as active (0% churn).",
            table="transactions", column="date",
            fix="add the transactions file (customer_id, date, amount), or set `kind: "
                "contractual` if customers.end_date records who left.")
    c = data.customers
    ends = c["end_date"].notna().to_numpy() if "end_date" in c else np.zeros(len(c), bool)
    if ends.any():
        raise ChurnDataError(
            f"kind is non-contractual (churn inferred from {data.inactivity_days} days of "
            f"inactivity) but {int(ends.sum())} customer(s) have an end_date in the file; the "
            "loader would use those dates while the reports say churn was inferred.",
            table="customers", column="end_date", rows=_ids(c, ends),
            fix="set `kind: contractual` to use the file's end dates, or map the end date "
                "column to null (`columns: ...: null`) to have churn inferred from inactivity.")


def transaction_warnings(data: ChurnData) -> list[dict]:
    """Transactions dated before their customer's start or after their end: usable data, stated
    in 00_data (``meta["warnings"]``: table, column, rows, what)."""
    if not data.has("transactions"):
        return []
    c = data.customers.set_index("customer_id")
    tx = data.transactions
    start = tx["customer_id"].map(c["start_date"])
    end = tx["customer_id"].map(c["end_date"])
    out = []
    before = int((tx["date"] < start.dt.normalize()).sum())
    if before:
        out.append({"table": "transactions", "column": "date", "rows": before,
                    "what": "before the customer's start_date"})
    after = int((tx["date"] > end + pd.Timedelta(days=1)).sum())
    if after and data.kind == "contractual":
        out.append({"table": "transactions", "column": "date", "rows": after,
                    "what": "after the customer's end_date"})
    return out
