"""Calendar periods (:func:`periods`) and the vectorised customer x period grid behind every
indicator: period codes by ``np.searchsorted``, counts by ``np.bincount`` over difference arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_research.indicators.window import (
    _NAT,
    _NS_PER_DAY,
    TENURE_GROUP,
    TENURE_LABELS,
    _as_data,
    _ns,
    observation_window,
    prepared_customers,
)
from churn_research.model import ChurnData, ChurnDataError
from churn_research.periods import periods  # noqa: F401 - re-exported (indicators.periods)

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


def _flows(grid: _Grid, returned: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """at_risk, new, returned, churned, churned_new per (group, period).

    The grid's units are customers, or spells of customers (:func:`_spell_grid`) with
    ``returned`` flagging the spells that start with a return: those count in ``returned``
    instead of ``new``. ``churned_new`` counts the units that start (join or return) and end in
    the same period. A unit's tenure group follows its customer's tenure (a spell that starts
    in a period counts as new unless its customer's tenure makes it existing).
    """
    P, G = grid.P, grid.n_groups
    cs, ce, g = grid.cs, grid.ce, grid.group
    lo = np.clip(cs + 1, 0, P)
    hi = np.clip(ce + 1, 0, P)
    valid_new = (cs >= 0) & (cs < P)
    same = valid_new & (ce == cs)
    ret = np.zeros(len(cs), dtype=bool) if returned is None else np.asarray(returned, dtype=bool)
    if grid.cx is None:
        at_risk = _interval_counts(g, lo, hi, G, P)
        start_group = g
    else:
        cx = grid.cx
        at_risk = (_interval_counts(g * 2, lo, np.minimum(hi, np.maximum(cx, lo)), G, P)
                   + _interval_counts(g * 2 + 1, np.maximum(lo, np.minimum(cx, hi)), hi, G, P))
        start_group = g * 2 + (cs >= cx)   # a customer's first spell: always new (cx > cs)
        g = g * 2 + (ce >= cx)             # the group a unit ends in
    new = _point_counts(start_group[~ret], cs[~ret], G, P)
    back = _point_counts(start_group[ret], cs[ret], G, P)
    churned = _point_counts(g, ce, G, P)
    churned_new = _point_counts(start_group[same], cs[same], G, P)
    return {"at_risk": at_risk, "new": new, "returned": back, "churned": churned,
            "churned_new": churned_new}


def _spell_grid(grid: _Grid, spells) -> _Grid:
    """The grid with customer spells (:class:`~churn_research.indicators.episodes.Spells`) as
    its units: their period codes, and their customers' segment and tenure anniversary."""
    c = spells.customer
    return _Grid(table=grid.table, bounds=grid.bounds, customers=grid.customers,
                 cs=grid.code(spells.start), ce=grid.code(spells.end), group=grid.group[c],
                 levels=grid.levels, cx=None if grid.cx is None else grid.cx[c], window=grid.window)


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
