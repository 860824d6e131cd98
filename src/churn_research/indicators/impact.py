"""Did churn change after a business change? Before/after, interrupted time series, control chart.

Every method works on a period churn table (:func:`churn_research.indicators.churn_table`, or a
:class:`~churn_research.ChurnData` from which a monthly one is built): ``numerator`` customers
lost out of ``denominator`` customers who could have been lost, per period. Periods cut short by
the observation window (``partial``) are left out, and so is the period that *contains* the
event date when the event falls inside it (its churn mixes both regimes); periods starting on or
after the event are "after".

- :func:`before_after`: pooled churn before vs after with Wilson intervals, their difference
  (Newcombe interval) and ratio (log interval), and a score test. Pooling periods treats every
  customer-period as one binomial trial, which is the likelihood of a discrete-time hazard
  model; a ``dispersion`` factor (Pearson, from the periods' spread around each side's rate)
  widens the ratio's interval when the periods vary more than binomially.
- :class:`InterruptedTimeSeries`: segmented binomial regression of the period counts with a
  pre-trend, a level change and a slope change, and the counterfactual (pre-trend continued).
  The default **complementary log-log** link makes the coefficients log hazard ratios: with a
  hazard ``lambda`` constant within a period of length ``d``, ``P(churn) = 1 - exp(-lambda d)``,
  so ``cloglog(P) = log(lambda) + log(d)`` (``log(d)`` enters as an offset, which also absorbs
  the unequal lengths of calendar months). ``exp(level_change)`` is then the hazard ratio of the
  change, comparable with a Cox model's and with the synthetic generator's ``change`` effect.
  ``link="logit"`` gives log odds ratios instead (close to log hazard ratios when churn per
  period is small). Overdispersion is handled quasi-binomially (scale = Pearson chi2 / df,
  never below 1).
- :class:`ControlChart`: a p-chart of period churn with limits from a Phase I baseline (the
  periods before the event), or Laney's p'-chart when the baseline is overdispersed. Large
  customer bases make plain p-chart limits very narrow, so ordinary period-to-period variation
  (seasonality, mix) would signal constantly; Laney's p' widens the limits by ``sigma_z``, the
  moving-range estimate of the spread of the standardised rates. Points beyond the limits are
  the early-warning signal "churn is abnormal now".
- :func:`diff_in_diff`: with a segment that was not exposed to the change, a two-way
  fixed-effects binomial model (period and segment effects) whose interaction is the
  change's effect relative to the control segment.
- :func:`verdict`: a plain-language conclusion from the fitted results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from churn_research.i18n import _, label, t
from churn_research.indicators.churn import churn_table
from churn_research.model import ChurnData
from churn_research.stats import wilson_ci
from churn_research.wording import sentences

__all__ = [
    "prepare_series",
    "SEASONALITY",
    "seasonal_test",
    "SeasonalRule",
    "seasonal_rule",
    "seasonal_centre",
    "BeforeAfter",
    "before_after",
    "InterruptedTimeSeries",
    "ControlChart",
    "control_chart",
    "diff_in_diff",
    "verdict",
]


# ------------------------------------------------------------------------------------------
def _as_table(obj, *, freq: str = "M", by=None) -> pd.DataFrame:
    if isinstance(obj, ChurnData):
        return churn_table(obj, freq=freq, by=by)
    if not isinstance(obj, pd.DataFrame):
        raise TypeError(f"expected a churn table (DataFrame) or ChurnData, got {type(obj).__name__}.")
    return obj


def _event(obj, event_date) -> pd.Timestamp:
    if event_date is None and isinstance(obj, ChurnData):
        event_date = obj.event_date
    if event_date is None:
        raise ValueError("no event date: pass event_date=... (the data have no events table).")
    return pd.Timestamp(event_date)


def prepare_series(table: pd.DataFrame, *, event_date, numerator: str = "numerator",
                   denominator: str = "denominator", keep_partial: bool = False) -> pd.DataFrame:
    """The periods a change-impact method uses, with their phase.

    Adds ``t`` (period index from 0, kept for dropped periods so time stays evenly spaced),
    ``phase`` (``"before"``, ``"after"``, ``"transition"`` for the period containing a mid-period
    event, ``"partial"`` for periods cut by the window), ``used`` (before/after), ``k`` / ``n``
    (the counts) and ``rate``.
    """
    need = ["period", "period_start", "period_end", numerator, denominator]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"the churn table lacks column(s) {missing}; build it with "
                         "indicators.churn_table.")
    if table["period"].duplicated().any():
        raise ValueError("one row per period is needed: filter the churn table to one segment "
                         "(or build it without `by`).")
    ev = pd.Timestamp(event_date)
    out = table.sort_values("period_start").reset_index(drop=True).copy()
    out["t"] = np.arange(len(out))
    starts = pd.to_datetime(out["period_start"])
    ends = pd.to_datetime(out["period_end"])
    phase = np.where(starts >= ev, "after", np.where(ends < ev, "before", "transition"))
    if "partial" in out and not keep_partial:
        phase = np.where(out["partial"].astype(bool) & (phase != "transition"), "partial", phase)
    out["phase"] = phase
    out["k"] = out[numerator].astype(float)
    out["n"] = out[denominator].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(out["n"] > 0, out["k"] / out["n"], np.nan)
    out["used"] = np.isin(out["phase"], ["before", "after"]) & (out["n"] > 0)
    return out


# ------------------------------------------------------------------------------------------
# seasonality (month of year)
# ------------------------------------------------------------------------------------------
SEASONALITY = ("auto", "none", "month")
#: ``seasonality="auto"`` tests month-of-year terms only with at least this many complete
#: monthly periods before the change (two full years: each calendar month seen at least twice).
MIN_SEASONAL_BASELINE = 24


def _check_seasonality(value: str) -> str:
    if value not in SEASONALITY:
        raise ValueError(f"seasonality must be 'auto', 'none' or 'month', not {value!r}.")
    return value


def _is_monthly(s: pd.DataFrame) -> bool:
    """Whether the periods are calendar months (28-31 days each)."""
    days = (s["days"] if "days" in s else
            (pd.to_datetime(s["period_end"]) - pd.to_datetime(s["period_start"])).dt.days + 1)
    return bool(len(days)) and bool(((days >= 28) & (days <= 31)).all())


def _month_dummies(s: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Month-of-year indicator columns for every period, one per calendar month seen in the
    ``rows`` used, the first seen month being the reference."""
    month = pd.to_datetime(s["period_start"]).dt.month.to_numpy()
    seen = sorted(set(month[rows]))
    return np.column_stack([(month == m).astype(float) for m in seen[1:]]) if len(seen) > 1 \
        else np.zeros((len(s), 0))


