"""What each section of the 30_survival report computes and keeps: the rules that choose the
segments, drivers, tenure bands and hold-out cohorts, small result objects that bundle one
section's fits, and the flat key figures of each section.

The sentences are built from these objects in :mod:`churn_research.narrate.survival`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn_research.durations import TIME_UNITS, durations
from churn_research.model import ChurnData, select_events
from churn_research.models.shifted_beta_geo import sbg_eligibility
from churn_research.survival.change import (
    acquired_before_after,
    change_episodes,
    exposure_columns,
    fit_change_cox,
    separable_events,
)
from churn_research.survival.cohorts import (
    cohort_table,
    fit_sbg_cohorts,
    sbg_holdout_accuracy,
    sbg_projection,
    sbg_summary,
)
from churn_research.survival.cox import compare_with_truth, hazard_ratios, piecewise_hazard_ratios
from churn_research.survival.frame import add_first_purchase
from churn_research.survival.group_tests import logrank, pairwise_logrank
from churn_research.survival.km import as_counts, km_fit, km_summary

#: Significance level of the segment verdicts and of the "strongest drivers".
ALPHA = 0.05


# ---------------------------------------------------------------------------------------
# The data on the survival time scale
# ---------------------------------------------------------------------------------------
def lifetimes(data: ChurnData, *, unit: str = "months", first_purchase_features: bool = False) -> pd.DataFrame:
    """The lifetime frame, with first-purchase features when asked for and transactions exist."""
    df = durations(data, unit=unit)
    if first_purchase_features and data.has("transactions"):
        df = add_first_purchase(df, data.transactions)
    return df


def model_sample(data: ChurnData, df: pd.DataFrame, max_customers: int | None,
                 random_state: int = 0) -> tuple[ChurnData, pd.DataFrame]:
    """The data and lifetime frame the regression models use: a random sample of
    ``max_customers`` customers of larger bases (curves use everyone)."""
    sample = data.sample_customers(max_customers, random_state=random_state)
    if sample is data:
        return data, df
    return sample, df[df["customer_id"].isin(sample.customers["customer_id"])]


def base_figures(df: pd.DataFrame, *, dataset: str, unit: str) -> dict:
    """Counts of the lifetime frame: customers, churned, censored, left-truncated."""
    return {"dataset": dataset, "time_unit": unit, "customers": len(df),
            "churned": int(df["event"].sum()), "censored": int((df["event"] == 0).sum()),
            "left_truncated": int((df["entry"] > 0).sum())}


# ---------------------------------------------------------------------------------------
# 1 · How long do customers stay?
# ---------------------------------------------------------------------------------------
def km_figures(overall: pd.DataFrame, horizons: Sequence[float]) -> dict:
    """Key figures of the all-customers row of :func:`km_summary`."""
    o = overall.iloc[0]
    return {"km_median": o["median"], "km_median_label": o["median_label"],
            "km_survival": {f"{h:g}": o[f"S({h:g})"] for h in horizons},
            "km_survival_lower": {f"{h:g}": o[f"S({h:g})_lower"] for h in horizons},
            "km_survival_upper": {f"{h:g}": o[f"S({h:g})_upper"] for h in horizons},
            "rmst": {"value": o["rmst"], "se": o["rmst_se"], "horizon": o["rmst_horizon"]}}


# ---------------------------------------------------------------------------------------
# 2 · Do segments differ?
# ---------------------------------------------------------------------------------------
@dataclass
class SegmentComparison:
    """Kaplan-Meier fits, log-rank tests and summary of one segmentation."""

    segment: str
    fits: dict
    test: Mapping
    summary: pd.DataFrame
    pairwise: pd.DataFrame


def split_segments(df: pd.DataFrame, segments: Sequence[str]) -> tuple[list[str], list[str]]:
    """The segments present with at least two levels, and the others."""
    available = [s for s in segments if s in df.columns and df[s].nunique() > 1]
    return available, [s for s in segments if s not in available]


def compare_segments(df: pd.DataFrame, segments: Sequence[str], *, horizons: Sequence[float],
                     rmst_horizon: float) -> list[SegmentComparison]:
    """One :class:`SegmentComparison` per available segment (see :func:`split_segments`), fitted
    on the segment's lifetime counts (:func:`~churn_research.survival.as_counts`: the same
    curves and tests as on one row per customer)."""
    out = []
    for seg in split_segments(df, segments)[0]:
        counts = as_counts(df, seg)
        out.append(SegmentComparison(seg, km_fit(counts, by=seg), logrank(counts, by=seg),
                                     km_summary(counts, by=seg, horizons=horizons, rmst_horizon=rmst_horizon),
                                     pairwise_logrank(counts, by=seg)))
    return out


def segment_verdicts(comparisons: Sequence[SegmentComparison], *, alpha: float = ALPHA) -> pd.DataFrame:
    """One row per segment, the largest log-rank chi2 first."""
    rows = [{"segment": c.segment, "chi2": c.test["test_statistic"], "df": c.test["df"],
             "p": c.test["p"], "differs at 5%": c.test["p"] < alpha} for c in comparisons]
    if not rows:
        return pd.DataFrame(columns=["chi2", "df", "p", "differs at 5%"])
    return pd.DataFrame(rows).set_index("segment").sort_values("chi2", ascending=False)


def segment_figures(comparisons: Sequence[SegmentComparison]) -> dict:
    """Log-rank tests and median lifetimes by segment."""
    return {"logrank": {c.segment: {"chi2": c.test["test_statistic"], "df": c.test["df"], "p": c.test["p"]}
                        for c in comparisons},
            "km_median_by_segment": {c.segment: dict(zip(c.summary["group"].astype(str), c.summary["median"],
                                                         strict=True)) for c in comparisons}}


# ---------------------------------------------------------------------------------------
# 3 · Which drivers move the hazard?
# ---------------------------------------------------------------------------------------
def strongest_drivers(hr: pd.DataFrame, n: int = 4, *, alpha: float = ALPHA) -> pd.DataFrame:
    """The ``n`` significant hazard ratios with the largest absolute log hazard ratio."""
    sig = hr[hr["p"] < alpha].assign(size=lambda t: np.abs(t["coef"]))
    return sig.sort_values("size", ascending=False).head(n)


def truth_table(hr: pd.DataFrame, true_log_hr: Mapping[str, float], aliases: Mapping[str, str]) -> pd.DataFrame:
    """:func:`compare_with_truth` when the data carry a generator's truth, else an empty table."""
    if not true_log_hr:
        return pd.DataFrame(columns=["covariate", "true_hr", "covered"])
    return compare_with_truth(hr, true_log_hr, aliases=aliases)


