"""Profiles of a :class:`~churn_research.data.ChurnData` for the 00_data report.

Nothing here returns personal data: the loaders dropped personal columns before validation
(:func:`churn_research.personal.screen`); their names and the reasons are only listed.
"""

from __future__ import annotations

import pandas as pd

from churn_research.i18n import _, label, t
from churn_research.model import TABLES, ChurnData
from churn_research.personal import header_reason
from churn_research.sources.engine import duckdb_config
from churn_research.sources.validate import DATE_COLUMNS
from churn_research.wording import month_year, sentences


def personal_dropped(data: ChurnData) -> pd.DataFrame:
    """The columns dropped as personal data, one row each: ``table``, ``column``, ``reason``
    (one of :data:`churn_research.personal.REASONS`) and ``found_by`` (``header`` or
    ``values``): the loaders' record (``meta["personal_data"]``); for data that did not pass
    through a loader, the columns whose header marks them as personal (names only, never
    values)."""
    record = (data.meta or {}).get("personal_data")
    if record is not None:
        rows = list(record.get("dropped", []))
    else:
        rows = [{"table": name, "column": str(c), "reason": reason, "found_by": "header"}
                for name, df in data.tables().items() for c in df.columns
                if (reason := header_reason(name, c)) is not None]
    return pd.DataFrame(rows, columns=["table", "column", "reason", "found_by"])


def personal_columns(data: ChurnData) -> dict[str, list[str]]:
    """Personal-data columns dropped per table (names only, never values)."""
    out: dict[str, list[str]] = {}
    for row in personal_dropped(data).itertuples(index=False):
        out.setdefault(row.table, []).append(row.column)
    return out


def churn_reasons_reduced(data: ChurnData) -> dict[str, int]:
    """How many free-text churn reasons the loaders reduced to "other" (rows, distinct values)."""
    record = (data.meta or {}).get("personal_data") or {}
    reduced = record.get("churn_reasons_reduced") or {}
    return {"rows": int(reduced.get("rows", 0)), "values": int(reduced.get("values", 0))}


def _reason_texts() -> dict[str, str]:
    """The reasons of :data:`churn_research.personal.REASONS` as a reader reads them."""
    return {"names": _("names"), "phone numbers": _("phone numbers"),
            "e-mail addresses": _("e-mail addresses"), "postal addresses": _("postal addresses"),
            "ID numbers": _("ID numbers"), "messaging accounts": _("messaging accounts"),
            "contact details": _("contact details"), "employee names": _("employee names"),
            "free text": _("free text"), "birth dates": _("birth dates"),
            "bank details": _("bank details"), "locations": _("locations")}


def personal_view(dropped: pd.DataFrame):
    """:func:`personal_dropped` as the report shows it: table, column and why it was dropped
    (what it holds, recognised by its name or found in its values), in the report language
    (a Styler)."""
    texts = _reason_texts()

    def why(row) -> str:
        what = texts.get(row["reason"], row["reason"])
        if row["found_by"] == "values":
            return t("{what}, found in its values", what=what)
        return t("{what}, recognised by its name", what=what)

    headers = {"table": _("table"), "column": _("column"), "why": _("why it was dropped")}
    view = pd.DataFrame({"table": dropped["table"].map(label), "column": dropped["column"].map(label),
                         "why": [why(r) for _i, r in dropped.iterrows()]})
    return view.rename(columns=headers).style.hide(axis="index")


def _frame_stats(name: str, df: pd.DataFrame) -> dict:
    """:func:`table_stats` of a table in memory."""
    ranges = {c: (df[c].min(), df[c].max()) for c in DATE_COLUMNS[name]
              if c in df and df[c].notna().any()}
    return {"rows": len(df),
            "customers": int(df["customer_id"].nunique()) if "customer_id" in df else None,
            **_first_last(ranges), "ranges": ranges,
            "missing": {str(c): int(df[c].isna().sum()) for c in df.columns}}


def _first_last(ranges: dict) -> dict:
    return {"first": min((lo for lo, _hi in ranges.values()), default=pd.NaT),
            "last": max((hi for _lo, hi in ranges.values()), default=pd.NaT)}


