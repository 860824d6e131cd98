"""Designs, cutoffs, the time-safe view and the label.

:func:`truncate` cuts a :class:`~churn_research.model.ChurnData` at a cutoff date: every dated
table keeps only rows dated on or before the cutoff, customers who start after it disappear, and
end dates / exit reasons after the cutoff are masked (a customer who churns later looks active).
``"prospective"`` (default when the data has transactions): features at ``cutoff``, label =
churned in ``(cutoff, cutoff + horizon]`` (:func:`churn_label`). ``"cross-sectional"`` (a single
snapshot without activity history, e.g. IBM Telco): features from customer attributes at the
snapshot with the churn status hidden, label = the dataset's churn flag. A cross-sectional model
describes who *has* churned, not who *will*; reports say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.model import ChurnData, ChurnDataError


# ---------------------------------------------------------------------------------------------
# Designs, cutoffs and the time-safe view
# ---------------------------------------------------------------------------------------------
def resolve_design(data: ChurnData, design: str = "auto") -> str:
    """Return ``"prospective"`` or ``"cross-sectional"``.

    ``"auto"`` is cross-sectional for one snapshot (:attr:`ChurnData.is_snapshot`, e.g. IBM
    Telco: the features are the attributes at the snapshot and the label its churn flag) and
    prospective for a dated history (features at a cutoff, label = churned after it): the same
    decision 20_causes takes (snapshot vs person-period).
    """
    if design == "auto":
        return "cross-sectional" if data.is_snapshot else "prospective"
    if design not in ("prospective", "cross-sectional"):
        raise ValueError(f"design must be 'auto', 'prospective' or 'cross-sectional', not {design!r}")
    return design


def resolve_cutoff(data: ChurnData, cutoff=None, *, horizon_days: int = 180,
                   design: str = "prospective") -> pd.Timestamp:
    """The feature cutoff: ``observation_end - horizon_days`` unless given.

    Cross-sectional designs use ``observation_end``. A prospective cutoff must leave a whole
    horizon before ``observation_end`` (otherwise the label would be censored).
    """
    obs = pd.Timestamp(data.observation_end)
    if design == "cross-sectional":
        return obs if cutoff is None else pd.Timestamp(cutoff)
    cut = obs - pd.Timedelta(days=int(horizon_days)) if cutoff is None else pd.Timestamp(cutoff)
    if cut + pd.Timedelta(days=int(horizon_days)) > obs:
        raise ChurnDataError(
            f"cutoff {cut.date()} + horizon {horizon_days} days runs past observation_end "
            f"{obs.date()}, so the churn label would be censored.",
            fix="choose an earlier cutoff (or leave it None: observation_end - horizon_days).")
    return cut


def _by_id(customers: pd.DataFrame, column: str) -> pd.Series:
    """One column of ``customers`` indexed by ``customer_id``: the values, dtype and index of
    ``customers.set_index("customer_id")[column]`` without a copy of the whole table."""
    s = customers[column].copy(deep=False)
    s.index = pd.Index(customers["customer_id"], name="customer_id")
    return s


def _inactivity_days(data: ChurnData, inactivity_days=None) -> int:
    if inactivity_days is not None:
        return int(inactivity_days)
    return data.inactivity_days


def truncate(data: ChurnData, cutoff, *, hide_status: bool = False) -> ChurnData:
    """A copy of ``data`` as it was known at ``cutoff``.

    * customers: only those with ``start_date <= cutoff``; ``end_date`` and ``churn_reason``
      after the cutoff are masked (the customer looks active). For non-contractual data every
      end date is masked, because an inferred end date (no purchase for ``inactivity_days``) is
      only known long after the last purchase; activity is re-derived from purchases instead.
      ``hide_status=True`` masks all end dates and reasons (cross-sectional design).
    * transactions, tickets, surveys, events: only rows dated ``<= cutoff``.
    * ``observation_end`` becomes ``cutoff``.

    Parameters
    ----------
    data : ChurnData
    cutoff : date-like
    hide_status : bool, default False

    Returns
    -------
    ChurnData
        New tables; the input is not modified.
    """
    cutoff = pd.Timestamp(cutoff)
    cust = known_customers(data, cutoff, hide_status=hide_status)
    tables = {}
    for name in ("transactions", "tickets", "surveys", "events"):
        df = getattr(data, name)
        if df is None:
            tables[name] = None
        else:
            tables[name] = df.loc[pd.to_datetime(df["date"]) <= cutoff].copy()
    return data.replace(customers=cust, **tables, observation_end=cutoff, meta=dict(data.meta))


def known_customers(data: ChurnData, cutoff, *, hide_status: bool = False) -> pd.DataFrame:
    """The customers table of :func:`truncate` (those started by ``cutoff``, later end dates and
    exit reasons masked) without cutting the other tables."""
    cutoff = pd.Timestamp(cutoff)
    cust = data.customers
    cust = cust.loc[pd.to_datetime(cust["start_date"]) <= cutoff].copy()
    end = pd.to_datetime(cust["end_date"])
    hide = end > cutoff
    if hide_status or data.kind == "non-contractual":
        hide = pd.Series(True, index=cust.index)
    cust["end_date"] = end.mask(hide)
    if "churn_reason" in cust:
        cust["churn_reason"] = cust["churn_reason"].mask(hide | cust["end_date"].isna())
    return cust


def active_at(data: ChurnData, cutoff, *, inactivity_days=None) -> pd.Series:
    """Whether each customer (started on or before ``cutoff``) is still a customer at ``cutoff``.

    Contractual: no end date on or before the cutoff. Non-contractual: a purchase in the
    ``inactivity_days`` up to the cutoff (purchases after the cutoff are ignored).

    Returns
    -------
    Series of bool indexed by customer_id.
    """
    cutoff = pd.Timestamp(cutoff)
    cust = data.customers
    known = _known_rows(cust, cutoff)  # the columns read, not a copy of the table's rows
    ids = pd.Index(cust["customer_id"].iloc[known], name="customer_id")
    if data.kind == "non-contractual":
        if not data.has("transactions"):
            raise ChurnDataError("non-contractual data needs transactions to tell who is active.",
                                 table="transactions", fix="load the purchase log.")
        days = _inactivity_days(data, inactivity_days)
        tx = data.transactions
        d = pd.to_datetime(tx["date"])
        # the project's rule (model.infer_end_dates): churned once more than ``days`` days
        # separate the last purchase from the date, so a purchase exactly ``days`` ago is active
        recent = tx.loc[(d <= cutoff) & (d >= cutoff - pd.Timedelta(days=days)), "customer_id"]
        return pd.Series(ids.isin(pd.unique(recent)), index=ids, name="active")
    end = pd.to_datetime(cust["end_date"]).to_numpy()[known]
    return pd.Series(~(end <= np.datetime64(cutoff)), index=ids, name="active")


def _known_rows(customers: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """Positions of the customers started on or before ``cutoff``, in the table's order."""
    return np.flatnonzero((pd.to_datetime(customers["start_date"]) <= cutoff).to_numpy())


# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Label
# ---------------------------------------------------------------------------------------------
def churn_label(data: ChurnData, cutoff=None, *, horizon_days: int = 180,
                design: str = "prospective", inactivity_days=None) -> pd.Series:
    """The churn label for the risk model.

    Prospective: among customers active at ``cutoff`` (started on or before it and not yet
    lost), 1 if they churn in ``(cutoff, cutoff + horizon_days]``. Contractual data: the end
    date falls in that interval. Non-contractual data (churn is not observed): no purchase in
    that interval — computed here from the transactions, the natural label when the horizon
    plays the role of the inactivity period.

    Cross-sectional: every customer, 1 if the dataset marks them as churned (an end date).

    Returns
    -------
    Series of int (0/1) indexed by customer_id, named ``churned``.
    """
    if design == "cross-sectional":
        c = data.customers
        return pd.Series(c["end_date"].notna().astype("int64").to_numpy(),
                         index=pd.Index(c["customer_id"], name="customer_id"), name="churned")
    cutoff = resolve_cutoff(data, cutoff, horizon_days=horizon_days, design=design)
    horizon_end = cutoff + pd.Timedelta(days=int(horizon_days))
    act = active_at(data, cutoff, inactivity_days=inactivity_days)
    ids = act.index[act.to_numpy()]
    if data.kind == "non-contractual":
        tx = data.transactions
        d = pd.to_datetime(tx["date"])
        bought = pd.unique(tx.loc[(d > cutoff) & (d <= horizon_end), "customer_id"])
        y = ~ids.isin(bought)
    else:  # the active customers' end dates by position (active_at keeps the table's order)
        rows = _known_rows(data.customers, cutoff)[act.to_numpy()]
        end = pd.to_datetime(data.customers["end_date"]).to_numpy()[rows]
        y = (end > np.datetime64(cutoff)) & (end <= np.datetime64(horizon_end))
    return pd.Series(np.asarray(y).astype("int64"), index=ids, name="churned")


# ---------------------------------------------------------------------------------------------