def true_hazard_ratios(index, true_log_hr: Mapping[str, float], aliases: Mapping[str, str]) -> dict | None:
    """True hazard ratios of the terms in ``index`` (for the forest plots), None without truth."""
    return {k: float(np.exp(true_log_hr[aliases.get(k, k)])) for k in index
            if aliases.get(k, k) in true_log_hr} or None


def ph_remedy(cox, df: pd.DataFrame, ph: pd.DataFrame, *, threshold: float):
    """The Cox model stratified on the drivers that fail proportional hazards
    (:meth:`CoxRegression.remedy`), or None when none fails or none can be stratified."""
    if not ph["violates"].any():
        return None
    stratified = cox.remedy(df, threshold=threshold)
    return stratified if stratified.strata else None


def band_variables(ph: pd.DataFrame, covariates: Sequence[str], fallback: Sequence[str],
                   n: int = 2) -> tuple[list[str], bool]:
    """Drivers whose hazard ratio is shown by tenure band: the ``n`` strongest PH violations, or
    ``fallback`` when none fails. Returns the list and whether it comes from violations."""
    worst = ph.assign(chi2=ph[["chi2_rank", "chi2_km"]].max(axis=1)).loc[lambda t: t["violates"]]
    worst = worst.sort_values("chi2", ascending=False)["source"].drop_duplicates().head(n).tolist()
    return [v for v in (worst or fallback) if v in covariates], bool(worst)


def tenure_bands(df: pd.DataFrame, ph: pd.DataFrame, *, covariates: Sequence[str], fallback: Sequence[str],
                 cuts: Sequence[float], reference: Mapping | None = None,
                 per: Mapping | None = None) -> pd.DataFrame | None:
    """Hazard ratios by tenure band (:func:`piecewise_hazard_ratios`) for the drivers chosen by
    :func:`band_variables`; ``attrs`` keep ``vary`` and ``from_violations``. None when no driver
    qualifies."""
    vary, from_violations = band_variables(ph, covariates, fallback)
    if not vary:
        return None
    bands = piecewise_hazard_ratios(df, covariates=covariates, vary=vary, cuts=cuts, reference=reference, per=per)
    bands.attrs.update(vary=vary, from_violations=from_violations, cuts=list(cuts))
    return bands


