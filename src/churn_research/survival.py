"""Survival analysis of customer lifetimes: *when* do customers leave, and what changes that.

Built on lifelines (fitters, statistics) with the project's data model around it:

* :func:`durations` -- one row per customer: lifetime, churn indicator, delayed entry.
* Kaplan-Meier: :func:`km_fit`, :func:`km_summary` (median lifetime or "not reached",
  survival at horizons, restricted mean survival time), :func:`km_curves`.
* Log-rank: :func:`logrank` (multi-group) and :func:`pairwise_logrank` (Holm-corrected);
  both honour delayed entry.
* Cox regression: :class:`CoxRegression` (hazard ratios, concordance, Schoenfeld-based
  proportional-hazards check with lifelines' advice as a table, stratified remedy) and
  :func:`piecewise_hazard_ratios` (a time interaction by tenure band).
* Parametric fits: :func:`fit_parametric`, :func:`parametric_comparison`, :func:`extrapolate`,
  :func:`fit_aft` (accelerated failure time regression).
* The business change as a time-varying exposure: :func:`change_episodes`,
  :func:`fit_change_cox`; acquisition cohorts before / after it: :func:`acquired_before_after`.
* Cohort retention: :class:`ShiftedBetaGeometric` (Fader & Hardie 2007), :func:`cohort_table`,
  :func:`fit_sbg_cohorts`, :func:`sbg_projection`.

Time scale
----------
Every model here runs on **tenure** (time since the customer's ``start_date``) in the unit
chosen in :func:`durations`: ``"days"``, ``"weeks"``, ``"months"`` (a month is 365.25 / 12 =
30.44 days) or ``"years"``.

Left truncation
---------------
When the data only follow customers from some date on (the synthetic generator simulates
customers who were already customers at its ``start`` only from that date: they are *left
truncated*), such a customer enters the risk set at the tenure they had on that date, not at 0.
:func:`durations` puts that tenure in the ``entry`` column and every estimator here uses it
(lifelines' ``entry`` / ``entry_col`` / start-stop episodes). Ignoring it would overstate
survival, because only the survivors of those early years are in the data.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import lifelines
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test
from lifelines.utils import median_survival_times
from scipy import stats
from statsmodels.stats.multitest import multipletests

from churn_research.durations import TIME_UNITS, durations, to_units, unit_days
from churn_research.model import ChurnDataError
from churn_research.models.shifted_beta_geo import ShiftedBetaGeometric
from churn_research.stats import compare_with_truth as shared_compare

__all__ = [
    "TIME_UNITS",
    "durations",
    "add_first_purchase",
    "km_fit",
    "km_summary",
    "km_curves",
    "survival_at",
    "rmst",
    "logrank",
    "pairwise_logrank",
    "cox_design",
    "CoxRegression",
    "schoenfeld_test",
    "hazard_ratios",
    "compare_with_truth",
    "piecewise_hazard_ratios",
    "fit_parametric",
    "parametric_comparison",
    "extrapolate",
    "fit_aft",
    "aft_comparison",
    "change_episodes",
    "fit_change_cox",
    "acquired_before_after",
    "ShiftedBetaGeometric",
    "cohort_table",
    "fit_sbg_cohorts",
    "sbg_summary",
    "sbg_projection",
    "sbg_holdout_accuracy",
    "format_km_summary",
    "logrank_sentence",
    "time_ratios",
]

#: Length given to zero-length intervals where a model needs stop > start.
_MIN_EPISODE = 1e-6


def add_first_purchase(df: pd.DataFrame, transactions: pd.DataFrame, *, tiers: int = 3) -> pd.DataFrame:
    """Add first-purchase covariates (what is known at acquisition) to a durations frame.

    Useful where customers have no attributes (the CDNOW log): ``first_purchase_amount`` and
    ``first_purchase_quantity`` (totals on the customer's first purchase day),
    ``log_first_purchase_amount`` (log(1 + amount)) and ``first_purchase_tier`` (quantile
    tiers "low", "mid", "high" for ``tiers=3``; ``tier 1..k`` otherwise) and
    ``acquisition_month``.
    """
    tx = transactions[["customer_id", "date", "amount"] + (["quantity"] if "quantity" in transactions else [])].copy()
    tx["date"] = pd.to_datetime(tx["date"]).dt.normalize()
    first_day = df.set_index("customer_id")["start_date"].dt.normalize()
    tx = tx.loc[tx["date"].to_numpy() == first_day.reindex(tx["customer_id"]).to_numpy()]
    agg = tx.groupby("customer_id").agg(first_purchase_amount=("amount", "sum"),
                                        **({"first_purchase_quantity": ("quantity", "sum")} if "quantity" in tx else {}))
    out = df.join(agg, on="customer_id")
    out["first_purchase_amount"] = out["first_purchase_amount"].fillna(0.0)
    out["log_first_purchase_amount"] = np.log1p(out["first_purchase_amount"])
    labels = ["low", "mid", "high"] if tiers == 3 else [f"tier {i + 1}" for i in range(tiers)]
    ranks = out["first_purchase_amount"].rank(method="first")
    out["first_purchase_tier"] = pd.qcut(ranks, q=tiers, labels=labels).astype(str)
    out["acquisition_month"] = out["start_date"].dt.to_period("M").astype(str)
    out.attrs.update(df.attrs)
    return out


def _entry(df: pd.DataFrame, use_entry: bool = True):
    if use_entry and "entry" in df and (df["entry"] > 0).any():
        return df["entry"].to_numpy(float)
    return None


# ---------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------
def _groups(df: pd.DataFrame, by: str | None, min_size: int = 1):
    if by is None:
        yield "all customers", df
        return
    if by not in df.columns:
        raise ChurnDataError("segment column is missing.", table="customers", column=by,
                             fix=f"choose one of: {', '.join(map(str, df.columns))}.")
    for level, sub in df.groupby(by, observed=True, sort=True):
        if len(sub) >= min_size:
            yield level, sub


def km_fit(df: pd.DataFrame, *, by: str | None = None, alpha: float = 0.05,
           use_entry: bool = True, min_size: int = 20) -> dict:
    """Kaplan-Meier estimates overall (``by=None``) or per level of a segment column.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`durations`.
    by : str, optional
        Segment column; groups with fewer than ``min_size`` customers are skipped.
    alpha : float
        1 - confidence level of the pointwise (exponential Greenwood) bands.
    use_entry : bool
        Use delayed entry (left truncation) when the ``entry`` column has any.

    Returns
    -------
    dict
        ``{level: fitted lifelines.KaplanMeierFitter}`` (key ``"all customers"`` if no ``by``).
    """
    fitters = {}
    for level, sub in _groups(df, by, min_size):
        kmf = KaplanMeierFitter(alpha=alpha, label=str(level))
        kmf.fit(sub["duration"], sub["event"], entry=_entry(sub, use_entry))
        fitters[level] = kmf
    return fitters


def _step_value(frame: pd.DataFrame, times) -> np.ndarray:
    """Values of a right-continuous step function (indexed by time) at ``times``."""
    idx = frame.index.to_numpy(float)
    pos = np.searchsorted(idx, np.asarray(times, float), side="right") - 1
    vals = frame.to_numpy(float)
    res = np.where(pos[:, None] >= 0, vals[np.clip(pos, 0, None)], 1.0)
    return res


def survival_at(kmf, times) -> pd.DataFrame:
    """Survival and its confidence band of a fitted Kaplan-Meier at ``times``.

    Returns a frame indexed by time with ``survival, lower, upper``; times beyond the last
    observed time get NaN (the Kaplan-Meier curve is not defined there).
    """
    times = np.atleast_1d(np.asarray(times, float))
    s = _step_value(kmf.survival_function_, times)[:, 0]
    ci = _step_value(kmf.confidence_interval_survival_function_, times)
    out = pd.DataFrame({"survival": s, "lower": ci[:, 0], "upper": ci[:, 1]}, index=times)
    out.index.name = "time"
    out.loc[times > kmf.timeline.max()] = np.nan
    return out


def rmst(kmf, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its standard error.

    RMST is the area under the Kaplan-Meier curve on [0, tau] (the expected lifetime within
    the first ``tau`` units; equals lifelines' ``restricted_mean_survival_time``). Its variance
    is the Greenwood-type sum over event times t_j <= tau of
    A_j^2 d_j / (n_j (n_j - d_j)) with A_j the area under the curve on [t_j, tau]
    (Klein & Moeschberger 2003, sec. 4.5); risk sets n_j honour delayed entry.
    """
    sf = kmf.survival_function_.iloc[:, 0]
    t = sf.index.to_numpy(float)
    s = sf.to_numpy(float)
    knots = np.r_[t[t < tau], tau]
    vals = s[: len(knots) - 1]
    if knots[0] > 0:  # the curve is 1 before its first time point
        knots, vals = np.r_[0.0, knots], np.r_[1.0, vals]
    area = np.r_[0.0, np.cumsum(vals * np.diff(knots))]
    total = float(area[-1])
    et = kmf.event_table
    et = et.loc[(et.index.to_numpy(float) <= tau) & (et["observed"].to_numpy() > 0)]
    tj = et.index.to_numpy(float)
    dj, nj = et["observed"].to_numpy(float), et["at_risk"].to_numpy(float)
    before = np.interp(tj, knots, area)  # area is piecewise linear in t: exact
    a = total - before
    ok = nj > dj
    var = float(np.sum(a[ok] ** 2 * dj[ok] / (nj[ok] * (nj[ok] - dj[ok]))))
    return total, float(np.sqrt(var))


def km_summary(df: pd.DataFrame, *, by: str | None = None, horizons: Sequence[float] = (12, 24, 36),
               rmst_horizon: float | None = None, alpha: float = 0.05, use_entry: bool = True,
               min_size: int = 20) -> pd.DataFrame:
    """Median lifetime, survival at horizons and restricted mean survival time per group.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`durations`.
    by : str, optional
        Segment column.
    horizons : sequence of float
        Tenures (in the durations' unit) at which survival is reported.
    rmst_horizon : float, optional
        Restriction time of the RMST (the expected lifetime within the first ``rmst_horizon``
        units); defaults to the largest horizon.
    alpha, use_entry, min_size
        As in :func:`km_fit`.

    Returns
    -------
    DataFrame
        One row per group: ``group, customers, churned, median`` (inf if not reached),
        ``median_lower, median_upper, median_label`` ("not reached" or the number),
        ``S(h), S(h)_lower, S(h)_upper`` for each horizon, ``rmst, rmst_se, rmst_horizon``.
    """
    tau = float(rmst_horizon if rmst_horizon is not None else max(horizons))
    rows = []
    for level, kmf in km_fit(df, by=by, alpha=alpha, use_entry=use_entry, min_size=min_size).items():
        sub = df if by is None else df[df[by] == level]
        med = float(kmf.median_survival_time_)
        ci = median_survival_times(kmf.confidence_interval_).to_numpy(float).ravel()
        row = {"group": level, "customers": len(sub), "churned": int(sub["event"].sum()),
               "median": med, "median_lower": ci[0], "median_upper": ci[1],
               "median_label": "not reached" if not np.isfinite(med) else f"{med:.1f}"}
        at = survival_at(kmf, horizons)
        for h in horizons:
            key = f"S({h:g})"
            row[key], row[key + "_lower"], row[key + "_upper"] = at.loc[float(h)].to_numpy()
        if tau <= kmf.timeline.max():
            mean, se = rmst(kmf, tau)
            row.update(rmst=mean, rmst_se=se)
        else:
            row.update(rmst=np.nan, rmst_se=np.nan)
        row["rmst_horizon"] = tau
        rows.append(row)
    return pd.DataFrame(rows)


def km_curves(fitters: Mapping) -> pd.DataFrame:
    """Long frame ``group, time, survival, lower, upper, at_risk`` from :func:`km_fit`."""
    parts = []
    for level, kmf in fitters.items():
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_survival_function_
        parts.append(pd.DataFrame({
            "group": level, "time": sf.index.to_numpy(float), "survival": sf.to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(), "upper": ci.iloc[:, 1].to_numpy(),
            "at_risk": kmf.event_table["at_risk"].reindex(sf.index).to_numpy(),
        }))
    return pd.concat(parts, ignore_index=True)


def format_km_summary(summary: pd.DataFrame, *, unit: str = "months") -> pd.DataFrame:
    """Reader-friendly version of :func:`km_summary`: medians with CIs, survival as percentages."""
    horizons = [c for c in summary.columns if c.startswith("S(") and not c.endswith(("_lower", "_upper"))]

    def num(v):
        return "not reached" if not np.isfinite(v) else f"{v:.1f}"

    out = pd.DataFrame({"group": summary["group"].astype(str), "customers": summary["customers"],
                        "churned": summary["churned"]})
    out[f"median lifetime ({unit}) [95% CI]"] = [
        f"{num(m)} [{num(lo)}, {num(hi)}]" if np.isfinite(lo) or np.isfinite(hi) else num(m)
        for m, lo, hi in summary[["median", "median_lower", "median_upper"]].to_numpy()]
    for h in horizons:
        t = h[2:-1]
        out[f"still customers at {t} {unit}"] = [
            "n/a (beyond follow-up)" if not np.isfinite(v) else f"{v:.1%} [{lo:.1%}, {hi:.1%}]"
            for v, lo, hi in summary[[h, h + "_lower", h + "_upper"]].to_numpy()]
    tau = summary["rmst_horizon"].iloc[0] if len(summary) else np.nan
    out[f"mean {unit} within first {tau:g} (RMST)"] = [
        "n/a" if not np.isfinite(m) else f"{m:.1f} ± {1.96 * se:.1f}" for m, se in summary[["rmst", "rmst_se"]].to_numpy()]
    return out.set_index("group")


def logrank_sentence(result: Mapping, *, by: str, summary: pd.DataFrame | None = None,
                     pairwise: pd.DataFrame | None = None, unit: str = "months", alpha: float = 0.05) -> str:
    """One-sentence verdict of a :func:`logrank` result (with medians and the pairwise count)."""
    p = result["p"]
    ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    verdict = "differs" if p < alpha else "does not differ significantly"
    text = (f"Survival {verdict} by **{by}** (log-rank chi2 = {result['test_statistic']:.1f} on "
            f"{result['df']} df, {ptxt}).")
    if summary is not None and len(summary):
        meds = ", ".join(f"{g}: {'not reached' if not np.isfinite(m) else f'{m:.1f}'}"
                         for g, m in summary[["group", "median"]].to_numpy())
        text += f" Median lifetime ({unit}) -- {meds}."
    if pairwise is not None and len(pairwise) > 1:
        text += (f" {int(pairwise['significant'].sum())} of {len(pairwise)} pairs differ at 5% after "
                 f"{pairwise.attrs.get('correction', 'Holm')} correction.")
    return text


# ---------------------------------------------------------------------------------------
# Log-rank tests (with delayed entry)
# ---------------------------------------------------------------------------------------
def _logrank_parts(T: np.ndarray, E: np.ndarray, entry: np.ndarray, codes: np.ndarray, k: int):
    """Observed, expected events and the covariance of O - E (hypergeometric, risk set
    ``entry <= t <= T``) at the distinct event times -- the log-rank statistic's pieces."""
    times = np.unique(T[E == 1])
    n = np.zeros((len(times), k))
    d = np.zeros((len(times), k))
    for g in range(k):
        m = codes == g
        Tg, eg = np.sort(T[m]), np.sort(entry[m])
        evg = np.sort(T[m & (E == 1)])
        n[:, g] = (len(Tg) - np.searchsorted(Tg, times, side="left")) \
            - (len(eg) - np.searchsorted(eg, times, side="right"))
        d[:, g] = np.searchsorted(evg, times, side="right") - np.searchsorted(evg, times, side="left")
    nt, dt = n.sum(1), d.sum(1)
    ok = nt > 0
    n, d, nt, dt = n[ok], d[ok], nt[ok], dt[ok]
    observed = d.sum(0)
    share = n / nt[:, None]
    expected = (dt[:, None] * share).sum(0)
    factor = np.where(nt > 1, dt * (nt - dt) / np.maximum(nt - 1, 1), 0.0)
    cov = np.einsum("j,jg,gh->gh", factor, share, np.eye(k)) - np.einsum("j,jg,jh->gh", factor, share, share)
    return observed, expected, cov


def _chi2_from_parts(observed, expected, cov):
    z = (observed - expected)[:-1]
    v = cov[:-1, :-1]
    stat = float(z @ np.linalg.pinv(v) @ z)
    dof = len(observed) - 1
    return stat, dof, float(stats.chi2.sf(stat, dof))


def logrank(df: pd.DataFrame, *, by: str, use_entry: bool = True, min_size: int = 20) -> dict:
    """Multi-group log-rank test of equal survival across the levels of ``by``.

    Without delayed entry the statistic is lifelines' ``multivariate_logrank_test``. With
    delayed entry (left-truncated customers, see :func:`durations`) lifelines' test does not
    apply, so the same statistic is computed here with risk sets ``entry <= t <= duration``
    (identical to lifelines' when every entry is 0; tested).

    Returns
    -------
    dict
        ``test_statistic, df, p, method`` and ``table`` (a DataFrame of customers, observed
        and expected churn per group).
    """
    sub = pd.concat([g for _, g in _groups(df, by, min_size)])
    levels = sorted(sub[by].unique().tolist(), key=str)
    codes = pd.Categorical(sub[by], categories=levels).codes
    T, E = sub["duration"].to_numpy(float), sub["event"].to_numpy(int)
    entry = _entry(sub, use_entry)
    obs, exp_, cov = _logrank_parts(T, E, np.zeros_like(T) if entry is None else entry, codes, len(levels))
    if entry is None:
        res = multivariate_logrank_test(T, sub[by].astype(str).to_numpy(), E)
        stat, dof, p = float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value)
        method = "log-rank (lifelines multivariate_logrank_test)"
    else:
        stat, dof, p = _chi2_from_parts(obs, exp_, cov)
        method = "log-rank with delayed entry (left truncation)"
    table = pd.DataFrame({"group": levels, "customers": np.bincount(codes, minlength=len(levels)),
                          "observed": obs, "expected": exp_})
    table["observed/expected"] = table["observed"] / table["expected"]
    return {"test_statistic": stat, "df": dof, "p": p, "method": method, "table": table}


