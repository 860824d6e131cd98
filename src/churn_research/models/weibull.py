"""Weibull maximum likelihood with right censoring, left truncation and integer weights, for
the bootstrap refits of a retention curve's tail.

lifelines' ``WeibullFitter`` (the curve's own fit, :mod:`churn_research.clv.contractual`) runs
its likelihood through autograd, starts with up to 400 Nelder–Mead steps before L-BFGS-B and
ends with an autograd Hessian for standard errors: about 60 ms a fit on a few thousand distinct
lifetimes, 5 of the 50_clv stage's 10 seconds for the 90 refits of its money-at-risk interval.
:func:`fit_weibull` maximises the same likelihood with its analytic gradient and Hessian (a
trust-region Newton method, started where the caller says, e.g. at the full sample's fit) in a
few milliseconds. It reaches the optimum at least as closely as lifelines (whose L-BFGS-B stops
at a gradient of 1e-5): the two agree to about 1e-5 of each parameter
(``tests/test_clv.py::test_fast_weibull_fit_equals_lifelines``).

The parametrisation is lifelines': cumulative hazard ``H(t) = (t / scale) ** shape``, and the
log-likelihood of a customer followed from ``entry`` to ``duration`` is
``event * log h(duration) - H(duration) + H(entry)``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize


def _terms(x: np.ndarray, log_t, log_e, has_entry, event, w, n):
    """The negative mean log-likelihood, its gradient and Hessian in ``(log scale, log shape)``."""
    a, b = x
    rho = np.exp(b)
    u = log_t - a
    v = np.where(has_entry, log_e - a, 0.0)
    big_a = np.exp(rho * u)
    big_b = np.where(has_entry, np.exp(rho * v), 0.0)
    ll = np.sum(w * (event * (b + rho * u - log_t) - big_a + big_b))
    ga = np.sum(w * (-event * rho + rho * big_a - rho * big_b))
    gb = np.sum(w * (event * (1 + rho * u) - rho * u * big_a + rho * v * big_b))
    haa = np.sum(w * (-rho ** 2 * big_a + rho ** 2 * big_b))
    hab = np.sum(w * (-event * rho + rho * big_a * (1 + rho * u) - rho * big_b * (1 + rho * v)))
    hbb = np.sum(w * (event * rho * u - rho * u * big_a * (1 + rho * u)
                      + rho * v * big_b * (1 + rho * v)))
    return (-ll / n, -np.array([ga, gb]) / n, -np.array([[haa, hab], [hab, hbb]]) / n)


def fit_weibull(duration, event, entry=None, *, weights=None,
                start: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """Weibull ``(shape, scale)`` by maximum likelihood, or None when the optimiser fails.

    Parameters
    ----------
    duration : array
        Time from the customer's start to the exit or the end of observation (positive).
    event : array of 0/1
        1 where the customer left at ``duration``.
    entry : array, optional
        Time from the start at which the customer came under observation (left truncation;
        0 or absent: from the start).
    weights : array, optional
        How many customers each row stands for.
    start : (shape, scale), optional
        Where the optimiser starts (default: shape 1 and the weighted mean duration).
    """
    t = np.asarray(duration, dtype=float)
    ev = np.asarray(event, dtype=float)
    e = np.zeros_like(t) if entry is None else np.asarray(entry, dtype=float)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    has_entry = e > 0
    log_t = np.log(t)
    log_e = np.log(np.where(has_entry, e, 1.0))
    shape, scale = start if start is not None else (1.0, float(np.average(t, weights=w)))
    args = (log_t, log_e, has_entry, ev, w, float(w.sum()))
    cache = {}

    def terms(x):
        key = tuple(x)
        if key not in cache:
            cache.clear()
            cache[key] = _terms(x, *args)
        return cache[key]

    with np.errstate(over="ignore", invalid="ignore"):
        res = optimize.minimize(lambda x: terms(x)[0], np.log([scale, shape]),
                                jac=lambda x: terms(x)[1], hess=lambda x: terms(x)[2],
                                method="trust-exact", options={"gtol": 1e-9})
    # trust-exact may stop short of gtol at the optimum, where rounding hides any improvement
    converged = res.success or np.max(np.abs(terms(res.x)[1])) < 1e-7
    if not converged or not np.all(np.isfinite(res.x)):
        return None
    return float(np.exp(res.x[1])), float(np.exp(res.x[0]))