def _file_stats(name: str, path) -> dict:
    """:func:`table_stats` of a Parquet file, aggregated by DuckDB where it lies (a table of
    10^8 rows never reaches memory). A float NaN counts as missing, as in pandas."""
    import duckdb  # noqa: PLC0415 - only for tables left on disk
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    schema = pq.read_schema(path)

    def col(c) -> str:  # a quoted SQL identifier
        return '"' + str(c).replace('"', '""') + '"'

    dates = [c for c in DATE_COLUMNS[name] if c in schema.names]
    exprs = ["count(*)", f"count(DISTINCT {col('customer_id')})" if "customer_id" in schema.names
             else "NULL"]
    exprs += [f"{fn}({col(c)})" for c in dates for fn in ("min", "max")]
    for f in schema:
        nan = f" OR isnan({col(f.name)})" if pa.types.is_floating(f.type) else ""
        exprs.append(f"count_if({col(f.name)} IS NULL{nan})")
    with duckdb.connect(config=duckdb_config()) as con:
        row = con.execute(f"SELECT {', '.join(exprs)} FROM read_parquet(?)", [str(path)]).fetchone()
    n, customers = int(row[0]), row[1]
    ranges = {c: (pd.Timestamp(row[2 + 2 * i]), pd.Timestamp(row[3 + 2 * i]))
              for i, c in enumerate(dates) if row[2 + 2 * i] is not None}
    return {"rows": n, "customers": None if customers is None else int(customers),
            **_first_last(ranges), "ranges": ranges,
            "missing": {f.name: int(v) for f, v in zip(schema, row[2 + 2 * len(dates):], strict=True)}}


def table_stats(data: ChurnData) -> dict[str, dict]:
    """Per present table: ``rows``, distinct ``customers``, ``first`` / ``last`` date of its
    date columns and ``missing`` values per column: from the frame, or, for a table still on
    disk (an engine source, processed data), by DuckDB over its Parquet file (same numbers,
    tested), so that 00_data profiles 10^8 transactions without reading them."""
    out = {}
    for name in TABLES:
        path = data.unread_path(name)
        if path is not None:
            out[name] = _file_stats(name, path)
        elif (df := getattr(data, name)) is not None:
            out[name] = _frame_stats(name, df)
    return out


def table_profile(data: ChurnData, stats: dict[str, dict] | None = None) -> pd.DataFrame:
    """One row per table: rows, columns, customers, date range, share of missing cells
    (``stats``: :func:`table_stats`, computed when not given)."""
    stats = table_stats(data) if stats is None else stats
    rows = []
    for name, st in stats.items():
        visible = [c for c in st["missing"] if header_reason(name, c) is None]
        cells = st["rows"] * len(visible)
        first, last = st["first"], st["last"]
        rows.append({
            "table": name,
            "rows": st["rows"],
            "columns": len(visible),
            "customers": st["customers"],
            "first date": first.date() if pd.notna(first) else None,
            "last date": last.date() if pd.notna(last) else None,
            "missing cells": float(sum(st["missing"][c] for c in visible) / cells) if cells else 0.0,
        })
    return pd.DataFrame(rows)


def table_view(profile: pd.DataFrame):
    """:func:`table_profile` as the report shows it: table names and headers in the report
    language, counts with separators, the missing share as a percentage (a Styler)."""
    headers = {"table": _("table"), "rows": _("rows"), "columns": _("columns"),
               "customers": _("customers"), "first date": _("first date"),
               "last date": _("last date"), "missing cells": _("missing cells")}
    view = profile.assign(table=profile["table"].map(label)).rename(columns=headers)
    return (view.style.format({headers["missing cells"]: "{:.1%}", headers["customers"]: "{:,.0f}",
                               headers["rows"]: "{:,}"}, na_rep="–").hide(axis="index"))


def missingness_view(miss: pd.DataFrame):
    """:func:`missingness` as the report shows it: table and column names and headers in the
    report language, the missing share as a percentage (a Styler)."""
    headers = {"table": _("table"), "column": _("column"), "missing share": _("missing share"),
               "note": _("note")}
    view = miss.assign(table=miss["table"].map(label), column=miss["column"].map(label))
    return (view.rename(columns=headers).style.format({headers["missing share"]: "{:.1%}"})
            .hide(axis="index"))


