"""Shared intervals and tests: one copy of each, used by every stage.

* :func:`wilson_ci` -- Wilson score interval of a proportion (statsmodels);
* :func:`poisson_rate_ci` -- exact (Garwood) interval of a Poisson rate;
* :func:`cochran_armitage` -- test for a linear trend in proportions;
* :func:`ratio_test` -- ratio of two rates or risks with a Wald interval and test;
* :func:`compare_with_truth` -- estimates beside known true values (the synthetic generator's
  truth or a published table): covered by the interval, right sign;
* :func:`risk_deciles`, :func:`reliability_table`, :func:`expected_calibration_error`,
  :func:`brier_score` -- how well predicted churn probabilities match what happened, per decile
  of predicted risk, numbered one way everywhere (decile 1 = the riskiest tenth);
* :func:`reference_level` -- the reference level of a categorical column in a regression (the
  one rule of 20_causes and 30_survival: the level the parameters name, else the most frequent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from churn_research.model import ChurnDataError

__all__ = ["wilson_ci", "poisson_rate_ci", "cochran_armitage", "ratio_test", "compare_with_truth",
           "reference_level", "risk_deciles", "reliability_table", "expected_calibration_error",
           "brier_score", "logrank_parts", "logrank_chi2"]


def wilson_ci(count, nobs, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``count / nobs`` (NaN where ``nobs == 0``).

    Parameters
    ----------
    count, nobs : array-like
        Number of successes and of trials (broadcast against each other).
    alpha : float
        1 − confidence level.

    Returns
    -------
    low, high : ndarray
        From ``statsmodels.stats.proportion.proportion_confint(method="wilson")``; always
        within [0, 1] and around ``count / nobs`` (``low <= p <= high``, also at 0 and ``nobs``).
    """
    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    lo = np.full(np.broadcast(count, nobs).shape, np.nan)
    hi = lo.copy()
    ok = nobs > 0
    if ok.any():
        c, n = np.broadcast_arrays(count, nobs)
        low, high = proportion_confint(c[ok], n[ok], alpha=alpha, method="wilson")
        # the interval holds its estimate exactly: at 0 or n events the closed form's bound is
        # ~1e-18 off, which error bars (yerr = p - low) read as negative (a zero-churn month)
        p = c[ok] / n[ok]
        lo[ok], hi[ok] = np.minimum(low, p), np.maximum(high, p)
    return lo, hi


def poisson_rate_ci(events, exposure, *, alpha: float = 0.05):
    """Exact (Garwood) interval for a Poisson rate ``events / exposure``."""
    k = np.asarray(events, dtype=float)
    e = np.asarray(exposure, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0) / e
        hi = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2 / e
    return lo, hi


