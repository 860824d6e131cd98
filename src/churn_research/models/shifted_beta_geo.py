"""The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007, 2010).

One home for the model, used by survival (cohort projection) and clv (DERL, retention tails):
:class:`ShiftedBetaGeometric` fits it to cohort survivor counts (with standard errors) or to
individual lifetimes with left truncation (:meth:`ShiftedBetaGeometric.fit_durations`);
:func:`sbg_survival` is its survival function, :func:`derl` the discounted expected residual
lifetime in closed form (Fader & Hardie 2010, eq. 6) and :func:`sbg_del` the discounted expected
lifetime of a new customer. :func:`sbg_eligibility` is the one rule, used by the survival
stage (cohort projection) and the clv stage (DERL), deciding whether the sBG can be fitted to a
dataset at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from churn_research import i18n
from churn_research.models.base import scalar_or_array

#: Consecutive periods with observed exits the sBG needs: one period gives one retention rate,
#: which any (gamma, delta) with the same mean fits; heterogeneity shows only as retention
#: rising over several periods.
SBG_MIN_EXIT_PERIODS = 3
#: gamma + delta above which a fit is at the geometric (no-heterogeneity) limit.
GEOMETRIC_LIMIT = 1e4


# ---------------------------------------------------------------------------------------
# Shifted-beta-geometric cohort model (Fader & Hardie 2007)
# ---------------------------------------------------------------------------------------
def _check_alive(alive) -> list[np.ndarray]:
    """Validate cohort counts: one row per cohort, alive at the start of each period."""
    arr = np.asarray(alive, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError("alive must be a 1-D sequence (one cohort) or a 2-D array (cohorts x periods)")
    rows = []
    for i, row in enumerate(arr):
        obs = row[~np.isnan(row)]
        if np.isnan(row[: len(obs)]).any():
            raise ValueError(f"cohort {i}: missing counts inside the series; only trailing NaN are allowed")
        if len(obs) < 2:
            raise ValueError(f"cohort {i}: need the cohort size and at least one later count")
        if obs[0] <= 0:
            raise ValueError(f"cohort {i}: the first count (cohort size) must be positive")
        if (obs < 0).any():
            raise ValueError(f"cohort {i}: negative counts at periods {np.flatnonzero(obs < 0).tolist()}")
        up = np.flatnonzero(np.diff(obs) > 0)
        if len(up):
            raise ValueError(f"cohort {i}: counts increase at periods {(up + 1).tolist()}; "
                             "alive counts of a closed cohort can only fall")
        rows.append(obs)
    return rows


def _lnbeta_grads(a, b):
    """d lnB / da, d lnB / db and the three second derivatives."""
    ps_ab, pg_ab = special.digamma(a + b), special.polygamma(1, a + b)
    return (special.digamma(a) - ps_ab, special.digamma(b) - ps_ab,
            special.polygamma(1, a) - pg_ab, special.polygamma(1, b) - pg_ab, -pg_ab)


class ShiftedBetaGeometric:
    """The shifted-beta-geometric (sBG) model of cohort retention (Fader & Hardie 2007).

    Each customer renews at the end of every period with a constant probability 1 - theta;
    theta varies across customers as Beta(gamma, delta). Then

    * P(T = t) = B(gamma + 1, delta + t - 1) / B(gamma, delta), t = 1, 2, ...
    * S(t) = B(gamma, delta + t) / B(gamma, delta), i.e. S(t) = S(t-1) (delta + t - 1) / (gamma + delta + t - 1)
    * r(t) = S(t) / S(t-1) = (delta + t - 1) / (gamma + delta + t - 1) -- retention rises with
      tenure purely because high-churn customers leave first.

    Parameters
    ----------
    starts : sequence of (gamma, delta)
        Starting values; the fit is run from each and the best kept (the paper's advice to
        confirm the maximum from different starting points).

    Attributes
    ----------
    gamma_, delta_ : float
        Maximum-likelihood estimates.
    log_likelihood_ : float
    covariance_ : ndarray (2, 2)
        Inverse of the observed information (minus the analytic Hessian of the
        log-likelihood at the optimum).
    gamma_se_, delta_se_ : float
        Standard errors (square roots of the covariance diagonal).
    cohort_size_ : float
        Size of the (first) cohort; ``alive_`` the fitted counts; ``n_periods_`` the number of
        calibration periods (counts after the first).
    converged_ : bool
    homogeneous_ : bool
        True when the fit ran off to the no-heterogeneity limit (gamma + delta > 1e4: every
        customer has the same churn probability gamma / (gamma + delta), a geometric
        lifetime); standard errors are then NaN.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing*, 21(1), 76-90.
    """

    def __init__(self, *, starts: Sequence[tuple[float, float]] = ((1.0, 1.0), (0.5, 3.0), (3.0, 0.5), (0.05, 0.05))):
        self.starts = starts

    # -- likelihood --------------------------------------------------------------------
    @staticmethod
    def _terms(rows):
        """Per cohort: periods t (1..T), lost per period, survivors after T."""
        out = []
        for obs in rows:
            lost = obs[:-1] - obs[1:]
            out.append((np.arange(1, len(obs)), lost, obs[-1]))
        return out

    @classmethod
    def _loglik(cls, g, d, terms, derivatives=False):
        ll = 0.0
        grad = np.zeros(2)
        hess = np.zeros((2, 2))
        base = special.betaln(g, d)
        bg, bd, bgg, bdd, bgd = _lnbeta_grads(g, d)
        for t, lost, surv in terms:
            # churn in period t: lnB(g + 1, d + t - 1) - lnB(g, d)
            ll += np.sum(lost * (special.betaln(g + 1, d + t - 1) - base))
            # still alive after the last period T: lnB(g, d + T) - lnB(g, d)
            T = t[-1]
            ll += surv * (special.betaln(g, d + T) - base)
            if derivatives:
                n = lost.sum() + surv
                a1, b1, a11, b11, ab1 = _lnbeta_grads(g + 1, d + t - 1)
                a2, b2, a22, b22, ab2 = _lnbeta_grads(g, d + T)
                grad += [np.sum(lost * a1) + surv * a2 - n * bg, np.sum(lost * b1) + surv * b2 - n * bd]
                hess += [[np.sum(lost * a11) + surv * a22 - n * bgg, np.sum(lost * ab1) + surv * ab2 - n * bgd],
                         [np.sum(lost * ab1) + surv * ab2 - n * bgd, np.sum(lost * b11) + surv * b22 - n * bdd]]
        return (ll, grad, hess) if derivatives else ll

    def fit(self, alive) -> ShiftedBetaGeometric:
        """Maximum-likelihood fit to cohort counts.

        Parameters
        ----------
        alive : array-like
            Customers alive at the start of each period: the first value is the cohort size,
            then the survivors of period 1, 2, ... A 2-D array (one row per cohort, trailing
            NaN where a younger cohort has fewer periods) fits one (gamma, delta) to all
            cohorts pooled.

        Returns
        -------
        self
        """
        rows = _check_alive(alive)
        terms = self._terms(rows)

        def nll(x):
            g, d = np.exp(np.clip(x, -30, 30))
            ll, grad, _ = self._loglik(g, d, terms, derivatives=True)
            return -ll, -grad * np.array([g, d])  # chain rule for the log-parameters

        def nll_hess(x):
            p = np.exp(np.clip(x, -30, 30))
            _, grad, hess = self._loglik(p[0], p[1], terms, derivatives=True)
            return -(hess * np.outer(p, p) + np.diag(grad * p))

        best = None
        for g0, d0 in self.starts:
            with np.errstate(all="ignore"):
                try:
                    res = optimize.minimize(nll, np.log([g0, d0]), jac=True, hess=nll_hess,
                                            method="trust-exact", options={"gtol": 1e-9, "maxiter": 500})
                except (ValueError, np.linalg.LinAlgError):
                    # a non-finite Hessian on the way (tiny cohorts, almost no exits): the
                    # gradient-only optimiser from the same start
                    res = optimize.minimize(nll, np.log([g0, d0]), jac=True, method="L-BFGS-B")
            if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                best = res
        if best is None:
            raise ValueError("the sBG likelihood could not be maximised from any starting value.")
        g, d = np.exp(np.clip(best.x, -30, 30))
        ll, grad, hess = self._loglik(g, d, terms, derivatives=True)
        self.gamma_, self.delta_ = float(g), float(d)
        self.log_likelihood_ = float(ll)
        try:
            self.covariance_ = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            self.covariance_ = np.full((2, 2), np.nan)
        se = np.sqrt(np.clip(np.diag(self.covariance_), 0, None))
        self.gamma_se_, self.delta_se_ = float(se[0]), float(se[1])
        # gamma, delta -> infinity at fixed ratio is the no-heterogeneity (geometric) limit: the
        # likelihood is flat there and the standard errors are meaningless
        self.homogeneous_ = bool(g + d > GEOMETRIC_LIMIT)
        if self.homogeneous_:
            self.gamma_se_ = self.delta_se_ = np.nan
        self.converged_ = bool(np.max(np.abs(grad) * np.array([g, d])) < 1e-4)
        self.alive_ = rows[0] if len(rows) == 1 else rows
        self.cohort_size_ = float(rows[0][0])
        self.n_periods_ = len(rows[0]) - 1
        self.n_cohorts_ = len(rows)
        return self

    # -- projections -------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "gamma_"):
            raise RuntimeError("call fit() first")

    def survival(self, t) -> np.ndarray:
        """S(t) = B(gamma, delta + t) / B(gamma, delta): probability to be alive after t periods."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        return np.exp(special.betaln(self.gamma_, self.delta_ + t) - special.betaln(self.gamma_, self.delta_))

    def retention_rate(self, t) -> np.ndarray:
        """r(t) = (delta + t - 1) / (gamma + delta + t - 1): share of those alive at the start of
        period t who renew at its end (t >= 1)."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        return (self.delta_ + t - 1) / (self.gamma_ + self.delta_ + t - 1)

    def churn_probability(self, t) -> np.ndarray:
        """P(T = t) = B(gamma + 1, delta + t - 1) / B(gamma, delta): churn at the end of period t."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        return np.exp(special.betaln(self.gamma_ + 1, self.delta_ + t - 1) - special.betaln(self.gamma_, self.delta_))

    def project(self, n_periods: int, *, cohort_size: float | None = None) -> pd.DataFrame:
        """Projected survival and alive counts for periods 0..``n_periods``.

        Returns
        -------
        DataFrame
            ``period, survival, alive, retention_rate`` (retention of period t, NaN at 0).
        """
        self._check_fitted()
        t = np.arange(n_periods + 1)
        size = self.cohort_size_ if cohort_size is None else cohort_size
        s = self.survival(t)
        r = np.r_[np.nan, self.retention_rate(t[1:])]
        return pd.DataFrame({"period": t, "survival": s, "alive": size * s, "retention_rate": r})

    def mean_churn_probability(self) -> float:
        """E(theta) = gamma / (gamma + delta): average churn probability at acquisition."""
        self._check_fitted()
        return self.gamma_ / (self.gamma_ + self.delta_)

    def median_lifetime(self, *, max_periods: int = 100_000) -> float:
        """Smallest t with S(t) <= 0.5 (inf if not within ``max_periods``)."""
        self._check_fitted()
        s = self.survival(np.arange(max_periods + 1))
        below = np.flatnonzero(s <= 0.5)
        return float(below[0]) if len(below) else np.inf

    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors and 95% Wald intervals."""
        self._check_fitted()
        z = stats.norm.ppf(0.975)
        est = np.array([self.gamma_, self.delta_])
        se = np.array([self.gamma_se_, self.delta_se_])
        return pd.DataFrame({"estimate": est, "se": se, "lower": est - z * se, "upper": est + z * se},
                            index=pd.Index(["gamma", "delta"], name="parameter"))


def sbg_survival(gamma, delta, t):
    """sBG survival ``S(t) = B(gamma, delta + t) / B(gamma, delta)`` (t whole periods)."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(gamma, delta + t) - special.betaln(gamma, delta))