def data_warnings(data: ChurnData) -> pd.DataFrame:
    """What the loader accepted with a warning (``meta["warnings"]``, e.g. transactions dated
    before their customer's start): ``table``, ``column``, ``rows`` affected, ``what``."""
    rows = list((data.meta or {}).get("warnings") or [])
    return pd.DataFrame(rows, columns=["table", "column", "rows", "what"])


def _warning_texts() -> dict[str, str]:
    """The loaders' warnings (:func:`churn_research.sources.validate.transaction_warnings`) as a
    reader reads them."""
    return {"before the customer's start_date": _("dated before the customer's start date"),
            "after the customer's end_date": _("dated after the customer's end date")}


def warnings_view(warnings: pd.DataFrame):
    """:func:`data_warnings` as the report shows it, in the report language (a Styler)."""
    texts = _warning_texts()
    headers = {"table": _("table"), "column": _("column"), "rows": _("rows affected"),
               "what": _("what")}
    view = warnings.assign(table=warnings["table"].map(label),
                           column=warnings["column"].map(label),
                           what=warnings["what"].map(lambda w: texts.get(w, w)))
    return (view.rename(columns=headers).style.format({headers["rows"]: "{:,}"})
            .hide(axis="index"))


def missingness(data: ChurnData, *, min_share: float = 0.0,
                stats: dict[str, dict] | None = None) -> pd.DataFrame:
    """Share of missing values per table and column (personal columns excluded; ``stats``:
    :func:`table_stats`, computed when not given).

    ``end_date`` is missing by design for customers still active; it is reported as such.
    """
    stats = table_stats(data) if stats is None else stats
    rows = []
    for name, st in stats.items():
        for col, missing in st["missing"].items():
            if header_reason(name, col) is not None:
                continue
            share = float(missing / st["rows"]) if st["rows"] else float("nan")
            if share > min_share:
                note = (_("active customers (censored)") if (name, col) == ("customers", "end_date")
                        else "")
                if (name, col) == ("customers", "churn_reason"):
                    note = _("only churned customers give a reason")
                rows.append({"table": name, "column": col, "missing share": share, "note": note})
    return pd.DataFrame(rows, columns=["table", "column", "missing share", "note"])


def churn_overview(data: ChurnData) -> dict:
    """Headline facts: customers, churned, churned share, observation window, definition."""
    c = data.customers
    churned = int(c["end_date"].notna().sum())
    return {
        "customers": int(len(c)),
        "churned": churned,
        "active": int(len(c) - churned),
        "churned_share": churned / len(c),
        "first_start": c["start_date"].min(),
        "observation_end": data.observation_end,
        "kind": data.kind,
        "churn_definition": data.meta.get(
            "churn_definition",
            "explicit end of contract (end_date)" if data.kind == "contractual"
            else "inferred from inactivity"),
    }


def monthly_flows(data: ChurnData) -> pd.DataFrame:
    """Customers joining, leaving and active at each month end, up to ``observation_end``."""
    c = data.customers
    obs = pd.Timestamp(data.observation_end)
    start = c["start_date"].min().to_period("M")
    months = pd.period_range(start, obs.to_period("M"), freq="M")
    joins = c["start_date"].dt.to_period("M").value_counts().reindex(months, fill_value=0)
    leaves = c["end_date"].dropna().dt.to_period("M").value_counts().reindex(months, fill_value=0)
    active = (joins.cumsum() - leaves.cumsum()).astype(int)
    return pd.DataFrame({"month": months.to_timestamp(), "joined": joins.to_numpy(),
                         "left": leaves.to_numpy(), "active_at_month_end": active.to_numpy()})