def seasonal_test(endog: np.ndarray, X0: np.ndarray, X1: np.ndarray, *, offset=None,
                  link: str = "cloglog") -> dict[str, float]:
    """Quasi-likelihood F test of a binomial GLM with month terms (``X1``) against one without
    (``X0``, nested): ``F = (D0 - D1) / (q * phi)`` with ``q`` added terms and ``phi = max(1,
    Pearson chi2 / df)`` of the larger model, on ``(q, df)`` degrees of freedom. With ``phi = 1``
    it is the likelihood-ratio test divided by ``q``; ``phi`` keeps ordinary overdispersion from
    passing for a seasonal pattern."""
    fam = sm.families.Binomial(link=_link(link))
    off = np.zeros(len(endog)) if offset is None else offset
    r0 = sm.GLM(endog, X0, family=fam, offset=off).fit()
    r1 = sm.GLM(endog, X1, family=fam, offset=off).fit()
    q = X1.shape[1] - X0.shape[1]
    df = float(r1.df_resid)
    phi = max(1.0, float(r1.pearson_chi2 / df)) if df > 0 else 1.0
    f = max(0.0, float(r0.deviance - r1.deviance)) / (q * phi) if q > 0 else 0.0
    p = float(stats.f.sf(f, q, df)) if q > 0 and df > 0 else 1.0
    return {"statistic": f, "df": q, "df_resid": df, "dispersion": phi, "p_value": p,
            "aic_without": float(r0.aic), "aic_with": float(r1.aic)}


def _seasonal_reason(choice: str, *, use: bool, test: dict | None, n_before: int,
                     monthly: bool) -> str:
    """Why month-of-year terms were (not) used, in the report language."""
    if choice == "none":
        return _("none (seasonality = none)")
    if choice == "month":
        return _("month-of-year terms, by choice (seasonality = month)")
    if not monthly:
        return _("none, the periods are not calendar months")
    if test is None:
        return t("none, {n} complete months before the change are fewer than the {need} (two "
                 "years) needed to test month-of-year terms", n=n_before,
                 need=MIN_SEASONAL_BASELINE)
    values = {"f": f"{test['statistic']:.2f}", "df": test["df"], "p": f"{test['p_value']:.3g}"}
    return (t("month-of-year terms, which improve the fit (F = {f} on {df} df, p = {p})", **values)
            if use else
            t("none, month-of-year terms do not improve the fit (F = {f} on {df} df, p = {p})",
              **values))


@dataclass
class SeasonalRule:
    """Whether a seasonal (calendar-month) baseline is used, and why (:func:`seasonal_rule`)."""

    use: bool
    test: dict | None
    reason: str
    month: np.ndarray   # calendar month of every period


def seasonal_rule(s: pd.DataFrame, base, *, seasonality: str = "none",
                  alpha: float = 0.05) -> SeasonalRule:
    """The seasonal-baseline rule shared by :class:`ControlChart` and :func:`before_after`.

    ``s`` is a :func:`prepare_series` frame and ``base`` a boolean mask of its baseline periods.
    ``"month"`` always uses a baseline rate per calendar month (calendar-month periods only);
    ``"auto"`` uses it when the periods are calendar months, the baseline has at least
    ``MIN_SEASONAL_BASELINE`` (24) periods and month-of-year terms improve a binomial (logit)
    fit of the baseline (:func:`seasonal_test`, p < ``alpha``); ``"none"`` never.
    """
    choice = _check_seasonality(seasonality)
    base = np.asarray(base, bool)
    k, n = s["k"].to_numpy(float), s["n"].to_numpy(float)
    monthly, n_base = _is_monthly(s), int(base.sum())
    month = pd.to_datetime(s["period_start"]).dt.month.to_numpy()
    test, use = None, choice == "month"
    if choice == "month" and not monthly:
        raise ValueError("seasonality='month' needs calendar-month periods (freq='M').")
    if choice == "auto" and monthly and n_base >= MIN_SEASONAL_BASELINE:
        dm = _month_dummies(s, base)
        if dm.shape[1]:
            one = np.ones((n_base, 1))
            test = seasonal_test(np.column_stack([k[base], n[base] - k[base]]), one,
                                 np.column_stack([one, dm[base]]), link="logit")
            use = test["p_value"] < alpha
    return SeasonalRule(use=bool(use), test=test, month=month,
                        reason=_seasonal_reason(choice, use=use, test=test, n_before=n_base,
                                                monthly=monthly))


def seasonal_centre(k: np.ndarray, n: np.ndarray, base: np.ndarray, month: np.ndarray, *,
                    use: bool) -> np.ndarray:
    """The expected rate of every period from the baseline periods ``base``: the pooled baseline
    rate, or with ``use`` the pooled baseline rate of the period's calendar month (the overall
    one for a month the baseline lacks)."""
    pbar = k[base].sum() / n[base].sum()
    centre = np.full(len(k), pbar)
    if use:
        for m in np.unique(month):
            sel = base & (month == m)
            if n[sel].sum() > 0:
                centre[month == m] = k[sel].sum() / n[sel].sum()
    return centre


# ------------------------------------------------------------------------------------------
# before / after
# ------------------------------------------------------------------------------------------
@dataclass
class BeforeAfter:
    """Result of :func:`before_after`.

    ``table``: rows ``before`` / ``after`` with ``periods``, ``churned``, ``at_risk``
    (customer-periods), ``churn_rate``, ``ci_low``, ``ci_high``. The comparison is
    after - before (difference) and after / before (ratio).
    """

    table: pd.DataFrame
    difference: float
    difference_ci: tuple[float, float]
    ratio: float
    ratio_ci: tuple[float, float]
    ratio_ci_adjusted: tuple[float, float]
    dispersion: float
    statistic: float
    p_value: float
    test: str
    event_date: pd.Timestamp
    alpha: float = 0.05
    seasonal: bool = False
    seasonality_reason: str | None = None

    def key_figures(self) -> dict[str, Any]:
        """Flat key figures."""
        b, a = self.table.loc["before"], self.table.loc["after"]
        return {
            "event_date": self.event_date, "rate_before": b["churn_rate"],
            "rate_before_ci_low": b["ci_low"], "rate_before_ci_high": b["ci_high"],
            "rate_after": a["churn_rate"], "rate_after_ci_low": a["ci_low"],
            "rate_after_ci_high": a["ci_high"], "difference": self.difference,
            "difference_ci_low": self.difference_ci[0], "difference_ci_high": self.difference_ci[1],
            "ratio": self.ratio, "ratio_ci_low": self.ratio_ci[0], "ratio_ci_high": self.ratio_ci[1],
            "ratio_ci_adjusted_low": self.ratio_ci_adjusted[0],
            "ratio_ci_adjusted_high": self.ratio_ci_adjusted[1],
            "dispersion": self.dispersion, "p_value": self.p_value, "test": self.test,
        }


