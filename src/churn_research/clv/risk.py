"""Money at risk: the value expected to be lost to churn within a horizon if nothing changes.

For each active customer, ``P(churn within the horizon) x value``, from the same model that
values the customer:

* contractual data (:func:`curve_churn_probability`): the retention curve of
  :func:`churn_research.clv.contractual.survival_curve` (Kaplan-Meier + parametric tail, per
  segment), conditional on the customer's tenure ``tau``: ``1 - S(tau + h) / S(tau)``; the
  value is the residual lifetime value given that they are a customer now;
* non-contractual data (:func:`bgnbd_churn_probability`): the BG/NBD model; the probability
  that a customer who is alive now drops out within the horizon, times the BG/NBD x
  Gamma-Gamma value (which already weighs the customer by P(alive now)).

:func:`bootstrap_contractual` and :func:`bootstrap_btyd` refit the model on customers resampled
with replacement (a fixed seed) and re-evaluate the expected loss of the actual customers: the
spread of those replicates is the model's uncertainty (:func:`normal_interval`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from churn_research.clv.btyd import btyd_clv
from churn_research.clv.contractual import (
    _curve_groups,
    _lifetime_groups,
    compact_lifetimes,
    curve_from_lifetimes,
    residual_lifetime,
)
from churn_research.durations import DAYS_PER_MONTH
from churn_research.models.beta_geo import BetaGeo
from churn_research.models.gamma_gamma import GammaGamma


# ========================================================================================
# P(churn within the horizon)
# ========================================================================================
def curve_churn_probability(residual: pd.DataFrame, curve: pd.DataFrame, *,
                            horizon: int = 12) -> pd.Series:
    """``1 - S(tau + h) / S(tau)`` per active customer, from a retention curve.

    Parameters
    ----------
    residual : DataFrame
        :func:`~churn_research.clv.contractual.residual_clv`: ``segment`` and ``tenure``
        (periods) per active customer.
    curve : DataFrame
        :func:`~churn_research.clv.contractual.survival_curve` (the same curve).
    horizon : int, default 12
        Periods ahead (12 months).

    Returns
    -------
    Series
        Indexed like ``residual``; NaN for a segment the curve does not cover.
    """
    tau = np.floor(np.maximum(residual["tenure"].to_numpy(dtype=float), 0)).astype(int)
    seg = residual["segment"].astype(str).to_numpy()
    out = np.full(len(residual), np.nan)
    for name, g in _curve_groups(curve).items():
        s = g["survival"].to_numpy()
        h = len(s) - 1
        m = seg == str(name)
        now, later = s[np.minimum(tau[m], h)], s[np.minimum(tau[m] + int(horizon), h)]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[m] = np.where(now > 0, 1.0 - later / now, np.nan)
    return pd.Series(out, index=residual.index, name="p_churn")


def bgnbd_survival_given_alive(bg: BetaGeo, horizon, frequency, recency, T) -> np.ndarray:
    """P(no dropout in (T, T + h] | alive at T and the history) under the BG/NBD.

    Given the history (x purchases, the last at ``recency``, age ``T``) and being alive at T,
    the posterior of the purchase rate and the dropout probability is
    ``lambda ~ Gamma(r + x, alpha + T)`` and ``p ~ Beta(a, b + x)``, independent. While alive
    a customer drops out after each purchase with probability p, so dropouts come as a Poisson
    process of rate ``lambda p`` and ``P(alive at T + h | lambda, p) = exp(-lambda p h)``.
    Integrating over lambda gives ``(1 + p h / (alpha + T))^-(r + x)``, over p

    ``q = 2F1(r + x, a; a + b + x; -h / (alpha + T))
       = (1 + h / (alpha + T))^-a 2F1(a + b - r, a; a + b + x; h / (alpha + T + h))``

    (Euler's integral, then Pfaff's transformation so the argument is in [0, 1)).
    ``horizon`` is in the model's time unit.
    """
    r, al, a, b = bg.params_.to_numpy()
    x = np.asarray(frequency, dtype=float)
    T = np.asarray(T, dtype=float)
    h = np.asarray(horizon, dtype=float)
    u = h / (al + T)
    return (1.0 + u) ** (-a) * special.hyp2f1(a + b - r, a, a + b + x, h / (al + T + h))


def bgnbd_churn_probability(bg: BetaGeo, horizon, frequency, recency, T) -> pd.DataFrame:
    """P(alive now), P(dropout within the horizon | alive now) and P(no longer alive at T + h).

    ``p_alive`` is :meth:`BetaGeo.p_alive`; ``p_churn_if_alive = 1 - q`` with ``q`` from
    :func:`bgnbd_survival_given_alive`; ``p_gone_at_horizon = 1 - p_alive x q`` (the
    probability the customer is no longer alive at the horizon, whether they left before or
    within it); ``p_churn = p_alive x (1 - q)``, the probability that the customer churns
    *within* the horizon (a customer who has already left churned before it).

    The expected value lost within the horizon is ``(1 - q) x CLV`` with the BG/NBD x
    Gamma-Gamma CLV, which already weighs the customer by ``p_alive``: ``P(churn within h)
    x value if still a customer``. ``horizon`` is in the model's time unit.
    """
    p_alive = np.asarray(bg.p_alive(frequency, recency, T), dtype=float)
    q = bgnbd_survival_given_alive(bg, horizon, frequency, recency, T)
    return pd.DataFrame({"p_alive": p_alive, "p_churn_if_alive": 1.0 - q,
                         "p_gone_at_horizon": 1.0 - p_alive * q, "p_churn": p_alive * (1.0 - q)},
                        index=getattr(frequency, "index", None))


# ========================================================================================
# bootstrap of the model
# ========================================================================================
def normal_interval(point: float, replicates, *, level: float = 0.95) -> tuple[float, float]:
    """``point +- z x sd(replicates)``, the lower end at least 0: with a modest number of
    replicates the bootstrap standard error is stable where its tail percentiles are not."""
    sd = float(np.std(np.asarray(replicates, dtype=float), ddof=1))
    z = stats.norm.ppf(0.5 + level / 2)
    return max(float(point - z * sd), 0.0), float(point + z * sd)


def bootstrap_contractual(customers: pd.DataFrame, residual: pd.DataFrame, curve: pd.DataFrame, *,
                          observation_end, observed_from, min_at_risk: int, margin: float,
                          discount_rate: float, horizon: int, n_boot: int,
                          random_state: int = 0) -> pd.DataFrame:
    """Expected loss per active customer under ``n_boot`` retention curves refitted on
    customers resampled with replacement.

    The lifetimes of ``customers`` are computed once (with the left truncation at
    ``observed_from`` and the segments of ``curve``); each replicate resamples them with
    replacement within each segment, refits the curve (:func:`curve_from_lifetimes`, the
    Weibull tail started from ``curve``'s and fitted by the fast exact likelihood of
    :mod:`churn_research.models.weibull`) and evaluates the *actual* active customers of
    ``residual`` (:func:`residual_clv`) with it: ``(1 - S(tau + h) / S(tau)) x margin x value
    x DERL(tau)``. Returns a frame of customers x replicates (NaN where a replicate's curve
    lacks the customer's segment).
    """
    by = curve.attrs.get("by")
    period_days = curve.attrs.get("period_days", DAYS_PER_MONTH)
    groups = _lifetime_groups(customers, observation_end=observation_end, period_days=period_days,
                              observed_from=observed_from, by=by, everyone=None)
    starts = curve.attrs.get("tail_params", {})
    seg = residual["segment"].astype(str).to_numpy(dtype=object)
    tau = np.floor(np.maximum(residual["tenure"].to_numpy(dtype=float), 0)).astype(int)
    value = margin * residual["value_per_period"].to_numpy(dtype=float)
    # resample the segments in the order of their first customer, not of their labels: the same
    # customers give the same replicates whatever the language of the labels (基础版 vs basic)
    groups = sorted(groups, key=lambda item: min(item[1].index, default=0))
    # each segment's distinct lifetimes once; a resample is their counts (the same curve and
    # fit as the resampled rows, without a copy of them: a million customers have a few
    # thousand distinct lifetimes per segment)
    compact = [(name, len(g), *compact_lifetimes(g)) for name, g in groups]
    rng = np.random.default_rng(random_state)
    cols = []
    for _ in range(int(n_boot)):
        boot = []
        for name, n, codes, rows in compact:
            count = np.bincount(codes[rng.integers(0, n, n)], minlength=len(rows))
            drawn = count > 0
            boot.append((name, rows.loc[drawn].assign(weight=count[drawn])))
        bc = curve_from_lifetimes(boot, by=by, period_days=period_days,
                                  horizon=int(curve["t"].max()), tail=curve.attrs.get("tail", "weibull"),
                                  min_at_risk=min_at_risk, starts=starts, refit=True)
        resid, stay = residual_lifetime(bc, seg, tau, discount_rate=discount_rate, horizon=horizon)
        cols.append((1.0 - stay) * value * resid)
    return pd.DataFrame(np.column_stack(cols) if cols else np.empty((len(residual), 0)),
                        index=residual.index)


def bootstrap_btyd(summary: pd.DataFrame, *, horizon_years: float, margin: float,
                   discount_rate: float, horizon: float, n_boot: int, evaluate=None,
                   random_state: int = 0) -> pd.DataFrame:
    """Expected loss per customer under ``n_boot`` BG/NBD and Gamma-Gamma fits to customers
    resampled with replacement, each evaluated on the actual customers (those of ``evaluate``,
    a boolean mask, if given; ``horizon`` in the model's time unit). Returns a frame of
    customers x replicates."""
    rng = np.random.default_rng(random_state)
    n = len(summary)
    target = summary if evaluate is None else summary[np.asarray(evaluate, dtype=bool)]
    cols = []
    for _ in range(int(n_boot)):
        boot = summary.iloc[rng.integers(0, n, n)]
        bg = BetaGeo().fit(boot["frequency"], boot["recency"], boot["T"])
        gg = GammaGamma().fit(boot["frequency"], boot["monetary_value"])
        value = btyd_clv(target, bg=bg, gg=gg, horizon_years=horizon_years, margin=margin,
                         discount_rate=discount_rate)
        p = bgnbd_churn_probability(bg, horizon, target["frequency"], target["recency"],
                                    target["T"])
        cols.append(p["p_churn_if_alive"] * value["clv"])
    return pd.concat(cols, axis=1, ignore_index=True)
