"""Customer experience and revenue per period: complaint rate, satisfaction (CSAT) and
recommendation (NPS), repeat purchases, gross and net revenue retention.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn_research.indicators.grid import (
    _flows,
    _Grid,
    _grid,
    _interval_counts,
    _long,
    _point_counts,
    _unique_keys,
)
from churn_research.indicators.window import _as_data, _ns
from churn_research.model import ChurnData, ChurnDataError
from churn_research.periods import complaint_columns, csat_columns, nps_columns
from churn_research.stats import wilson_ci


# ------------------------------------------------------------------------------------------
# complaints, satisfaction, recommendation, repeat purchases
# ------------------------------------------------------------------------------------------
def _events(grid: _Grid, df: pd.DataFrame, table: str):
    """Customer index, period code and group code of the rows of an event table."""
    if "date" not in df.columns or "customer_id" not in df.columns:
        raise ChurnDataError("needs columns customer_id and date.", table=table,
                             fix="map your export's columns onto these names.")
    idx = grid.customer_index(df["customer_id"], table)
    p = grid.code(_ns(df["date"]))
    ok = (p >= 0) & (p < grid.P)
    idx, p = idx[ok], p[ok]
    return idx, p, grid.event_groups(idx, p), ok


def _require(data: ChurnData, table: str) -> pd.DataFrame:
    if not data.has(table):
        raise ChurnDataError(f"this indicator needs the {table} table, which is absent.",
                             table=table, fix=f"load a source with {table} or skip this indicator.")
    return getattr(data, table)


def complaint_table(data: ChurnData, *, freq: str = "Q", by=None, kinds: Sequence[str] = ("complaint",),
                    new_tenure_months: int = 12, start=None, end=None,
                    inactivity_days: int | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Complaints per period (and segment).

    ``active`` = customers on the books at some time in the period (``at_risk + new`` of
    :func:`churn_table`). ``complaint_rate`` = complaints / active (complaints per active
    customer in the period); ``share_complaining`` = customers with at least one complaint /
    active, with a Wilson interval. A ticket counts as a complaint if ``kind`` is in ``kinds``.
    The segment of a complaint is the customer's segment at the start of the period.
    """
    data = _as_data(data)
    tickets = _require(data, "tickets")
    if "kind" not in tickets.columns:
        raise ChurnDataError("column 'kind' is missing.", table="tickets", column="kind",
                             fix="add the ticket type (complaint, inquiry, ...).")
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    f = _flows(grid)
    active = f["at_risk"] + f["new"]
    comp = tickets.loc[tickets["kind"].astype(str).str.lower().isin([k.lower() for k in kinds])]
    idx, p, g, _ = _events(grid, comp, "tickets")
    G, P = grid.n_groups, grid.P
    complaints = _point_counts(g, p, G, P)
    key = _unique_keys(idx.astype(np.int64) * (P + 1) + p, len(grid.customers) * (P + 1))
    ui, up = key // (P + 1), key % (P + 1)
    complainants = _point_counts(grid.event_groups(ui, up), up, G, P)
    return _long(grid, complaint_columns(active, complaints, complainants, alpha=alpha))


