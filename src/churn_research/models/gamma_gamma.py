"""The gamma-gamma model of spend per purchase (Fader & Hardie 2013, "The Gamma-Gamma Model of
Monetary Value"), by maximum likelihood with standard errors from the Hessian.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from churn_research.models.base import MLEModel, as_float, scalar_or_array


class GammaGamma(MLEModel):
    """Gamma-gamma model of spend per transaction (Fader & Hardie 2013), maximum likelihood.

    A customer's transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, v)`` across
    customers, independent of the purchase process. Only customers with at least one repeat
    purchase (``frequency > 0``) and a positive mean spend are used; ``monetary_value`` is the
    mean value of the repeat purchases (see :func:`rfm_summary`).

    Attributes
    ----------
    p_, q_, v_ : float
    params_, se_, cov_, log_likelihood_, n_customers_, fit_seconds_, converged_, n_iter_
    mean_spend_ : float
        Population mean spend per transaction, ``p v / (q - 1)``.
    """

    _param_names = ("p", "q", "v")

    def __init__(self, *, tol: float = 1e-13, max_iter: int = 1000):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _select(x, m):
        return (x > 0) & (m > 0)

    def fit(self, frequency, monetary_value, *, weights=None, initial=(1.0, 1.0, 1.0)):
        """Fit by maximum likelihood on the customers with repeat purchases.

        Parameters
        ----------
        frequency, monetary_value : array-like
            Repeat purchases and their mean value per customer (see :func:`rfm_summary`).
        weights : array-like, optional
            Number of customers with each (frequency, monetary_value) row (grouped data, e.g.
            :func:`churn_research.sources.engine.btyd_statistics`): the log-likelihood is the
            weighted sum, so the fit equals the fit on the customers themselves.
        initial : 3 floats
            Starting values of p, q, v.

        Returns
        -------
        self
        """
        x, m = as_float(frequency, monetary_value)
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != x.shape or np.any(w < 0):
            raise ValueError("weights must be one non-negative number per row.")
        keep = self._select(x, m) & (w > 0)
        if w[keep].sum() < 3:
            raise ValueError("the gamma-gamma model needs at least 3 customers with repeat "
                             "purchases and positive spend.")
        x, m, w = x[keep], m[keep], w[keep]
        lx, lm = np.log(x), np.log(m)
        # unweighted: plain sums (the estimates stay bit-identical to the fit without weights)
        total = np.sum if weights is None else w.__matmul__

        def nll_grad(theta):
            p, q, v = theta
            px = p * x
            lvm = np.log(v + m * x)
            ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
                  + q * np.log(v) + (px - 1) * lm + px * lx - (px + q) * lvm)
            dig = special.digamma(px + q)
            gp = x * (dig - special.digamma(px) + lm + lx - lvm)
            gq = dig - special.digamma(q) + np.log(v) - lvm
            gv = q / v - (px + q) / (v + m * x)
            return -total(ll), -np.array([total(gp), total(gq), total(gv)])

        self._fit_params(nll_grad, np.asarray(initial, dtype=float))
        self.n_customers_ = int(round(w.sum()))
        self.mean_spend_ = self.p_ * self.v_ / (self.q_ - 1) if self.q_ > 1 else np.inf
        return self

    def conditional_expected_spend(self, frequency, monetary_value):
        """Expected spend per transaction given ``frequency`` repeat purchases of mean value m.

        ``(v + m x) p / (p x + q - 1)``: a weighted average of the population mean
        ``p v / (q - 1)`` and the customer's own mean ``m``; customers without repeat purchases
        get the population mean.
        """
        self._check_fitted()
        x, m = as_float(frequency, monetary_value)
        p, q, v = self.params_.to_numpy()
        x = np.where(m > 0, x, 0.0)
        return scalar_or_array((v + m * x) * p / (p * x + q - 1))
