"""Churn and retention indicators per period and segment, revenue retention, cohorts and targets.

Definitions (the textbook ones, made precise)
---------------------------------------------
A customer is *on the books* from ``start_date`` (inclusive) until ``end_date`` (the day the
loss happens; NaT = still a customer at the end of the observation window). Periods are calendar
months, quarters, half-years or years, clipped to the *observation window* (see
:func:`observation_window`). For each period:

``at_risk``
    customers on the books at the start of the period: ``start_date`` before the period's first
    day and ``end_date`` on or after it (or none). A customer whose ``start_date`` is the first
    day of a period is **new in that period**, not at risk at its start; a customer whose
    ``end_date`` is the first day of a period was at risk at its start and **churned in it**.
``new``
    customers whose ``start_date`` falls in the period.
``churned``
    customers whose ``end_date`` falls in the period, *including* those who joined in the same
    period (``churned_new`` of them).
``exposed``
    ``at_risk + new``: everyone who was a customer at some time during the period, i.e. every
    customer who could have been lost in it.
``churn_rate``
    ``numerator / denominator``. With the default ``denominator="exposed"`` that is
    ``churned / (at_risk + new)``: a customer who joins and leaves within one period is counted in
    ``new``, in ``churned`` *and* in the denominator, so the rate is a proportion of the customers
    who could have been lost (never above 1) and its binomial (Wilson) interval is valid. When no
    one joins, it is exactly the textbook ``lost / customers at risk at the start``.
    ``denominator="start"`` gives the strict cohort version ``(churned - churned_new) / at_risk``
    (losses among the customers on the books at the start).
``retention_rate``
    ``1 - churn_rate`` (with the mirrored interval).

Periods after the window end never appear; a period cut short by the window (typically the
last one, ending at ``observation_end``) has ``partial = True`` and its rate covers fewer days.

Non-contractual data (purchases only) have no explicit end date: the project's single rule
(:func:`infer_churn`) dates churn at the last purchase when no purchase followed for more than
``inactivity_days``. Because a lapse is only visible ``inactivity_days`` later, the window of a
non-contractual dataset ends ``inactivity_days + 1`` days before ``observation_end``: up to that
day every lapse is already visible, after it none can be (so churn there would look like zero).

New vs existing customers (新客户 / 老客户) is the built-in segment ``by="tenure_group"``: in each
period a customer is *new* if their tenure at the period's start is below ``new_tenure_months``
(customers joining during the period are new), otherwise *existing*.

All functions are vectorised (period codes by ``np.searchsorted``, counts by ``np.bincount`` over
difference arrays); :func:`churn_table` handles a million customers in a few seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from churn_research.model import MAP_COLUMNS_FIX, ChurnData, ChurnDataError, infer_churn
from churn_research.stats import wilson_ci

__all__ = [
    "FREQ_NAMES",
    "TENURE_GROUP",
    "TENURE_LABELS",
    "TENURE_LABELS_ZH",
    "DIRECTIONS",
    "normalize_freq",
    "observation_window",
    "infer_churn",
    "prepared_customers",
    "periods",
    "churn_table",
    "new_vs_existing",
    "overall_churn",
    "pooled_rates",
    "latest_period",
    "wilson_ci",
    "complaint_table",
    "satisfaction_table",
    "repeat_purchase_table",
    "revenue_retention",
    "cohort_retention",
    "indicator_series",
    "target_table",
]

#: Accepted period frequencies (canonical code -> name).
FREQ_NAMES = {"M": "month", "Q": "quarter", "H": "half-year", "Y": "year"}
_FREQ_ALIASES = {
    "m": "M", "ms": "M", "me": "M", "month": "M", "months": "M", "monthly": "M",
    "q": "Q", "qs": "Q", "qe": "Q", "quarter": "Q", "quarters": "Q", "quarterly": "Q",
    "h": "H", "half": "H", "half-year": "H", "half_year": "H", "halfyear": "H", "6m": "H",
    "6ms": "H", "semiannual": "H", "semi-annual": "H", "half-yearly": "H",
    "y": "Y", "a": "Y", "ys": "Y", "ye": "Y", "year": "Y", "years": "Y", "yearly": "Y",
    "annual": "Y", "annually": "Y",
}
_MONTHS_PER = {"M": 1, "Q": 3, "H": 6, "Y": 12}

#: Name of the built-in new-vs-existing segment (usable in ``by``).
TENURE_GROUP = "tenure_group"
#: Its levels, and their usual Chinese names (新客户 = new customers, 老客户 = existing customers).
TENURE_LABELS = ("new", "existing")
TENURE_LABELS_ZH = {"new": "新客户", "existing": "老客户"}

#: Whether a higher value of an indicator is better (used by :func:`target_table`).
DIRECTIONS = {
    "churn_rate": "lower", "retention_rate": "higher", "complaint_rate": "lower",
    "share_complaining": "lower", "csat": "higher", "share_satisfied": "higher",
    "nps": "higher", "recommendation_rate": "higher", "repeat_purchase_rate": "higher",
    "grr": "higher", "nrr": "higher",
}

_NS_PER_DAY = 86_400_000_000_000


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------
def normalize_freq(freq: str) -> str:
    """Canonical period code (``"M"``, ``"Q"``, ``"H"`` or ``"Y"``) of a frequency name.

    Accepts e.g. ``"M"``, ``"month"``, ``"Q"``, ``"quarter"``, ``"H"``, ``"half-year"``,
    ``"Y"``, ``"A"``, ``"year"`` (case-insensitive).
    """
    key = str(freq).strip().lower()
    if key not in _FREQ_ALIASES:
        raise ValueError(f"unknown freq {freq!r}: use one of month ('M'), quarter ('Q'), "
                         "half-year ('H') or year ('Y').")
    return _FREQ_ALIASES[key]


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


def _is_snapshot(customers: pd.DataFrame, obs: pd.Timestamp) -> bool:
    """All churners left in the month before ``obs`` while tenures span more than a year."""
    ends = customers["end_date"].dropna()
    if ends.empty:
        return False
    month_start = obs - pd.DateOffset(months=1) + pd.Timedelta(days=1)
    spread = (customers["start_date"].max() - customers["start_date"].min()).days
    return bool(ends.min() >= month_start) and spread > 366


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
        ends = pd.to_datetime(cust["end_date"])
        snap = data.snapshot
        if snap is not None or _is_snapshot(pd.DataFrame({"start_date": starts,
                                                          "end_date": ends}), obs):
            snap = pd.Timestamp(snap).normalize() if snap is not None else obs
            return snap - pd.DateOffset(months=1) + pd.Timedelta(days=1), w1
    return starts.min().normalize(), w1


# ------------------------------------------------------------------------------------------
# periods
# ------------------------------------------------------------------------------------------
def _align(ts: pd.Timestamp, code: str) -> pd.Timestamp:
    m = _MONTHS_PER[code]
    month = ((ts.month - 1) // m) * m + 1
    return pd.Timestamp(year=ts.year, month=month, day=1)


def _label(ts: pd.Timestamp, code: str) -> str:
    if code == "M":
        return f"{ts.year}-{ts.month:02d}"
    if code == "Q":
        return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"
    if code == "H":
        return f"{ts.year}H{(ts.month - 1) // 6 + 1}"
    return f"{ts.year}"


def periods(start, end, *, freq: str = "Q") -> pd.DataFrame:
    """Calendar periods covering ``[start, end]`` (inclusive days), clipped to that window.

    Returns
    -------
    DataFrame
        ``period`` (label: ``2024-01``, ``2024Q1``, ``2024H1``, ``2024``), ``period_start`` and
        ``period_end`` (first and last day inside the window), ``days`` (days inside the window),
        ``full_days`` (days of the whole calendar period) and ``partial`` (``days < full_days``).
    """
    code = normalize_freq(freq)
    w0, w1 = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if w1 < w0:
        raise ValueError(f"the window ends ({w1.date()}) before it starts ({w0.date()}).")
    m = _MONTHS_PER[code]
    starts = pd.date_range(_align(w0, code), w1, freq=f"{m}MS")
    nxt = starts + pd.DateOffset(months=m)
    cov_start = starts.where(starts >= w0, w0)
    last = nxt - pd.Timedelta(days=1)
    cov_end = last.where(last <= w1, w1)
    out = pd.DataFrame({
        "period": [_label(s, code) for s in starts],
        "period_start": pd.DatetimeIndex(cov_start).astype("datetime64[ns]"),
        "period_end": pd.DatetimeIndex(cov_end).astype("datetime64[ns]"),
    })
    out["days"] = (out["period_end"] - out["period_start"]).dt.days + 1
    out["full_days"] = np.asarray((nxt - starts).days)
    out["partial"] = out["days"] < out["full_days"]
    out.attrs["freq"] = code
    return out


#: Recent ``customer_index`` results: (customer ids, row ids, positions). The row ids are kept
#: (so their memory cannot be reused) and matched by buffer; the customer ids by value. Every
#: indicator maps the same tens of millions of transactions onto the customers, which took
#: about a second per call at 10^6 customers.
_INDEX_CACHE: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _cached_index(cust: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    for c, r, idx in _INDEX_CACHE:
        if _same_buffer(r, rows) and len(c) == len(cust) and (c is cust or np.array_equal(c, cust)):
            return idx
    return None


def _remember_index(cust: np.ndarray, rows: np.ndarray, idx: np.ndarray) -> None:
    if len(rows) < 100_000:  # cheap to recompute; keep the cache for the large tables
        return
    _INDEX_CACHE.insert(0, (cust.copy(), rows, idx))
    del _INDEX_CACHE[3:]


@dataclass
class _Grid:
    """Per-customer period codes on a window (internal)."""

    table: pd.DataFrame          # periods()
    bounds: np.ndarray           # int64 ns: P covered period starts + (window end + 1 day)
    customers: pd.DataFrame      # prepared customers
    cs: np.ndarray               # period code of start (-1 before window, P after)
    ce: np.ndarray               # period code of end (P if censored / after window)
    group: np.ndarray            # static group code per customer
    levels: pd.DataFrame         # static group levels (one row per group code)
    cx: np.ndarray | None        # first period in which the customer is "existing"
    window: tuple[pd.Timestamp, pd.Timestamp]

    @property
    def P(self) -> int:
        return len(self.table)

    @property
    def n_groups(self) -> int:
        return len(self.levels) * (2 if self.cx is not None else 1)

    def code(self, ns: np.ndarray) -> np.ndarray:
        """Period code of dates (int64 ns); -1 before the window, P after it or NaT."""
        c = np.searchsorted(self.bounds, ns, side="right") - 1
        c[ns == _NAT] = self.P
        return c

    def event_groups(self, cust_idx: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Group code of customers' events in period ``p`` (segment at the period's start)."""
        g = self.group[cust_idx]
        if self.cx is None:
            return g
        return g * 2 + (p >= self.cx[cust_idx])

    def out_levels(self) -> pd.DataFrame:
        """One row per output group code (static levels x tenure group if split)."""
        if self.cx is None:
            return self.levels.reset_index(drop=True)
        lv = self.levels.loc[self.levels.index.repeat(2)].reset_index(drop=True)
        lv[TENURE_GROUP] = np.tile(np.array(TENURE_LABELS, dtype=object), len(self.levels))
        return lv

    def customer_index(self, ids: pd.Series, table: str) -> np.ndarray:
        """Position in ``customers`` of each row's customer (an error for unknown ones)."""
        cust = self.customers["customer_id"].to_numpy()
        rows = ids.to_numpy()
        idx = _cached_index(cust, rows)
        if idx is None:
            idx = pd.Index(self.customers["customer_id"].astype(str)).get_indexer(ids.astype(str))
            _remember_index(cust, rows, idx)
        if (idx < 0).any():
            bad = ids[idx < 0].astype(str).unique()[:5].tolist()
            raise ChurnDataError(f"{int((idx < 0).sum())} row(s) refer to unknown customers.",
                                 table=table, column="customer_id", rows=bad,
                                 fix="add those customers to the customers table or drop the rows.")
        return idx