def before_after(table, *, event_date=None, periods: int | None = None, freq: str = "M",
                 numerator: str = "numerator", denominator: str = "denominator",
                 alpha: float = 0.05, seasonality: str = "none",
                 seasonal_alpha: float = 0.05) -> BeforeAfter:
    """Churn before vs after an event date, with intervals, difference, ratio and a test.

    Parameters
    ----------
    table : DataFrame or ChurnData
        A one-segment churn table (or data, from which a ``freq`` table is built).
    event_date : date-like, optional
        Default: the first date of ``data.events``.
    periods : int, optional
        Use at most this many periods on each side, the closest to the event (default: all).
    numerator, denominator : str
        Count columns of the table (default: those behind its ``churn_rate``).

    Returns
    -------
    BeforeAfter
        Wilson intervals per side; the difference with Newcombe's hybrid score interval and the
        ratio with a log interval (``statsmodels confint_proportions_2indep``); a score test of
        equal rates (``test_proportions_2indep``). ``ratio_ci_adjusted`` widens the ratio's
        log interval by ``sqrt(dispersion)``, the Pearson overdispersion of the periods around
        their side's pooled rate (1 if not overdispersed).

        With ``seasonality`` (the control chart's rule, :func:`seasonal_rule`, the before
        periods as baseline) calling for a seasonal baseline, "before" is the before periods'
        rate of each calendar month (:func:`seasonal_centre`) applied to the after periods'
        customer-periods (indirect standardisation: the expected count ``E``), so a comparison
        of a December-heavy after window with a year-round before is not read as a change.
        The ratio is then observed / expected after, the difference ``(O - E) / n_after``, with
        Wald intervals on ``var(O) + var(E)`` and a z test; ``seasonal`` says whether it was.
    """
    ev = _event(table, event_date)
    s = prepare_series(_as_table(table, freq=freq), event_date=ev, numerator=numerator,
                       denominator=denominator)
    s = s[s["used"]]
    before, after = s[s["phase"] == "before"], s[s["phase"] == "after"]
    if periods is not None:
        before, after = before.tail(int(periods)), after.head(int(periods))
    if before.empty or after.empty:
        raise ValueError("before/after needs complete periods on both sides of the event "
                         f"({ev.date()}).")
    both = pd.concat([before, after])
    rule = seasonal_rule(both, (both["phase"] == "before").to_numpy(), seasonality=seasonality,
                         alpha=seasonal_alpha)
    if rule.use:
        return _seasonal_before_after(both, rule, event_date=ev, alpha=alpha)
    rows = {}
    for name, part in (("before", before), ("after", after)):
        k, n = part["k"].sum(), part["n"].sum()
        lo, hi = wilson_ci(k, n, alpha=alpha)
        rows[name] = {"periods": len(part), "first": part["period"].iloc[0],
                      "last": part["period"].iloc[-1], "churned": int(k), "at_risk": int(n),
                      "churn_rate": k / n, "ci_low": float(lo), "ci_high": float(hi)}
    tab = pd.DataFrame.from_dict(rows, orient="index")
    k1, n1 = rows["after"]["churned"], rows["after"]["at_risk"]
    k0, n0 = rows["before"]["churned"], rows["before"]["at_risk"]
    d_lo, d_hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff",
                                            alpha=alpha)
    r_lo, r_hi = confint_proportions_2indep(k1, n1, k0, n0, method="log", compare="ratio",
                                            alpha=alpha)
    res = test_proportions_2indep(k1, n1, k0, n0, method="score", compare="diff")
    # Pearson dispersion of the periods around each side's pooled rate
    x2, df = 0.0, 0
    for part in (before, after):
        p = part["k"].sum() / part["n"].sum()
        if 0 < p < 1 and len(part) > 1:
            x2 += float((((part["k"] - part["n"] * p) ** 2) / (part["n"] * p * (1 - p))).sum())
            df += len(part) - 1
    phi = max(1.0, x2 / df) if df > 0 else 1.0
    ratio = (k1 / n1) / (k0 / n0)
    z = stats.norm.ppf(1 - alpha / 2)
    se = math.sqrt(max(1 / k1 - 1 / n1 + 1 / k0 - 1 / n0, 0)) if k1 and k0 else float("nan")
    adj = (ratio * math.exp(-z * se * math.sqrt(phi)), ratio * math.exp(z * se * math.sqrt(phi)))
    return BeforeAfter(table=tab, difference=k1 / n1 - k0 / n0, difference_ci=(float(d_lo), float(d_hi)),
                       ratio=float(ratio), ratio_ci=(float(r_lo), float(r_hi)),
                       ratio_ci_adjusted=(float(adj[0]), float(adj[1])), dispersion=float(phi),
                       statistic=float(res.statistic), p_value=float(res.pvalue),
                       test="score test of equal proportions (two-sided)", event_date=ev,
                       alpha=alpha, seasonality_reason=rule.reason)


def _seasonal_before_after(both: pd.DataFrame, rule: SeasonalRule, *, event_date,
                           alpha: float) -> BeforeAfter:
    """:func:`before_after` against the seasonal baseline (its docstring)."""
    k, n = both["k"].to_numpy(float), both["n"].to_numpy(float)
    pre = (both["phase"] == "before").to_numpy()
    centre = seasonal_centre(k, n, pre, rule.month, use=True)
    post = ~pre
    obs, n1 = k[post].sum(), n[post].sum()
    exp_n = float((n[post] * centre[post]).sum())
    # var(exp_n): the before rate of each calendar month is a binomial estimate
    var_e = 0.0
    for m in np.unique(rule.month[post]):
        sel_b, sel_a = pre & (rule.month == m), post & (rule.month == m)
        nb = n[sel_b].sum()
        if nb == 0:   # a month the before lacks: the overall before rate stands in
            sel_b, nb = pre, n[pre].sum()
        p0 = k[sel_b].sum() / nb
        var_e += n[sel_a].sum() ** 2 * p0 * (1 - p0) / nb
    p1 = obs / n1
    var_o = n1 * p1 * (1 - p1)
    z = stats.norm.ppf(1 - alpha / 2)
    diff, se_d = (obs - exp_n) / n1, math.sqrt(var_o + var_e) / n1
    se_lr = math.sqrt(var_o / obs ** 2 + var_e / exp_n ** 2) if obs > 0 and exp_n > 0 else float("nan")
    ratio = obs / exp_n if exp_n > 0 else float("nan")
    ratio_ci = (ratio * math.exp(-z * se_lr), ratio * math.exp(z * se_lr))
    # Pearson dispersion of the periods around their expected rate (each side's month rates)
    x2, df = 0.0, 0
    for side in (pre, post):
        exp_ = seasonal_centre(k, n, side, rule.month, use=True)[side]
        ok = (exp_ > 0) & (exp_ < 1)
        x2 += float((((k[side] - n[side] * exp_) ** 2 / (n[side] * exp_ * (1 - exp_)))[ok]).sum())
        df += int(ok.sum()) - len(np.unique(rule.month[side]))
    phi = max(1.0, x2 / df) if df > 0 else 1.0
    adj = (ratio * math.exp(-z * se_lr * math.sqrt(phi)), ratio * math.exp(z * se_lr * math.sqrt(phi)))
    before, after = both[pre], both[post]
    kb, nb_all = before["k"].sum(), before["n"].sum()
    lo1, hi1 = wilson_ci(obs, n1, alpha=alpha)
    rows = {"before": {"periods": len(before), "first": before["period"].iloc[0],
                       "last": before["period"].iloc[-1], "churned": int(kb), "at_risk": int(nb_all),
                       "churn_rate": exp_n / n1, "ci_low": (exp_n - z * math.sqrt(var_e)) / n1,
                       "ci_high": (exp_n + z * math.sqrt(var_e)) / n1},
            "after": {"periods": len(after), "first": after["period"].iloc[0],
                      "last": after["period"].iloc[-1], "churned": int(obs), "at_risk": int(n1),
                      "churn_rate": p1, "ci_low": float(lo1), "ci_high": float(hi1)}}
    zstat = diff / se_d if se_d > 0 else float("nan")
    return BeforeAfter(table=pd.DataFrame.from_dict(rows, orient="index"), difference=float(diff),
                       difference_ci=(diff - z * se_d, diff + z * se_d), ratio=float(ratio),
                       ratio_ci=(float(ratio_ci[0]), float(ratio_ci[1])),
                       ratio_ci_adjusted=(float(adj[0]), float(adj[1])), dispersion=float(phi),
                       statistic=float(zstat), p_value=float(2 * stats.norm.sf(abs(zstat))),
                       test="z test of observed vs seasonally expected (two-sided)",
                       event_date=event_date, alpha=alpha, seasonal=True,
                       seasonality_reason=rule.reason)