def satisfaction_table(data: ChurnData, *, freq: str = "Q", by=None, satisfied_min: int = 4,
                       new_tenure_months: int = 12, start=None, end=None,
                       inactivity_days: int | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Satisfaction (CSAT) and recommendation (NPS) per period (and segment).

    CSAT (1-5): ``csat`` = mean answer with a t interval; ``share_satisfied`` = share of answers
    ``>= satisfied_min`` (default 4, "satisfied" or "very satisfied") with a Wilson interval.

    NPS (0-10): promoters answer 9-10, passives 7-8, detractors 0-6;
    ``nps = 100 * (promoters - detractors) / responses`` (from -100 to 100) with a normal
    interval using ``var = (p_P + p_D - (p_P - p_D)^2) / n``; ``recommendation_rate`` = share of
    promoters (customers who would recommend us), with a Wilson interval.
    """
    data = _as_data(data)
    surveys = _require(data, "surveys")
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    G, P = grid.n_groups, grid.P
    _, p, g, ok = _events(grid, surveys, "surveys")
    cols: dict[str, np.ndarray] = {}
    if "csat" in surveys.columns:
        x = pd.to_numeric(surveys["csat"], errors="coerce").to_numpy(dtype=float)[ok]
        m = ~np.isnan(x)
        n = _point_counts(g[m], p[m], G, P)
        s1 = _point_counts(g[m], p[m], G, P, weights=x[m])
        s2 = _point_counts(g[m], p[m], G, P, weights=x[m] ** 2)
        sat = _point_counts(g[m], p[m], G, P, weights=(x[m] >= satisfied_min).astype(float))
        cols.update(csat_columns(n, s1, s2, sat, alpha=alpha))
    if "nps" in surveys.columns:
        x = pd.to_numeric(surveys["nps"], errors="coerce").to_numpy(dtype=float)[ok]
        m = ~np.isnan(x)
        n = _point_counts(g[m], p[m], G, P)
        prom = _point_counts(g[m], p[m], G, P, weights=(x[m] >= 9).astype(float))
        det = _point_counts(g[m], p[m], G, P, weights=(x[m] <= 6).astype(float))
        cols.update(nps_columns(n, prom, det, alpha=alpha))
    if not cols:
        raise ChurnDataError("the surveys table has neither 'csat' nor 'nps'.", table="surveys",
                             fix="add a csat (1-5) or nps (0-10) column.")
    return _long(grid, cols)


def _check_recurring(grid: _Grid, recurring_col: str | None) -> None:
    if recurring_col is not None and recurring_col not in grid.customers.columns:
        raise ChurnDataError(f"recurring_col '{recurring_col}' not found.", table="customers",
                             column=recurring_col, fix="name the column holding the recurring "
                             "charge (e.g. monthly_revenue) or pass recurring_col=None.")


def _purchases(data: ChurnData, grid: _Grid, recurring_col: str | None, keep_recurring: bool = False):
    """Transactions as (customer index, period, amount).

    With ``recurring_col``: recurring invoices (amount equal to that column) are dropped, or, if
    ``keep_recurring``, only they are kept.
    """
    _check_recurring(grid, recurring_col)
    tx = _require(data, "transactions")
    idx = grid.customer_index(tx["customer_id"], "transactions")
    keep = np.ones(len(tx), dtype=bool)
    if recurring_col is not None:
        fee = pd.to_numeric(grid.customers[recurring_col], errors="coerce").to_numpy(float)[idx]
        keep = np.isclose(tx["amount"].to_numpy(float), fee, rtol=0, atol=0.005)
        if not keep_recurring:
            keep = ~keep
    p = grid.code(_ns(tx["date"]))
    return idx[keep], p[keep], tx["amount"].to_numpy(float)[keep]


def _engine_counts(tables, grid: _Grid, measure: str, recurring_col: str | None,
                   keep_recurring: bool = False, with_all: bool = False) -> dict[str, pd.DataFrame]:
    """The per-(group, period) sums of ``measure`` computed by engine tables (an object with a
    ``purchase_counts`` method, ``churn_research.sources.engine.Tables``), which read the
    transactions in place, on this grid's customers, groups and periods."""
    _check_recurring(grid, recurring_col)
    cust = pd.DataFrame({"customer_id": grid.customers["customer_id"].array,  # Arrow stays Arrow
                         "group": grid.group, "cs": grid.cs, "ce": grid.ce,
                         "cx": grid.cx if grid.cx is not None else np.full(len(grid.cs), -1)})
    return tables.purchase_counts(customers=cust, table=grid.table, window=grid.window,
                                  measure=measure, recurring_col=recurring_col,
                                  keep_recurring=keep_recurring,
                                  **({"with_all": True} if with_all else {}))


def _cells(frame: pd.DataFrame, col: str, G: int, P: int, dtype) -> np.ndarray:
    """A (group, period) array from an aggregate's rows (``g``, ``p``, ``col``); 0 elsewhere."""
    out = np.zeros((G, P), dtype=dtype)
    out[frame["g"].to_numpy(np.int64), frame["p"].to_numpy(np.int64)] = frame[col].to_numpy(dtype)
    return out


def repeat_purchase_table(data: ChurnData, *, freq: str = "Q", by=None,
                          recurring_col: str | None = None, new_tenure_months: int = 12,
                          start=None, end=None, inactivity_days: int | None = None,
                          alpha: float = 0.05, tables=None) -> pd.DataFrame:
    """Repeat-purchase rate per period (and segment): the loyalty indicator.

    ``buyers_before`` = customers on the books at the start of the period who had bought before
    it (their first recorded purchase is in an earlier period); ``repeat_buyers`` = those of them
    who bought again in the period; ``repeat_purchase_rate = repeat_buyers / buyers_before``
    (Wilson interval). Purchases before the window count as history.

    ``recurring_col`` names a customers column holding a recurring charge (e.g.
    ``monthly_revenue`` for a subscription): transactions of exactly that amount are automatic
    invoices, not purchase decisions, and are ignored (otherwise every subscriber "buys again"
    each month). ``tables``: engine tables that read the transactions (see ``_engine_counts``).
    """
    data = _as_data(data)
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    G, P = grid.n_groups, grid.P
    n = len(grid.customers)
    first = np.full(n, P + 1, dtype=np.int64)
    if tables is not None:
        counts = _engine_counts(tables, grid, "repeat", recurring_col)
        first[counts["first"]["idx"].to_numpy(np.int64)] = counts["first"]["first"].to_numpy(np.int64)
    else:
        idx, p, _ = _purchases(data, grid, recurring_col)
        np.minimum.at(first, idx, p)                   # -1 if before the window
    # customers at risk at the start of p with a purchase in an earlier period
    lo = np.clip(np.maximum(grid.cs + 1, first + 1), 0, P)
    hi = np.clip(grid.ce + 1, 0, P)
    g = grid.group
    if grid.cx is None:
        base = _interval_counts(g, lo, hi, G, P)
    else:
        cx = grid.cx
        base = (_interval_counts(g * 2, lo, np.minimum(hi, np.maximum(cx, lo)), G, P)
                + _interval_counts(g * 2 + 1, np.maximum(lo, np.minimum(cx, hi)), hi, G, P))
    if tables is not None:
        repeat = _cells(counts["repeat"], "n", G, P, np.int64)
        buyers = _cells(counts["buyers"], "n", G, P, np.int64)
    else:
        inwin = (p >= 0) & (p < P)
        key = _unique_keys(idx[inwin].astype(np.int64) * (P + 1) + p[inwin], n * (P + 1))
        ui, up = key // (P + 1), key % (P + 1)
        eligible = (first[ui] < up) & (grid.cs[ui] < up) & (grid.ce[ui] >= up)
        ui, up = ui[eligible], up[eligible]
        repeat = _point_counts(grid.event_groups(ui, up), up, G, P)
        buyers = _point_counts(grid.event_groups(key // (P + 1), key % (P + 1)), key % (P + 1), G, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(base > 0, repeat / np.maximum(base, 1), np.nan)
    lo_ci, hi_ci = wilson_ci(repeat, base, alpha=alpha)
    return _long(grid, {"buyers": buyers, "buyers_before": base, "repeat_buyers": repeat,
                        "repeat_purchase_rate": rate, "repeat_ci_low": lo_ci,
                        "repeat_ci_high": hi_ci})


def _revenue_flows(data: ChurnData, grid: _Grid, recurring_col: str | None):
    """:func:`revenue_retention`'s per-(group, period) sums from the transactions in memory."""
    G, P = grid.n_groups, grid.P
    idx, p, amount = _purchases(data, grid, recurring_col, keep_recurring=True)
    ok = (p >= 0) & (p < P)
    key = idx[ok].astype(np.int64) * (P + 1) + p[ok]
    ukey, inv = _unique_keys(key, len(grid.customers) * (P + 1), inverse=True)
    rev = np.bincount(inv, weights=amount[ok])
    ui, up = ukey // (P + 1), ukey % (P + 1)
    nxt = ukey + 1                                 # same customer, next period
    pos = np.searchsorted(ukey, nxt)
    pos_c = np.minimum(pos, len(ukey) - 1)
    has_next = (pos < len(ukey)) & (ukey[pos_c] == nxt)
    rev_next = np.where(has_next, rev[pos_c], 0.0)
    base = rev > 0
    tgt = up + 1
    sel = base & (tgt < P)
    gg = grid.event_groups(ui[sel], up[sel])     # segment at the start of the base period
    tp = tgt[sel]
    r0, r1 = rev[sel], rev_next[sel]
    starting = _point_counts(gg, tp, G, P, weights=r0)
    churned = _point_counts(gg, tp, G, P, weights=np.where(r1 <= 0, r0, 0.0))
    contraction = _point_counts(gg, tp, G, P, weights=np.where((r1 > 0) & (r1 < r0), r0 - r1, 0.0))
    expansion = _point_counts(gg, tp, G, P, weights=np.maximum(r1 - r0, 0.0))
    base_customers = _point_counts(gg, tp, G, P)
    total = _point_counts(grid.event_groups(ui, up), up, G, P, weights=rev)
    # revenue in p from customers without revenue in p-1
    prev = ukey - 1
    ppos = np.minimum(np.searchsorted(ukey, prev), len(ukey) - 1)
    had_prev = (up > 0) & (ukey[ppos] == prev) & (rev[ppos] > 0)
    new_rev = _point_counts(grid.event_groups(ui, up), up, G, P, weights=np.where(had_prev, 0.0, rev))
    return starting, churned, contraction, expansion, base_customers, total, new_rev


def revenue_retention(data: ChurnData, *, freq: str = "Q", by=None, recurring_col: str | None = None,
                      new_tenure_months: int = 12, start=None, end=None,
                      inactivity_days: int | None = None, tables=None) -> pd.DataFrame:
    """Gross and net revenue retention per period from transactions.

    ``recurring_col`` (e.g. ``monthly_revenue``) restricts revenue to recurring invoices (amount
    equal to that customers column): the subscription (MRR-based) view, in which one-off add-on
    purchases do not blur contraction and expansion. Default: all transaction revenue.

    For period ``p`` the base is every customer with revenue in the previous period ``p-1``
    (``starting_revenue`` = their revenue then). Comparing each base customer's revenue in
    ``p`` with ``p-1``:

    - ``churned_revenue``: revenue of base customers with no revenue in ``p``;
    - ``contraction``: decreases of those still paying; ``expansion``: increases;
    - ``GRR = (starting - churned - contraction) / starting`` = sum of ``min(rev_p, rev_p-1)``
      over the base / starting (at most 1: counts losses only);
    - ``NRR = (starting - churned - contraction + expansion) / starting`` = the base's revenue in
      ``p`` / its revenue in ``p-1`` (can exceed 1). Revenue of customers new in ``p``
      (``new_revenue``) is in neither.

    The first period has no base (NaN). Revenue is summed by period, so with quarters a customer
    who joined mid-quarter shows as "expansion" the next quarter; monthly periods give the usual
    MRR-based figures. A ``partial`` period (cut by the window end) understates revenue; read it
    with care (the plots leave it out). The segment is the customer's at the start of ``p-1``.
    Revenue needs no churn dates, so for non-contractual data the window runs to
    ``observation_end`` (no lapse horizon). ``tables``: engine tables that read the
    transactions (see ``_engine_counts``).
    """
    data = _as_data(data)
    grid = _revenue_grid(data, freq=freq, by=by, start=start, end=end,
                         new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    if tables is not None:
        counts = _engine_counts(tables, grid, "revenue", recurring_col, keep_recurring=True)
        return _revenue_table(grid, *_engine_flows(grid, counts["base"], counts["total"]))
    return _revenue_table(grid, *_revenue_flows(data, grid, recurring_col))


def revenue_retentions(data: ChurnData, *, recurring_col: str | None, freq: str = "Q", by=None,
                       new_tenure_months: int = 12, start=None, end=None,
                       inactivity_days: int | None = None,
                       tables=None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`revenue_retention` of all revenue and, with ``recurring_col``, of the recurring
    invoices only (None without it): the same two tables, which engine ``tables`` count in one
    pass over the transactions."""
    if tables is None or recurring_col is None:
        kw = {"freq": freq, "by": by, "new_tenure_months": new_tenure_months, "start": start,
              "end": end, "inactivity_days": inactivity_days, "tables": tables}
        return (revenue_retention(data, **kw),
                None if recurring_col is None else revenue_retention(data, recurring_col=recurring_col, **kw))
    data = _as_data(data)
    grid = _revenue_grid(data, freq=freq, by=by, start=start, end=end,
                         new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    counts = _engine_counts(tables, grid, "revenue", recurring_col, keep_recurring=True, with_all=True)
    return (_revenue_table(grid, *_engine_flows(grid, counts["base_all"], counts["total_all"])),
            _revenue_table(grid, *_engine_flows(grid, counts["base"], counts["total"])))


def _revenue_grid(data: ChurnData, **options) -> _Grid:
    """The grid of :func:`revenue_retention`: no lapse horizon (revenue needs no churn dates)."""
    return _grid(data, **options, lapse_horizon=False)


def _engine_flows(grid: _Grid, base: pd.DataFrame, total: pd.DataFrame):
    """:func:`_revenue_flows`' arrays from the engine's ``base`` and ``total`` aggregates."""
    G, P = grid.n_groups, grid.P
    starting, churned, contraction, expansion = (
        _cells(base, col, G, P, float) for col in ("starting", "churned", "contraction", "expansion"))
    return (starting, churned, contraction, expansion, _cells(base, "n", G, P, np.int64),
            _cells(total, "revenue", G, P, float), _cells(total, "new_revenue", G, P, float))


def _revenue_table(grid: _Grid, starting, churned, contraction, expansion, base_customers, total,
                   new_rev) -> pd.DataFrame:
    """The long table of :func:`revenue_retention` from its per-(group, period) sums."""
    with np.errstate(divide="ignore", invalid="ignore"):
        grr = np.where(starting > 0, (starting - churned - contraction) / starting, np.nan)
        nrr = np.where(starting > 0, (starting - churned - contraction + expansion) / starting, np.nan)
    return _long(grid, {"revenue": total, "base_customers": base_customers,
                        "starting_revenue": starting, "churned_revenue": churned,
                        "contraction": contraction, "expansion": expansion,
                        "new_revenue": new_rev, "grr": grr, "nrr": nrr})