def cochran_armitage(events, n, scores=None) -> tuple[float, float]:
    """Cochran–Armitage test for a linear trend in proportions; returns (z, two-sided p)."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    t = np.arange(len(n), dtype=float) if scores is None else np.asarray(scores, dtype=float)
    big_n = n.sum()
    if big_n == 0 or len(n) < 2:
        return float("nan"), float("nan")
    p = x.sum() / big_n
    stat = np.sum(t * (x - n * p))
    var = p * (1 - p) * (np.sum(t**2 * n) - np.sum(t * n) ** 2 / big_n)
    if var <= 0:
        return float("nan"), float("nan")
    z = stat / math.sqrt(var)
    return float(z), float(2 * stats.norm.sf(abs(z)))


def ratio_test(a: float, exp_a: float, b: float, exp_b: float, *, kind: str,
               alpha: float = 0.05) -> tuple[float, float, float, float]:
    """Ratio of two rates (``kind="rate"``: events / exposure) or risks (``kind="risk"``).

    Returns ``(ratio, ci_low, ci_high, p_value)`` from a Wald test on the log scale; a zero count
    gets the usual 0.5 continuity correction.
    """
    if min(a, b) == 0:
        a, b = a + 0.5, b + 0.5
        exp_a, exp_b = exp_a + (1 if kind == "risk" else 0), exp_b + (1 if kind == "risk" else 0)
    ratio = (a / exp_a) / (b / exp_b)
    if kind == "rate":
        se = math.sqrt(1 / a + 1 / b)
    else:
        se = math.sqrt(max(1 / a - 1 / exp_a + 1 / b - 1 / exp_b, 0.0))
    z = stats.norm.ppf(1 - alpha / 2)
    lo, hi = ratio * math.exp(-z * se), ratio * math.exp(z * se)
    p = 2 * stats.norm.sf(abs(math.log(ratio)) / se) if se > 0 else float("nan")
    return ratio, lo, hi, p


def compare_with_truth(estimates: pd.DataFrame, truth: Mapping[str, float], *,
                       estimate: str, lower: str, upper: str,
                       aliases: Mapping[str, str] | None = None,
                       exp: bool = False) -> pd.DataFrame:
    """Set estimates and their intervals beside known true values.

    Parameters
    ----------
    estimates : DataFrame
        One row per term (the index), with the columns named by ``estimate``, ``lower`` and
        ``upper``.
    truth : mapping
        ``{name: true value}``; on the log scale when ``exp=True``.
    estimate, lower, upper : str
        Columns of ``estimates``.
    aliases : mapping, optional
        ``{term in estimates: name in truth}`` where the two differ.
    exp : bool
        Compare with ``exp(truth)`` (a hazard ratio against a true log hazard ratio).

    Returns
    -------
    DataFrame
        ``term``, the three estimate columns, ``truth``, ``covered`` (the interval holds the
        truth) and ``sign_ok`` (the estimate is on the truth's side of no effect; for a true
        null, the interval holds the null), for the terms present in both.
    """
    aliases = dict(aliases or {})
    null = 1.0 if exp else 0.0
    rows = []
    for term, r in estimates.iterrows():
        key = aliases.get(term, term)
        if key not in truth:
            continue
        true = float(np.exp(truth[key])) if exp else float(truth[key])
        b, lo, hi = r[estimate], r[lower], r[upper]
        sign_ok = (bool(np.sign(b - null) == np.sign(true - null)) if true != null
                   else bool(lo <= null <= hi))
        rows.append({"term": term, estimate: b, lower: lo, upper: hi, "truth": true,
                     "covered": bool(lo <= true <= hi), "sign_ok": sign_ok})
    return pd.DataFrame(rows, columns=["term", estimate, lower, upper, "truth", "covered", "sign_ok"])


def reference_level(counts: Mapping[Any, int] | pd.Series, requested: Any | None = None, *,
                    column: str, table: str = "customers", parameter: str = "reference") -> str:
    """The reference level of the categorical ``column`` whose levels occur ``counts`` times.

    ``requested`` (the ``reference:`` parameter's entry for the column) when given; else the most
    frequent level (ties: the first in sorted order), so that a user's data need no parameter
    (plan levels 基础版/高级版 as much as basic/premium). Levels are compared as text. A requested
    level that does not occur raises :class:`~churn_research.model.ChurnDataError` naming the
    parameter (``reference.<column>``), the levels that do occur (most frequent first) and the
    default; the runner adds which params file and section to edit.
    """
    counts = pd.Series(counts, dtype=float) if not isinstance(counts, pd.Series) else counts
    counts = counts.groupby(counts.index.map(str)).sum()
    counts = counts[counts > 0]
    if counts.empty:
        raise ChurnDataError("has no values to choose a reference level from.", table=table,
                             column=column)
    ordered = sorted(counts.index, key=lambda lv: (-counts[lv], lv))
    if requested is None:
        return ordered[0]
    if str(requested) not in counts.index:
        shown = ", ".join(ordered[:12]) + (f" (and {len(ordered) - 12} more)" if len(ordered) > 12 else "")
        raise ChurnDataError(
            f"reference level {str(requested)!r} does not occur.", table=table, column=column,
            parameter=f"{parameter}.{column}",
            fix=f"set it to one of the levels that occur: {shown}; or remove the entry, and the "
                f"most frequent level ({ordered[0]!r}) is the reference.")
    return str(requested)


def risk_deciles(p, n_bins: int = 10) -> np.ndarray:
    """Equal-size bins of customers ranked by predicted risk ``p``: 1 = the highest risk (the
    project's one numbering of deciles; ties broken by order)."""
    p = np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    ranks = np.empty(len(p), dtype=np.int64)
    ranks[order] = np.arange(len(p))
    return (ranks * n_bins) // max(len(p), 1) + 1


def reliability_table(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed churn per decile of predicted risk (:func:`risk_deciles`;
    rows from the riskiest down).

    Returns ``decile``, ``customers``, ``predicted``, ``observed``, ``gap`` (observed −
    predicted) and the Wilson 95% interval of the observed rate (``observed_ci_low``,
    ``observed_ci_high``).
    """
    y, p = np.asarray(y, float), np.asarray(p, float)
    g = pd.DataFrame({"decile": risk_deciles(p, n_bins), "y": y, "p": p}).groupby("decile")
    out = pd.DataFrame({"customers": g.size(), "predicted": g["p"].mean(), "observed": g["y"].mean()})
    out["gap"] = out["observed"] - out["predicted"]
    lo, hi = wilson_ci(g["y"].sum().to_numpy(), out["customers"].to_numpy())
    out["observed_ci_low"], out["observed_ci_high"] = lo, hi
    return out.reset_index()


#: Calibration gap (mean and per decile) within which risk scores read as churn probabilities
#: (40_segments' calibration table; 60_retention's scores with or without recalibration).
CALIBRATION_TOLERANCE = 0.05


def expected_calibration_error(y, p, *, n_bins: int = 10) -> float:
    """Expected calibration error: the customer-weighted mean |observed − predicted| over the
    deciles of predicted risk (:func:`reliability_table`)."""
    t = reliability_table(y, p, n_bins=n_bins)
    return float(np.average(t["gap"].abs(), weights=t["customers"]))


def brier_score(y, p) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome."""
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


# ------------------------------------------------------------------------------------------
# the log-rank test from risk sets with delayed entry
# ------------------------------------------------------------------------------------------
def _weighted_sorted(values, weights):
    order = np.argsort(values, kind="stable")
    return values[order], np.concatenate([[0], np.cumsum(weights[order])])


def logrank_parts(duration, event, group, *, k: int, entry=None, entry_group=None,
                  weight=None, entry_weight=None):
    """Observed and expected events per group and the covariance of O − E (hypergeometric) at
    the distinct event times, with risk sets ``entry ≤ t ≤ duration``: the log-rank statistic's
    pieces (:func:`logrank_chi2`).

    Rows are customers (``weight`` None) or counts of customers (``weight``: how many share a
    row; the engine passes counts per (group, duration, event)). ``group`` codes 0..k−1
    (negative: left out). ``entry``/``entry_group``/``entry_weight`` list the entries after time 0
    (the same rows as ``duration`` when not given separately; None: nobody enters late).
    """
    T, E = np.asarray(duration, float), np.asarray(event).astype(bool)
    g = np.asarray(group)
    W = np.ones(len(T)) if weight is None else np.asarray(weight, float)
    if entry is None:
        B, bg, BW = np.zeros(0), np.zeros(0, int), np.zeros(0)
    else:
        B = np.asarray(entry, float)
        bg = g if entry_group is None else np.asarray(entry_group)
        BW = (W if entry_weight is None and entry_group is None else
              np.ones(len(B)) if entry_weight is None else np.asarray(entry_weight, float))
    times = np.unique(T[E & (g >= 0)])
    n, d = np.zeros((len(times), k)), np.zeros((len(times), k))
    for j in range(k):
        m, mb = g == j, bg == j
        Tg, cum = _weighted_sorted(T[m], W[m])
        Te, ecum = _weighted_sorted(T[m & E], W[m & E])
        Bg, bcum = _weighted_sorted(B[mb], BW[mb])
        n[:, j] = ((cum[-1] - cum[np.searchsorted(Tg, times, side="left")])
                   - (bcum[-1] - bcum[np.searchsorted(Bg, times, side="right")]))
        d[:, j] = ecum[np.searchsorted(Te, times, side="right")] - ecum[np.searchsorted(Te, times, side="left")]
    nt, dt = n.sum(1), d.sum(1)
    ok = nt > 0
    n, d, nt, dt = n[ok], d[ok], nt[ok], dt[ok]
    observed = d.sum(0)
    share = n / nt[:, None]
    expected = (dt[:, None] * share).sum(0)
    factor = np.where(nt > 1, dt * (nt - dt) / np.maximum(nt - 1, 1), 0.0)
    cov = (np.einsum("j,jg,gh->gh", factor, share, np.eye(k))
           - np.einsum("j,jg,jh->gh", factor, share, share))
    return observed, expected, cov


def logrank_chi2(observed, expected, cov) -> tuple[float, int, float]:
    """The log-rank chi-square statistic, its degrees of freedom and p from
    :func:`logrank_parts` (the last group dropped: O − E sums to 0)."""
    z = (observed - expected)[:-1]
    stat = float(z @ np.linalg.pinv(cov[:-1, :-1]) @ z)
    dof = len(observed) - 1
    return stat, dof, float(stats.chi2.sf(stat, dof))