# ------------------------------------------------------------------------------------------
# interrupted time series
# ------------------------------------------------------------------------------------------
def _link(name: str):
    links = {"cloglog": sm.families.links.CLogLog(), "logit": sm.families.links.Logit()}
    if name not in links:
        raise ValueError(f"link must be 'cloglog' or 'logit', not {name!r}.")
    return links[name]


class InterruptedTimeSeries:
    """Segmented binomial regression of period churn around a business change.

    ``g(P_t) = b0 + b1 t + b2 post_t + b3 (t - t0) post_t [+ log(days_t / d)]``

    with ``t`` the period index, ``t0`` the first period after the event, ``post_t = 1[t >= t0]``
    and ``g`` the cloglog (default: coefficients are log hazard ratios, see the module docstring)
    or logit link. ``b1`` is the pre-trend per period, ``b2`` the level change (the jump at the
    change relative to the continued pre-trend) and ``b3`` the slope change per period. The
    counterfactual is ``b0 + b1 t``: churn had the pre-change trend continued.

    Parameters
    ----------
    link : {"cloglog", "logit"}, default "cloglog"
    overdispersion : {"auto", "none"}, default "auto"
        ``"auto"``: quasi-binomial standard errors with scale ``max(1, Pearson chi2 / df)``.
    alpha : float, default 0.05
    seasonality : {"none", "auto", "month"}, default "none"
        ``"month"`` adds month-of-year terms (11 indicators for calendar-month periods, January
        or the first month seen as reference), so a recurring December dip is part of the
        baseline and not read as a change effect; the counterfactual keeps them. ``"auto"``
        adds them when the periods are calendar months, at least ``MIN_SEASONAL_BASELINE`` (24)
        complete months precede the change and they improve the fit (:func:`seasonal_test`,
        quasi-likelihood F test, p < ``seasonal_alpha``).
    seasonal_alpha : float, default 0.05

    Attributes
    ----------
    seasonal_, seasonality_test_, seasonality_reason_ : bool, dict or None, str
        Whether month terms were used, the F test (``auto`` only) and why, in words.
    seasonal_ratios_ : Series or None
        ``exp`` of the month terms (hazard or odds ratio of each calendar month against the
        reference month), when used.
    result_ : statsmodels GLMResults
    params_ : DataFrame
        ``term`` (intercept, pre_trend, level_change, slope_change), ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``p_value`` on the link scale, and ``ratio`` / ``ratio_ci_low``
        / ``ratio_ci_high`` (exp of them: hazard ratios for cloglog, odds ratios for logit).
    level_change_, level_change_ci_, slope_change_, slope_change_ci_ : float, tuple
    hazard_ratio_, hazard_ratio_ci_ : float, tuple
        ``exp(level_change)`` and its interval (odds ratio for the logit link).
    dispersion_ : float
        Pearson chi2 / df of the binomial fit (the scale used is ``max(1, dispersion_)``).
    series_ : DataFrame
        Every period with ``phase``, ``used``, observed ``rate``, ``fitted``, ``counterfactual``
        with ``cf_ci_low`` / ``cf_ci_high`` (after the event) and Wilson bounds of the rate.
    excess_churned_, excess_churned_ci_ : float, tuple
        Customers lost after the change beyond the counterfactual (sum over the used after
        periods of ``n_t (fitted_t - counterfactual_t)``; delta-method interval).
    event_date_, event_period_ : Timestamp, str
    """

    def __init__(self, *, link: str = "cloglog", overdispersion: str = "auto", alpha: float = 0.05,
                 seasonality: str = "none", seasonal_alpha: float = 0.05):
        self.link = link
        self.overdispersion = overdispersion
        self.alpha = alpha
        self.seasonality = seasonality
        self.seasonal_alpha = seasonal_alpha

    def fit(self, table, *, event_date=None, freq: str = "M", numerator: str = "numerator",
            denominator: str = "denominator") -> InterruptedTimeSeries:
        """Fit to a one-segment churn table (or data; a ``freq`` table is built)."""
        if self.overdispersion not in ("auto", "none"):
            raise ValueError("overdispersion must be 'auto' or 'none'.")
        link = _link(self.link)
        ev = _event(table, event_date)
        s = prepare_series(_as_table(table, freq=freq), event_date=ev, numerator=numerator,
                           denominator=denominator)
        after = s.loc[s["phase"] == "after", "t"]
        before = s.loc[s["used"] & (s["phase"] == "before")]
        if after.empty or len(before) < 3 or (s["used"] & (s["phase"] == "after")).sum() < 2:
            raise ValueError(f"the interrupted time series needs at least 3 complete periods "
                             f"before and 2 after the event ({ev.date()}).")
        t0 = int(after.iloc[0])
        post = (s["t"] >= t0).astype(float).to_numpy()
        X = np.column_stack([np.ones(len(s)), s["t"].to_numpy(float), post,
                             (s["t"].to_numpy(float) - t0) * post])
        if self.link == "cloglog" and "days" in s:
            ref = float(np.median(s["days"]))
            offset = np.log(s["days"].to_numpy(float) / ref)
        else:
            offset = np.zeros(len(s))
        u = s["used"].to_numpy()
        k, n = s["k"].to_numpy(float), s["n"].to_numpy(float)
        endog = np.column_stack([k[u], n[u] - k[u]])
        # month-of-year terms (seasonality): added after the four ITS terms
        choice = _check_seasonality(self.seasonality)
        monthly, n_pre = _is_monthly(s), int(len(before))
        test, use = None, choice == "month"
        if choice == "month" and not monthly:
            raise ValueError("seasonality='month' needs calendar-month periods (freq='M').")
        months = _month_dummies(s, u) if monthly else np.zeros((len(s), 0))
        if choice == "auto" and monthly and n_pre >= MIN_SEASONAL_BASELINE and months.shape[1]:
            test = seasonal_test(endog, X[u], np.column_stack([X, months])[u], offset=offset[u],
                                 link=self.link)
            use = test["p_value"] < self.seasonal_alpha
        if use:
            X = np.column_stack([X, months])
        self.seasonal_ = bool(use)
        self.seasonality_test_ = test
        self.seasonality_reason_ = _seasonal_reason(choice, use=use, test=test, n_before=n_pre,
                                                    monthly=monthly)
        fam = sm.families.Binomial(link=link)
        model = sm.GLM(endog, X[u], family=fam, offset=offset[u])
        res0 = model.fit()
        disp = float(res0.pearson_chi2 / res0.df_resid) if res0.df_resid > 0 else 1.0
        scale = max(1.0, disp) if self.overdispersion == "auto" else 1.0
        res = model.fit(scale=scale)
        z = stats.norm.ppf(1 - self.alpha / 2)
        beta, cov = np.asarray(res.params), np.asarray(res.cov_params())
        se = np.sqrt(np.diag(cov))
        terms = ["intercept", "pre_trend", "level_change", "slope_change"]
        params = pd.DataFrame({"term": terms, "estimate": beta[:4], "se": se[:4],
                               "ci_low": beta[:4] - z * se[:4], "ci_high": beta[:4] + z * se[:4],
                               "p_value": 2 * stats.norm.sf(np.abs(beta[:4] / se[:4]))})
        params["ratio"] = np.exp(params["estimate"])
        params["ratio_ci_low"] = np.exp(params["ci_low"])
        params["ratio_ci_high"] = np.exp(params["ci_high"])
        # fitted and counterfactual for every period (offset of the period's own length)
        eta = X @ beta + offset
        Xcf = X.copy()
        Xcf[:, 2:4] = 0.0   # month terms (if any) stay: the counterfactual keeps the season
        eta_cf = Xcf @ beta + offset
        se_cf = np.sqrt(np.einsum("ij,jk,ik->i", Xcf, cov, Xcf))
        inv = link.inverse
        out = s.copy()
        lo, hi = wilson_ci(out["k"], out["n"], alpha=self.alpha)
        out["rate_ci_low"], out["rate_ci_high"] = lo, hi
        out["fitted"] = inv(eta)
        is_after = out["t"].to_numpy() >= t0
        out["counterfactual"] = np.where(is_after, inv(eta_cf), np.nan)
        out["cf_ci_low"] = np.where(is_after, inv(eta_cf - z * se_cf), np.nan)
        out["cf_ci_high"] = np.where(is_after, inv(eta_cf + z * se_cf), np.nan)
        # excess customers lost after the change (delta method)
        sel = is_after & u
        d_full = link.inverse_deriv(eta[sel])
        d_cf = link.inverse_deriv(eta_cf[sel])
        n_sel = n[sel]
        excess = float(np.sum(n_sel * (inv(eta[sel]) - inv(eta_cf[sel]))))
        grad = (n_sel * d_full) @ X[sel] - (n_sel * d_cf) @ Xcf[sel]
        ex_se = float(np.sqrt(grad @ cov @ grad))
        self.result_ = res
        self.params_ = params
        if use:
            month = pd.to_datetime(s["period_start"]).dt.month.to_numpy()
            seen = sorted(set(month[u]))
            self.seasonal_ratios_ = pd.Series([1.0, *np.exp(beta[4:])], index=seen, name="ratio")
        else:
            self.seasonal_ratios_ = None
        self.dispersion_ = disp
        self.scale_ = scale
        self.series_ = out
        get = params.set_index("term")
        self.level_change_ = float(get.loc["level_change", "estimate"])
        self.level_change_ci_ = (float(get.loc["level_change", "ci_low"]),
                                 float(get.loc["level_change", "ci_high"]))
        self.slope_change_ = float(get.loc["slope_change", "estimate"])
        self.slope_change_ci_ = (float(get.loc["slope_change", "ci_low"]),
                                 float(get.loc["slope_change", "ci_high"]))
        self.pre_trend_ = float(get.loc["pre_trend", "estimate"])
        self.hazard_ratio_ = math.exp(self.level_change_)
        self.hazard_ratio_ci_ = tuple(math.exp(v) for v in self.level_change_ci_)
        self.excess_churned_ = excess
        self.excess_churned_ci_ = (excess - z * ex_se, excess + z * ex_se)
        self.event_date_ = ev
        self.event_period_ = str(out.loc[out["t"] == t0, "period"].iloc[0])
        self.n_before_ = int((u & ~is_after).sum())
        self.n_after_ = int(sel.sum())
        return self

    def key_figures(self) -> dict[str, Any]:
        """Flat key figures (link scale and ratios)."""
        g = self.params_.set_index("term")
        out = {"link": self.link, "event_date": self.event_date_, "event_period": self.event_period_,
               "periods_before": self.n_before_, "periods_after": self.n_after_,
               "dispersion": self.dispersion_, "seasonality": self.seasonality,
               "seasonal": self.seasonal_}
        if self.seasonality_test_ is not None:
            out["seasonal_test_p_value"] = self.seasonality_test_["p_value"]
        for term in ("pre_trend", "level_change", "slope_change"):
            out[term] = g.loc[term, "estimate"]
            out[f"{term}_ci_low"] = g.loc[term, "ci_low"]
            out[f"{term}_ci_high"] = g.loc[term, "ci_high"]
            out[f"{term}_p_value"] = g.loc[term, "p_value"]
        out["level_ratio"] = self.hazard_ratio_
        out["level_ratio_ci_low"], out["level_ratio_ci_high"] = self.hazard_ratio_ci_
        out["excess_churned"] = self.excess_churned_
        out["excess_churned_ci_low"], out["excess_churned_ci_high"] = self.excess_churned_ci_
        return out