def pairwise_logrank(df: pd.DataFrame, *, by: str, use_entry: bool = True, correction: str = "holm",
                     min_size: int = 20) -> pd.DataFrame:
    """Log-rank test for every pair of levels of ``by`` with a multiple-comparison correction.

    Parameters
    ----------
    correction : str
        Any ``statsmodels.stats.multitest.multipletests`` method (``"holm"``, ``"bonferroni"``,
        ``"fdr_bh"``, ...).

    Returns
    -------
    DataFrame
        ``group_a, group_b, test_statistic, p, p_adjusted, significant`` (at 5% after the
        correction).
    """
    groups = dict(_groups(df, by, min_size))
    levels = sorted(groups, key=str)
    rows = []
    for i, a in enumerate(levels):
        for b in levels[i + 1:]:
            pair = pd.concat([groups[a], groups[b]])
            res = logrank(pair, by=by, use_entry=use_entry, min_size=min_size)
            rows.append({"group_a": a, "group_b": b, "test_statistic": res["test_statistic"], "p": res["p"]})
    out = pd.DataFrame(rows, columns=["group_a", "group_b", "test_statistic", "p"])
    if len(out):
        reject, adj, _, _ = multipletests(out["p"].to_numpy(), alpha=0.05, method=correction)
        out["p_adjusted"], out["significant"] = adj, reject
        out.attrs["correction"] = correction
    return out


