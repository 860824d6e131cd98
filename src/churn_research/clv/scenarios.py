"""The cost of churn and what retention is worth: :func:`churn_window` (churn over a window
before the snapshot), :func:`churn_cost_inputs` and :func:`retention_scenarios` ("what if churn
fell by X points"). The value expected to be lost within a horizon is in
:mod:`churn_research.clv.risk`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn_research.model import ChurnDataError, require_columns


# ========================================================================================
# the cost of churn and retention scenarios
# ========================================================================================
def churn_window(customers: pd.DataFrame, *, observation_end, months: int = 12) -> dict:
    """Churn over the ``months`` before the snapshot, and its annual equivalent.

    At risk: customers active at the window start (joined on or before it, no end date by
    then). Lost: those of them whose end date falls in the window. The annual rate is
    ``1 - (1 - rate)^(12 / months)``.

    Returns
    -------
    dict
        ``window_start``, ``window_end``, ``months``, ``at_risk``, ``lost``, ``churn_rate``,
        ``annual_churn_rate``.
    """
    require_columns(customers, "customers", ["start_date", "end_date"], fix="the customers table needs start_date and end_date.")
    obs = pd.Timestamp(observation_end)
    w0 = obs - pd.DateOffset(months=int(months))
    start = pd.to_datetime(customers["start_date"])
    end = pd.to_datetime(customers["end_date"])
    at_risk = (start <= w0) & (end.isna() | (end > w0))
    lost = at_risk & end.notna() & (end <= obs)
    n, k = int(at_risk.sum()), int(lost.sum())
    rate = k / n if n else np.nan
    return {"window_start": w0, "window_end": obs, "months": int(months), "at_risk": n,
            "lost": k, "churn_rate": rate,
            "annual_churn_rate": 1 - (1 - rate) ** (12 / months) if n else np.nan}


def churn_cost_inputs(data, *, months: int = 12, value_col: str = "monthly_revenue") -> dict:
    """Churn and revenue per customer over the last ``months`` before the snapshot.

    The inputs of :func:`churn_cost` and :func:`retention_scenarios`, measured on the data:
    :func:`churn_window` for the churn rate (and its annual equivalent), and the annual
    revenue per customer, from the transactions of the customers who were customers for the
    whole window (annualised), or, without transactions, 12 x the mean of ``value_col`` among
    the customers at risk.

    Parameters
    ----------
    data : ChurnData
    months : int, default 12
        Window length (a snapshot such as IBM Telco, whose churn flag covers one month, needs 1).
    value_col : str, default "monthly_revenue"
        Revenue per month, used when there are no transactions.

    Returns
    -------
    dict
        The keys of :func:`churn_window` plus ``annual_revenue_per_customer``,
        ``revenue_source`` ("transactions" or the column name) and ``active`` (the customers
        still customers at the observation end: the base a retention scenario projects).

    Notes
    -----
    With churn inferred from inactivity (non-contractual data) a lapse is dated at the last
    purchase and only seen ``inactivity_days`` later, so no exit after ``observation_end -
    inactivity_days`` can be observed: the window ends there, not at the observation end (a
    window reaching the observation end would hold months without visible exits and understate
    churn).
    """
    cust = data.customers
    window_end = pd.Timestamp(data.observation_end)
    if data.kind == "non-contractual":
        window_end = window_end - pd.Timedelta(days=data.inactivity_days)
    win = churn_window(cust, observation_end=window_end, months=months)
    start = pd.to_datetime(cust["start_date"])
    end = pd.to_datetime(cust["end_date"])
    w0, w1 = win["window_start"], win["window_end"]
    at_risk = (start <= w0) & (end.isna() | (end > w0))
    stayed = at_risk & (end.isna() | (end > w1))
    if data.has("transactions") and stayed.any():
        tx = data.transactions
        dates = pd.to_datetime(tx["date"])
        sel = (dates > w0) & (dates <= w1) & tx["customer_id"].isin(cust.loc[stayed, "customer_id"])
        revenue = float(tx.loc[sel, "amount"].sum()) / int(stayed.sum()) * 12.0 / months
        source = "transactions"
    elif value_col in cust.columns and at_risk.any():
        revenue = 12.0 * float(cust.loc[at_risk, value_col].mean())
        source = value_col
    else:
        raise ChurnDataError("no revenue information: neither transactions nor a revenue column.",
                             table="customers", column=value_col,
                             fix="load the transactions or name the monthly revenue column "
                                 "with value_col=.")
    obs = pd.Timestamp(data.observation_end)
    active = int(((start <= obs) & (end.isna() | (end > obs))).sum())
    return {**win, "annual_revenue_per_customer": revenue, "revenue_source": source,
            "active": active}


def default_calibration_end(transactions: pd.DataFrame, observation_end) -> pd.Timestamp:
    """Midpoint between the first transaction and ``observation_end`` (calibration / holdout)."""
    first = pd.to_datetime(transactions["date"]).min()
    obs = pd.Timestamp(observation_end)
    return (first + (obs - first) / 2).normalize()


def retention_scenarios(customers: float, churn_rate: float, revenue_per_customer: float,
                        margin: float, *, reductions: Sequence[float] = (0.01, 0.02, 0.05),
                        horizon: int = 3, discount_rate: float = 0.0) -> pd.DataFrame:
    """Revenue and profit over a horizon if churn fell by some points.

    A closed base of ``customers`` loses ``churn_rate`` of its members every period (year);
    the customers still there at the end of period t pay ``revenue_per_customer`` for it
    (the convention of :func:`churn_cost`, so that a one-period horizon reproduces its lost
    revenue), discounted by ``(1 + discount_rate)^-t``. New customers are left out: the
    scenarios value *retention*, not acquisition.

    Parameters
    ----------
    customers, churn_rate, revenue_per_customer, margin : float
        Current base, churn per period, revenue per customer per period, profit margin.
    reductions : sequence of float, default (0.01, 0.02, 0.05)
        Cuts in the churn rate, in points (0.05 = five percentage points).
    horizon : int, default 3
        Periods (years) to project.
    discount_rate : float, default 0.0
        Discount rate per period.

    Returns
    -------
    DataFrame
        Rows ``baseline`` and ``churn -X pts``: ``reduction``, ``churn_rate``,
        ``customers_end``, ``revenue``, ``profit``, ``extra_customers_end``, ``extra_revenue``,
        ``extra_profit`` (vs the baseline).
    """
    if not 0 <= churn_rate <= 1:
        raise ValueError(f"churn_rate must be in [0, 1], got {churn_rate!r}.")
    t = np.arange(1, int(horizon) + 1)
    disc = (1.0 + discount_rate) ** (-t)
    rows = []
    for cut in [0.0, *reductions]:
        c = max(churn_rate - float(cut), 0.0)
        n_t = customers * (1 - c) ** t
        revenue = float((n_t * revenue_per_customer * disc).sum())
        rows.append({"scenario": "baseline" if cut == 0 else f"churn -{cut * 100:g} pts",
                     "reduction": float(cut), "churn_rate": c, "customers_end": float(n_t[-1]),
                     "revenue": revenue, "profit": revenue * margin})
    out = pd.DataFrame(rows).set_index("scenario")
    base = out.iloc[0]
    out["extra_customers_end"] = out["customers_end"] - base["customers_end"]
    out["extra_revenue"] = out["revenue"] - base["revenue"]
    out["extra_profit"] = out["profit"] - base["profit"]
    return out
