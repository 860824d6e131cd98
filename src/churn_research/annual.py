"""The one "annual churn" of a dataset: the share of the customer base lost in a year.

Every report that turns churn into a yearly figure — 10_indicators' churn section, 50_clv's
cost of churn and retention scenarios, the summary's definitions table — calls
:func:`annual_churn`, so they print the same number with the same definition. It answers one
question: *of the customers we have, what share do we lose in a year?* It is neither a
per-period rate (customers lost in one month among those who could be lost in it) nor a new
customer's first-year churn, 1 − S(12), which counts only customers at the start of their
tenure, who churn more than established ones.

How it is measured depends on what the data record:

``window`` (dated exits over at least ``months`` months)
    The customers on the books at the start of the last ``months`` observable months, and the
    share of them who left by the window's end (a Wilson interval). The window ends at the
    observation end; with churn inferred from inactivity (non-contractual data) it ends
    ``inactivity_days`` earlier, the last date up to which a lapse is already visible. A window
    shorter than 12 months is annualised as ``1 − (1 − rate)^(12 / months)`` (the interval's
    ends likewise): ``window, annualised``.

``survival curve`` (one snapshot, e.g. IBM Telco: exits recorded for one month only)
    A snapshot's churn flag is a one-month outcome among a sample that may be enriched for
    churners, so it is not a yearly rate. Instead the Kaplan–Meier curve S(t) of tenure gives
    each active customer of tenure ``a`` the chance of leaving within the next 12 months,
    ``1 − S(a + 12) / S(a)``; the annual churn is its mean over the active customers. Beyond the
    longest observed tenure the curve continues at the mean hazard of its last 12 months
    (a constant-hazard tail). The interval is a percentile bootstrap over customers (seeded).
    The curve is 30_survival's: it reads each customer's tenure and churn flag as a censored or
    completed lifetime. A snapshot only supports that reading if its customers are
    representative of past ones (and a sample enriched for churners inflates every hazard), so
    the report calls the figure indicative.

The product-limit curve is computed with numpy on the distinct tenures rather than with
lifelines, because the bootstrap refits it a few hundred times (lifelines' fitter costs about
5 ms per fit on 7,000 customers, this about 0.3 ms); a test checks it against lifelines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_research.durations import durations
from churn_research.model import ChurnData, on_books, require_columns
from churn_research.stats import wilson_ci

__all__ = ["AnnualChurn", "annual_churn", "window_churn", "conditional_churn", "product_limit"]

#: Bootstrap replicates and seed of the survival-curve interval.
N_BOOT = 200
SEED = 20261202


@dataclass(frozen=True)
class AnnualChurn:
    """The dataset's annual churn and how it was measured (see the module docstring)."""

    rate: float
    ci_low: float
    ci_high: float
    method: str                      # "window", "window, annualised" or "survival curve"
    months: int                      # the window's length (12 for the survival curve)
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    at_risk: int                     # window: customers on the books at its start
    lost: int                        # window: of them, those who left within it
    window_rate: float               # window: lost / at_risk before annualising
    active: int                      # customers active at the observation end (the base)
    by: str | None = None            # survival curve: one curve per group of this column

    def key_figures(self) -> dict:
        """Flat figures under ``annual_churn.*`` (dates as ISO strings)."""
        def day(t):
            return None if t is None else pd.Timestamp(t).date().isoformat()

        return {"annual_churn": {
            "rate": self.rate, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "method": self.method, "months": self.months,
            "window_start": day(self.window_start), "window_end": day(self.window_end),
            "at_risk": self.at_risk, "lost": self.lost, "window_rate": self.window_rate,
            "active": self.active, "by": self.by}}

    def flat_figures(self) -> dict:
        """:meth:`key_figures` as the runner writes them (``annual_churn.rate`` ...)."""
        return {f"annual_churn.{k}": v for k, v in self.key_figures()["annual_churn"].items()}


def window_churn(customers: pd.DataFrame, *, window_end, months: int = 12) -> dict:
    """Customers on the books at ``window_end - months`` and the share of them lost by
    ``window_end``: ``window_start``, ``window_end``, ``at_risk``, ``lost``, ``rate``."""
    require_columns(customers, "customers", ["start_date", "end_date"],
                    fix="the customers table needs start_date and end_date.")
    w1 = pd.Timestamp(window_end)
    w0 = w1 - pd.DateOffset(months=int(months))
    at_risk = on_books(customers, w0)
    lost = at_risk & ~on_books(customers, w1)
    n, k = int(at_risk.sum()), int(lost.sum())
    return {"window_start": w0, "window_end": w1, "at_risk": n, "lost": k,
            "rate": k / n if n else float("nan")}