def _hyp2f1_one(b, c, z):
    """``2F1(1, b; c; z)`` for ``0 <= z < 1``: scipy, or the series where scipy fails.

    For very large ``b`` and ``c`` (a nearly homogeneous sBG) scipy's ``hyp2f1`` can return
    NaN; the series ``sum_k prod_{j<k} (b + j) / (c + j) z^k`` then converges at least as fast
    as ``z^k`` and is summed directly in log space.
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (b, c, z)))
    out = np.asarray(special.hyp2f1(1.0, b, c, z), dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        for i in zip(*np.nonzero(bad), strict=True) if out.ndim else [()]:
            bi, ci, zi = float(b[i]), float(c[i]), float(z[i])
            k = int(np.ceil(np.log(1e-18) / np.log(zi))) + 10 if zi > 0 else 1
            j = np.arange(k)
            logt = np.concatenate([[0.0], np.cumsum(np.log(bi + j) - np.log(ci + j))])[:k] \
                + j * np.log(zi if zi > 0 else 1.0)
            out[i] = float(np.exp(logt).sum()) if zi > 0 else 1.0
    return out


def derl(gamma, delta, discount_rate, renewals=0):
    """Discounted expected residual lifetime under the sBG (Fader & Hardie 2010, eq. 6).

    For a customer who has made ``renewals`` renewals (is at the end of period
    ``n = renewals + 1`` and about to decide on the next renewal), with churn probabilities
    ``theta ~ Beta(gamma, delta)`` across customers,

    ``DERL = (delta + n - 1) / (gamma + delta + n - 1)
    x 2F1(1, delta + n; gamma + delta + n; 1 / (1 + d))``,

    i.e. ``sum_{t>=n} S(t | t > n - 1) (1 + d)^-(t - n)``: the next payment (if they renew) is
    counted undiscounted. Multiply by the margin per period to get the residual lifetime value.

    Parameters
    ----------
    gamma, delta : float or array
        sBG parameters (mean churn probability ``gamma / (gamma + delta)``).
    discount_rate : float or array
        Discount rate *per period* (e.g. 0.10 for annual contracts at 10% a year).
    renewals : int or array, default 0
        Number of renewals made so far.

    Returns
    -------
    float or ndarray

    Examples
    --------
    Table 3 of Fader & Hardie (2010), case 1 (gamma = 3.80, delta = 15.20), d = 10%:

    >>> [round(float(derl(3.80, 15.20, 0.10, n)), 2) for n in range(5)]
    [3.31, 3.45, 3.59, 3.72, 3.84]
    """
    g = np.asarray(gamma, dtype=float)
    dl = np.asarray(delta, dtype=float) + np.asarray(renewals, dtype=float)
    d = np.asarray(discount_rate, dtype=float)
    if np.any(d <= 0):
        raise ValueError("discount_rate must be > 0 (undiscounted, the sBG residual lifetime is "
                         "infinite when gamma <= 1).")
    out = dl / (g + dl) * _hyp2f1_one(dl + 1.0, g + dl + 1.0, 1.0 / (1.0 + d))
    return scalar_or_array(out)


def sbg_del(gamma, delta, discount_rate):
    """Discounted expected lifetime of a new customer under the sBG.

    ``sum_{t>=0} S(t) (1 + d)^-t = 2F1(1, delta; gamma + delta; 1 / (1 + d))`` (payments at
    the start of every period alive, the first certain); ``E(CLV) = margin x sbg_del``.
    ``d`` is per period.
    """
    g = np.asarray(gamma, dtype=float)
    dl = np.asarray(delta, dtype=float)
    return scalar_or_array(_hyp2f1_one(dl, g + dl, 1.0 / (1.0 + np.asarray(discount_rate, float))))


def fit_sbg_durations(duration, event, entry, *, return_ll=False):
    """sBG maximum likelihood from individual lifetimes in periods, with left truncation.

    A customer who leaves during period ``t`` (``t = ceil(duration)``, at least 1) contributes
    ``P(T = t) = B(gamma + 1, delta + t - 1) / B(gamma, delta)``, a censored one
    ``S(t) = B(gamma, delta + t) / B(gamma, delta)`` with ``t = floor(duration)``; each
    contribution is divided by ``S(floor(entry))`` (delayed entry). Returns ``(gamma, delta)``
    (and the log-likelihood with ``return_ll``), or None with fewer than 2 exits or a failed
    fit. :class:`ShiftedBetaGeometric` fits the same model to cohort counts.
    """
    ev = np.asarray(event, dtype=bool)
    d = np.asarray(duration, dtype=float)
    if ev.sum() < 2:
        return None
    t = np.where(ev, np.maximum(np.ceil(d), 1.0), np.floor(d))
    e = np.minimum(np.floor(np.asarray(entry, dtype=float)), np.where(ev, t - 1, t))
    # compress: the likelihood depends on (t, e, event) only
    rows, counts = np.unique(np.c_[t, e, ev], axis=0, return_counts=True)
    t, e, ev = rows[:, 0], rows[:, 1], rows[:, 2].astype(bool)

    def nll(phi):
        ga, de = np.exp(phi)
        ll = np.where(ev, special.betaln(ga + 1, de + t - 1), special.betaln(ga, de + t))
        ll = ll - special.betaln(ga, de + e)
        return -np.dot(counts, ll)

    # bounded: without heterogeneity in the data the MLE runs off to gamma, delta -> infinity
    # (the homogeneous geometric limit); 1e7 is numerically that limit
    with np.errstate(over="ignore", invalid="ignore"):
        res = optimize.minimize(nll, np.zeros(2), method="L-BFGS-B",
                                bounds=[(math.log(1e-4), math.log(1e7))] * 2)
    if not np.all(np.isfinite(res.x)):
        return None
    ga, de = (float(v) for v in np.exp(res.x))
    return (ga, de, -float(res.fun)) if return_ll else (ga, de)


# ---------------------------------------------------------------------------------------
# Can the sBG be fitted to these data? (one rule for the survival and the clv stage)
# ---------------------------------------------------------------------------------------
def _longest_run(periods) -> int:
    """Length of the longest run of consecutive integers in ``periods`` (0 if empty)."""
    p = np.unique(np.asarray(periods, dtype=np.int64))
    if not len(p):
        return 0
    breaks = np.flatnonzero(np.diff(p) != 1)
    starts, ends = np.r_[0, breaks + 1], np.r_[breaks, len(p) - 1]
    return int((ends - starts + 1).max())


def _exit_run(source, observed_from) -> int:
    """Longest run of consecutive periods with at least one observed exit.

    Customer data: calendar months of the ``end_date`` values on or before the observation end
    (and on or after ``observed_from``). Cohort counts (customers alive at the start of each
    period, one row per cohort, trailing NaN allowed): tenure periods in which the count falls,
    the longest run over the cohorts.
    """
    if hasattr(source, "customers"):
        end = pd.to_datetime(source.customers["end_date"])
        seen = end.notna() & (end <= pd.Timestamp(source.observation_end))
        if observed_from is not None:
            seen &= end >= pd.Timestamp(observed_from)
        end = end[seen]
        return _longest_run(end.dt.year.to_numpy() * 12 + end.dt.month.to_numpy())
    arr = np.asarray(source, dtype=float)
    arr = arr[None, :] if arr.ndim == 1 else arr
    runs = [_longest_run(np.flatnonzero(-np.diff(row[~np.isnan(row)]) > 0)) for row in arr]
    return max(runs, default=0)


def sbg_eligibility(source, *, fits=None, observed_from=None,
                    min_periods: int = SBG_MIN_EXIT_PERIODS) -> tuple[bool, str]:
    """Whether the sBG model can be fitted to these data, and why (not).

    The project's one rule, applied by the survival stage before projecting cohorts and by the
    clv stage before computing DERL. The sBG separates the mix of churn probabilities across
    customers (gamma, delta) from their mean only through retention rising period after
    period as the high-churn customers leave; so the data must show exits period by period:

    1. not one snapshot (``source.is_snapshot``): a snapshot records exits for its last month
       only, each acquisition cohort is seen once, and the number alive period by period is
       not observed;
    2. exits observed in at least ``min_periods`` consecutive periods (calendar months of the
       exits of customer data, from ``observed_from`` on; tenure periods of a cohort table);
    3. with ``fits`` (the fitted ``(gamma, delta)`` pairs, or a frame with ``gamma`` and
       ``delta`` columns): not every fit at the geometric limit ``gamma + delta >``
       :data:`GEOMETRIC_LIMIT`, where the data show no heterogeneity and the sBG reduces to a
       constant churn rate (its standard errors and DERL by tenure mean nothing there).

    Parameters
    ----------
    source : ChurnData or array-like
        Customer data (``customers`` with ``end_date``, ``observation_end``, ``is_snapshot``)
        or cohort counts as :meth:`ShiftedBetaGeometric.fit` takes them (a cohort table's
        values).
    fits : iterable of (gamma, delta) or DataFrame, optional
    observed_from : date-like, optional
        Exits are used from this date on (the left truncation of the fit).
    min_periods : int, default :data:`SBG_MIN_EXIT_PERIODS`

    Returns
    -------
    (bool, str)
        Eligible or not, and the reason as a clause that completes "because ..." (the
        number of consecutive periods with exits when eligible).
    """
    if getattr(source, "is_snapshot", False):
        return False, i18n._("the data are one snapshot: exits are recorded for its last month only, "
                        "so each acquisition cohort is seen once and the number still a customer "
                        "period by period, which the sBG is fitted to, is not observed")
    run = _exit_run(source, observed_from)
    unit = i18n._("calendar months") if hasattr(source, "customers") else i18n._("periods of a cohort")
    if run < min_periods:
        return False, i18n.t("exits are observed in only {run} consecutive {unit}; the sBG needs at "
                        "least {min_periods} to tell the mix of churn probabilities from their mean",
                        run=run, unit=unit, min_periods=min_periods)
    if fits is not None:
        pairs = (fits[["gamma", "delta"]].to_numpy(dtype=float) if isinstance(fits, pd.DataFrame)
                 else np.asarray(list(fits), dtype=float).reshape(-1, 2))
        pairs = pairs[np.isfinite(pairs).all(axis=1)]
        if not len(pairs):
            return False, i18n._("the sBG fit failed")
        total = pairs.sum(axis=1)
        if (total > GEOMETRIC_LIMIT).all():
            return False, i18n.t("every fit runs to the geometric limit (gamma + delta of {total} or "
                            "more): the data show no heterogeneity across customers, so the sBG "
                            "reduces to one constant churn rate", total=f"{total.min():,.0f}")
    return True, i18n.t("exits are observed in {run} consecutive {unit}", run=run, unit=unit)