def cox_figures(cox, ph: pd.DataFrame, stratified=None, bands: pd.DataFrame | None = None,
                truth: pd.DataFrame | None = None) -> dict:
    """Key figures of the Cox section (unstratified, PH check, remedy, tenure bands)."""
    hr = cox.hazard_ratios_
    out = {"cox_concordance": cox.concordance_, "model_customers": cox.n_, "cox_hr": hr["hr"].to_dict(),
           "cox_hr_lower": hr["lower"].to_dict(), "cox_hr_upper": hr["upper"].to_dict()}
    if truth is not None and len(truth):
        out["cox_truth_covered"] = f"{int(truth['covered'].sum())}/{len(truth)}"
    out["ph_violations"] = ph.loc[ph["violates"], "covariate"].tolist()
    if stratified is not None and stratified.strata:
        out["ph_remedy_strata"] = stratified.strata
        out["cox_stratified_hr"] = stratified.hazard_ratios_["hr"].to_dict()
        out["cox_stratified_concordance"] = stratified.concordance_
    if bands is not None:
        out["hr_by_tenure_band"] = bands[bands["band"] != "all"]["hr"].to_dict()
    return out


# ---------------------------------------------------------------------------------------
# 4 · Parametric models
# ---------------------------------------------------------------------------------------
def parametric_figures(comparison: pd.DataFrame, extrapolated: pd.DataFrame) -> dict:
    """AIC per model and the best model's extrapolated survival (indexed by time)."""
    return {"parametric_best": comparison["model"].iloc[0],
            "parametric_aic": comparison.set_index("model")["aic"].to_dict(),
            "extrapolated_survival": {f"{t:g}": v for t, v in extrapolated["survival"].items()},
            "extrapolated_survival_lower": {f"{t:g}": v for t, v in extrapolated["lower"].items()},
            "extrapolated_survival_upper": {f"{t:g}": v for t, v in extrapolated["upper"].items()}}


# ---------------------------------------------------------------------------------------
# 5 · The business change
# ---------------------------------------------------------------------------------------
@dataclass
class ChangeAnalysis:
    """The business events as time-varying exposures (see :func:`change_analysis`).

    ``name`` and ``date`` are the first event analysed (the one the Findings and the other
    reports call "the change"); ``events`` has one row per selected event: ``event, date,
    exposure`` (its column in the model, empty when left out), ``hr, lower, upper, p``,
    ``exits_before, exits_after`` and ``note`` (why an event was left out)."""

    name: str
    date: pd.Timestamp
    episodes: pd.DataFrame
    hazard_ratios: pd.DataFrame
    complaint_window_days: int
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    acquired: pd.DataFrame | None = None
    acquired_fits: dict = field(default_factory=dict)
    acquired_test: Mapping | None = None
    acquired_summary: pd.DataFrame | None = None

    @property
    def exposure(self) -> str | None:
        """The model column of the first event analysed (None when no event could be)."""
        kept = self.events.loc[self.events["exposure"] != "", "exposure"] if len(self.events) else []
        return kept.iloc[0] if len(kept) else ("after_change" if "after_change" in self.hazard_ratios.index
                                               else None)

    def key_figures(self) -> dict:
        out = {}
        if self.exposure is not None:
            c = self.hazard_ratios.loc[self.exposure]
            out.update({"change_hr": c["hr"], "change_hr_lower": c["lower"], "change_hr_upper": c["upper"],
                        "change_p": c["p"]})
        for term in ("complaint_90d", "campaign_contact"):
            if term in self.hazard_ratios.index:
                out[f"{term}_hr"] = self.hazard_ratios.loc[term, "hr"]
        if self.acquired_test is not None:
            out["acquired_logrank_p"] = self.acquired_test["p"]
        if len(self.events):
            out["change_events.count"] = len(self.events)
            for i, row in enumerate(self.events.itertuples(), start=1):
                out[f"change_events.{i}.event"] = row.event
                out[f"change_events.{i}.date"] = str(pd.Timestamp(row.date).date())
                if row.exposure:
                    out.update({f"change_events.{i}.hr": row.hr, f"change_events.{i}.hr_lower": row.lower,
                                f"change_events.{i}.hr_upper": row.upper, f"change_events.{i}.p": row.p})
                else:
                    out[f"change_events.{i}.note"] = row.note
        return out