# ------------------------------------------------------------------------------------------
# control chart
# ------------------------------------------------------------------------------------------
class ControlChart:
    """p-chart (or Laney p'-chart) of period churn with limits from a Phase I baseline.

    Phase I: the baseline periods (those before ``baseline_end``, by default the event date)
    give the centre line ``p_bar = sum k / sum n`` and, per period, ``sigma_p = sqrt(p_bar (1 -
    p_bar) / n_t)``. Plain p-chart limits are ``p_bar +/- sigma * sigma_p``. Laney's p'-chart
    multiplies ``sigma_p`` by ``sigma_z``, the average moving range of the standardised rates
    ``z_t = (p_t - p_bar) / sigma_p`` over the baseline divided by 1.128. Baseline periods
    outside their limits are set aside and the limits recomputed (up to ``max_iter`` times), so a
    one-off spike in the baseline does not widen them. Phase II: every period is compared with
    the limits; ``signal`` is ``"high"`` above the upper limit (abnormal churn: the early
    warning), ``"low"`` below the lower one.

    Parameters
    ----------
    chart : {"auto", "p", "laney"}, default "auto"
        ``"auto"`` uses Laney's p' when the baseline is overdispersed (Pearson chi-square test of
        equal rates across baseline periods significant at ``dispersion_alpha``) and the plain
        p-chart otherwise.
    sigma : float, default 3
        Width of the limits in standard errors.
    dispersion_alpha : float, default 0.05
    max_iter : int, default 10
    seasonality : {"none", "auto", "month"}, default "none"
        ``"month"``: a seasonal baseline. The centre line of each period is the pooled baseline
        rate of its calendar month (the overall baseline rate for a month the baseline lacks)
        and the limits are built around it, so a December that is always low or high is
        not flagged. ``"auto"`` uses it when the periods are calendar months, the baseline
        has at least ``MIN_SEASONAL_BASELINE`` (24) periods and month-of-year terms improve a
        binomial fit of the baseline (:func:`seasonal_test`, p < ``seasonal_alpha``).
    seasonal_alpha : float, default 0.05

    Attributes
    ----------
    table_ : DataFrame
        ``period``, ``period_start``, ``phase`` (``baseline``; ``baseline (excluded)`` for
        baseline periods set aside as out of control; ``monitoring`` for periods after the
        baseline; ``history`` for earlier periods, drawn but neither used nor signalled;
        ``not charted`` for partial / empty periods), ``k``, ``n``, ``rate``,
        ``center``, ``lcl``, ``ucl``, ``signal``.
    chart_ : str
        ``"p"`` or ``"laney p'"``.
    center_, sigma_z_, dispersion_, dispersion_p_value_ : float
    flagged_ : list of str
        Periods above the upper limit (``"high"`` signals).
    reason_ : str
        Why this chart was used.
    """

    def __init__(self, *, chart: str = "auto", sigma: float = 3.0, dispersion_alpha: float = 0.05,
                 max_iter: int = 10, seasonality: str = "none", seasonal_alpha: float = 0.05):
        self.seasonality = seasonality
        self.seasonal_alpha = seasonal_alpha
        self.chart = chart
        self.sigma = sigma
        self.dispersion_alpha = dispersion_alpha
        self.max_iter = max_iter

    def fit(self, table, *, baseline_end=None, baseline_start=None,
            baseline_periods: int | None = 24, freq: str = "M", numerator: str = "numerator",
            denominator: str = "denominator") -> ControlChart:
        """Set the limits from the baseline and flag every period.

        Parameters
        ----------
        table : DataFrame or ChurnData
            A one-segment churn table (or data: a ``freq`` table is built).
        baseline_end : date-like, optional
            Phase I uses complete periods ending before this date (default: the event date).
        baseline_start : date-like, optional
            Ignore baseline periods starting before this date.
        baseline_periods : int or None, default 24
            Use at most the last ``baseline_periods`` complete periods before ``baseline_end``
            (a recent, stable baseline: the start of a dataset often carries transients, and
            20-25 subgroups is the usual Phase I size). ``None`` uses them all.
        """
        if self.chart not in ("auto", "p", "laney"):
            raise ValueError("chart must be 'auto', 'p' or 'laney'.")
        end = _event(table, baseline_end)
        s = prepare_series(_as_table(table, freq=freq), event_date=end, numerator=numerator,
                           denominator=denominator)
        if baseline_start is not None:
            early = pd.to_datetime(s["period_start"]) < pd.Timestamp(baseline_start)
            s.loc[early & (s["phase"] == "before"), "phase"] = "ignored"
        base = (s["phase"] == "before") & s["used"]
        if baseline_periods is not None and base.sum() > int(baseline_periods):
            first_kept = s.index[base][-int(baseline_periods)]
            s.loc[base & (s.index < first_kept), "phase"] = "ignored"
            base = (s["phase"] == "before") & s["used"]
        if base.sum() < 5:
            raise ValueError(f"the control chart needs at least 5 complete baseline periods before "
                             f"{end.date()} (found {int(base.sum())}).")
        k, n = s["k"].to_numpy(float), s["n"].to_numpy(float)
        keep = base.to_numpy().copy()
        # seasonal baseline: expected rate per calendar month from the baseline periods
        rule = seasonal_rule(s, keep, seasonality=self.seasonality, alpha=self.seasonal_alpha)
        use, month = rule.use, rule.month
        chart = self.chart
        for _iteration in range(self.max_iter):
            pbar = k[keep].sum() / n[keep].sum()
            centre = seasonal_centre(k, n, keep, month, use=use)
            sp = np.sqrt(centre * (1 - centre) / np.where(n > 0, n, np.nan))
            zt = (k / np.where(n > 0, n, np.nan) - centre) / sp
            # dispersion test on the retained baseline
            x2 = float(np.nansum(zt[keep] ** 2))
            df = int(keep.sum()) - (len(np.unique(month[keep])) if use else 1)
            disp_p = float(stats.chi2.sf(x2, df))
            zb = zt[keep]
            sigma_z = float(np.mean(np.abs(np.diff(zb))) / 1.128) if len(zb) > 1 else 1.0
            if self.chart == "auto":
                chart = "laney" if disp_p < self.dispersion_alpha else "p"
            width = self.sigma * sp * (sigma_z if chart == "laney" else 1.0)
            ucl, lcl = centre + width, np.maximum(centre - width, 0.0)
            rate = k / np.where(n > 0, n, np.nan)
            out = keep & ((rate > ucl) | (rate < lcl))
            if not out.any():
                break
            keep &= ~out
            if keep.sum() < 5:
                break
        rate = k / np.where(n > 0, n, np.nan)
        ph = s["phase"].to_numpy()
        phase = np.full(len(s), "not charted", dtype=object)
        phase[(ph == "ignored") & (n > 0)] = "history"
        phase[((ph == "after") | (ph == "transition")) & (n > 0)] = "monitoring"
        phase[base.to_numpy()] = "baseline (excluded)"
        phase[keep] = "baseline"
        signalled = np.isin(phase, ["baseline", "baseline (excluded)", "monitoring"])
        signal = np.where(signalled & (rate > ucl), "high",
                          np.where(signalled & (rate < lcl), "low", ""))
        tab = pd.DataFrame({"period": s["period"], "period_start": s["period_start"], "phase": phase,
                            "k": k, "n": n, "rate": rate, "center": centre, "lcl": lcl, "ucl": ucl,
                            "signal": signal})
        self.table_ = tab
        self.chart_ = "laney p'" if chart == "laney" else "p"
        self.center_ = float(pbar)
        self.seasonal_ = bool(use)
        self.seasonality_test_ = rule.test
        self.seasonality_reason_ = rule.reason
        self.sigma_z_ = sigma_z
        self.dispersion_ = x2 / df if df > 0 else float("nan")
        self.dispersion_p_value_ = disp_p
        self.baseline_end_ = end
        self.flagged_ = tab.loc[tab["signal"] == "high", "period"].tolist()
        self.flagged_low_ = tab.loc[tab["signal"] == "low", "period"].tolist()
        self.baseline_flagged_ = tab.loc[tab["phase"] == "baseline (excluded)", "period"].tolist()
        if self.chart == "auto":
            self.reason_ = (t("baseline overdispersed (Pearson chi2/df = {dispersion}, p = {p}): "
                              "Laney p' with sigma_z = {sigma_z}", dispersion=f"{self.dispersion_:.2f}",
                              p=f"{disp_p:.3g}", sigma_z=f"{sigma_z:.2f}")
                            if chart == "laney" else
                            t("baseline consistent with binomial variation (chi2/df = {dispersion}, "
                              "p = {p}): plain p-chart", dispersion=f"{self.dispersion_:.2f}",
                              p=f"{disp_p:.3g}"))
        else:
            self.reason_ = t("chart chosen by the caller ({chart})", chart=self.chart_)
        return self

    def key_figures(self) -> dict[str, Any]:
        """Flat key figures."""
        last = self.table_[~self.table_["phase"].isin(["not charted", "history"])].iloc[-1]
        return {"chart": self.chart_, "center": self.center_, "sigma_z": self.sigma_z_,
                "dispersion": self.dispersion_, "dispersion_p_value": self.dispersion_p_value_,
                "seasonality": self.seasonality, "seasonal": self.seasonal_,
                "baseline_end": self.baseline_end_, "flagged_periods": self.flagged_,
                "flagged_low_periods": self.flagged_low_,
                "baseline_periods_excluded": self.baseline_flagged_,
                "latest_period": last["period"], "latest_rate": last["rate"],
                "latest_ucl": last["ucl"], "latest_signal": last["signal"] or "none"}