# ---------------------------------------------------------------------------------------
# Cox regression
# ---------------------------------------------------------------------------------------
def cox_design(df: pd.DataFrame, covariates: Sequence[str], *, reference: Mapping | None = None,
               per: Mapping | None = None) -> pd.DataFrame:
    """Numeric design matrix for a regression on customer attributes.

    Categorical columns become treatment dummies named ``column[level]`` against a reference
    level (``reference[column]``, else the most frequent level); booleans become 0/1 columns
    with the column's name; numeric columns stay as they are, or are divided by
    ``per[column]`` and renamed ``column_per_<k>`` (e.g. ``per={"age": 10}`` gives
    ``age_per_10``: the effect of 10 years of age). Rows with a missing covariate are dropped.

    Returns
    -------
    DataFrame
        Indexed like ``df``; ``attrs["sources"]`` maps each design column to its source column,
        ``attrs["reference"]`` gives the reference levels and ``attrs["dropped"]`` the number
        of rows dropped for missing values.
    """
    reference, per = dict(reference or {}), dict(per or {})
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise ChurnDataError(f"covariate(s) {missing} not found.", table="customers",
                             fix=f"choose among: {', '.join(map(str, df.columns))}.")
    complete = df[list(covariates)].notna().all(axis=1)
    data = df if bool(complete.all()) else df.loc[complete]
    parts, sources, refs = [], {}, {}
    for col in covariates:
        s = data[col]
        # factorize object columns once (instead of one string comparison per level)
        codes, uniques = pd.factorize(s) if s.dtype == object else (None, None)
        if pd.api.types.is_bool_dtype(s) or (
                uniques is not None and all(isinstance(u, bool | np.bool_) for u in uniques)):
            parts.append(s.astype(int).rename(col))
            sources[col] = col
        elif pd.api.types.is_numeric_dtype(s):
            k = per.get(col)
            name = col if k is None else f"{col}_per_{k:g}"
            parts.append((s.astype(float) / (1 if k is None else float(k))).rename(name))
            sources[name] = col
        else:
            if codes is None:
                codes, uniques = pd.factorize(s)
            levels, inverse = np.unique(np.array([str(u) for u in uniques]), return_inverse=True)
            level_codes = inverse[codes]
            counts = np.bincount(level_codes, minlength=len(levels))
            default = levels[int(np.argmax(counts))]  # the most frequent level
            ref = str(reference.get(col, default))
            if ref not in levels:
                raise ChurnDataError(f"reference level {ref!r} does not occur.", table="customers",
                                     column=col, fix=f"use one of {sorted(levels)}.")
            refs[col] = ref
            for j, level in enumerate(levels):  # sorted
                if level == ref:
                    continue
                name = f"{col}[{level}]"
                parts.append(pd.Series((level_codes == j).astype(np.int64), index=s.index, name=name))
                sources[name] = col
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=data.index)
    values = design.to_numpy(dtype=float) if len(design.columns) else np.empty((len(design), 0))
    constant = [c for c, lo, hi in zip(design.columns, np.nanmin(values, axis=0, initial=np.inf),
                                      np.nanmax(values, axis=0, initial=-np.inf), strict=True)
                if not lo < hi]
    design = design.drop(columns=constant)
    design.attrs.update({"sources": {k: v for k, v in sources.items() if k not in constant},
                         "reference": refs, "dropped": int((~complete).sum()),
                         "constant_dropped": constant})
    return design