def _unique_keys(key: np.ndarray, size: int, *, inverse: bool = False):
    """Sorted unique values of non-negative integer keys below ``size`` (and the inverse).

    Same result as ``np.unique``, but through a presence bitmap of ``size`` entries: linear
    time instead of a sort or hash of tens of millions of keys (``np.unique`` took 16 s on the
    46 million (customer, period) keys of 10^6 customers; this takes well under a second).
    Falls back to ``np.unique`` when the key range is too large for a bitmap.
    """
    key = np.asarray(key, dtype=np.int64)
    if size > 50 * len(key) + 10_000_000:
        return np.unique(key, return_inverse=True) if inverse else np.unique(key)
    present = np.zeros(size, dtype=bool)
    present[key] = True
    ukey = np.flatnonzero(present)
    if not inverse:
        return ukey
    rank = np.cumsum(present, dtype=np.int64) - 1
    return ukey, rank[key]


def _add_months(ns: np.ndarray, months) -> np.ndarray:
    """Dates (int64 ns) plus whole calendar months (scalar or per date), clipped to month ends
    like ``pd.DateOffset(months=...)``."""
    d = (ns // _NS_PER_DAY).astype("datetime64[D]")
    mo = d.astype("datetime64[M]")
    day = (d - mo.astype("datetime64[D]")).astype(np.int64)
    target = mo + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    out = target.astype("datetime64[D]") + np.minimum(day, length - 1)
    return out.astype("datetime64[ns]").astype(np.int64)


def _factorize_groups(customers: pd.DataFrame, static: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    n = len(customers)
    if not static:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=[0])
    missing = [c for c in static if c not in customers.columns]
    if missing:
        raise ChurnDataError(f"segment column '{missing[0]}' not found (available: "
                             f"{[c for c in customers.columns][:15]}).", table="customers",
                             column=missing[0],
                             fix=f"use a customers column or '{TENURE_GROUP}' in `by`.")
    combined = np.zeros(n, dtype=np.int64)
    uniques = []
    for col in static:
        codes, uniq = pd.factorize(customers[col], sort=True, use_na_sentinel=False)
        combined = combined * (len(uniq) + 1) + codes
        uniques.append((codes, uniq))
    keys, inverse = np.unique(combined, return_inverse=True)
    first = np.zeros(len(keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n)[::-1]  # first customer of each group
    levels = pd.DataFrame({col: np.asarray(uniq)[codes[first]]
                           for col, (codes, uniq) in zip(static, uniques, strict=True)})
    return inverse.astype(np.int64), levels


def _grid(data: ChurnData, *, freq: str, by=None, start=None, end=None,
          new_tenure_months: int = 12, inactivity_days: int | None = None,
          lapse_horizon: bool = True) -> _Grid:
    data = _as_data(data)
    cust = prepared_customers(data, inactivity_days=inactivity_days)
    w0, w1 = observation_window(data, start=start, end=end, inactivity_days=inactivity_days,
                                lapse_horizon=lapse_horizon)
    table = periods(w0, w1, freq=freq)
    P = len(table)
    bounds = np.concatenate([_ns(table["period_start"]),
                             [(w1 + pd.Timedelta(days=1)).value]]).astype(np.int64)
    by_list = [] if by is None else ([by] if isinstance(by, str) else list(by))
    split = TENURE_GROUP in by_list
    static = [c for c in by_list if c != TENURE_GROUP]
    group, levels = _factorize_groups(cust, static)
    s_ns, e_ns = _ns(cust["start_date"]), _ns(cust["end_date"])
    grid = _Grid(table=table, bounds=bounds, customers=cust, cs=None, ce=None, group=group,
                 levels=levels, cx=None, window=(w0, w1))
    grid.cs = grid.code(s_ns)
    grid.ce = grid.code(e_ns)
    if split:
        if int(new_tenure_months) < 1:
            raise ValueError(f"new_tenure_months must be >= 1, got {new_tenure_months!r}.")
        anniv = _add_months(s_ns, int(new_tenure_months))
        grid.cx = np.searchsorted(bounds[:P], anniv, side="left")
    return grid


def _interval_counts(group, lo, hi, G: int, P: int) -> np.ndarray:
    """Counts per (group, period) of customers present in periods ``lo <= p < hi``."""
    ok = lo < hi
    size = G * (P + 1)
    d = (np.bincount(group[ok] * (P + 1) + lo[ok], minlength=size)
         - np.bincount(group[ok] * (P + 1) + hi[ok], minlength=size))
    return d.reshape(G, P + 1).cumsum(axis=1)[:, :P]


def _point_counts(group, p, G: int, P: int, weights=None) -> np.ndarray:
    ok = (p >= 0) & (p < P)
    w = None if weights is None else np.asarray(weights, dtype=float)[ok]
    out = np.bincount(group[ok] * P + p[ok], weights=w, minlength=G * P)
    return out.reshape(G, P)


def _flows(grid: _Grid) -> dict[str, np.ndarray]:
    """at_risk, new, churned, churned_new per (group, period)."""
    P, G = grid.P, grid.n_groups
    cs, ce, g = grid.cs, grid.ce, grid.group
    lo = np.clip(cs + 1, 0, P)
    hi = np.clip(ce + 1, 0, P)
    valid_new = (cs >= 0) & (cs < P)
    if grid.cx is None:
        at_risk = _interval_counts(g, lo, hi, G, P)
        new = _point_counts(g, cs, G, P)
        churned = _point_counts(g, ce, G, P)
        same = valid_new & (ce == cs)
        churned_new = _point_counts(g[same], cs[same], G, P)
    else:
        cx = grid.cx
        at_risk = (_interval_counts(g * 2, lo, np.minimum(hi, np.maximum(cx, lo)), G, P)
                   + _interval_counts(g * 2 + 1, np.maximum(lo, np.minimum(cx, hi)), hi, G, P))
        new = _point_counts(g * 2, cs, G, P)
        churned = _point_counts(g * 2 + (ce >= cx), ce, G, P)
        same = valid_new & (ce == cs)
        churned_new = _point_counts(g[same] * 2, cs[same], G, P)
    return {"at_risk": at_risk, "new": new, "churned": churned, "churned_new": churned_new}


def _long(grid: _Grid, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Stack (group, period) arrays into a long frame with segment and period columns."""
    P = grid.P
    lv = grid.out_levels()
    G = len(lv)
    frames = {c: np.repeat(lv[c].to_numpy(), P) for c in lv.columns}
    per = grid.table
    out = pd.DataFrame({
        **frames,
        "period": np.tile(per["period"].to_numpy(), G),
        "period_start": np.tile(per["period_start"].to_numpy(), G),
        "period_end": np.tile(per["period_end"].to_numpy(), G),
        "days": np.tile(per["days"].to_numpy(), G),
        "partial": np.tile(per["partial"].to_numpy(), G),
    })
    for name, arr in columns.items():
        out[name] = np.asarray(arr).reshape(-1)
    out.attrs["freq"] = per.attrs.get("freq")
    out.attrs["window"] = (str(grid.window[0].date()), str(grid.window[1].date()))
    out.attrs["by"] = list(lv.columns)
    return out


# ------------------------------------------------------------------------------------------
# churn and retention
# ------------------------------------------------------------------------------------------
def churn_table(data: ChurnData, *, freq: str = "Q", by: str | Sequence[str] | None = None,
                denominator: str = "exposed", new_tenure_months: int = 12,
                start=None, end=None, inactivity_days: int | None = None,
                alpha: float = 0.05) -> pd.DataFrame:
    """Churn and retention per period (and segment), with Wilson confidence intervals.

    See the module docstring for the exact definitions of ``at_risk``, ``new``, ``churned``,
    ``exposed``, the denominators and the observation window.

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
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per (segment, period): the segment columns, ``period``, ``period_start``,
        ``period_end``, ``days``, ``partial``, ``at_risk``, ``new``, ``churned``,
        ``churned_new``, ``at_end`` (on the books after the period), ``exposed``,
        ``numerator``, ``denominator``, ``churn_rate``, ``churn_ci_low``, ``churn_ci_high``,
        ``retention_rate``, ``retention_ci_low``, ``retention_ci_high``.
        ``attrs``: ``freq``, ``window``, ``by``, ``denominator``.

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
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    f = _flows(grid)
    exposed = f["at_risk"] + f["new"]
    if denominator == "exposed":
        num, den = f["churned"], exposed
    else:
        num, den = f["churned"] - f["churned_new"], f["at_risk"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    lo, hi = wilson_ci(num, den, alpha=alpha)
    out = _long(grid, {
        "at_risk": f["at_risk"], "new": f["new"], "churned": f["churned"],
        "churned_new": f["churned_new"], "at_end": exposed - f["churned"],
        "exposed": exposed, "numerator": num, "denominator": den,
        "churn_rate": rate, "churn_ci_low": lo, "churn_ci_high": hi,
        "retention_rate": 1.0 - rate, "retention_ci_low": 1.0 - hi, "retention_ci_high": 1.0 - lo,
    })
    out.attrs["denominator"] = denominator
    out.attrs["new_tenure_months"] = int(new_tenure_months)
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
    rate; it grows with the window's length).

    Returns
    -------
    dict
        ``window_start``, ``window_end``, ``customers_at_risk``, ``churned``, ``churn_rate``,
        ``ci_low``, ``ci_high``, ``definition``.
    """
    data = _as_data(data)
    cust = prepared_customers(data, inactivity_days=inactivity_days)
    w0, w1 = observation_window(data, start=start, end=end, inactivity_days=inactivity_days)
    s, e = cust["start_date"], cust["end_date"]
    at_risk = (s <= w1) & (e.isna() | (e >= w0))
    churned = at_risk & e.notna() & (e <= w1)
    n, k = int(at_risk.sum()), int(churned.sum())
    lo, hi = wilson_ci(k, n, alpha=alpha)
    return {
        "window_start": w0, "window_end": w1, "customers_at_risk": n, "churned": k,
        "churn_rate": k / n if n else float("nan"), "ci_low": float(lo), "ci_high": float(hi),
        "definition": ("customers lost in the window / customers ever observed at risk in it "
                       "(on the books at its start or joined during it)"),
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
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(active > 0, complaints / np.maximum(active, 1), np.nan)
        share = np.where(active > 0, complainants / np.maximum(active, 1), np.nan)
    lo, hi = wilson_ci(complainants, active, alpha=alpha)
    return _long(grid, {"active": active, "complaints": complaints, "complainants": complainants,
                        "complaint_rate": rate, "share_complaining": share,
                        "share_complaining_ci_low": lo, "share_complaining_ci_high": hi})


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
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(n > 0, s1 / np.maximum(n, 1), np.nan)
            var = np.where(n > 1, (s2 - n * mean ** 2) / np.maximum(n - 1, 1), np.nan)
            half = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1)) * np.sqrt(np.maximum(var, 0) / np.maximum(n, 1))
            share = np.where(n > 0, sat / np.maximum(n, 1), np.nan)
        lo, hi = wilson_ci(sat, n, alpha=alpha)
        cols.update({"csat_responses": n, "csat": mean, "csat_ci_low": mean - half,
                     "csat_ci_high": mean + half, "share_satisfied": share,
                     "share_satisfied_ci_low": lo, "share_satisfied_ci_high": hi})
    if "nps" in surveys.columns:
        x = pd.to_numeric(surveys["nps"], errors="coerce").to_numpy(dtype=float)[ok]
        m = ~np.isnan(x)
        n = _point_counts(g[m], p[m], G, P)
        prom = _point_counts(g[m], p[m], G, P, weights=(x[m] >= 9).astype(float))
        det = _point_counts(g[m], p[m], G, P, weights=(x[m] <= 6).astype(float))
        z = stats.norm.ppf(1 - alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            pp = np.where(n > 0, prom / np.maximum(n, 1), np.nan)
            pd_ = np.where(n > 0, det / np.maximum(n, 1), np.nan)
            nps = 100 * (pp - pd_)
            se = 100 * np.sqrt(np.maximum(pp + pd_ - (pp - pd_) ** 2, 0) / np.maximum(n, 1))
        lo, hi = wilson_ci(prom, n, alpha=alpha)
        cols.update({"nps_responses": n, "promoters": prom, "passives": n - prom - det,
                     "detractors": det, "nps": nps, "nps_ci_low": nps - z * se,
                     "nps_ci_high": nps + z * se, "recommendation_rate": pp,
                     "recommendation_ci_low": lo, "recommendation_ci_high": hi})
    if not cols:
        raise ChurnDataError("the surveys table has neither 'csat' nor 'nps'.", table="surveys",
                             fix="add a csat (1-5) or nps (0-10) column.")
    return _long(grid, cols)


def _purchases(data: ChurnData, grid: _Grid, recurring_col: str | None, keep_recurring: bool = False):
    """Transactions as (customer index, period, amount).

    With ``recurring_col``: recurring invoices (amount equal to that column) are dropped, or, if
    ``keep_recurring``, only they are kept.
    """
    tx = _require(data, "transactions")
    idx = grid.customer_index(tx["customer_id"], "transactions")
    keep = np.ones(len(tx), dtype=bool)
    if recurring_col is not None:
        if recurring_col not in grid.customers.columns:
            raise ChurnDataError(f"recurring_col '{recurring_col}' not found.", table="customers",
                                 column=recurring_col, fix="name the column holding the recurring "
                                 "charge (e.g. monthly_revenue) or pass recurring_col=None.")
        fee = pd.to_numeric(grid.customers[recurring_col], errors="coerce").to_numpy(float)[idx]
        keep = np.isclose(tx["amount"].to_numpy(float), fee, rtol=0, atol=0.005)
        if not keep_recurring:
            keep = ~keep
    p = grid.code(_ns(tx["date"]))
    return idx[keep], p[keep], tx["amount"].to_numpy(float)[keep]


def repeat_purchase_table(data: ChurnData, *, freq: str = "Q", by=None,
                          recurring_col: str | None = None, new_tenure_months: int = 12,
                          start=None, end=None, inactivity_days: int | None = None,
                          alpha: float = 0.05) -> pd.DataFrame:
    """Repeat-purchase rate per period (and segment): the loyalty indicator.

    ``buyers_before`` = customers on the books at the start of the period who had bought before
    it (their first recorded purchase is in an earlier period); ``repeat_buyers`` = those of them
    who bought again in the period; ``repeat_purchase_rate = repeat_buyers / buyers_before``
    (Wilson interval). Purchases before the window count as history.

    ``recurring_col`` names a customers column holding a recurring charge (e.g.
    ``monthly_revenue`` for a subscription): transactions of exactly that amount are automatic
    invoices, not purchase decisions, and are ignored (otherwise every subscriber "buys again"
    each month).
    """
    data = _as_data(data)
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days)
    G, P = grid.n_groups, grid.P
    idx, p, _ = _purchases(data, grid, recurring_col)
    n = len(grid.customers)
    first = np.full(n, P + 1, dtype=np.int64)
    np.minimum.at(first, idx, p)                       # -1 if before the window
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


def revenue_retention(data: ChurnData, *, freq: str = "Q", by=None, recurring_col: str | None = None,
                      new_tenure_months: int = 12, start=None, end=None,
                      inactivity_days: int | None = None) -> pd.DataFrame:
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
    ``observation_end`` (no lapse horizon).
    """
    data = _as_data(data)
    grid = _grid(data, freq=freq, by=by, start=start, end=end,
                 new_tenure_months=new_tenure_months, inactivity_days=inactivity_days,
                 lapse_horizon=False)
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
    with np.errstate(divide="ignore", invalid="ignore"):
        grr = np.where(starting > 0, (starting - churned - contraction) / starting, np.nan)
        nrr = np.where(starting > 0, (starting - churned - contraction + expansion) / starting, np.nan)
    return _long(grid, {"revenue": total, "base_customers": base_customers,
                        "starting_revenue": starting, "churned_revenue": churned,
                        "contraction": contraction, "expansion": expansion,
                        "new_revenue": new_rev, "grr": grr, "nrr": nrr})


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
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(observed > 0, retained / np.maximum(observed, 1), np.nan)
    present = sizes > 0
    if not wide:
        cc, kk = np.nonzero(np.ones_like(ret, dtype=bool))
        long = pd.DataFrame({"cohort": np.asarray(labels)[cc], "months": kk,
                             "observed": observed[cc, kk], "retained": retained[cc, kk],
                             "retention": ret[cc, kk]})
        return long[np.repeat(present, K + 1) & (long["observed"].to_numpy() > 0)].reset_index(drop=True)
    out = pd.DataFrame(ret, index=pd.Index(labels, name="cohort"),
                       columns=pd.Index(range(K + 1), name="months since start"))[present]
    out.attrs["sizes"] = pd.Series(sizes[present], index=out.index, name="customers")
    return out


# ------------------------------------------------------------------------------------------
# all indicators in one series, and targets
# ------------------------------------------------------------------------------------------
def indicator_series(data: ChurnData, *, freq: str = "Q", recurring_col: str | None = None,
                     satisfied_min: int = 4, inactivity_days: int | None = None,
                     start=None, end=None) -> pd.DataFrame:
    """Every available indicator per period (whole customer base), for dashboards and targets.

    Columns: ``period``, ``period_start``, ``period_end``, ``partial``, ``churn_rate``,
    ``retention_rate`` and, when their tables exist, ``complaint_rate``, ``share_complaining``,
    ``csat``, ``share_satisfied``, ``nps``, ``recommendation_rate``, ``repeat_purchase_rate``,
    ``grr``, ``nrr`` (on all transaction revenue). ``recurring_col`` is passed to
    :func:`repeat_purchase_table` (recurring invoices are not purchase decisions).
    """
    data = _as_data(data)
    kw = {"freq": freq, "start": start, "end": end, "inactivity_days": inactivity_days}
    ct = churn_table(data, **kw)
    out = ct[["period", "period_start", "period_end", "partial", "churn_rate",
              "retention_rate"]].copy()
    if data.has("tickets") and "kind" in data.tickets.columns:
        t = complaint_table(data, **kw)
        out["complaint_rate"] = t["complaint_rate"].to_numpy()
        out["share_complaining"] = t["share_complaining"].to_numpy()
    if data.has("surveys"):
        s = satisfaction_table(data, satisfied_min=satisfied_min, **kw)
        for col in ("csat", "share_satisfied", "nps", "recommendation_rate"):
            if col in s:
                out[col] = s[col].to_numpy()
    if data.has("transactions"):
        r = repeat_purchase_table(data, recurring_col=recurring_col, **kw)
        out["repeat_purchase_rate"] = r["repeat_purchase_rate"].to_numpy()
        v = revenue_retention(data, **kw).set_index("period")
        out["grr"] = v["grr"].reindex(out["period"]).to_numpy()
        out["nrr"] = v["nrr"].reindex(out["period"]).to_numpy()
    out.attrs.update(ct.attrs)
    return out


def _period_at(series: pd.DataFrame, when, *, complete_only: bool = True) -> int | None:
    """Position of the last (complete) period ending on or before ``when``; None if none."""
    ends = pd.to_datetime(series["period_end"])
    mask = ends <= pd.Timestamp(when)
    if complete_only and "partial" in series:
        mask &= ~series["partial"].astype(bool)
    pos = np.flatnonzero(mask.to_numpy())
    return int(pos[-1]) if len(pos) else None


def target_table(series: pd.DataFrame, targets: Mapping[str, Mapping], *,
                 as_of=None) -> pd.DataFrame:
    """Actual vs target for each indicator, with on-track / off-track status.

    Parameters
    ----------
    series : DataFrame
        Output of :func:`indicator_series` (one row per period). Target values refer to the
        same period length (a quarterly churn target for a quarterly series).
    targets : mapping
        ``{indicator: spec}``; ``spec`` keys:

        - ``value``: the target level, e.g. ``{"value": 0.05, "by": "2025-06-30"}``; or
        - ``change``: a relative change from the baseline, e.g. ``-0.05`` = "cut by 5%"; or
          ``change_points``: an absolute change (``-0.01`` = one percentage point lower);
        - ``by`` (required): the deadline;
        - ``from``: the baseline date (the last complete period ending on or before it);
          default the first complete period of ``series``;
        - ``direction``: ``"lower"`` or ``"higher"`` is better (defaults: :data:`DIRECTIONS`).
    as_of : date-like, optional
        Evaluate at the last complete period ending on or before this date (default: the last
        complete period of ``series``; never "today").

    Returns
    -------
    DataFrame
        ``indicator``, ``direction``, ``baseline_period``, ``baseline``, ``target``, ``by``,
        ``period`` (the evaluated period), ``actual``, ``expected_now`` (where a straight path
        from baseline to target would be at that period's end), ``change_needed`` (target -
        actual, 0 if met), ``change_needed_rel`` (relative to actual), ``status``
        (``"on track"`` / ``"off track"``) and ``detail``.

    Notes
    -----
    Status: ``on track`` if the target is already met, or if the deadline is still ahead and
    the actual value is at least as good as the straight path from the baseline to the target;
    ``off track`` otherwise (including a passed deadline with the target missed).
    """
    rows = []
    as_pos = _period_at(series, as_of if as_of is not None else pd.to_datetime(series["period_end"]).max())
    if as_pos is None:
        raise ValueError("no complete period on or before as_of to evaluate the targets.")
    for name, spec in (targets or {}).items():
        if name not in series.columns:
            rows.append({"indicator": name, "status": "not available",
                         "detail": f"'{name}' is not measured for this dataset"})
            continue
        if "by" not in spec:
            raise ValueError(f"target for '{name}' needs a deadline `by:`.")
        direction = spec.get("direction", DIRECTIONS.get(name, "higher"))
        if direction not in ("lower", "higher"):
            raise ValueError(f"direction of '{name}' must be 'lower' or 'higher'.")
        values = series[name].to_numpy(dtype=float)
        complete = ~series["partial"].astype(bool).to_numpy() if "partial" in series else np.ones(len(series), bool)
        if "from" in spec:
            b_pos = _period_at(series, spec["from"])
        else:
            cand = np.flatnonzero(complete & ~np.isnan(values))
            b_pos = int(cand[0]) if len(cand) else None
        # the latest complete period with a value at or before as_of
        cand = np.flatnonzero(complete & ~np.isnan(values) & (np.arange(len(series)) <= as_pos))
        a_pos = int(cand[-1]) if len(cand) else None
        baseline = values[b_pos] if b_pos is not None else np.nan
        if "value" in spec:
            target = float(spec["value"])
        elif "change" in spec:
            target = baseline * (1 + float(spec["change"]))
        elif "change_points" in spec:
            target = baseline + float(spec["change_points"])
        else:
            raise ValueError(f"target for '{name}' needs `value`, `change` or `change_points`.")
        by = pd.Timestamp(spec["by"])
        row = {"indicator": name, "direction": direction,
               "baseline_period": series["period"].iloc[b_pos] if b_pos is not None else None,
               "baseline": baseline, "target": target, "by": by}
        if a_pos is None or np.isnan(target):
            row.update({"status": "not available", "detail": "no value to compare"})
            rows.append(row)
            continue
        actual = values[a_pos]
        a_end = pd.Timestamp(series["period_end"].iloc[a_pos])
        better = (lambda a, b: a <= b) if direction == "lower" else (lambda a, b: a >= b)
        met = better(actual, target)
        expected = np.nan
        if b_pos is not None and not np.isnan(baseline):
            b_end = pd.Timestamp(series["period_end"].iloc[b_pos])
            span = (by - b_end).days
            frac = 1.0 if span <= 0 else float(np.clip((a_end - b_end).days / span, 0, 1))
            expected = baseline + frac * (target - baseline)
        if met:
            status, detail = "on track", "target already met"
        elif a_end >= by:
            status, detail = "off track", "deadline passed, target missed"
        elif not np.isnan(expected) and better(actual, expected):
            status, detail = "on track", "ahead of the straight path to the target"
        else:
            status, detail = "off track", "behind the straight path to the target"
        need = 0.0 if met else target - actual
        row.update({"period": series["period"].iloc[a_pos], "actual": actual,
                    "expected_now": expected, "change_needed": need,
                    "change_needed_rel": need / actual if actual else np.nan,
                    "status": status, "detail": detail})
        rows.append(row)
    cols = ["indicator", "direction", "baseline_period", "baseline", "target", "by", "period",
            "actual", "expected_now", "change_needed", "change_needed_rel", "status", "detail"]
    return pd.DataFrame(rows, columns=cols)
