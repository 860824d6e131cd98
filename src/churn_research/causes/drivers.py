"""The driver model: :class:`DriverModel`, a binomial GLM fitted with statsmodels. With dated data
it is a *discrete-time hazard model* on person-month rows with a complementary log-log link,
whose ``exp(coef)`` are hazard ratios; with a logit link the ratios are odds ratios. With a
one-snapshot dataset it is a logistic regression of "churned in the snapshot period" with
tenure as a driver. A VIF check warns about collinear drivers and exactly aliased terms are
dropped with a warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats
from scipy.linalg import qr
from statsmodels.genmod import families
from threadpoolctl import threadpool_limits

from churn_research.causes.frame import (
    ADJUSTMENTS,
    DEFAULT_SCALES,
    MISSING_AS_LEVEL,
    MONTH_DAYS,
    customer_frame,
    default_drivers,
    person_period,
    resolve_design,
)
from churn_research.causes.rates import _is_indicator, _is_numeric
from churn_research.i18n import t
from churn_research.model import ChurnData, ChurnDataError
from churn_research.stats import compare_with_truth as shared_compare
from churn_research.stats import reference_level
from churn_research.wording import join
from churn_research.wording.drivers import driver_label, level_label, term_label

# =============================================================================================
# the driver model
# =============================================================================================


def _design(design: str) -> str:
    """The design's name in a warning (``person-period`` / ``snapshot``; Chinese words)."""
    return {"person-period": t("person-period"), "snapshot": t("snapshot")}.get(design, design)


@dataclass
class _Term:
    term: str
    driver: str
    level: str | None
    reference: str | None
    kind: str  # "driver", "adjustment" (held fixed, not ranked: ADJUSTMENTS), "duration"


def _design_matrix(frame: pd.DataFrame, drivers: Sequence[str], *,
                   reference: Mapping[str, Any], scales: Mapping[str, tuple[float, str]],
                   min_level_count: int, duration: str | None,
                   duration_knots: Sequence[float]) -> tuple[pd.DataFrame, list[_Term], list[str]]:
    cols: dict[str, np.ndarray] = {}
    terms: list[_Term] = []
    notes: list[str] = []
    for d in drivers:
        s = frame[d]
        if _is_indicator(s):
            cols[d] = s.astype(float).to_numpy()
            terms.append(_Term(d, d, "yes", "no", "adjustment" if d in ADJUSTMENTS else "driver"))
        elif _is_numeric(s) and d in MISSING_AS_LEVEL and s.isna().any():
            div, name = scales.get(d, (1.0, d))
            v = s.astype(float) / div
            cols[f"{d}[missing]"] = v.isna().to_numpy(dtype=float)
            terms.append(_Term(f"{d}[missing]", d, "missing", "observed", "driver"))
            cols[name] = (v - v.mean()).fillna(0.0).to_numpy()
            terms.append(_Term(name, d, None, None, "driver"))
        elif _is_numeric(s):
            div, name = scales.get(d, (1.0, d))
            cols[name] = s.astype(float).to_numpy() / div
            terms.append(_Term(name, d, None, None, "driver"))
        else:
            lv = s.astype(str)
            counts = lv.value_counts()
            rare = counts.index[counts < min_level_count]
            if len(rare):
                lv = lv.where(~lv.isin(rare), "other")
                notes.append(t("{driver}: level(s) {levels} have fewer than {n} rows and were "
                               "merged into 'other'.", driver=driver_label(d),
                               levels=join(map(level_label, rare)), n=min_level_count))
            requested = reference.get(d)
            if requested is not None and str(requested) in set(map(str, rare)):
                # the level occurs but too rarely to compare with: merged into 'other' above
                notes.append(t("{driver}: the reference level {level} has fewer than {n} rows, so the "
                               "most frequent level is the reference instead.", driver=driver_label(d),
                               level=level_label(str(requested)), n=min_level_count))
                requested = None
            ref = reference_level(lv.value_counts(), requested, column=d)
            for level in sorted(lv.unique(), key=lambda x: (-counts.get(x, 0), str(x))):
                if level == ref:
                    continue
                name = f"{d}[{level}]"
                cols[name] = (lv == level).to_numpy(dtype=float)
                terms.append(_Term(name, d, str(level), str(ref), "driver"))
    if duration is not None and duration != "none":
        tenure = frame["tenure_months"].to_numpy(dtype=float)
        if duration == "log":
            cols["log_tenure"] = np.log(np.maximum(tenure, 1 / MONTH_DAYS))
            terms.append(_Term("log_tenure", "tenure", None, None, "duration"))
        elif duration == "bins":
            edges = [0.0, *sorted(duration_knots), np.inf]
            band = np.digitize(tenure, edges[1:-1])
            for b in range(1, len(edges) - 1):
                hi = "+" if np.isinf(edges[b + 1]) else f"-{edges[b + 1]:g}"
                name = f"tenure[{edges[b]:g}{hi} m]"
                cols[name] = (band == b).astype(float)
                terms.append(_Term(name, "tenure", f"{edges[b]:g}{hi} m",
                                   f"0-{edges[1]:g} m", "duration"))
        else:
            raise ValueError("duration must be 'log', 'bins' or 'none'")
    x = pd.DataFrame(cols, index=frame.index)
    x.insert(0, "const", 1.0)
    return x, terms, notes