def control_chart(table, *, baseline_end=None, chart: str = "auto", sigma: float = 3.0,
                  **options) -> ControlChart:
    """Fit a :class:`ControlChart` (``options`` go to :meth:`ControlChart.fit`)."""
    return ControlChart(chart=chart, sigma=sigma).fit(table, baseline_end=baseline_end, **options)


# ------------------------------------------------------------------------------------------
# difference in differences
# ------------------------------------------------------------------------------------------
def diff_in_diff(table: pd.DataFrame, *, segment: str, treated, control, event_date,
                 link: str = "cloglog", numerator: str = "numerator",
                 denominator: str = "denominator", alpha: float = 0.05) -> dict[str, Any]:
    """Difference in differences with an unexposed segment as control.

    Two-way fixed-effects binomial GLM on the churn table by ``segment``:
    ``g(P_st) = a_s + c_t + delta * treated_s * after_t [+ offset]`` (period effects ``c_t``
    absorb everything common to both segments, such as season or market). ``delta`` is the
    change's effect on the treated segment relative to the control (a log hazard ratio for
    the cloglog link); quasi-binomial scale as in :class:`InterruptedTimeSeries`. A pre-trend
    check fits ``treated x t`` on the before periods only: a small p-value warns that the
    segments were not on parallel paths before the change.

    Parameters
    ----------
    table : DataFrame
        ``churn_table(data, by=segment)``.
    segment : str
        The segment column.
    treated, control : value or list of values
        Levels exposed / not exposed to the change.

    Returns
    -------
    dict
        ``delta``, ``delta_ci_low``, ``delta_ci_high``, ``p_value``, ``ratio`` (exp(delta))
        with its interval, ``pretrend_p_value``, ``dispersion`` and the pooled before/after
        rates of each arm (``rate_treated_before`` ...).
    """
    ev = pd.Timestamp(event_date)
    tr = [treated] if np.isscalar(treated) else list(treated)
    co = [control] if np.isscalar(control) else list(control)
    if segment not in table.columns:
        raise ValueError(f"the churn table has no segment column '{segment}'.")
    parts = []
    for arm, levels in (("treated", tr), ("control", co)):
        sub = table[table[segment].isin(levels)]
        if sub.empty:
            raise ValueError(f"no rows for {arm} level(s) {levels} of '{segment}'.")
        agg = sub.groupby(["period", "period_start", "period_end"], as_index=False).agg(
            k=(numerator, "sum"), n=(denominator, "sum"),
            partial=("partial", "max"), days=("days", "max"))
        agg["arm"] = arm
        parts.append(agg)
    df = pd.concat(parts, ignore_index=True)
    df["phase"] = np.where(df["period_start"] >= ev, "after",
                           np.where(df["period_end"] < ev, "before", "transition"))
    df = df[(df["phase"] != "transition") & ~df["partial"].astype(bool) & (df["n"] > 0)]
    df = df.reset_index(drop=True)
    treated_ = (df["arm"] == "treated").astype(float)
    after_ = (df["phase"] == "after").astype(float)
    per = pd.get_dummies(df["period"], drop_first=True, dtype=float)
    X = np.column_stack([np.ones(len(df)), treated_, per.to_numpy(), treated_ * after_])
    offset = (np.log(df["days"].to_numpy(float) / float(np.median(df["days"])))
              if link == "cloglog" else np.zeros(len(df)))
    endog = np.column_stack([df["k"], df["n"] - df["k"]]).astype(float)
    model = sm.GLM(endog, X, family=sm.families.Binomial(link=_link(link)), offset=offset)
    r0 = model.fit()
    disp = float(r0.pearson_chi2 / r0.df_resid) if r0.df_resid > 0 else 1.0
    res = model.fit(scale=max(1.0, disp))
    z = stats.norm.ppf(1 - alpha / 2)
    b, se = float(res.params[-1]), float(res.bse[-1])
    # parallel pre-trends
    pre = df[df["phase"] == "before"].reset_index(drop=True)
    tpre = pd.factorize(pre["period"], sort=True)[0].astype(float)
    trp = (pre["arm"] == "treated").astype(float)
    per_pre = pd.get_dummies(pre["period"], drop_first=True, dtype=float).to_numpy()
    Xp = np.column_stack([np.ones(len(pre)), trp, per_pre, trp * tpre])
    off_p = (np.log(pre["days"].to_numpy(float) / float(np.median(df["days"])))
             if link == "cloglog" else np.zeros(len(pre)))
    rp = sm.GLM(np.column_stack([pre["k"], pre["n"] - pre["k"]]).astype(float), Xp,
                family=sm.families.Binomial(link=_link(link)), offset=off_p).fit()
    dp = max(1.0, float(rp.pearson_chi2 / rp.df_resid)) if rp.df_resid > 0 else 1.0
    rp = sm.GLM(np.column_stack([pre["k"], pre["n"] - pre["k"]]).astype(float), Xp,
                family=sm.families.Binomial(link=_link(link)), offset=off_p).fit(scale=dp)
    out = {"segment": segment, "treated": tr, "control": co, "link": link,
           "delta": b, "delta_ci_low": b - z * se, "delta_ci_high": b + z * se,
           "p_value": float(2 * stats.norm.sf(abs(b / se))), "ratio": math.exp(b),
           "ratio_ci_low": math.exp(b - z * se), "ratio_ci_high": math.exp(b + z * se),
           "pretrend_p_value": float(rp.pvalues[-1]), "dispersion": disp}
    for arm in ("treated", "control"):
        for ph in ("before", "after"):
            sub = df[(df["arm"] == arm) & (df["phase"] == ph)]
            out[f"rate_{arm}_{ph}"] = float(sub["k"].sum() / sub["n"].sum()) if len(sub) else float("nan")
    return out



