"""Cohort retention tables and their projection with the shifted-beta-geometric model
(:class:`churn_research.models.ShiftedBetaGeometric`, Fader & Hardie 2007): :func:`cohort_table`,
:func:`fit_sbg_cohorts`, :func:`sbg_summary`, :func:`sbg_projection`, :func:`sbg_holdout_accuracy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from churn_research.models.shifted_beta_geo import ShiftedBetaGeometric
from churn_research.survival.km import survival_at


# ---------------------------------------------------------------------------------------
# Cohort tables
# ---------------------------------------------------------------------------------------
def cohort_table(df: pd.DataFrame, *, cohort_freq: str = "Q", period: float = 1.0,
                 exclude_left_truncated: bool = True, min_size: int = 1) -> pd.DataFrame:
    """Customers alive at the start of each tenure period, per acquisition cohort.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`durations`.
    cohort_freq : str
        pandas period frequency of the acquisition cohorts (``"M"``, ``"Q"``, ``"Y"``).
    period : float
        Length of a tenure period in the durations' unit (1 month by default).
    exclude_left_truncated : bool
        Leave out customers acquired before observation began (``entry > 0``): only their
        survivors are in the data, so their counts are not a closed cohort.
    min_size : int
        Smallest cohort kept.

    Returns
    -------
    DataFrame
        Index: cohort (str, e.g. ``"2021Q3"``); columns 0, 1, 2, ...: customers alive at the
        start of tenure period k (k = 0 is the cohort size; a customer who churns within
        period k, including a zero-length lifetime in period 1, is alive at k but not at
        k + 1). A count is NaN once any member of the cohort could have been censored
        (k * period beyond the shortest follow-up in the cohort).
    """
    d = df.loc[df["entry"] <= 0] if exclude_left_truncated else df
    cohort = d["start_date"].dt.to_period(cohort_freq).astype(str)
    limit = d.groupby(cohort)["followup_limit"].min()
    size = cohort.value_counts()
    keep = size.index[size >= min_size]
    kmax = int(np.floor(limit.loc[keep].max() / period)) if len(keep) else 0
    k = np.arange(kmax + 1)
    T = d["duration"].to_numpy(float)
    E = d["event"].to_numpy(int)
    out = {}
    for c in sorted(keep):
        m = (cohort == c).to_numpy()
        Tc, Ec = T[m], E[m]
        alive = ((Tc[:, None] > k[None, :] * period) | (Ec[:, None] == 0)).sum(0).astype(float)
        alive[0] = m.sum()
        valid = k * period <= limit.loc[c] + 1e-9
        alive[~valid] = np.nan
        out[c] = alive
    table = pd.DataFrame.from_dict(out, orient="index", columns=k)
    table.index.name = "cohort"
    table.columns.name = "period"
    table.attrs.update({"period": period, "unit": df.attrs.get("unit", "months"), "cohort_freq": cohort_freq})
    return table


def fit_sbg_cohorts(table: pd.DataFrame, *, cohorts: Iterable[str] | None = None,
                    calibration_periods: int | None = None, min_periods: int = 3) -> dict:
    """Fit one :class:`ShiftedBetaGeometric` per cohort of a :func:`cohort_table`.

    Parameters
    ----------
    cohorts : iterable of str, optional
        Cohorts to fit (default all).
    calibration_periods : int, optional
        Fit on the first ``calibration_periods`` periods only (plus the cohort size), keeping
        the rest as a hold-out for :func:`sbg_projection`; default all observed periods.
    min_periods : int
        Cohorts with fewer observed periods are skipped, as are cohorts without an exit yet.

    Returns
    -------
    dict
        ``{cohort: fitted ShiftedBetaGeometric}``.
    """
    models = {}
    for c in (table.index if cohorts is None else cohorts):
        row = table.loc[c].dropna().to_numpy(float)
        if calibration_periods is not None:
            row = row[: calibration_periods + 1]
        if len(row) - 1 < min_periods or row[-1] == row[0]:
            continue  # too short, or no exits yet: nothing identifies the churn distribution
        models[c] = ShiftedBetaGeometric().fit(row)
    return models


def sbg_summary(models: Mapping) -> pd.DataFrame:
    """One row per fitted cohort: ``cohort, size, periods_fitted, gamma, gamma_se, delta,
    delta_se, mean_churn, log_likelihood, note`` (the note flags the geometric limit)."""
    rows = [{"cohort": c, "size": m.cohort_size_, "periods_fitted": m.n_periods_, "gamma": m.gamma_,
             "gamma_se": m.gamma_se_, "delta": m.delta_, "delta_se": m.delta_se_,
             "mean_churn": m.mean_churn_probability(), "log_likelihood": m.log_likelihood_,
             "note": "no heterogeneity found (geometric limit)" if m.homogeneous_ else ""}
            for c, m in models.items()]
    return pd.DataFrame(rows, columns=["cohort", "size", "periods_fitted", "gamma", "gamma_se", "delta",
                                       "delta_se", "mean_churn", "log_likelihood", "note"])


def sbg_projection(table: pd.DataFrame, models: Mapping, *, horizon: int | None = None,
                   km=None) -> pd.DataFrame:
    """Projected vs observed survival per cohort (and the Kaplan-Meier curve for reference).

    Parameters
    ----------
    table : DataFrame
        :func:`cohort_table`.
    models : mapping
        :func:`fit_sbg_cohorts`.
    horizon : int, optional
        Last period projected (default: the table's last column).
    km : lifelines.KaplanMeierFitter, optional
        Adds ``km_survival`` at tenure ``period * table.attrs["period"]``.

    Returns
    -------
    DataFrame
        ``cohort, period, observed, observed_survival, projected, projected_survival,
        calibration`` (True for periods used in the fit), [``km_survival``].
    """
    horizon = int(table.columns.max()) if horizon is None else int(horizon)
    t = np.arange(horizon + 1)
    parts = []
    for c, m in models.items():
        obs = table.loc[c].reindex(t).to_numpy(float)
        size = obs[0]
        s = m.survival(t)
        part = pd.DataFrame({"cohort": c, "period": t, "observed": obs, "observed_survival": obs / size,
                             "projected": size * s, "projected_survival": s, "calibration": t <= m.n_periods_})
        if km is not None:
            part["km_survival"] = survival_at(km, t * table.attrs.get("period", 1.0))["survival"].to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def sbg_holdout_accuracy(projection: pd.DataFrame) -> pd.DataFrame:
    """Hold-out accuracy of :func:`sbg_projection` per cohort.

    Returns
    -------
    DataFrame
        ``cohort, periods_fitted, periods_held_out, last_period, observed_survival,
        projected_survival, error_pp`` (projected - observed at the last observed period, in
        percentage points), ``mae_pp`` (mean absolute error over the hold-out periods) and,
        when present, ``km_survival`` at the last period.
    """
    rows = []
    for c, sub in projection.groupby("cohort", sort=False):
        hold = sub[~sub["calibration"] & sub["observed"].notna()]
        fitted = int(sub.loc[sub["calibration"], "period"].max())
        if not len(hold):
            continue
        last = hold.iloc[-1]
        row = {"cohort": c, "periods_fitted": fitted, "periods_held_out": len(hold),
               "last_period": int(last["period"]), "observed_survival": last["observed_survival"],
               "projected_survival": last["projected_survival"],
               "error_pp": 100 * (last["projected_survival"] - last["observed_survival"]),
               "mae_pp": 100 * float(np.mean(np.abs(hold["projected_survival"] - hold["observed_survival"])))}
        if "km_survival" in sub:
            row["km_survival"] = last["km_survival"]
        rows.append(row)
    return pd.DataFrame(rows)