@dataclass
class GLMFit:
    """A binomial GLM's estimates (:func:`fit_binomial_glm`), read like statsmodels' results:
    ``params``, ``bse``, ``pvalues`` (Series by term), :meth:`cov_params` (DataFrame)."""

    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    cov: pd.DataFrame
    deviance: float
    iterations: int
    converged: bool

    def cov_params(self) -> pd.DataFrame:
        return self.cov


def fit_binomial_glm(y: np.ndarray, x: pd.DataFrame, *, link, offset: np.ndarray | None = None,
                     maxiter: int = 100, tol: float = 1e-8) -> GLMFit:
    """statsmodels' ``GLM(y, x, family=Binomial(link), offset=offset).fit()`` (IRLS from the
    same start, the same working response and weights, stopped when the deviance changes by at
    most ``tol``; the covariance from the last iteration's weights, scale 1), with each
    weighted least-squares step solved from the p x p normal equations. statsmodels solves it
    on the n x p weighted design and ends with its pseudo-inverse: on a person-month frame of
    30,000 customers (~10^6 rows) that took ~1.4 GB and ~10 s; this takes the design and a
    few vectors. The estimates agree to the fit's tolerance (tested)."""
    family = families.Binomial(link=link)
    X = np.ascontiguousarray(x.to_numpy(dtype=float))
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    mu = family.starting_mu(y)
    eta = family.predict(mu)
    dev = [np.inf, family.deviance(y, mu)]
    beta = np.zeros(X.shape[1])
    converged = False

    def gram(w):
        return X.T @ (X * w[:, None])

    for _ in range(maxiter):
        w = family.weights(mu)
        z = eta + family.link.deriv(mu) * (y - mu) - off
        a = gram(w)
        try:
            beta = linalg.solve(a, X.T @ (w * z), assume_a="pos", check_finite=False)
        except (linalg.LinAlgError, ValueError):
            sw = np.sqrt(w)
            beta = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]
        eta = X @ beta + off
        mu = family.fitted(eta)
        dev.append(family.deviance(y, mu))
        if np.allclose(dev[-2], dev[-1], atol=tol, rtol=0.0):
            converged = True
            break
    cov = np.linalg.pinv(a)
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(beta / se))
    names = list(x.columns)
    return GLMFit(pd.Series(beta, index=names), pd.Series(se, index=names), pd.Series(p, index=names),
                  pd.DataFrame(cov, index=names, columns=names), float(dev[-1]), len(dev) - 2, converged)


