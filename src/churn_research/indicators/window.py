"""Period codes (defined in :mod:`churn_research.periods`), the customers frame with inferred
churn (:func:`prepared_customers`) and the observation window over which churn can be seen
(:func:`observation_window`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.model import MAP_COLUMNS_FIX, ChurnData, ChurnDataError, infer_churn
from churn_research.periods import (  # noqa: F401 - re-exported: the indicators' names
    _FREQ_ALIASES,
    _MONTHS_PER,
    FREQ_NAMES,
    TENURE_GROUP,
    TENURE_LABELS,
    TENURE_LABELS_ZH,
    normalize_freq,
)

#: Whether a higher value of an indicator is better (used by :func:`target_table`).
DIRECTIONS = {
    "churn_rate": "lower", "retention_rate": "higher", "complaint_rate": "lower",
    "share_complaining": "lower", "csat": "higher", "share_satisfied": "higher",
    "nps": "higher", "recommendation_rate": "higher", "repeat_purchase_rate": "higher",
    "grr": "higher", "nrr": "higher", "growth_rate": "higher", "joins": "higher",
    "net_adds": "higher", "customers_end": "higher",
}

_NS_PER_DAY = 86_400_000_000_000

# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------
def _ns(values) -> np.ndarray:
    """Dates as int64 nanoseconds (NaT -> int64 min)."""
    arr = pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values)
    return arr.to_numpy(dtype="datetime64[ns]").astype(np.int64)


_NAT = np.iinfo(np.int64).min


def _as_data(data, observation_end=None) -> ChurnData:
    if isinstance(data, ChurnData):
        if data.observation_end is None and observation_end is None:
            raise ChurnDataError("observation_end is not set.",
                                 fix="set ChurnData.observation_end to the snapshot date.")
        return data
    if isinstance(data, pd.DataFrame):
        if observation_end is None:
            raise ChurnDataError("a customers frame needs observation_end=... (the snapshot date).",
                                 table="customers", fix="pass observation_end or a ChurnData.")
        return ChurnData(customers=data, observation_end=pd.Timestamp(observation_end))
    raise TypeError(f"expected ChurnData or a customers DataFrame, got {type(data).__name__}.")


def _inactivity_days(data: ChurnData, inactivity_days: int | None) -> int:
    return int(inactivity_days) if inactivity_days is not None else data.inactivity_days


# ------------------------------------------------------------------------------------------
# non-contractual churn and the observation window
# ------------------------------------------------------------------------------------------
def prepared_customers(data: ChurnData, *, inactivity_days: int | None = None) -> pd.DataFrame:
    """The customers frame with parsed dates and, for non-contractual data, inferred churn.

    Contractual data are returned as they are (dates parsed, ``end_date`` after
    ``observation_end`` treated as unknown, i.e. NaT). Non-contractual data with transactions
    get ``end_date`` / ``status`` from :func:`infer_churn` with ``inactivity_days`` (default
    ``data.inactivity_days``).
    """
    data = _as_data(data)
    cust = data.customers
    for col in ("customer_id", "start_date", "end_date"):
        if col not in cust.columns:
            raise ChurnDataError("required column is missing.", table="customers", column=col,
                                 fix=MAP_COLUMNS_FIX)
    if data.kind == "non-contractual" and data.has("transactions"):
        return infer_churn(cust, data.transactions, observation_end=data.observation_end,
                           inactivity_days=_inactivity_days(data, inactivity_days))
    out = cust.copy()
    out["start_date"] = pd.to_datetime(out["start_date"])
    out["end_date"] = pd.to_datetime(out["end_date"])
    bad = out["start_date"].isna()
    if bad.any():
        raise ChurnDataError("start_date is missing.", table="customers", column="start_date",
                             rows=out.loc[bad, "customer_id"].astype(str).tolist(),
                             fix="fill the start date or drop these customers.")
    bad = out["end_date"].notna() & (out["end_date"] < out["start_date"])
    if bad.any():
        raise ChurnDataError("end_date before start_date.", table="customers", column="end_date",
                             rows=out.loc[bad, "customer_id"].astype(str).tolist(),
                             fix="correct the dates (swapped columns?) or drop the rows.")
    out.loc[out["end_date"] > pd.Timestamp(data.observation_end), "end_date"] = pd.NaT
    return out


def observation_window(data: ChurnData, *, start=None, end=None,
                       inactivity_days: int | None = None,
                       lapse_horizon: bool = True) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day (inclusive) over which churn is observed.

    End: ``end`` or ``observation_end``; for non-contractual data (unless
    ``lapse_horizon=False``, for measures that do not need churn dates, such as revenue) at most
    ``observation_end - (inactivity_days + 1) days`` (the last day up to which every lapse is
    visible, see :func:`infer_churn`).

    Start, the first of:

    1. ``start`` if given;
    2. ``data.records_start`` (e.g. the synthetic generator's window start: earlier customers
       are only known if they survived to it, so earlier periods would show no churn);
    3. for one-snapshot data (``data.snapshot`` set, or every churner left in the month
       before ``observation_end``, e.g. IBM Telco): one month before the end (churn is only
       recorded for that month);
    4. otherwise the earliest ``start_date`` (full history).
    """
    data = _as_data(data)
    obs = pd.Timestamp(data.observation_end).normalize()
    w1 = obs if end is None else min(pd.Timestamp(end).normalize(), obs)
    if data.kind == "non-contractual" and lapse_horizon:
        w1 = min(w1, obs - pd.Timedelta(days=_inactivity_days(data, inactivity_days) + 1))
    if start is not None:
        return pd.Timestamp(start).normalize(), w1
    if data.records_start is not None:
        return data.records_start.normalize(), w1
    cust = data.customers
    starts = pd.to_datetime(cust["start_date"])
    if data.kind == "contractual":
        snap = data.snapshot
        if data.is_snapshot:
            snap = pd.Timestamp(snap).normalize() if snap is not None else obs
            return snap - pd.DateOffset(months=1) + pd.Timedelta(days=1), w1
    return starts.min().normalize(), w1