def flow_sentence(data: ChurnData, flows: pd.DataFrame) -> str:
    """Average joins and exits per month, over the months in which exits can be observed.

    Before the first recorded exit nobody can be seen to leave (records begin later, or the
    data are one snapshot), and with churn inferred from inactivity the last
    ``inactivity_days`` cannot show exits yet; averaging over those months understates churn.
    """
    left = flows["left"].to_numpy()
    if left.sum() == 0:
        return _("No exits are recorded, so joins and losses cannot be compared.")
    months = pd.to_datetime(flows["month"])
    obs = pd.Timestamp(data.observation_end)
    if data.snapshot is not None:
        last = flows.iloc[-1]
        return t("The data are one snapshot: exits are recorded only for its last month ({n} "
                 "customers left in {month}), so monthly averages of exits over the earlier years "
                 "would be meaningless.", n=f"{int(last['left']):,}", month=month_year(last["month"]))
    first = months[left > 0].min()
    end = obs
    lag = ""
    if data.kind == "non-contractual":
        days = data.inactivity_days
        end = obs - pd.Timedelta(days=days)
        lag = t("Exits are inferred after {days} days without a purchase, so the months after "
                "{month} cannot show exits yet (the flat end of the exit line).", days=days,
                month=month_year(end))
    window = flows[(months >= first) & (months <= end)]
    if window.empty:
        return sentences(_("Too few months with observable exits for a monthly average."), lag)
    return sentences(
        t("From {first} to {last} ({n} months in which exits can be observed) on average {joined} "
          "customers joined and {left} left per month.", first=month_year(window["month"].iloc[0]),
          last=month_year(window["month"].iloc[-1]), n=len(window),
          joined=f"{window['joined'].mean():,.0f}", left=f"{window['left'].mean():,.0f}"),
        lag)


def truncation_note(data: ChurnData, stats: dict[str, dict] | None = None) -> str | None:
    """A caveat when customers started before the first recorded activity (``stats``:
    :func:`table_stats`, computed when not given).

    Such customers are in the data only because they were still customers when records
    began (left truncation): customers who left earlier are missing, so the base before that
    date is understated and survival analyses must use delayed entry.
    """
    stats = table_stats(data) if stats is None else stats
    firsts = [st["ranges"]["date"][0] for name, st in stats.items()
              if name in ("transactions", "tickets", "surveys") and st["rows"]
              and "date" in st["ranges"]]
    if data.records_start is None and not firsts:
        return None
    records_begin = data.records_start if data.records_start is not None else min(firsts)
    early = int((data.customers["start_date"] < records_begin).sum())
    if not early:
        return None
    values = {"n": f"{early:,}", "date": f"{records_begin:%Y-%m-%d}"}
    if data.records_start is not None:
        return t("{n} customers started before records begin ({date}); they are in the data "
                 "because they were still customers then, while customers who left before that "
                 "date are not (left truncation). The base before that date is understated, and the "
                 "survival stage uses delayed entry for these customers.", **values)
    return t("{n} customers started before records begin ({date}); they are in the data because "
             "they were still customers then, while customers who left before that date are not "
             "(left truncation). The base before that date is understated, and the stages can only "
             "correct for it if the data say where the records begin: declare `records_start: "
             "{date}` in the dataset's mapping or `source_options`.", **values)


def tenure_months(data: ChurnData) -> pd.Series:
    """Observed tenure in months (to end_date, or to observation_end for active customers)."""
    c = data.customers
    end = c["end_date"].fillna(pd.Timestamp(data.observation_end))
    return ((end - c["start_date"]).dt.days / 30.4375).rename("tenure_months")


def absent_tables(data: ChurnData) -> list[str]:
    """The optional tables the data do not have."""
    return [t for t in ("transactions", "tickets", "surveys", "events") if not data.has(t)]


def key_figures(data: ChurnData, overview: dict, table_profile: pd.DataFrame, absent: list[str],
                personal: dict[str, list[str]]) -> dict:
    """The key figures of 00_data (flat JSON once saved)."""
    return {
        "source": data.meta.get("source"),
        "kind": data.kind,
        "observation_end": data.observation_end,
        "n_customers": overview["customers"],
        "n_churned": overview["churned"],
        "churned_share": overview["churned_share"],
        "rows": dict(zip(table_profile["table"], table_profile["rows"], strict=True)),
        "tables_absent": absent,
        "personal_columns_dropped": sum(len(v) for v in personal.values()),
        "churn_reasons_reduced": churn_reasons_reduced(data)["rows"],
    }