def _aliased(x: pd.DataFrame, tol: float = 1e-8) -> list[str]:
    """Columns that are (numerically) linear combinations of earlier columns."""
    arr = x.to_numpy(dtype=float)
    scale = np.sqrt((arr**2).mean(axis=0))
    scale[scale == 0] = 1.0
    r = qr(arr / scale, mode="r", check_finite=False)[0]
    diag = np.abs(np.diag(r))
    return [c for c, d in zip(x.columns, diag, strict=True) if d < tol * max(diag.max(), 1.0)
            * math.sqrt(len(arr))]


def vif_table(x: pd.DataFrame) -> pd.DataFrame:
    """Variance inflation factor of every non-constant column of a design matrix.

    ``VIF_j = 1 / (1 - R_j^2)``, with ``R_j^2`` from regressing column *j* on the other columns
    and an intercept — the quantity :func:`statsmodels.stats.outliers_influence.
    variance_inflation_factor` computes (with a constant in ``exog``), obtained here at once as
    the diagonal of the inverse correlation matrix (fast on long person-period frames). An exact
    linear dependence gives ``inf``.
    """
    cols = [c for c in x.columns if c != "const" and x[c].std() > 0]
    arr = x[cols].to_numpy(dtype=float)
    corr = np.atleast_2d(np.corrcoef(arr, rowvar=False))
    try:
        vif = np.diag(np.linalg.inv(corr))
        if (vif < 1 - 1e-6).any() or not np.isfinite(vif).all():
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        vif = np.full(len(cols), np.inf)
    return pd.DataFrame({"term": cols, "vif": vif})


