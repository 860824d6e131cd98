"""The cost of churn and what retention is worth: :func:`churn_cost_inputs` (the dataset's
annual churn, :mod:`churn_research.annual`, and the revenue per customer) and
:func:`retention_scenarios` ("what if churn fell by X points"). The value expected to be lost within a horizon is in
:mod:`churn_research.clv.risk`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn_research.annual import annual_churn
from churn_research.model import ChurnDataError, on_books


# ========================================================================================
# the cost of churn and retention scenarios
# ========================================================================================
def churn_cost_inputs(data, *, months: int = 12, value_col: str = "monthly_revenue",
                      by: str | None = None, engine=None) -> dict:
    """The dataset's annual churn and the yearly revenue per customer.

    The inputs of :func:`churn_cost` and :func:`retention_scenarios`, measured on the data: the
    one annual churn of the project (:func:`churn_research.annual.annual_churn`: over the last
    ``months`` observable months, annualised, or from the survival curve for a snapshot), and
    the annual revenue per customer: from the transactions of the customers who were customers
    for the whole window (annualised), or, without transactions (or for a snapshot), 12 x the
    mean of ``value_col`` among the customers at risk at the window's start (the active
    customers for a snapshot).

    Parameters
    ----------
    data : ChurnData
    months : int, default 12
        Window length of :func:`~churn_research.annual.annual_churn`.
    value_col : str, default "monthly_revenue"
        Revenue per month, used when there are no transactions.
    by : str, optional
        Snapshot only: the groups whose curves the annual churn reads (see
        :func:`~churn_research.annual.annual_churn`).
    engine : optional
        The stage's engine tables (``read_stage``'s second value, with an ``amount_between``
        method): the window's purchases are summed there, the transactions are not read here.

    Returns
    -------
    dict
        ``annual`` (:class:`~churn_research.annual.AnnualChurn`),
        ``annual_revenue_per_customer``, ``revenue_source`` ("transactions" or the column name)
        and ``active`` (the customers still customers at the observation end: the base a
        retention scenario projects).
    """
    annual = annual_churn(data, months=months, by=by)
    cust = data.customers
    if annual.window_start is None:
        base = stayed = on_books(cust, data.observation_end)
        w0 = w1 = None
    else:
        w0, w1 = annual.window_start, annual.window_end
        base = on_books(cust, w0)
        stayed = base & on_books(cust, w1)
    if w0 is not None and data.has("transactions") and stayed.any():
        if engine is not None:  # summed where the transactions are (engine.amount_between)
            total = engine.amount_between(w0, w1, cust.loc[stayed, "customer_id"])
        else:
            tx = data.transactions
            dates = pd.to_datetime(tx["date"])
            sel = (dates > w0) & (dates <= w1) & tx["customer_id"].isin(cust.loc[stayed, "customer_id"])
            total = float(tx.loc[sel, "amount"].sum())
        revenue = total / int(stayed.sum()) * 12.0 / annual.months
        source = "transactions"
    elif value_col in cust.columns and base.any():
        revenue = 12.0 * float(cust.loc[base, value_col].mean())
        source = value_col
    else:
        raise ChurnDataError("no revenue information: neither transactions nor a revenue column.",
                             table="customers", column=value_col,
                             fix="load the transactions or name the monthly revenue column "
                                 "with value_col=.")
    return {"annual": annual, "annual_revenue_per_customer": revenue, "revenue_source": source,
            "active": annual.active}


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


# ========================================================================================
# word of mouth: an assumed referral value (a scenario, off by default)
# ========================================================================================
def recent_complainers(data, *, days: int = 365) -> int:
    """Customers active at the observation end with a complaint (tickets of kind
    ``complaint``) in the ``days`` before it (0 without tickets)."""
    if not data.has("tickets") or "kind" not in data.tickets:
        return 0
    obs = pd.Timestamp(data.observation_end)
    tk = data.tickets
    d = pd.to_datetime(tk["date"])
    ids = tk.loc[(tk["kind"].astype(str) == "complaint") & (d > obs - pd.Timedelta(days=days))
                 & (d <= obs), "customer_id"]
    cust = data.customers
    active = set(cust.loc[on_books(cust, obs), "customer_id"])
    return int(len(set(pd.unique(ids)) & active))


def word_of_mouth(lost_customers: float, acquisition_cost_per_customer: float, *,
                  referral_rate: float, complaint_multiplier: float | None = None,
                  complainers: int = 0, active: int | None = None) -> dict:
    """The referrals churn takes with it, valued at what winning as many customers costs.

    A scenario on assumed rates, not an estimate from the data:

    * ``lost_referrals = lost_customers x referral_rate``: the new customers a year the lost
      customers would have brought (``referral_rate`` 0.25: "100 satisfied customers bring 25
      new ones", seed 001);
    * with ``complaint_multiplier`` (20: "one complaint speaks for 20 silent customers", seed
      003): ``silent = min(complainers x complaint_multiplier, active)`` dissatisfied customers
      behind the ``complainers`` (active customers who complained in the last year), who refer
      nobody: ``forgone_referrals = silent x referral_rate``;
    * ``cost = (lost_referrals + forgone_referrals) x acquisition_cost_per_customer``.

    Returns a dict with those figures, ``capped`` (the silent customers hit the active base)
    and the inputs.
    """
    if referral_rate is None or referral_rate < 0:
        raise ValueError(f"referral_rate must be a non-negative number, got {referral_rate!r}")
    lost_refs = float(lost_customers) * float(referral_rate)
    silent = forgone = 0.0
    capped = False
    if complaint_multiplier is not None:
        if complaint_multiplier < 0:
            raise ValueError(f"complaint_multiplier must be non-negative, got {complaint_multiplier!r}")
        silent = float(complainers) * float(complaint_multiplier)
        if active is not None and silent > active:
            silent, capped = float(active), True
        forgone = silent * float(referral_rate)
    total = lost_refs + forgone
    return {"referral_rate": float(referral_rate), "complaint_multiplier": complaint_multiplier,
            "lost_referrals": lost_refs, "complainers": int(complainers),
            "silent_dissatisfied": silent, "capped": capped, "forgone_referrals": forgone,
            "referrals": total, "cost": total * float(acquisition_cost_per_customer)}
