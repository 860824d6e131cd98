"""Parametric lifetime models (lifelines): :func:`fit_parametric`, :func:`parametric_comparison`,
:func:`extrapolate`, and accelerated failure time regression (:func:`fit_aft`,
:func:`time_ratios`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import lifelines
import numpy as np
import pandas as pd
from scipy import stats

from churn_research.durations import unit_days
from churn_research.survival.cox import cox_design
from churn_research.survival.frame import _entry

# ---------------------------------------------------------------------------------------
# Parametric fits and extrapolation
# ---------------------------------------------------------------------------------------
_UNIVARIATE = {"exponential": "ExponentialFitter", "weibull": "WeibullFitter",
               "lognormal": "LogNormalFitter", "loglogistic": "LogLogisticFitter"}
_AFT = {"weibull": "WeibullAFTFitter", "lognormal": "LogNormalAFTFitter",
        "loglogistic": "LogLogisticAFTFitter"}


def _positive_durations(df: pd.DataFrame, min_duration: float | None):
    """Durations with zero-length lifetimes moved to ``min_duration`` (half a day by default):
    parametric likelihoods need T > 0."""
    if min_duration is None:
        min_duration = 0.5 / unit_days(df.attrs.get("unit", "months"))
    return np.maximum(df["duration"].to_numpy(float), min_duration), min_duration


def fit_parametric(df: pd.DataFrame, *, models: Sequence[str] = ("weibull", "lognormal", "loglogistic"),
                   horizon: float | None = None, alpha: float = 0.05, use_entry: bool = True,
                   min_duration: float | None = None, n_points: int = 400) -> dict:
    """Fit univariate parametric lifetime distributions (lifelines) for extrapolation.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`durations`.
    models : sequence of {"exponential", "weibull", "lognormal", "loglogistic"}
    horizon : float, optional
        Tenure (in the durations' unit) up to which the fitted curves and their confidence
        bands are evaluated -- beyond the observed window for extrapolation. Defaults to the
        longest observed duration.
    min_duration : float, optional
        Zero-length lifetimes are set to this (default half a day) because the parametric
        likelihoods need positive durations.

    Returns
    -------
    dict
        ``{name: fitted lifelines univariate fitter}``.
    """
    T, eps = _positive_durations(df, min_duration)
    entry = _entry(df, use_entry)
    if entry is not None:
        entry = np.minimum(entry, T - eps / 2)
    horizon = float(horizon if horizon is not None else T.max())
    timeline = np.linspace(0, horizon, n_points)
    fitters = {}
    for name in models:
        if name not in _UNIVARIATE:
            raise ValueError(f"unknown model {name!r}; use one of {sorted(_UNIVARIATE)}")
        f = getattr(lifelines, _UNIVARIATE[name])(alpha=alpha, label=name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f.fit(T, df["event"].to_numpy(int), entry=entry, timeline=timeline)
        fitters[name] = f
    return fitters


def parametric_comparison(fitters: Mapping, *, horizons: Sequence[float] = ()) -> pd.DataFrame:
    """AIC table of fitted parametric models (best first).

    Returns
    -------
    DataFrame
        ``model, parameters, log_likelihood, aic, delta_aic, akaike_weight, median`` and
        ``S(h)`` for each horizon.
    """
    rows = []
    for name, f in fitters.items():
        row = {"model": name, "parameters": len(f._fitted_parameter_names),
               "log_likelihood": float(f.log_likelihood_), "aic": float(f.AIC_),
               "median": float(f.median_survival_time_)}
        for h in horizons:
            row[f"S({h:g})"] = float(f.survival_function_at_times([h]).iloc[0])
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("aic", ignore_index=True)
    out.insert(4, "delta_aic", out["aic"] - out["aic"].min())
    w = np.exp(-0.5 * out["delta_aic"])
    out.insert(5, "akaike_weight", w / w.sum())
    return out


def extrapolate(fitter, times) -> pd.DataFrame:
    """Survival of a fitted parametric model at ``times`` with its (delta-method) band.

    The band comes from the fit's timeline (see ``horizon`` in :func:`fit_parametric`); times
    past that timeline get NaN bounds.
    """
    times = np.atleast_1d(np.asarray(times, float))
    s = fitter.survival_function_at_times(times).to_numpy(float)
    ci = fitter.confidence_interval_survival_function_
    grid = ci.index.to_numpy(float)
    lower = np.interp(times, grid, ci.iloc[:, 0].to_numpy(float), right=np.nan)
    upper = np.interp(times, grid, ci.iloc[:, 1].to_numpy(float), right=np.nan)
    return pd.DataFrame({"time": times, "survival": s, "lower": lower, "upper": upper})


def fit_aft(df: pd.DataFrame, *, covariates: Sequence[str], reference: Mapping | None = None,
            per: Mapping | None = None, models: Sequence[str] = ("weibull", "lognormal", "loglogistic"),
            alpha: float = 0.05, use_entry: bool = True, penalizer: float = 0.0,
            min_duration: float | None = None) -> dict:
    """Accelerated-failure-time regressions (lifelines) on customer attributes.

    ``exp(coef)`` of the location parameter is a *time ratio*: above 1 the customer's lifetime
    is stretched (churn later). For the Weibull AFT, the proportional-hazards log-ratio is
    ``-coef * rho`` (rho the fitted shape), comparable with Cox.

    Returns
    -------
    dict
        ``{name: fitted lifelines AFT fitter}``; each has ``design_sources_`` attached.
    """
    design = cox_design(df, covariates, reference=reference, per=per)
    frame = design.reset_index(drop=True).copy()
    sub = df.loc[design.index]
    T, eps = _positive_durations(sub, min_duration)
    frame["duration"], frame["event"] = T, sub["event"].to_numpy(int)
    entry = _entry(sub, use_entry)
    if entry is not None:
        frame["entry"] = np.minimum(entry, T - eps / 2)
    out = {}
    for name in models:
        if name not in _AFT:
            raise ValueError(f"unknown AFT model {name!r}; use one of {sorted(_AFT)}")
        f = getattr(lifelines, _AFT[name])(alpha=alpha, penalizer=penalizer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f.fit(frame, duration_col="duration", event_col="event",
                  entry_col="entry" if entry is not None else None)
        f.design_sources_ = design.attrs["sources"]
        out[name] = f
    return out


def aft_comparison(fitters: Mapping) -> pd.DataFrame:
    """AIC and concordance of fitted AFT models, best (lowest AIC) first."""
    rows = [{"model": n, "log_likelihood": float(f.log_likelihood_), "aic": float(f.AIC_),
             "concordance": float(f.concordance_index_)} for n, f in fitters.items()]
    out = pd.DataFrame(rows).sort_values("aic", ignore_index=True)
    out["delta_aic"] = out["aic"] - out["aic"].min()
    return out


def time_ratios(fitter, *, alpha: float | None = None) -> pd.DataFrame:
    """Time ratios ``exp(coef)`` of an AFT fit's location parameter with Wald intervals.

    Returns
    -------
    DataFrame
        Indexed by covariate: ``coef, se, time_ratio, lower, upper, p`` and, for a Weibull AFT,
        ``implied_hr`` = exp(-coef * rho), the proportional-hazards ratio it implies.
    """
    alpha = fitter.alpha if alpha is None else alpha
    z = stats.norm.ppf(1 - alpha / 2)
    s = fitter.summary
    param = s.index.get_level_values(0)[0]
    s = s.xs(param, level=0).drop(index="Intercept", errors="ignore")
    coef, se = s["coef"].astype(float), s["se(coef)"].astype(float)
    out = pd.DataFrame({"coef": coef, "se": se, "time_ratio": np.exp(coef),
                        "lower": np.exp(coef - z * se), "upper": np.exp(coef + z * se),
                        "p": s["p"].astype(float)})
    if type(fitter).__name__ == "WeibullAFTFitter":
        rho = float(np.exp(fitter.params_.loc[("rho_", "Intercept")]))
        out["implied_hr"] = np.exp(-coef * rho)  # Weibull AFT == Weibull PH with beta = -coef * rho
    out.index.name = "covariate"
    return out