class DriverModel:
    """Which drivers move churn, by how much: a binomial GLM with ratios and 95% intervals.

    Parameters
    ----------
    drivers : sequence of str, optional
        Customer columns, plus on person-period data the time-varying ``complaint_90d``,
        ``change``, ``last_csat`` and ``campaign_contact`` (default: :func:`default_drivers`).
        ``campaign_contact`` (a retention campaign's contact, when the data have a campaigns
        table) is an adjustment: its term has kind ``"adjustment"``, held fixed but not ranked
        among the drivers.
    design : {"auto", "person-period", "snapshot"}
        ``person-period``: a discrete-time hazard model on person-month rows (with an offset for
        the exposed fraction of each month and a duration control). ``snapshot``: one row per
        customer, outcome "churned" (by the observation end, or within ``horizon_months``).
        ``auto``: snapshot for one-snapshot data (:func:`is_snapshot`), else person-period.
    link : {"auto", "cloglog", "logit"}
        ``cloglog`` gives hazard ratios (exact for grouped proportional-hazards data);
        ``logit`` gives odds ratios. ``auto``: cloglog for person-period, logit for a snapshot.
    reference : mapping, optional
        Reference level per categorical driver (default: a conventional baseline such as
        "female", "monthly", "month-to-month", "basic", "online", "consumer", "No" when present,
        else the most frequent level).
    scales : mapping, optional
        ``{column: (divisor, term name)}`` for numeric drivers (default ``DEFAULT_SCALES``:
        age per 10 years, tenure per year, charges per 10).
    duration : {"log", "bins", "none"}
        Duration control on person-period rows: ``log`` = log(tenure in months) (a Weibull
        baseline; its coefficient is the Weibull shape − 1); ``bins`` = a step function at
        ``duration_knots`` months.
    duration_knots : sequence of float
    horizon_months : int, optional
        Snapshot design only: see :func:`customer_frame`.
    study_start, change_date : date, optional
        See :func:`person_period`.
    min_level_count : int
        Rarer categorical levels are merged into "other".
    vif_threshold : float
        Terms with a VIF above it are reported in ``warnings_``.
    alpha : float

    Attributes
    ----------
    design_, link_ : str
    effects_ : DataFrame
        ``term, driver, level, reference, kind, coef, se, ratio, ci_low, ci_high, p_value``
        (kind: ``driver``, ``adjustment`` or ``duration``)
        (ratio = exp(coef): hazard ratio with cloglog, odds ratio with logit).
    driver_tests_ : DataFrame
        Joint Wald test per driver (all its levels): ``driver, df, chi2, p_value``.
    vif_ : DataFrame
        ``term, vif``.
    warnings_ : list of str
        Collinearity, aliased terms dropped, missing drivers, rows dropped for missing values.
    result_ : GLMFit
        The estimates (``params``, ``bse``, ``pvalues``, ``cov_params()``; statsmodels' GLM
        estimates, :func:`fit_binomial_glm`).
    frame_ : DataFrame
        The modelling rows (drivers as raw columns, ``event``, ``exposure``, ``tenure_months``).
    rows_ : DataFrame
        The rows before those with missing drivers are dropped (``fit(..., rows=)``).
    outcome_ : str
    drivers_ : list of str
        Drivers actually used.
    n_rows_, n_customers_, n_events_ : int
    """

    def __init__(self, *, drivers: Sequence[str] | None = None, design: str = "auto",
                 link: str = "auto", reference: Mapping[str, Any] | None = None,
                 scales: Mapping[str, tuple[float, str]] | None = None, duration: str = "log",
                 duration_knots: Sequence[float] = (3, 6, 12, 24, 36),
                 horizon_months: int | None = None, study_start=None, change_date=None,
                 min_level_count: int = 30, vif_threshold: float = 5.0, alpha: float = 0.05):
        self.drivers = drivers
        self.design = design
        self.link = link
        self.reference = reference
        self.scales = scales
        self.duration = duration
        self.duration_knots = duration_knots
        self.horizon_months = horizon_months
        self.study_start = study_start
        self.change_date = change_date
        self.min_level_count = min_level_count
        self.vif_threshold = vif_threshold
        self.alpha = alpha

    # -- fitting ---------------------------------------------------------------------------
    def _frame(self, data) -> tuple[pd.DataFrame, str]:
        if self.design_ == "person-period":
            if not isinstance(data, ChurnData):
                raise ChurnDataError("the person-period design needs a ChurnData (dates, "
                                     "tickets, events).", table="customers")
            pp = person_period(data, study_start=self.study_start, change_date=self.change_date)
            pp = pp[pp["exposure"] > 0]
            return pp, "event"
        frame = customer_frame(data, study_start=self.study_start,
                               horizon_months=self.horizon_months)
        frame = frame[frame["eligible"]].copy()
        frame["event"] = frame["outcome"].astype(np.int8)
        frame["exposure"] = 1.0
        return frame, "event"

    def fit(self, data: ChurnData | pd.DataFrame, *, rows: pd.DataFrame | None = None) -> DriverModel:
        """Fit the model; returns ``self``. ``rows``: the modelling rows (``rows_``) of a model
        fitted on the same data with the same design, study start and change date, reused
        instead of expanded again (the person-month frame of 30,000 customers takes seconds
        and hundreds of MB)."""
        self.design_ = resolve_design(data, self.design)
        link = self.link
        if link == "auto":
            link = "cloglog" if self.design_ == "person-period" else "logit"
        if link not in ("cloglog", "logit"):
            raise ValueError("link must be 'auto', 'cloglog' or 'logit'")
        self.link_ = link
        self.warnings_: list[str] = []
        frame, outcome = (rows, "event") if rows is not None else self._frame(data)
        self.rows_, self._data = frame, data
        drivers = list(self.drivers) if self.drivers is not None else default_drivers(
            data, design=self.design_)
        missing = [d for d in drivers if d not in frame]
        if missing:
            self.warnings_.append(
                t("driver(s) {drivers} are not available in the {design} data and were left "
                  "out.", drivers=join(map(driver_label, missing)), design=_design(self.design_)))
        drivers = [d for d in drivers if d in frame]
        if self.design_ == "person-period" and "tenure_months" in drivers:
            drivers.remove("tenure_months")
            self.warnings_.append(t("tenure is the time axis of the hazard model (duration "
                                    "control), not a driver."))
        constant = [d for d in drivers if frame[d].nunique(dropna=True) < 2]
        if constant:
            self.warnings_.append(t("driver(s) {drivers} take a single value and were left out.",
                                    drivers=join(map(driver_label, constant))))
            drivers = [d for d in drivers if d not in constant]
        if not drivers:
            raise ChurnDataError("none of the requested drivers is available.",
                                 table="customers", fix="pass drivers=[...] naming columns "
                                 "of the customers table.")
        na = frame[[d for d in drivers if d not in MISSING_AS_LEVEL]].isna().any(axis=1)
        if na.any():
            counts = frame.loc[na, [d for d in drivers if d not in MISSING_AS_LEVEL]].isna().sum()
            self.warnings_.append(
                t("{n} row(s) with missing values were dropped ({counts}).", n=int(na.sum()),
                  counts=join(f"{driver_label(k)}: {v:,}" for k, v in counts[counts > 0].items())))
            frame = frame.loc[~na]
        scales = dict(DEFAULT_SCALES, **(self.scales or {}))
        duration = self.duration if self.design_ == "person-period" else None
        x, terms, notes = _design_matrix(
            frame, drivers, reference=dict(self.reference or {}), scales=scales,
            min_level_count=self.min_level_count, duration=duration,
            duration_knots=self.duration_knots)
        self.warnings_ += notes
        with threadpool_limits(1, user_api="blas"):
            aliased = _aliased(x)
        if aliased:
            self.warnings_.append(
                t("term(s) {terms} are exact linear combinations of other terms (e.g. a 'No "
                  "internet service' level repeats internet service = No) and were dropped.",
                  terms=join(map(term_label, aliased))))
            x = x.drop(columns=aliased)
            terms = [tm for tm in terms if tm.term not in aliased]
        with threadpool_limits(1, user_api="blas"):
            self.vif_ = vif_table(x)
        high = self.vif_[self.vif_["vif"] > self.vif_threshold]
        if len(high):
            self.warnings_.append(
                t("collinear drivers (VIF > {vif}): {terms}; their separate effects are poorly "
                  "determined — interpret them together or drop one.",
                  vif=f"{self.vif_threshold:g}",
                  terms=join(f"{term_label(r.term)} ({r.vif:.1f})" for r in high.itertuples())))
        y = frame[outcome].to_numpy(dtype=float)
        link_obj = families.links.CLogLog() if link == "cloglog" else families.links.Logit()
        # log(row length) offset: exact for cloglog (grouped PH data); for logit it makes the
        # odds ratios approximate hazard ratios when monthly churn is small
        offset = np.log(frame["exposure"].to_numpy(dtype=float)) \
            if self.design_ == "person-period" else None
        # one BLAS thread: tall-skinny products gain nothing from threads, and on a shared
        # machine oversubscribed threads make them ten times slower
        with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
            warnings.simplefilter("ignore")
            self.result_ = fit_binomial_glm(y, x, link=link_obj, offset=offset)
        self.frame_ = frame
        self.outcome_ = outcome
        self.drivers_ = drivers
        self.terms_ = terms
        self.n_rows_ = len(frame)
        self.n_customers_ = int(frame["customer_id"].nunique())
        self.n_events_ = int(y.sum())
        self.effects_ = self._effects()
        self.driver_tests_ = self._driver_tests()
        return self

    def _effects(self) -> pd.DataFrame:
        res = self.result_
        z = stats.norm.ppf(1 - self.alpha / 2)
        names = [tm.term for tm in self.terms_]
        b, se = res.params[names].to_numpy(float), res.bse[names].to_numpy(float)
        with np.errstate(over="ignore", invalid="ignore"):
            out = pd.DataFrame({
                "term": names, "driver": [tm.driver for tm in self.terms_],
                "level": [tm.level for tm in self.terms_],
                "reference": [tm.reference for tm in self.terms_],
                "kind": [tm.kind for tm in self.terms_], "coef": b, "se": se, "ratio": np.exp(b),
                "ci_low": np.exp(b - z * se), "ci_high": np.exp(b + z * se),
                "p_value": res.pvalues[names].to_numpy(float)})
        if (~np.isfinite(out["ci_high"]) | (out["se"] > 10)).any():
            bad = out.loc[~np.isfinite(out["ci_high"]) | (out["se"] > 10), "term"].tolist()
            self.warnings_.append(t("term(s) {terms} have huge standard errors (separation: a "
                                    "level with (almost) no churn or only churn); merge levels or "
                                    "drop the driver.", terms=join(map(term_label, bad))))
        out.attrs["ratio_name"] = self.ratio_name
        return out

    def _driver_tests(self) -> pd.DataFrame:
        res = self.result_
        cov = res.cov_params()
        rows = []
        for d in dict.fromkeys(tm.driver for tm in self.terms_):
            names = [tm.term for tm in self.terms_ if tm.driver == d]
            b = res.params[names].to_numpy()
            v = cov.loc[names, names].to_numpy()
            chi2 = float(b @ np.linalg.pinv(v) @ b)
            rows.append({"driver": d, "df": len(names), "chi2": chi2,
                         "p_value": float(stats.chi2.sf(chi2, len(names)))})
        return pd.DataFrame(rows).sort_values("chi2", ascending=False).reset_index(drop=True)

    # -- reading ---------------------------------------------------------------------------
    @property
    def ratio_name(self) -> str:
        """``"hazard ratio"`` (cloglog) or ``"odds ratio"`` (logit)."""
        return "hazard ratio" if self.link_ == "cloglog" else "odds ratio"

    def summary(self) -> pd.DataFrame:
        """The driver effects, rounded, for display (adjustments after the drivers, duration
        terms last)."""
        e = self.effects_.copy()
        e["order"] = e["kind"].map({"adjustment": 1, "duration": 2}).fillna(0).astype(int)
        e = e.sort_values(["order", "p_value"]).drop(columns="order")
        return e[["term", "reference", "ratio", "ci_low", "ci_high", "p_value"]].rename(
            columns={"ratio": self.ratio_name}).reset_index(drop=True)

    def key_figures(self) -> dict[str, Any]:
        """Flat ``{term: ratio}`` plus intervals and p-values, for the stage JSON."""
        out: dict[str, Any] = {"design": self.design_, "link": self.link_,
                               "ratio": self.ratio_name, "n_rows": self.n_rows_,
                               "n_customers": self.n_customers_, "n_events": self.n_events_}
        for r in self.effects_.itertuples():
            out[f"{r.term}.ratio"] = r.ratio
            out[f"{r.term}.ci_low"] = r.ci_low
            out[f"{r.term}.ci_high"] = r.ci_high
            out[f"{r.term}.p_value"] = r.p_value
        return out


def compare_with_truth(effects: pd.DataFrame, truth: Mapping[str, float], *,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Set fitted log-ratios beside true log-hazard ratios (synthetic data).

    Parameters
    ----------
    effects : DataFrame
        ``DriverModel.effects_``.
    truth : mapping
        ``meta["truth"]["log_hr"]`` (term -> true log hazard ratio).

    Returns
    -------
    DataFrame
        ``term, true_log_hr, coef, coef_low, coef_high, covered, sign_ok``.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    e = effects.set_index("term")
    e = pd.DataFrame({"coef": e["coef"], "coef_low": e["coef"] - z * e["se"],
                      "coef_high": e["coef"] + z * e["se"]})
    out = shared_compare(e, truth, estimate="coef", lower="coef_low", upper="coef_high")
    out = out.rename(columns={"truth": "true_log_hr"})
    order = {tm: i for i, tm in enumerate(truth)}
    out = out.sort_values("term", key=lambda tm: tm.map(order), kind="stable").reset_index(drop=True)
    return out[["term", "true_log_hr", "coef", "coef_low", "coef_high", "covered", "sign_ok"]]