def product_limit(duration: np.ndarray, event: np.ndarray,
                  entry: np.ndarray | None = None, weights: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier curve: the distinct event-or-censoring times and S just after each.

    At risk at time t: customers with ``entry < t <= duration``, those entering at 0 at risk from
    the start (lifelines' convention for delayed entry). ``weights``: how many customers each
    row stands for (integer counts give the curve of the rows repeated, exactly). Returns
    ``times`` (sorted) and ``surv``.
    """
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event, dtype=bool)
    times, inv = np.unique(duration, return_inverse=True)
    if weights is None:
        deaths = np.bincount(inv, weights=event.astype(float), minlength=len(times))
        exits = np.bincount(inv, minlength=len(times)).astype(float)
    else:
        w = np.asarray(weights, dtype=float)
        deaths = np.bincount(inv, weights=np.where(event, w, 0.0), minlength=len(times))
        exits = np.bincount(inv, weights=w, minlength=len(times))
    at_risk = exits[::-1].cumsum()[::-1]
    if entry is not None:  # minus those who only enter at or after t (an entry at 0 is at risk at 0)
        entry = np.asarray(entry, dtype=float)
        if weights is None:
            late = np.sort(entry)
            late = late[late > 0]
            at_risk = at_risk - (len(late) - np.searchsorted(late, times, side="left"))
        else:
            order = np.argsort(entry, kind="stable")
            late, lw = entry[order], w[order]
            lw = lw[late > 0]
            late = late[late > 0]
            before = np.concatenate([[0.0], np.cumsum(lw)])  # weight of the late entries below
            at_risk = at_risk - (before[-1] - before[np.searchsorted(late, times, side="left")])
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(at_risk > 0, 1.0 - deaths / at_risk, 1.0)
    return times, np.cumprod(factor)


def _survival_at(times: np.ndarray, surv: np.ndarray, t: np.ndarray, *, tail_months: float = 12.0
                 ) -> np.ndarray:
    """S(t) from a product-limit curve (right-continuous step), continued beyond the last time
    at the mean hazard of the curve's last ``tail_months``."""
    t = np.asarray(t, dtype=float)
    idx = np.searchsorted(times, t, side="right") - 1
    s = np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    t_max = times[-1]
    beyond = t > t_max
    if beyond.any():
        s_end = surv[-1]
        j = np.searchsorted(times, t_max - tail_months, side="right") - 1
        s_before = surv[j] if j >= 0 else 1.0
        hazard = -np.log(s_end / s_before) / tail_months if s_end > 0 and s_before > 0 else 0.0
        s = np.where(beyond, s_end * np.exp(-hazard * (t - t_max)), s)
    return s


def conditional_churn(times: np.ndarray, surv: np.ndarray, tenure: np.ndarray, *,
                      horizon: float = 12.0) -> np.ndarray:
    """Chance of leaving within ``horizon`` for a customer still there at ``tenure``:
    ``1 - S(tenure + horizon) / S(tenure)`` (0 where S(tenure) is 0)."""
    now = _survival_at(times, surv, tenure)
    later = _survival_at(times, surv, np.asarray(tenure, dtype=float) + horizon)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(now > 0, 1.0 - later / now, 0.0)


def _curve_churn(frame: pd.DataFrame, *, by: str | None, n_boot: int, seed: int
                 ) -> tuple[float, float, float]:
    d, e = frame["duration"].to_numpy(float), frame["event"].to_numpy(bool)
    entry = frame["entry"].to_numpy(float) if "entry" in frame else None
    groups = (np.zeros(len(frame), dtype=int) if by is None
              else pd.factorize(frame[by].astype(str))[0])

    def estimate(rows: np.ndarray) -> float:
        total, active_n = 0.0, 0
        for g in np.unique(groups[rows]):
            sub = rows[groups[rows] == g]
            times, surv = product_limit(d[sub], e[sub], None if entry is None else entry[sub])
            active = sub[~e[sub]]
            total += float(conditional_churn(times, surv, d[active]).sum())
            active_n += len(active)
        return total / active_n if active_n else float("nan")

    rate = estimate(np.arange(len(frame)))
    rng = np.random.default_rng(seed)
    boots = np.array([estimate(rng.integers(0, len(frame), len(frame))) for _ in range(n_boot)])
    low, high = np.nanpercentile(boots, [2.5, 97.5])
    return rate, float(low), float(high)


def annual_churn(data: ChurnData, *, months: int = 12, by: str | None = None,
                 n_boot: int = N_BOOT, seed: int = SEED, window_end=None) -> AnnualChurn:
    """The dataset's annual churn (see the module docstring for the two methods).

    Parameters
    ----------
    data : ChurnData
    months : int, default 12
        Length of the observation window of the window method, ending at the last date at
        which exits are visible (shorter windows are annualised; e.g. 9 for CDNOW, whose
        first-quarter cohort has joined by 1997-04-01 and whose last visible lapse is on
        1998-01-01). Ignored for a snapshot.
    by : str, optional
        Snapshot only: read each active customer's chance off the curve of their own group
        (e.g. ``contract``: month-to-month customers churn at every tenure far more than
        two-year ones, and one curve for all would mix them — the same segments 50_clv values
        customers by). Ignored when the column is absent.
    n_boot, seed : int
        Bootstrap replicates and seed of the survival-curve interval.
    window_end : date-like, optional
        End the window method's window here instead of the last date at which exits are
        visible (it must not be later: a common period for several churn definitions).
    """
    cust = data.customers
    obs = pd.Timestamp(data.observation_end)
    active = int(on_books(cust, obs).sum())
    if data.is_snapshot:
        frame = durations(data, unit="months")
        by = by if by is not None and by in frame.columns else None
        rate, low, high = _curve_churn(frame, by=by, n_boot=n_boot, seed=seed)
        return AnnualChurn(rate, low, high, "survival curve", 12, None, None, 0, 0, float("nan"),
                           active, by)
    latest = obs
    if data.kind == "non-contractual":
        latest = obs - pd.Timedelta(days=int(data.inactivity_days))
    if window_end is not None and pd.Timestamp(window_end) > latest:
        raise ValueError(f"window_end {pd.Timestamp(window_end).date()} is after the last date at "
                         f"which exits are visible ({latest.date()}).")
    window_end = latest if window_end is None else pd.Timestamp(window_end)
    win = window_churn(cust, window_end=window_end, months=months)
    low, high = (float(v) for v in wilson_ci(win["lost"], win["at_risk"]))
    rate = win["rate"]
    method = "window"
    if int(months) != 12:
        method = "window, annualised"
        rate, low, high = (1 - (1 - v) ** (12 / int(months)) for v in (rate, low, high))
    return AnnualChurn(float(rate), float(low), float(high), method, int(months),
                       win["window_start"], win["window_end"], win["at_risk"], win["lost"],
                       float(win["rate"]), active)
