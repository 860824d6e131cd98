"""Cohort retention: the share of each acquisition cohort still a customer after k months
(:func:`cohort_retention`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.indicators.grid import _add_months
from churn_research.indicators.window import (
    _NAT,
    _NS_PER_DAY,
    _as_data,
    _ns,
    observation_window,
    prepared_customers,
)
from churn_research.model import ChurnData
from churn_research.periods import cohort_frame


# ------------------------------------------------------------------------------------------
# cohorts
# ------------------------------------------------------------------------------------------
def cohort_retention(data: ChurnData, *, max_months: int | None = None, start=None, end=None,
                     inactivity_days: int | None = None, wide: bool = True) -> pd.DataFrame:
    """Cohort retention matrix: start-month cohort x months since start.

    Cell ``(c, k)`` = share of the customers who started in month ``c`` still customers at
    their ``k``-month anniversary (``end_date`` after ``start_date + k months``), among those
    whose anniversary falls inside the observation window (later cells are NaN). Cohorts that
    started before the window (left-truncated: only their survivors are known) or after it are
    left out.

    Returns
    -------
    DataFrame
        ``wide=True``: index ``cohort`` (``YYYY-MM``), columns ``0 .. max_months``; ``attrs``
        holds ``sizes`` (customers per cohort). ``wide=False``: long frame ``cohort``,
        ``months``, ``observed``, ``retained``, ``retention``.
    """
    data = _as_data(data)
    cust = prepared_customers(data, inactivity_days=inactivity_days)
    w0, w1 = observation_window(data, start=start, end=end, inactivity_days=inactivity_days)
    s_ns = _ns(cust["start_date"])
    e_ns = _ns(cust["end_date"])
    w0_ns, w1_ns = w0.value, (w1 + pd.Timedelta(days=1)).value  # w1_ns exclusive
    keep = (s_ns >= w0_ns) & (s_ns < w1_ns)
    s_ns, e_ns = s_ns[keep], e_ns[keep]
    if len(s_ns) == 0:
        return pd.DataFrame()
    s_day = (s_ns // _NS_PER_DAY).astype("datetime64[D]")
    s_mon = s_day.astype("datetime64[M]")
    s_mi = s_mon.astype(np.int64)

    def months_before(target_ns, strict: bool):
        """Largest k >= -1 with anniversary(k) < target (strict) or <= target."""
        t_mi = (target_ns // _NS_PER_DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        md = t_mi - s_mi
        ok = md >= 0
        ann = _add_months(s_ns, np.where(ok, md, 0))
        beyond = (ann >= target_ns) if strict else (ann > target_ns)
        out = np.where(ok & beyond, md - 1, md)
        return np.maximum(out, -1)

    censored = (e_ns == _NAT) | (e_ns >= w1_ns)
    L = np.where(censored, np.iinfo(np.int64).max, 0)
    ch = ~censored
    if ch.any():
        sub = months_before(e_ns, strict=True)
        L = np.where(ch, sub, L)
    last = np.full(len(s_ns), w1_ns - 1, dtype=np.int64)
    obs_age = months_before(last, strict=False)
    K = int(obs_age.max()) if max_months is None else min(int(max_months), int(obs_age.max()))
    cohort_code = s_mi - s_mi.min()
    C = int(cohort_code.max()) + 1
    # observed[c, k] = #(obs_age >= k); retained[c, k] = #(min(L, obs_age) >= k)
    def ge_counts(v):
        v = np.clip(v, -1, K)
        cnt = np.bincount(cohort_code * (K + 2) + (v + 1), minlength=C * (K + 2)).reshape(C, K + 2)
        return cnt[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # #(v >= k) for k = 0..K
    observed = ge_counts(obs_age)
    retained = ge_counts(np.minimum(L, obs_age))
    sizes = np.bincount(cohort_code, minlength=C)
    labels = [str(np.datetime64(int(s_mi.min()) + i, "M")) for i in range(C)]
    return cohort_frame(observed, retained, sizes, labels, wide=wide)
