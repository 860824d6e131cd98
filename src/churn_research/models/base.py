"""Shared maximum-likelihood machinery of the BTYD models: minimisation over log-parameters
(L-BFGS-B, one BLAS thread) and standard errors from a finite-difference Hessian of the analytic
gradient.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import threadpool_limits


def scalar_or_array(x):
    """A 0-d result as a Python scalar, anything else as an array."""
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def _hessian(grad, theta, *, g0=None, rel_step=1e-6):
    """Symmetric Hessian by forward differences of an analytic gradient.

    Column i is ``(grad(theta + h_i e_i) - grad(theta)) / h_i`` with ``h_i = rel_step x
    theta_i``: one gradient per parameter (the error, of order ``rel_step``, is far below what
    matters for standard errors), symmetrised.
    """
    theta = np.asarray(theta, dtype=float)
    g0 = grad(theta) if g0 is None else g0
    k = theta.size
    H = np.empty((k, k))
    for i in range(k):
        h = rel_step * max(abs(theta[i]), 1e-3)
        up = theta.copy()
        up[i] += h
        H[:, i] = (grad(up) - g0) / h
    return 0.5 * (H + H.T)


def minimise_log(nll_grad, x0, *, ftol: float, max_iter: int):
    """L-BFGS-B over log-parameters of ``nll_grad(theta) -> (value, gradient)``."""

    def fun(phi):
        theta = np.exp(phi)
        f, g = nll_grad(theta)
        return f, g * theta  # chain rule: d/dphi = theta d/dtheta

    # a 3-4 parameter problem whose likelihood is a few dot products: BLAS threads only add
    # contention (tenfold slower on a busy machine), so everything runs single-threaded
    with threadpool_limits(limits=1, user_api="blas"):
        return optimize.minimize(fun, np.log(np.asarray(x0, dtype=float)), jac=True,
                                 method="L-BFGS-B",
                                 options={"maxiter": max_iter, "ftol": ftol, "gtol": 1e-9,
                                          "maxcor": 20})


class MLEModel:
    """Shared fitting machinery: L-BFGS-B on log-parameters, Hessian standard errors."""

    _param_names: tuple[str, ...] = ()

    def _fit_params(self, nll_grad, x0):
        """Minimise ``nll_grad(theta) -> (nll, grad)`` over log-parameters; Hessian SEs."""
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit_params_single_thread(nll_grad, x0)

    def _fit_params_single_thread(self, nll_grad, x0):
        t0 = time.perf_counter()
        res = minimise_log(nll_grad, x0, ftol=self.tol, max_iter=self.max_iter)
        theta = np.exp(res.x)
        self.n_iter_ = int(res.nit)
        self.log_likelihood_ = -float(res.fun)
        names = list(self._param_names)
        self.params_ = pd.Series(theta, index=names, name="estimate")
        for name, value in zip(names, theta, strict=True):
            setattr(self, f"{name}_", float(value))
        f0, g0 = nll_grad(theta)
        H, cov, newton = self._newton(nll_grad, theta, g0)
        # Polish: L-BFGS-B stops when the relative reduction of the likelihood is below ftol,
        # which can leave a relative Newton step of 1e-7 along a flat ridge (gamma-gamma), so
        # that equal likelihoods (customers vs the same data grouped with weights) stop at
        # points 1e-6 apart. A few Newton steps, each kept only if the likelihood does not get
        # worse, put the estimate on the maximum to ~1e-10 whatever the optimiser's path.
        for _ in range(4):
            rel = np.max(np.abs(newton / theta))
            if not np.isfinite(rel) or rel > 1e-3 or rel < 1e-13:
                break
            step = theta - newton
            if np.any(step <= 0):
                break
            f1, g1 = nll_grad(step)
            if not np.isfinite(f1) or f1 > f0 + 1e-12 * abs(f0):
                break
            theta, f0, g0 = step, f1, g1
            H, cov, newton = self._newton(nll_grad, theta, g0)
        if not np.array_equal(theta, np.exp(res.x)):
            self.log_likelihood_ = -float(f0)
            self.params_ = pd.Series(theta, index=names, name="estimate")
            for name, value in zip(names, theta, strict=True):
                setattr(self, f"{name}_", float(value))
        # Converged if L-BFGS-B says so, or if the Newton step that remains is negligible
        # (with a log-likelihood of millions, the line search can stop on rounding noise)
        self.newton_step_ = pd.Series(newton / theta, index=names, name="relative Newton step")
        self.converged_ = bool(res.success) or bool(np.max(np.abs(newton / theta)) < 1e-5)
        self.message_ = str(res.message)
        self.fit_seconds_ = time.perf_counter() - t0
        self.hessian_ = H
        self.cov_ = pd.DataFrame(cov, index=names, columns=names)
        self.se_ = pd.Series(np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan)),
                             index=names, name="se")

    @staticmethod
    def _newton(nll_grad, theta, g0):
        """Hessian, its inverse and the Newton step ``H^-1 g`` at ``theta``."""
        H = _hessian(lambda th: nll_grad(th)[1], theta, g0=g0)
        try:
            cov = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            cov = np.full_like(H, np.nan)
        newton = cov @ g0 if np.all(np.isfinite(cov)) else np.full_like(theta, np.inf)
        return H, cov, newton

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimates, standard errors and Wald confidence intervals."""
        self._check_fitted()
        z = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame({"estimate": self.params_, "se": self.se_,
                             "lower": self.params_ - z * self.se_,
                             "upper": self.params_ + z * self.se_})

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit() first.")


def as_float(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]
