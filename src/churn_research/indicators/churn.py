"""Churn and retention per period and segment: :func:`churn_table`, :func:`new_vs_existing`,
:func:`overall_churn`, :func:`pooled_rates`, :func:`latest_period`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn_research.indicators.episodes import customer_spells, uses_episodes
from churn_research.indicators.grid import _flows, _grid, _long, _spell_grid
from churn_research.indicators.window import (
    TENURE_GROUP,
    _as_data,
    _inactivity_days,
    observation_window,
    prepared_customers,
)
from churn_research.model import ChurnData
from churn_research.periods import flow_columns
from churn_research.stats import wilson_ci


# ------------------------------------------------------------------------------------------
# churn and retention
# ------------------------------------------------------------------------------------------
def churn_table(data: ChurnData, *, freq: str = "Q", by: str | Sequence[str] | None = None,
                denominator: str = "exposed", new_tenure_months: int = 12,
                start=None, end=None, inactivity_days: int | None = None,
                lapses: str = "episodes", alpha: float = 0.05) -> pd.DataFrame:
    """Churn and retention per period (and segment), with Wilson confidence intervals.

    See the module docstring for the exact definitions of ``at_risk``, ``new``, ``churned``,
    ``exposed``, the denominators and the observation window.

    Non-contractual data (a purchase log) count **lapse episodes** by default
    (:mod:`~churn_research.indicators.episodes`): every gap of more than ``inactivity_days``
    without a purchase is a lapse, counted in the period of the purchase before it, and a
    customer who buys again *returns* (``returned``) and is at risk again from that purchase on.
    Every period then has the same look-ahead. The counts are of customer spells: in a period
    longer than ``inactivity_days`` a customer can lapse, return and lapse again.

    Parameters
    ----------
    data : ChurnData
        Any dataset; non-contractual data get their churn inferred (:func:`infer_churn`).
    freq : {"M", "Q", "H", "Y"} or a name ("month", "quarter", "half-year", "year")
        Period length (calendar periods).
    by : str or list of str, optional
        Segment columns of ``customers`` (e.g. ``"plan"`` or ``["plan", "region"]``), and/or
        ``"tenure_group"`` for new vs existing customers (新客户 / 老客户).
    denominator : {"exposed", "start"}, default "exposed"
        ``"exposed"``: ``churn_rate = churned / (at_risk + new)`` (customers who join and leave
        in the same period are in numerator and denominator). ``"start"``:
        ``churn_rate = (churned - churned_new) / at_risk`` (losses among those on the books at
        the start; the strict cohort definition).
    new_tenure_months : int, default 12
        Tenure cut-off of the ``tenure_group`` segment: customers with less tenure at a
        period's start are "new".
    start, end : date-like, optional
        Override the observation window (see :func:`observation_window`).
    inactivity_days : int, optional
        Non-contractual data only (default ``data.inactivity_days``).
    lapses : {"episodes", "final"}, default "episodes"
        Non-contractual data only: count every lapse (with returns), or only each customer's
        final lapse (:func:`infer_churn`'s end date; early periods then miss the lapses that
        were followed by a return, so churn drifts upwards over the window).
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per (segment, period): the segment columns, ``period``, ``period_start``,
        ``period_end``, ``days``, ``partial``, ``at_risk``, ``new``, ``returned`` (customers
        who bought again after a lapse; 0 without lapse episodes), ``churned``,
        ``churned_new`` (joined or returned, and left, within the period), ``at_end`` (on the
        books after the period), ``exposed`` (``at_risk + new + returned``), ``numerator``,
        ``denominator``, ``churn_rate``, ``churn_ci_low``, ``churn_ci_high``,
        ``retention_rate``, ``retention_ci_low``, ``retention_ci_high``.
        ``attrs``: ``freq``, ``window``, ``by``, ``denominator``, ``new_tenure_months``,
        ``lapses`` (``"episodes"``, ``"final"`` or ``"end_date"`` for contractual data).

    Examples
    --------
    >>> cust = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "start_date": pd.to_datetime(["2023-06-01", "2023-07-01", "2024-02-10"]),
    ...     "end_date": pd.to_datetime(["2024-02-15", None, "2024-03-01"])})
    >>> d = ChurnData(customers=cust, observation_end=pd.Timestamp("2024-03-31"))
    >>> t = churn_table(d, freq="Q", start="2024-01-01")
    >>> t[["period", "at_risk", "new", "churned", "churned_new", "exposed"]].values.tolist()
    [['2024Q1', 2, 1, 2, 1, 3]]
    """
    if denominator not in ("exposed", "start"):
        raise ValueError(f"denominator must be 'exposed' or 'start', not {denominator!r}.")
    data = _as_data(data)
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    if uses_episodes(data, lapses):
        tx = data.transactions
        spells = customer_spells(grid.customers, tx, observation_end=data.observation_end,
                                 inactivity_days=_inactivity_days(data, inactivity_days),
                                 tx_customer=grid.customer_index(tx["customer_id"], "transactions"))
        f = _flows(_spell_grid(grid, spells), returned=spells.returned)
    else:
        f = _flows(grid)
    out = _long(grid, flow_columns(f, denominator=denominator, alpha=alpha))
    out.attrs["denominator"] = denominator
    out.attrs["new_tenure_months"] = int(new_tenure_months)
    out.attrs["lapses"] = (lapses if data.kind == "non-contractual" and data.has("transactions")
                           else "end_date")
    return out


def new_vs_existing(data: ChurnData, *, freq: str = "Q", new_tenure_months: int = 12,
                    by: str | Sequence[str] | None = None, **options) -> pd.DataFrame:
    """:func:`churn_table` split into new (新客户) and existing (老客户) customers.

    A customer is *new* in a period if their tenure at its start is below
    ``new_tenure_months`` (or they joined during it), else *existing*. ``by`` adds further
    segments; other options go to :func:`churn_table`.
    """
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return churn_table(data, freq=freq, by=[*extra, TENURE_GROUP],
                       new_tenure_months=new_tenure_months, **options)


def overall_churn(data: ChurnData, *, start=None, end=None, inactivity_days: int | None = None,
                  alpha: float = 0.05) -> dict:
    """Churn over the whole observation window.

    ``churn_rate_overall = churned / customers ever observed at risk``, where *customers ever
    observed at risk* are those on the books on the window's first day plus those who joined
    during the window, and *churned* are those of them whose ``end_date`` falls in the window.
    It is the share of all customers seen in the window who were lost in it (not a per-period
    rate; it grows with the window's length). Non-contractual data count each customer's final
    lapse (:func:`infer_churn`: lost for good, no purchase after it up to the snapshot), not
    the lapse episodes of :func:`churn_table`.

    Returns
    -------
    dict
        ``window_start``, ``window_end``, ``customers_at_risk``, ``churned``, ``churn_rate``,
        ``ci_low``, ``ci_high``, ``definition``, ``lapses`` (``"final"`` for non-contractual
        data, ``"end_date"`` otherwise).
    """
    data = _as_data(data)
    cust = prepared_customers(data, inactivity_days=inactivity_days)
    w0, w1 = observation_window(data, start=start, end=end, inactivity_days=inactivity_days)
    s, e = cust["start_date"], cust["end_date"]
    at_risk = (s <= w1) & (e.isna() | (e >= w0))
    churned = at_risk & e.notna() & (e <= w1)
    n, k = int(at_risk.sum()), int(churned.sum())
    lo, hi = wilson_ci(k, n, alpha=alpha)
    final = data.kind == "non-contractual" and data.has("transactions")
    lost = ("customers lost for good in the window (final lapse: no purchase after it up to the "
            "snapshot)" if final else "customers lost in the window")
    return {
        "window_start": w0, "window_end": w1, "customers_at_risk": n, "churned": k,
        "churn_rate": k / n if n else float("nan"), "ci_low": float(lo), "ci_high": float(hi),
        "definition": (f"{lost} / customers ever observed at risk in it "
                       "(on the books at its start or joined during it)"),
        "lapses": "final" if final else "end_date",
    }


def pooled_rates(table: pd.DataFrame, *, by: str | Sequence[str] | None = None,
                 numerator: str = "numerator", denominator: str = "denominator",
                 complete_only: bool = True, alpha: float = 0.05) -> pd.DataFrame:
    """Pool a per-period table over its periods (per segment): ``sum numerator / sum denominator``.

    The pooled churn rate is the average churn per period, weighting each period by the
    customers at risk in it (customer-periods), with a Wilson interval. Partial periods are left
    out unless ``complete_only=False``.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``periods``, ``numerator``, ``denominator``, ``rate``, ``ci_low``,
        ``ci_high``, sorted by ``rate`` (highest first).
    """
    t = table
    if complete_only and "partial" in t and (~t["partial"].astype(bool)).any():
        t = t[~t["partial"].astype(bool)]
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if keys:
        g = t.groupby(keys, dropna=False, sort=True)
        out = g.agg(periods=("period", "nunique"), numerator=(numerator, "sum"),
                    denominator=(denominator, "sum")).reset_index()
    else:
        out = pd.DataFrame({"periods": [t["period"].nunique()], "numerator": [t[numerator].sum()],
                            "denominator": [t[denominator].sum()]})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(out["denominator"] > 0,
                               out["numerator"] / out["denominator"].where(out["denominator"] > 0), np.nan)
    out["ci_low"], out["ci_high"] = wilson_ci(out["numerator"], out["denominator"], alpha=alpha)
    return out.sort_values("rate", ascending=False, ignore_index=True)


def latest_period(table: pd.DataFrame, *, complete: bool = True) -> pd.Series:
    """The last period's row of a one-segment table (the last complete one if ``complete`` and
    there is one)."""
    t = table.sort_values("period_start")
    if complete and "partial" in t and (~t["partial"].astype(bool)).any():
        t = t[~t["partial"].astype(bool)]
    return t.iloc[-1]