def change_analysis(data: ChurnData, df: pd.DataFrame, data_model: ChurnData, df_model: pd.DataFrame, *,
                    covariates: Sequence[str], reference: Mapping | None = None, per: Mapping | None = None,
                    complaint_window_days: int = 90, horizons: Sequence[float] = (), events=None,
                    min_exits: int = 20) -> ChangeAnalysis | None:
    """Time-varying Cox with every selected business event (``events``: see
    :func:`churn_research.model.select_events`; None: all of them), recent complaints and a
    retention campaign's contact (when the data have a campaigns table) as exposures, on the model sample, and the cohorts acquired before vs after the first event on
    everyone; None without a business event.

    Each event the model can separate (:func:`separable_events`) gets its own exposure column,
    cumulative in time (:func:`change_episodes`), so its hazard ratio compares the hazard after it
    with the hazard since the previous event."""
    chosen = select_events(data, events)
    if chosen is None or not len(chosen):
        return None
    table = separable_events(df_model, chosen, min_exits=min_exits)
    kept = table[table["kept"]]
    episodes = change_episodes(df_model, change_date=list(kept["date"]) if len(kept) else chosen["date"].iloc[0],
                               tickets=data_model.tickets if data_model.has("tickets") else None,
                               complaint_window_days=complaint_window_days,
                               campaigns=data_model.campaigns if data_model.has("campaigns") else None)
    columns = exposure_columns(len(kept))
    if not len(kept):  # no event separable: the model keeps the complaints only
        episodes = episodes.drop(columns=["after_change"])
        episodes.attrs["exposures"] = {}
    ctv = fit_change_cox(episodes, covariates=covariates, reference=reference, per=per)
    hr = hazard_ratios(ctv)
    table["exposure"] = ""
    table.loc[kept.index, "exposure"] = columns if len(kept) else []
    for col in ("hr", "lower", "upper", "p"):
        table[col] = [hr.loc[e, col] if e else np.nan for e in table["exposure"]]
    table = table[["event", "date", "exposure", "hr", "lower", "upper", "p", "exits_before", "exits_after",
                   "note"]]
    first = kept.iloc[0] if len(kept) else chosen.iloc[0]
    out = ChangeAnalysis(first["event"], pd.Timestamp(first["date"]), episodes, hr, complaint_window_days,
                         events=table)
    # the columns the comparison reads: a copy of the window's rows with every attribute column
    # would be kept with the result (10^6 customers: ~150 MB)
    lean = df[[c for c in ("customer_id", "start_date", "exit_date", "duration", "event", "entry")
               if c in df.columns]]
    lean.attrs = dict(df.attrs)
    acquired = acquired_before_after(lean, change_date=out.date)
    if acquired["acquired"].nunique() == 2:
        window = acquired.attrs["window"]
        hs = [h for h in horizons if h < window] or [round(window / 2)]
        out.acquired = acquired
        out.acquired_fits = km_fit(acquired, by="acquired")
        out.acquired_test = logrank(acquired, by="acquired")
        out.acquired_summary = km_summary(acquired, by="acquired", horizons=hs, rmst_horizon=max(hs))
    return out


def change_figures(change: ChangeAnalysis | None, change_date=None) -> dict:
    """``change_date`` (the first event analysed; None without one) and the change's key figures."""
    if change is not None:
        change_date = change.date
    return {"change_date": change_date, **(change.key_figures() if change is not None else {})}


# ---------------------------------------------------------------------------------------
# 6 · Cohort retention projection (sBG)
# ---------------------------------------------------------------------------------------
def holdout_cohorts(cohorts: pd.DataFrame, *, calibration_periods: int, n: int, margin: int = 3) -> list[str]:
    """The ``n`` largest cohorts observed for at least ``calibration_periods + margin`` periods."""
    observed_periods = cohorts.notna().sum(axis=1) - 1
    eligible = cohorts.loc[observed_periods >= calibration_periods + margin]
    return eligible[0].sort_values(ascending=False, kind="mergesort").index[:n].tolist()


def change_in_holdout(cohorts: Sequence[str], *, change_date, calibration_periods: int, period: float,
                      unit: str) -> int:
    """How many of ``cohorts`` (period labels) reach the change date during their hold-out."""
    if change_date is None:
        return 0
    days = pd.Timedelta(days=calibration_periods * period * TIME_UNITS[unit])
    return sum(pd.Period(c).start_time + days < change_date for c in cohorts)