# ------------------------------------------------------------------------------------------
# plain-language verdict
# ------------------------------------------------------------------------------------------
def _fmt_list(items: list[str], limit: int = 6) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return t("{items} and {n} more", items=", ".join(items[:limit]), n=len(items) - limit)


def verdict(*, its: InterruptedTimeSeries | None = None, before_after: BeforeAfter | None = None,
            chart: ControlChart | None = None, did: dict | None = None,
            unit: str = "month") -> str:
    """A plain-language verdict (Markdown) from the fitted change-impact results.

    "Worse" needs statistical support: the interval of the ITS level change (or slope change)
    above 0, or of the before/after ratio above 1. The control chart adds whether churn is
    abnormal *now* (the latest charted period above its upper limit). ``unit`` is the period's
    name (``FREQ_NAMES``), shown in the report language.
    """
    parts, worse, better = [], False, False
    event = None
    u = label(unit)
    if its is not None:
        event = its.event_date_
        hr, (lo, hi) = its.hazard_ratio_, its.hazard_ratio_ci_
        kind = _("hazard ratio") if its.link == "cloglog" else _("odds ratio")
        num = {"kind": kind, "hr": f"{hr:.2f}", "lo": f"{lo:.2f}", "hi": f"{hi:.2f}"}
        if lo > 1:
            worse = True
            parts.append(t("At the change, churn **jumped**: {kind} {hr} (95% CI {lo}–{hi}) "
                           "relative to the pre-change trend continued.", **num))
        elif hi < 1:
            better = True
            parts.append(t("At the change, churn **dropped**: {kind} {hr} (95% CI {lo}–{hi}).", **num))
        else:
            parts.append(t("No clear jump in churn at the change ({kind} {hr}, 95% CI {lo}–{hi}).", **num))
        s, (slo, shi) = its.slope_change_, its.slope_change_ci_
        pct = lambda v: f"{100 * (math.exp(v) - 1):+.1f}"  # noqa: E731
        slope = {"s": pct(s), "slo": pct(slo), "shi": pct(shi), "unit": u}
        if slo > 0:
            worse = True
            parts.append(t("Churn has also been **rising faster** since: {s}% per {unit} "
                           "(95% CI {slo}% to {shi}%).", **slope))
        elif shi < 0:
            parts.append(t("Since the change the trend bends downwards ({s}% per {unit}, "
                           "95% CI {slo}% to {shi}%), partly undoing the jump.", **slope))
        else:
            parts.append(t("The trend after the change is not clearly different ({s}% per "
                           "{unit}, 95% CI {slo}% to {shi}%).", **slope))
        ex, (elo, ehi) = its.excess_churned_, its.excess_churned_ci_
        parts.append(t("Compared with the pre-change trend, about **{ex}** extra customers "
                       "(95% CI {elo} to {ehi}) were lost over the {n} {unit}s after the change.",
                       ex=f"{ex:,.0f}", elo=f"{elo:,.0f}", ehi=f"{ehi:,.0f}", n=its.n_after_, unit=u))
    if before_after is not None:
        event = event or before_after.event_date
        tab = before_after.table
        r, (rlo, rhi) = before_after.ratio, before_after.ratio_ci_adjusted
        parts.append(t("Pooled churn per {unit} was {before} before and {after} after (ratio {r}, "
                       "95% CI {rlo}–{rhi}); this simple comparison ignores any trend.", unit=u,
                       before=f"{tab.loc['before', 'churn_rate']:.2%}",
                       after=f"{tab.loc['after', 'churn_rate']:.2%}", r=f"{r:.2f}",
                       rlo=f"{rlo:.2f}", rhi=f"{rhi:.2f}"))
        if its is None and rlo > 1:
            worse = True
    if did is not None:
        d, dlo, dhi = did["ratio"], did["ratio_ci_low"], did["ratio_ci_high"]
        parts.append(t("Against the unexposed control segment, the change multiplied churn by "
                       "{d} (95% CI {dlo}–{dhi}; pre-trend check p = {p}).", d=f"{d:.2f}",
                       dlo=f"{dlo:.2f}", dhi=f"{dhi:.2f}", p=f"{did['pretrend_p_value']:.2f}"))
    if chart is not None:
        mon = chart.table_[chart.table_["phase"] == "monitoring"]
        high = mon.loc[mon["signal"] == "high", "period"].tolist()
        last = chart.key_figures()
        counts = {"chart": chart.chart_, "n_base": int((chart.table_["phase"] == "baseline").sum()),
                  "n_high": len(high), "n_mon": len(mon), "unit": u}
        parts.append(t("The control chart ({chart}-chart, limits from {n_base} baseline {unit}s) "
                       "flags {n_high} of {n_mon} {unit}s after the baseline as abnormally high "
                       "({periods}).", periods=_fmt_list(high), **counts) if high else
                     t("The control chart ({chart}-chart, limits from {n_base} baseline {unit}s) "
                       "flags {n_high} of {n_mon} {unit}s after the baseline as abnormally high.",
                       **counts))
        latest = {"unit": u, "period": last["latest_period"], "rate": f"{last['latest_rate']:.2%}",
                  "ucl": f"{last['latest_ucl']:.2%}"}
        if last["latest_signal"] == "high":
            parts.append(t("**Early warning: churn is abnormal now** — the latest {unit} "
                           "({period}, {rate}) is above its upper limit ({ucl}).", **latest))
        else:
            parts.append(t("The latest {unit} ({period}, {rate}) is within its limits (upper {ucl}).",
                           **latest))
    date = str(pd.Timestamp(event).date()) if event is not None else None
    if worse:
        head = (t("**Verdict: churn got worse after the business change on {date}.**", date=date)
                if date else t("**Verdict: churn got worse after the business change.**"))
    elif better:
        head = (t("**Verdict: churn improved after the business change on {date}.**", date=date)
                if date else t("**Verdict: churn improved after the business change.**"))
    else:
        head = (t("**Verdict: no statistically clear change in churn after the business change on "
                  "{date}.**", date=date) if date else
                t("**Verdict: no statistically clear change in churn after the business change.**"))
    caveat = t("An interrupted time series credits the change with the jump only if nothing else "
               "changed at the same time; a segment that was not exposed (difference in "
               "differences) would make the attribution firmer.")
    # sentences follow each other with a space in English, without one in Chinese
    return sentences(head, *parts, caveat)