def hazard_ratios(fitter, *, alpha: float | None = None) -> pd.DataFrame:
    """Hazard ratios (``exp(coef)``) with Wald confidence intervals from a fitted lifelines
    Cox model (``CoxPHFitter`` or ``CoxTimeVaryingFitter``).

    Returns
    -------
    DataFrame
        Indexed by covariate: ``coef, se, hr, lower, upper, p``.
    """
    alpha = fitter.alpha if alpha is None else alpha
    z = stats.norm.ppf(1 - alpha / 2)
    s = fitter.summary
    coef, se = s["coef"].astype(float), s["se(coef)"].astype(float)
    out = pd.DataFrame({"coef": coef, "se": se, "hr": np.exp(coef), "lower": np.exp(coef - z * se),
                        "upper": np.exp(coef + z * se), "p": s["p"].astype(float)})
    out.index.name = "covariate"
    out.attrs["alpha"] = alpha
    return out


def compare_with_truth(ratios: pd.DataFrame, truth_log_hr: Mapping[str, float], *,
                       aliases: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Set estimated ratios next to known true log-ratios (e.g. the synthetic generator's).

    Parameters
    ----------
    ratios : DataFrame
        Output of :func:`hazard_ratios` (``hr, lower, upper`` indexed by covariate).
    truth_log_hr : mapping
        ``{name: true log hazard ratio}``.
    aliases : mapping, optional
        ``{covariate in ratios: name in truth}`` where they differ (``age_per_10`` vs
        ``age_per_10y``).

    Returns
    -------
    DataFrame
        ``covariate, hr, lower, upper, true_hr, covered`` for the covariates present in both.
    """
    out = shared_compare(ratios, truth_log_hr, estimate="hr", lower="lower", upper="upper",
                         aliases=aliases, exp=True)
    out = out.rename(columns={"term": "covariate", "truth": "true_hr"})
    return out[["covariate", "hr", "lower", "upper", "true_hr", "covered"]]


def _strata_column(s: pd.Series, bins: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique() > 6:
        return pd.qcut(s, q=bins, duplicates="drop").astype(str)
    return s.astype(str)


def _risk_set_means(X: np.ndarray, w: np.ndarray, start: np.ndarray, stop: np.ndarray,
                    times: np.ndarray) -> np.ndarray:
    """Risk-weighted covariate means over the risk sets {j: start_j < t <= stop_j} at ``times``."""
    o_stop, o_start = np.argsort(stop, kind="mergesort"), np.argsort(start, kind="mergesort")
    wx = w[:, None] * X

    def suffix(order, vals):
        c = np.cumsum(vals[order][::-1], axis=0)[::-1]
        return np.concatenate([c, np.zeros((1,) + vals.shape[1:])], axis=0)

    i_stop = np.searchsorted(stop[o_stop], times, side="left")      # stop_j >= t
    i_start = np.searchsorted(start[o_start], times, side="left")   # start_j >= t (not yet entered)
    s0 = suffix(o_stop, w)[i_stop] - suffix(o_start, w)[i_start]
    s1 = suffix(o_stop, wx)[i_stop] - suffix(o_start, wx)[i_start]
    return s1 / s0[:, None]


def schoenfeld_test(fitter, frame: pd.DataFrame, *, duration_col: str = "duration",
                    event_col: str = "event", entry_col: str | None = "entry",
                    strata: Sequence[str] | None = None) -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards on scaled Schoenfeld residuals, with
    delayed entry.

    lifelines' ``proportional_hazard_test`` needs residuals, which lifelines does not compute
    for models fitted with ``entry_col``. This computes the Schoenfeld residuals
    x_i - xbar(t_i) over the risk sets {entry < t <= duration} (within strata; Breslow
    handling of tied event times), scales them as lifelines does (n_events x residual x
    covariance) and applies lifelines' statistic with its ``rank`` and ``km`` time transforms
    (the KM transform here honours delayed entry). Without delayed entry and ties it agrees
    with lifelines' test (tested).

    Returns
    -------
    DataFrame
        Indexed by (covariate, transform) with ``test_statistic`` and ``p``, like the
        ``summary`` of lifelines' result.
    """
    cols = list(fitter.params_.index)
    X = frame[cols].to_numpy(float)
    T = frame[duration_col].to_numpy(float)
    E = frame[event_col].to_numpy(bool)
    start = frame[entry_col].to_numpy(float) if entry_col and entry_col in frame else np.zeros_like(T)
    eta = X @ fitter.params_.to_numpy(float)
    w = np.exp(eta - eta.max())
    resid = np.zeros((int(E.sum()), len(cols)))
    ev_idx = np.flatnonzero(E)
    ev_idx = ev_idx[np.argsort(T[ev_idx], kind="mergesort")]
    pos = {j: k for k, j in enumerate(ev_idx)}
    keys = (frame[list(strata)].astype(str).agg("|".join, axis=1).to_numpy() if strata
            else np.zeros(len(frame), dtype=int))
    for key in np.unique(keys):
        m = keys == key
        rows = np.flatnonzero(m & E)
        if not len(rows):
            continue
        xbar = _risk_set_means(X[m], w[m], start[m], T[m], T[rows])
        for k, r in enumerate(rows):
            resid[pos[r]] = X[r] - xbar[k]
    n_events = len(ev_idx)
    scaled = n_events * resid @ fitter.variance_matrix_.to_numpy(float)
    te = T[ev_idx]
    km = KaplanMeierFitter().fit(T, E, entry=start if (start > 0).any() else None)
    transforms = {"rank": np.arange(1, n_events + 1, dtype=float),
                  "km": 1 - km.survival_function_at_times(te).to_numpy(float)}
    se2 = fitter.standard_errors_.to_numpy(float) ** 2
    rows_out = []
    for name, g in transforms.items():
        gc = g - g.mean()
        stat = (gc @ scaled) ** 2 / (n_events * se2 * np.sum(gc ** 2))
        for c, t in zip(cols, stat, strict=True):
            rows_out.append({"covariate": c, "transform": name, "test_statistic": float(t),
                             "p": float(stats.chi2.sf(t, 1))})
    return pd.DataFrame(rows_out).set_index(["covariate", "transform"])


class CoxRegression:
    """Cox proportional-hazards regression of churn on customer attributes (lifelines).

    Parameters
    ----------
    covariates : sequence of str
        Attribute columns of the durations frame (see :func:`cox_design` for the coding).
    reference, per : mapping, optional
        Reference levels and per-unit scaling, as in :func:`cox_design`.
    strata : sequence of str, optional
        Columns to stratify on (each level gets its own baseline hazard; no hazard ratio is
        estimated for them). Numeric columns with more than 6 values are binned into
        ``bins`` quantile groups first.
    penalizer : float
        L2 penalty (lifelines ``penalizer``); 0 gives the plain partial-likelihood estimate.
    alpha : float
        1 - confidence level of the intervals.
    use_entry : bool
        Use delayed entry (left truncation, lifelines ``entry_col``) when present.
    bins : int
        Quantile bins for numeric strata.

    Attributes
    ----------
    fitter_ : lifelines.CoxPHFitter
    training_frame_ : DataFrame
        The frame lifelines was fitted on (design, duration, event, entry, strata).
    sources_ : dict
        Design column -> source column.
    hazard_ratios_ : DataFrame
        See :func:`hazard_ratios`.
    concordance_ : float
        Harrell's concordance index on the training data.
    ph_table_ : DataFrame
        Set by :meth:`check_ph`.
    """

    def __init__(self, covariates: Sequence[str], *, reference: Mapping | None = None,
                 per: Mapping | None = None, strata: Sequence[str] | None = None,
                 penalizer: float = 0.0, alpha: float = 0.05, use_entry: bool = True, bins: int = 4):
        self.covariates = list(covariates)
        self.reference = reference
        self.per = per
        self.strata = list(strata or [])
        self.penalizer = penalizer
        self.alpha = alpha
        self.use_entry = use_entry
        self.bins = bins

    def fit(self, df: pd.DataFrame) -> CoxRegression:
        """Fit on a durations frame (:func:`durations`); returns ``self``."""
        covs = [c for c in self.covariates if c not in self.strata]
        design = cox_design(df, covs, reference=self.reference, per=self.per)
        rows = df if design.index.equals(df.index) else df.loc[design.index]
        frame = design.copy()
        frame["duration"] = rows["duration"].astype(float)
        frame["event"] = rows["event"].astype(int)
        entry = _entry(df, self.use_entry)
        if entry is not None:
            frame["entry"] = rows["entry"].astype(float)
            # a lifetime must be longer than its delayed entry (zero-length ones get 1e-6)
            frame["duration"] = np.maximum(frame["duration"], frame["entry"] + _MIN_EPISODE)
        for col in self.strata:
            frame[f"stratum_{col}"] = _strata_column(rows[col], self.bins)
        frame = frame.reset_index(drop=True)
        cph = CoxPHFitter(penalizer=self.penalizer, alpha=self.alpha)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            cph.fit(frame, duration_col="duration", event_col="event",
                    entry_col="entry" if entry is not None else None,
                    strata=[f"stratum_{c}" for c in self.strata] or None)
        self.fitter_ = cph
        self.training_frame_ = frame
        self.sources_ = design.attrs["sources"]
        self.design_info_ = dict(design.attrs)
        self.hazard_ratios_ = hazard_ratios(cph)
        self.log_likelihood_ = float(cph.log_likelihood_)
        self.n_ = len(frame)
        self.events_ = int(frame["event"].sum())
        return self

    @property
    def concordance_(self) -> float:
        """Harrell's concordance on the training data (computed on first use, as in lifelines:
        it costs about as much as the fit itself on 10^5 customers)."""
        return float(self.fitter_.concordance_index_)

    def check_ph(self, *, threshold: float = 0.01) -> pd.DataFrame:
        """Schoenfeld-residual test of proportional hazards, per covariate, with advice.

        Runs lifelines' ``proportional_hazard_test`` on the scaled Schoenfeld residuals with
        the rank and Kaplan-Meier time transforms (as ``check_assumptions`` does) and turns
        lifelines' advice into columns: a covariate *violates* when its smaller p-value is
        below ``threshold``; with at most 6 distinct values (each seen at least 5 times) the
        advice is to stratify on its source column, otherwise to check the functional form,
        bin it and stratify, or interact it with time.

        Returns
        -------
        DataFrame
            ``covariate, source, chi2_rank, p_rank, chi2_km, p_km, violates, advice, remedy``.
        """
        strata = [f"stratum_{c}" for c in self.strata]
        if "entry" in self.training_frame_:
            s = schoenfeld_test(self.fitter_, self.training_frame_, strata=strata)
        else:
            s = proportional_hazard_test(self.fitter_, self.training_frame_,
                                         time_transform=["rank", "km"]).summary
        rows = []
        for cov in self.fitter_.params_.index:
            p_rank, p_km = float(s.loc[(cov, "rank"), "p"]), float(s.loc[(cov, "km"), "p"])
            values = self.training_frame_[cov]
            counts = values.value_counts()
            few = counts.shape[0] <= 6 and counts.min() >= 5
            source = self.sources_.get(cov, cov)
            violates = min(p_rank, p_km) < threshold
            if not violates:
                advice, remedy = "proportional hazards not rejected", "none"
            elif few:
                advice = (f"only {counts.shape[0]} distinct values: stratify on '{source}' "
                          "(a separate baseline hazard per level)")
                remedy = "stratify"
            else:
                advice = (f"check the functional form of '{source}'; or bin it (quantiles) and "
                          "stratify on the bins; or add an interaction with time")
                remedy = "bin and stratify"
            rows.append({"covariate": cov, "source": source,
                         "chi2_rank": float(s.loc[(cov, "rank"), "test_statistic"]), "p_rank": p_rank,
                         "chi2_km": float(s.loc[(cov, "km"), "test_statistic"]), "p_km": p_km,
                         "violates": violates, "advice": advice, "remedy": remedy})
        self.ph_table_ = pd.DataFrame(rows)
        self.ph_table_.attrs["threshold"] = threshold
        return self.ph_table_

    def remedy(self, df: pd.DataFrame, *, threshold: float = 0.01, bin_numeric: bool = False) -> CoxRegression:
        """Refit with the violating drivers as strata, following lifelines' advice.

        Categorical / binary drivers that violate proportional hazards (advice "stratify")
        become strata. Numeric violators stay in the model unless ``bin_numeric`` is True (then
        they are binned into quantiles and stratified too, which removes their hazard ratio);
        their time-dependence is better shown with :func:`piecewise_hazard_ratios`.

        Returns a new, fitted :class:`CoxRegression` (``self`` is unchanged); ``kept_``
        lists violating numeric drivers left in the model.
        """
        table = self.ph_table_ if hasattr(self, "ph_table_") else self.check_ph(threshold=threshold)
        bad = table.loc[table["violates"]]
        kinds = {"stratify", "bin and stratify"} if bin_numeric else {"stratify"}
        add = [s for s in dict.fromkeys(bad.loc[bad["remedy"].isin(kinds), "source"]) if s not in self.strata]
        kept = [s for s in dict.fromkeys(bad["source"]) if s not in add and s not in self.strata]
        model = CoxRegression(self.covariates, reference=self.reference, per=self.per,
                              strata=self.strata + add, penalizer=self.penalizer, alpha=self.alpha,
                              use_entry=self.use_entry, bins=self.bins)
        model.fit(df)
        model.kept_ = kept
        return model


def _split_at(base: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """Split each row's (start, stop] interval at per-row cut times.

    ``base`` has a unique ``_row`` key with ``start``/``stop``; ``cuts`` has ``_row`` and
    ``time``. Returns one row per piece with ``_row, start, stop``.
    """
    pts = pd.concat([
        base[["_row", "start"]].rename(columns={"start": "time"}),
        base[["_row", "stop"]].rename(columns={"stop": "time"}),
        cuts[["_row", "time"]],
    ], ignore_index=True)
    lim = base.set_index("_row")
    lo = lim["start"].reindex(pts["_row"]).to_numpy()
    hi = lim["stop"].reindex(pts["_row"]).to_numpy()
    t = pts["time"].to_numpy(float)
    pts = pts.loc[(t >= lo) & (t <= hi)]
    pts = pts.drop_duplicates().sort_values(["_row", "time"], kind="mergesort")
    nxt = pts.groupby("_row")["time"].shift(-1)
    pieces = pd.DataFrame({"_row": pts["_row"].to_numpy(), "start": pts["time"].to_numpy(),
                           "stop": nxt.to_numpy()})
    pieces = pieces.dropna(subset=["stop"])
    # a row whose interval has zero length (a zero-length lifetime) yields no piece: keep one
    zero = base.loc[base["stop"] <= base["start"], ["_row", "start", "stop"]]
    return pd.concat([pieces, zero], ignore_index=True).sort_values(["_row", "start"], kind="mergesort")


def _fit_ctv(frame: pd.DataFrame, *, penalizer: float, alpha: float):
    ctv = CoxTimeVaryingFitter(penalizer=penalizer, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        ctv.fit(frame, id_col="customer_id", event_col="event", start_col="start", stop_col="stop",
                show_progress=False)
    return ctv



def piecewise_hazard_ratios(df: pd.DataFrame, *, covariates: Sequence[str], vary: Sequence[str],
                            cuts: Sequence[float], reference: Mapping | None = None,
                            per: Mapping | None = None, penalizer: float = 0.0,
                            alpha: float = 0.05) -> pd.DataFrame:
    """Time interaction: a separate hazard ratio per tenure band for the ``vary`` covariates.

    Lifetimes are split into start-stop episodes at the tenures in ``cuts`` (honouring delayed
    entry) and each design column of a ``vary`` source column is replaced by one column per
    band (``x @ [a, b)``), fitted with lifelines' ``CoxTimeVaryingFitter``. Hazard ratios that
    drift across bands are what a proportional-hazards violation looks like.

    Returns
    -------
    DataFrame
        :func:`hazard_ratios` of the fitted model, with ``band``, ``source`` and ``note``
        columns; a band in which a level has no churn at all cannot be estimated (its
        partial likelihood keeps rising as the ratio goes to 0): its row is NaN with a note.
    """
    design = cox_design(df, covariates, reference=reference, per=per)
    base = pd.DataFrame({"_row": np.arange(len(design)),
                         "start": df.loc[design.index, "entry"].to_numpy(float) if "entry" in df else 0.0,
                         "stop": df.loc[design.index, "duration"].to_numpy(float)})
    cuts = sorted(float(c) for c in cuts)
    cut_frame = pd.DataFrame({"_row": np.repeat(base["_row"].to_numpy(), len(cuts)),
                              "time": np.tile(cuts, len(base))})
    ep = _split_at(base, cut_frame)
    d = design.reset_index(drop=True)
    frame = d.iloc[ep["_row"].to_numpy()].reset_index(drop=True)
    frame["customer_id"] = ep["_row"].to_numpy()
    frame["start"] = ep["start"].to_numpy()
    frame["stop"] = np.maximum(ep["stop"].to_numpy(), ep["start"].to_numpy() + _MIN_EPISODE)
    ev = df.loc[design.index, "event"].to_numpy(int)[ep["_row"].to_numpy()]
    dur = base["stop"].to_numpy()[ep["_row"].to_numpy()]
    frame["event"] = ev * (ep["stop"].to_numpy() >= dur)
    edges = [0.0, *cuts, np.inf]
    band = np.searchsorted(np.asarray(cuts), frame["start"].to_numpy(), side="right")
    labels = [f"[{edges[i]:g}, {edges[i + 1]:g})" for i in range(len(edges) - 1)]
    sources = design.attrs["sources"]
    vary_cols = [c for c, s in sources.items() if s in set(vary)]
    empty, names = [], []
    for col in vary_cols:
        for b, lab in enumerate(labels):
            name = f"{col} @ {lab}"
            names.append(name)
            values = frame[col] * (band == b)
            if frame.loc[values != 0, "event"].sum() == 0 or values.nunique() < 2:
                empty.append(name)  # no churn (or nobody) there: the ratio is not estimable
                continue
            frame[name] = values
        frame = frame.drop(columns=col)
    ctv = _fit_ctv(frame, penalizer=penalizer, alpha=alpha)
    out = hazard_ratios(ctv)
    if empty:
        out = pd.concat([out, pd.DataFrame(index=pd.Index(empty, name="covariate"), columns=out.columns, dtype=float)])
    out["band"] = [c.split(" @ ")[1] if " @ " in c else "all" for c in out.index]
    out["source"] = [sources.get(c.split(" @ ")[0], c) for c in out.index]
    out["note"] = ["no churn in this band: not estimable" if c in empty else "" for c in out.index]
    order = {c: i for i, c in enumerate(names)}
    return out.sort_index(key=lambda idx: idx.map(lambda c: order.get(c, -1)), kind="mergesort")


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


# ---------------------------------------------------------------------------------------
# The business change as a time-varying exposure
# ---------------------------------------------------------------------------------------
def _merge_windows(events: pd.DataFrame) -> pd.DataFrame:
    """Union of overlapping ``[lo, hi]`` windows per ``_row`` (vectorised)."""
    e = events.sort_values(["_row", "lo"], kind="mergesort").reset_index(drop=True)
    prev_hi = e.groupby("_row")["hi"].cummax().groupby(e["_row"]).shift(1)
    new_block = prev_hi.isna() | (e["lo"] > prev_hi)
    block = new_block.cumsum()
    return e.groupby(block).agg(_row=("_row", "first"), lo=("lo", "min"), hi=("hi", "max")).reset_index(drop=True)


def change_episodes(df: pd.DataFrame, *, change_date, tickets: pd.DataFrame | None = None,
                    complaint_kind: str = "complaint", complaint_window_days: int = 90) -> pd.DataFrame:
    """Start-stop episodes on the tenure scale for the time-varying Cox model.

    Each customer's observed interval ``(entry, duration]`` is split at the tenure the
    customer had on ``change_date`` -- so customers active across the change contribute time
    before *and* after it -- and, if ``tickets`` are given, at the start and end of every
    complaint window (a complaint on day d exposes days d to d + ``complaint_window_days``;
    overlapping windows are merged). Fully vectorised.

    Returns
    -------
    DataFrame
        ``customer_id, start, stop, event`` (1 only on the last episode of a churner),
        ``after_change`` (0/1), ``complaint_90d`` (0/1, only with tickets) and the customer's
        attribute columns. Zero-length lifetimes get a stop of ``start + 1e-6``.
    """
    unit = df.attrs.get("unit", "months")
    change_date = pd.Timestamp(change_date)
    cust = df.reset_index(drop=True)
    base = pd.DataFrame({"_row": np.arange(len(cust)), "start": cust["entry"].to_numpy(float),
                         "stop": cust["duration"].to_numpy(float)})
    t_change = to_units(change_date - cust["start_date"], unit).to_numpy(float)
    cuts = [pd.DataFrame({"_row": base["_row"], "time": t_change})]
    windows = None
    if tickets is not None and len(tickets):
        tk = tickets.loc[tickets["kind"] == complaint_kind, ["customer_id", "date"]]
        row_of = pd.Series(base["_row"].to_numpy(), index=cust["customer_id"])
        tk = tk.loc[tk["customer_id"].isin(row_of.index)]
        if len(tk):
            rows = row_of.reindex(tk["customer_id"]).to_numpy()
            start = cust["start_date"].to_numpy()[rows]
            lo = to_units(pd.to_datetime(tk["date"]).to_numpy() - start, unit)
            lo = np.asarray(lo, float)
            hi = lo + complaint_window_days / unit_days(unit)
            windows = _merge_windows(pd.DataFrame({"_row": rows, "lo": lo, "hi": hi}))
            cuts += [windows[["_row", "lo"]].rename(columns={"lo": "time"}),
                     windows[["_row", "hi"]].rename(columns={"hi": "time"})]
    ep = _split_at(base, pd.concat(cuts, ignore_index=True)).reset_index(drop=True)
    r = ep["_row"].to_numpy()
    out = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()[r],
                        "start": ep["start"].to_numpy(float),
                        "stop": np.maximum(ep["stop"].to_numpy(float), ep["start"].to_numpy(float) + _MIN_EPISODE)})
    last = ep["stop"].to_numpy(float) >= base["stop"].to_numpy()[r]
    out["event"] = (cust["event"].to_numpy(int)[r] * last).astype(int)
    mid = (ep["start"].to_numpy(float) + ep["stop"].to_numpy(float)) / 2
    out["after_change"] = (mid >= t_change[r]).astype(int)
    if tickets is not None:
        out["complaint_90d"] = 0
        if windows is not None and len(windows):
            probe = pd.DataFrame({"_row": r, "mid": mid, "_i": np.arange(len(r))}).sort_values("mid")
            w = windows.sort_values("lo")
            hit = pd.merge_asof(probe, w, left_on="mid", right_on="lo", by="_row", direction="backward")
            inside = hit["hi"].notna() & (hit["mid"] <= hit["hi"])
            out.loc[hit.loc[inside, "_i"].to_numpy(), "complaint_90d"] = 1
    skip = {"customer_id", "start_date", "end_date", "exit_date", "duration", "event", "entry", "followup_limit"}
    attrs = [c for c in cust.columns if c not in skip]
    out = pd.concat([out, cust[attrs].iloc[r].reset_index(drop=True)], axis=1)
    out.attrs.update({"unit": unit, "change_date": change_date,
                      "complaint_window_days": complaint_window_days if tickets is not None else None})
    return out


def fit_change_cox(episodes: pd.DataFrame, *, covariates: Sequence[str] = (),
                   reference: Mapping | None = None, per: Mapping | None = None,
                   exposures: Sequence[str] = ("after_change", "complaint_90d"),
                   penalizer: float = 0.0, alpha: float = 0.05):
    """Time-varying Cox model of churn with the business change as an exposure.

    Fits lifelines' ``CoxTimeVaryingFitter`` on :func:`change_episodes` with the exposures
    (those present among ``after_change``, ``complaint_90d``) and the static ``covariates``.
    The hazard ratio of ``after_change`` compares the hazard of the same tenure after vs
    before the change date.

    Returns
    -------
    lifelines.CoxTimeVaryingFitter
        Use :func:`hazard_ratios` on it.
    """
    design = cox_design(episodes, list(covariates), reference=reference, per=per) if covariates \
        else pd.DataFrame(index=episodes.index)
    frame = episodes.loc[design.index, ["customer_id", "start", "stop", "event"]].copy()
    for e in exposures:
        if e in episodes.columns:
            frame[e] = episodes.loc[design.index, e].astype(int)
    frame = pd.concat([frame, design], axis=1).reset_index(drop=True)
    ctv = _fit_ctv(frame, penalizer=penalizer, alpha=alpha)
    ctv.design_sources_ = design.attrs.get("sources", {})
    return ctv


def acquired_before_after(df: pd.DataFrame, *, change_date, window: float | None = None,
                          censor_at_change: bool = True) -> pd.DataFrame:
    """Customers acquired in the ``window`` before vs after the change, for KM comparison.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`durations`.
    window : float, optional
        Length (in the durations' unit) of each acquisition window; defaults to the time from
        the change to the censoring date, so both groups can be followed equally long.
    censor_at_change : bool
        Censor the pre-change cohort at the change date, so its curve shows survival under
        the old regime only (the comparison is then old vs new regime at the same tenures).
        Both groups are also censored at ``window`` units of tenure.

    Returns
    -------
    DataFrame
        The selected rows with ``acquired`` ("before change" / "after change") and adjusted
        ``duration`` / ``event``.
    """
    unit = df.attrs.get("unit", "months")
    change_date = pd.Timestamp(change_date)
    censor = pd.Timestamp(df.attrs.get("censor_date", df["exit_date"].max()))
    if window is None:
        window = float(to_units(censor - change_date, unit))
    lo = change_date - pd.Timedelta(days=window * unit_days(unit))
    hi = change_date + pd.Timedelta(days=window * unit_days(unit))
    sel = df.loc[(df["start_date"] >= lo) & (df["start_date"] < hi) & (df["entry"] <= 0)].copy()
    before = sel["start_date"] < change_date
    sel["acquired"] = np.where(before, "before change", "after change")
    limit = np.full(len(sel), float(window))
    if censor_at_change:
        t_change = to_units(change_date - sel["start_date"], unit).to_numpy(float)
        limit = np.where(before, np.minimum(limit, t_change), limit)
    cut = sel["duration"].to_numpy(float) > limit
    sel["event"] = np.where(cut, 0, sel["event"].to_numpy(int))
    sel["duration"] = np.minimum(sel["duration"].to_numpy(float), limit)
    sel.attrs.update(df.attrs)
    sel.attrs["window"] = window
    return sel


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
        Cohorts with fewer observed periods are skipped.

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
        if len(row) - 1 < min_periods or row[-1] == row[0] and row[0] == 0:
            continue
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