@dataclass
class CohortAnalysis:
    """sBG fits per acquisition cohort and a hold-out check (see :func:`cohort_analysis`).

    ``skipped`` says why there is no cohort projection ("not eligible": the sBG cannot be fitted
    to these data by :func:`churn_research.models.shifted_beta_geo.sbg_eligibility`, whose
    reason is ``reason``; or "switched off"); ``chosen`` is empty when no cohort is observed
    long enough for a hold-out check.
    """

    skipped: str | None = None
    reason: str | None = None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    freq: str = "Q"
    period: float = 1.0
    min_periods: int = 6
    calibration_periods: int = 12
    margin: int = 3
    sbg_table: pd.DataFrame | None = None
    chosen: list = field(default_factory=list)
    projection: pd.DataFrame | None = None
    accuracy: pd.DataFrame | None = None
    change_in_holdout: int = 0

    def retention_shares(self, periods: int = 13) -> pd.DataFrame:
        """Share still customers at the start of each of the first ``periods`` periods."""
        return self.table.iloc[:, :periods].div(self.table[0], axis=0)

    def key_figures(self) -> dict:
        out = {}
        if self.skipped == "not eligible":
            out["sbg_not_available"] = self.reason
        if self.sbg_table is not None:
            out["sbg"] = {c: {"gamma": g, "delta": d, "gamma_se": gs, "delta_se": ds} for c, g, d, gs, ds
                          in self.sbg_table[["cohort", "gamma", "delta", "gamma_se", "delta_se"]].to_numpy()}
        if self.accuracy is not None:
            out["sbg_holdout_mae_pp"] = {r.cohort: r.mae_pp for r in self.accuracy.itertuples()}
            out["sbg_holdout_error_pp"] = {r.cohort: r.error_pp for r in self.accuracy.itertuples()}
        return out


def cohort_analysis(df: pd.DataFrame, *, data: ChurnData, enabled: bool = True, freq: str = "Q",
                    period: float = 1.0, min_periods: int = 6, calibration_periods: int = 12,
                    n_cohorts: int = 4, km=None, unit: str = "months",
                    table: pd.DataFrame | None = None) -> CohortAnalysis:
    """Cohort table, sBG per cohort, and the ``n_cohorts`` largest refitted on their first
    ``calibration_periods`` periods and projected over the rest (against ``km``).

    ``table``: the cohort table computed by the data engine from its cohort counts
    (``churn_research.sources.engine.sbg_cohort_table`` with the same ``freq``, ``period`` and
    unit; equal to :func:`cohort_table` of ``df``); without it, :func:`cohort_table` of ``df``.

    Skipped ("not eligible", with the reason) when
    :func:`~churn_research.models.shifted_beta_geo.sbg_eligibility` says the sBG cannot be
    fitted to these data: before fitting (a snapshot, too few consecutive months with exits)
    or after (every cohort's fit at the geometric limit); the clv stage applies the same rule
    before its DERL."""
    out = CohortAnalysis(freq=freq, period=period, min_periods=min_periods,
                         calibration_periods=calibration_periods)
    eligible, out.reason = sbg_eligibility(data)
    if not eligible:
        out.skipped = "not eligible"
        return out
    if not enabled:
        out.skipped = "switched off"
        return out
    out.table = cohort_table(df, cohort_freq=freq, period=period) if table is None else table
    if not len(out.table):
        return out
    sbg_table = sbg_summary(fit_sbg_cohorts(out.table, min_periods=min_periods))
    if len(sbg_table):
        eligible, reason = sbg_eligibility(data, fits=sbg_table)
        if not eligible:
            out.skipped, out.reason = "not eligible", reason
            return out
    out.sbg_table = sbg_table
    out.chosen = holdout_cohorts(out.table, calibration_periods=calibration_periods, n=n_cohorts,
                                 margin=out.margin)
    if out.chosen:
        held = fit_sbg_cohorts(out.table, cohorts=out.chosen, calibration_periods=calibration_periods)
        out.projection = sbg_projection(out.table, held, km=km)
        out.accuracy = sbg_holdout_accuracy(out.projection)
        out.change_in_holdout = change_in_holdout(out.chosen, change_date=data.event_date,
                                                  calibration_periods=calibration_periods, period=period,
                                                  unit=unit)
    return out
