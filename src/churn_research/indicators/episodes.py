"""Episode-based lapses of non-contractual customers (purchase logs): :func:`lapse_episodes`.

A purchase log has no end dates. The project's customer-level rule (:func:`infer_churn`) dates
a customer's loss at their *last* purchase when more than ``inactivity_days`` separate it from
``observation_end``. Used per period, that rule looks further ahead for early periods than for
late ones: a lapse in an early month counts only if the customer never bought again up to the
snapshot, one in a late month if they did not buy again for ``inactivity_days``. Lapses followed
by a return are therefore missed early and counted late, and churn per period drifts upwards
for no reason but the calendar.

The episode rule gives every period the same look-ahead:

* a **lapse** is every gap of more than ``inactivity_days`` between two consecutive purchases of
  a customer, or between their last purchase and ``observation_end``; it is dated at the
  purchase *before* the gap (the rule of :func:`infer_churn`, applied to every gap);
* a customer who buys again after a lapse **returns**: they are a customer again from that
  purchase on (a new *spell*), and can lapse again.

A customer's spells run from ``start_date`` (the first spell) or a return purchase to the
purchase before a lapse (``end_date``), or are still running at ``observation_end`` (NaT). The
last spell's end is exactly :func:`infer_churn`'s ``end_date``. A lapse dated on or before
``observation_end - (inactivity_days + 1) days`` is always visible, whatever the period.

Dates are taken as days. Everything is vectorised: one sort of ``(customer, day)`` keys (skipped
when the log is already in that order) and cumulative counts; no loop over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_research.indicators.grid import _same_buffer
from churn_research.indicators.window import (
    _NAT,
    _NS_PER_DAY,
    _as_data,
    _inactivity_days,
    _ns,
    prepared_customers,
)
from churn_research.model import ChurnData, ChurnDataError

__all__ = ["Spells", "lapse_episodes", "uses_episodes", "LAPSES"]

#: Lapse definitions of the per-period churn table: ``"episodes"`` (every lapse, with returns)
#: or ``"final"`` (only each customer's last lapse, :func:`infer_churn`'s end date).
LAPSES = ("episodes", "final")


@dataclass(frozen=True)
class Spells:
    """Customer spells (internal arrays, one entry per spell, ordered by customer then time).

    ``customer``: position in the customers frame; ``start`` / ``end``: int64 ns (``end`` is the
    int64 minimum, i.e. NaT, for a spell still running); ``returned``: the spell starts with a
    return purchase (False for each customer's first spell).
    """

    customer: np.ndarray
    start: np.ndarray
    end: np.ndarray
    returned: np.ndarray

    def __len__(self) -> int:
        return len(self.customer)


def uses_episodes(data: ChurnData, lapses: str) -> bool:
    """Whether a per-period churn table of ``data`` counts episodes: ``lapses="episodes"`` on
    non-contractual data with a transactions table (contractual data have explicit end dates)."""
    if lapses not in LAPSES:
        raise ValueError(f"lapses must be one of {LAPSES}, not {lapses!r}.")
    return lapses == "episodes" and data.kind == "non-contractual" and data.has("transactions")


def _spells(start_ns: np.ndarray, tx_customer: np.ndarray, tx_ns: np.ndarray, *,
            observation_end, inactivity_days: int) -> Spells:
    """The spells of ``len(start_ns)`` customers from their purchases (positions and dates)."""
    n = len(start_ns)
    tx_customer = np.asarray(tx_customer, dtype=np.int64)
    if len(tx_ns) and tx_ns.min() == _NAT:
        ok = tx_ns != _NAT
        tx_customer, tx_ns = tx_customer[ok], tx_ns[ok]
    obs_day = pd.Timestamp(observation_end).normalize().value // _NS_PER_DAY
    cust = tx_customer
    if len(tx_ns):
        d0 = int(tx_ns.min()) // _NS_PER_DAY
        day = (tx_ns // _NS_PER_DAY - d0).astype(np.int32)      # days since the first purchase
        width = int(max(int(day.max()), obs_day - d0)) + 1
        key = tx_customer * width
        key += day
        if len(key) > 1 and not bool((key[1:] >= key[:-1]).all()):
            key.sort()                                           # (customer, day) order
            cust = key // width
            day = (key - cust * width).astype(np.int32)
        del key
    else:
        d0, day = 0, np.zeros(0, dtype=np.int32)
    obs_day -= d0
    m = len(day)
    last = np.ones(m, dtype=bool)                # last purchase of its customer
    np.not_equal(cust[1:], cust[:-1], out=last[:-1])
    gap = np.empty(m, dtype=np.int32)            # days to the next purchase (or to the snapshot)
    np.subtract(day[1:], day[:-1], out=gap[:-1])
    gap[last] = obs_day - day[last]
    lapse = gap > int(inactivity_days)
    del gap
    ret = np.zeros(m, dtype=bool)                # a purchase right after a lapse: a return
    np.logical_and(lapse[:-1], ~last[:-1], out=ret[1:])
    # spells: each customer's first spell, then one per return, in time order
    n_ret = np.bincount(cust[ret], minlength=n)
    offset = np.concatenate([[0], np.cumsum(1 + n_ret)[:-1]]).astype(np.int64)
    total = n + int(n_ret.sum())

    def ranks(mask):
        """Rank (0, 1, ...) of each flagged purchase among its customer's flagged purchases."""
        c = cust[mask]
        first = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=n))[:-1]])
        return np.arange(len(c)) - first[c]

    customer = np.repeat(np.arange(n, dtype=np.int64), 1 + n_ret)
    start = np.empty(total, dtype=np.int64)
    start[offset] = start_ns
    start[offset[cust[ret]] + 1 + ranks(ret)] = (day[ret] + np.int64(d0)) * _NS_PER_DAY
    end = np.full(total, _NAT, dtype=np.int64)
    end[offset[cust[lapse]] + ranks(lapse)] = (day[lapse] + np.int64(d0)) * _NS_PER_DAY
    returned = np.ones(total, dtype=bool)
    returned[offset] = False
    return Spells(customer=customer, start=start, end=end, returned=returned)


#: The spells of the last large purchase log, with what they were computed from (the
#: transaction dates' buffer, the customer positions, the start dates, the rule's settings):
#: a report builds several churn tables of the same log.
_SPELL_CACHE: list[tuple[tuple, np.ndarray, np.ndarray, np.ndarray, Spells]] = []


def customer_spells(customers: pd.DataFrame, transactions: pd.DataFrame, *, observation_end,
                    inactivity_days: int, tx_customer: np.ndarray | None = None) -> Spells:
    """:class:`Spells` of a prepared customers frame (``tx_customer``: each transaction's
    position in ``customers``, if already known)."""
    if tx_customer is not None and len(tx_customer) >= 100_000:
        settings = (pd.Timestamp(observation_end), int(inactivity_days))
        dates, start_ns = transactions["date"].to_numpy(), _ns(customers["start_date"])
        for key, d, c, st, spells in _SPELL_CACHE:
            if (key == settings and _same_buffer(d, dates) and _same_buffer(c, tx_customer)
                    and np.array_equal(st, start_ns)):
                return spells
        spells = _spells(start_ns, tx_customer, _ns(transactions["date"]),
                         observation_end=observation_end, inactivity_days=int(inactivity_days))
        _SPELL_CACHE[:] = [(settings, dates, tx_customer, start_ns, spells)]
        return spells
    if tx_customer is None:
        tx_customer = pd.Index(customers["customer_id"].astype(str)).get_indexer(
            transactions["customer_id"].astype(str))
        if (tx_customer < 0).any():
            bad = transactions.loc[tx_customer < 0, "customer_id"].astype(str).unique()[:5].tolist()
            raise ChurnDataError(f"{int((tx_customer < 0).sum())} row(s) refer to unknown customers.",
                                 table="transactions", column="customer_id", rows=bad,
                                 fix="add those customers to the customers table or drop the rows.")
    return _spells(_ns(customers["start_date"]), tx_customer, _ns(transactions["date"]),
                   observation_end=observation_end, inactivity_days=int(inactivity_days))


def lapse_episodes(data: ChurnData, *, inactivity_days: int | None = None) -> pd.DataFrame:
    """Every spell of every customer of a purchase log (non-contractual data).

    Parameters
    ----------
    data : ChurnData
        Non-contractual data with a transactions table.
    inactivity_days : int, optional
        Days without a purchase after which a customer has lapsed (default
        ``data.inactivity_days``).

    Returns
    -------
    DataFrame
        One row per spell, ordered by customer and time: ``customer_id``, ``spell`` (0 for the
        first, 1, 2, ... for returns), ``start_date`` (``start_date`` of the customer or the
        return purchase), ``end_date`` (the purchase before the lapse; NaT while the spell
        runs), ``returned`` (the spell starts with a return).

    Examples
    --------
    >>> cust = pd.DataFrame({"customer_id": ["a"], "start_date": pd.to_datetime(["2020-01-01"]),
    ...                      "end_date": pd.NaT})
    >>> tx = pd.DataFrame({"customer_id": ["a"] * 3,
    ...                    "date": pd.to_datetime(["2020-01-01", "2020-06-01", "2020-07-01"])})
    >>> d = ChurnData(customers=cust, transactions=tx, observation_end=pd.Timestamp("2020-12-31"),
    ...               kind="non-contractual", inactivity_days=90)
    >>> e = lapse_episodes(d)
    >>> e[["spell", "start_date", "end_date"]].astype(str).values.tolist()
    [['0', '2020-01-01', '2020-01-01'], ['1', '2020-06-01', '2020-07-01']]
    """
    data = _as_data(data)
    if data.kind != "non-contractual" or not data.has("transactions"):
        raise ChurnDataError("lapse episodes need a purchase log (non-contractual data with a "
                             "transactions table).", table="transactions",
                             fix="use end_date of contractual data directly.")
    days = _inactivity_days(data, inactivity_days)
    cust = prepared_customers(data, inactivity_days=days)
    sp = customer_spells(cust, data.transactions, observation_end=data.observation_end,
                         inactivity_days=days)
    first = np.concatenate([[0], np.cumsum(np.bincount(sp.customer, minlength=len(cust)))[:-1]])
    return pd.DataFrame({
        "customer_id": cust["customer_id"].to_numpy()[sp.customer],
        "spell": np.arange(len(sp)) - first[sp.customer],
        "start_date": sp.start.astype("datetime64[ns]"),
        "end_date": sp.end.astype("datetime64[ns]"),
        "returned": sp.returned,
    })
