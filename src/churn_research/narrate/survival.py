"""Findings and section sentences of 30_survival: how long customers stay, and what changes that.

:func:`findings` builds the Findings box from the key figures; the other functions build the
text of each report section from the stage's result objects (:mod:`churn_research.survival`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from churn_research.model import ChurnData, sample_note, yes_no
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    count,
    get,
    not_available,
    pct_ci,
    plural,
    pvalue,
    ratio_ci,
    text,
)
from churn_research.survival.sections import (
    ALPHA,
    ChangeAnalysis,
    CohortAnalysis,
    strongest_drivers,
)


def _horizons(figures) -> list[float]:
    return sorted(float(k.split(".", 1)[1]) for k in figures
                  if k.startswith("km_survival.") and get(figures, k) is not None)


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the share still a customer at the first reported horizon, with its interval."""
    unit = get(figures, "time_unit", "months")
    hs = _horizons(figures)
    keys, unavailable = [], []
    if hs:
        h = 12.0 if 12.0 in hs else hs[0]
        tag = f"{h:g}"
        s = pct_ci(get(figures, f"km_survival.{tag}"), get(figures, f"km_survival_lower.{tag}"),
                   get(figures, f"km_survival_upper.{tag}"))
        if context.get("kind") == "non-contractual":
            headline = (f"{s} of customers bought again at least {tag} {unit} after their first "
                        "purchase (time to the last purchase, Kaplan–Meier).")
        else:
            headline = (f"{s} of customers are still customers {tag} {unit} after they start "
                        "(Kaplan–Meier).")
    else:
        headline = "Too few customers are followed long enough to estimate retention."
    median = get(figures, "km_median_label")
    if median == "not reached":
        keys.append(Finding("Fewer than half of the customers leave within the observed tenures "
                            "(the median lifetime is not reached).", "How long do customers stay"))
    elif median is not None and context.get("kind") == "non-contractual" and get(figures, "km_median") == 0:
        keys.append(Finding("More than half of the customers never bought again after their first "
                            f"purchase (median time to the last purchase: 0 {unit}).",
                            "How long do customers stay"))
    elif median is not None:
        keys.append(Finding(f"Half of the customers have left by {median} {unit} (median lifetime).",
                            "How long do customers stay"))
    hr = get(figures, "change_hr")
    if hr is not None:
        keys.append(Finding(
            f"After the business change on {text(get(figures, 'change_date'))}, the hazard of leaving was "
            f"{ratio_ci(hr, get(figures, 'change_hr_lower'), get(figures, 'change_hr_upper'))} times "
            f"the hazard before ({pvalue(get(figures, 'change_p'))}), other covariates held equal.",
            "Did the business change raise the hazard"))
    else:
        unavailable.append("Not available for this dataset: the business change as a time-varying "
                           "exposure, because the data record no business change.")
    violations = get(figures, "ph_violations") or []
    if violations:
        strata = get(figures, "ph_remedy_strata") or []
        keys.append(Finding(
            f"Proportional hazards fails for {plural(len(violations), 'Cox term')}; the report reads "
            "the " + (f"model stratified by {', '.join(s.replace('_', ' ') for s in strata)} "
                      if strata else "stratified model ")
            + "instead of their single hazard ratios.", "proportional-hazards assumption"))
    truncated = get(figures, "left_truncated", 0)
    if truncated:
        keys.append(Finding(f"{count(truncated)} customers joined before the records begin and enter "
                            "the risk set at their tenure then (left truncation).",
                            "The data on the survival time scale"))
    concordance = get(figures, "cox_concordance")
    if concordance is not None:
        keys.append(Finding(f"The Cox model ranks who leaves first with concordance "
                            f"{concordance:.2f} (0.5 = chance"
                            + ("; barely better than chance)." if concordance < 0.6 else ")."),
                            "Which drivers move the hazard"))
    if get(figures, "sbg_not_available"):
        unavailable.append(not_available("the cohort projection with the sBG model",
                                         str(get(figures, "sbg_not_available"))))
    elif not any(k.startswith("sbg.") for k in figures):
        unavailable.append("Not available for this dataset: the cohort projection with the sBG "
                           "model, because the data do not follow acquisition cohorts period by period.")
    truth = get(figures, "cox_truth_covered")
    checked = f"the generator's true hazard ratios ({truth} intervals cover the truth)" if truth else None
    if get(figures, "rmst.value") is not None:
        keys.append(Finding(f"Over the first {get(figures, 'rmst.horizon'):g} {unit} a customer stays "
                            f"{get(figures, 'rmst.value'):.1f} {unit} on average (restricted mean).",
                            "How long do customers stay"))
    return StageFindings("30_survival", dataset, headline, keys[:6], unavailable, checked)


# ---------------------------------------------------------------------------------------
# Section sentences
# ---------------------------------------------------------------------------------------
def _date(value) -> str:
    return str(pd.Timestamp(value).date())


def data_text(data: ChurnData, df: pd.DataFrame, *, unit: str = "months") -> str:
    """Counts on the survival time scale, with the notes on inferred churn, snapshots and
    left truncation that the dataset needs."""
    n, churned = len(df), int(df["event"].sum())
    censor = _date(df.attrs["censor_date"])
    notes = []
    if data.kind == "non-contractual":
        notes.append(
            f"Churn is **inferred** (non-contractual data): a customer with no purchase for more than "
            f"{data.inactivity_days} days before the snapshot is taken as lost on the day of their last "
            f"purchase. The others are censored on {censor} (snapshot minus the inactivity window: the "
            f"last day on which a lapse can already be seen); {df.attrs['excluded']:,} customers who "
            f"joined after that day are left out. A customer who bought only once has a lifetime of zero; "
            f"{(df['duration'] == 0).mean():.0%} of customers did.")
    if data.is_snapshot:
        notes.append(
            "The data are **one snapshot**: tenure and a churn flag for customers present in the last month. "
            "Like every published analysis of this file, lifetimes run from the start implied by tenure to the "
            "snapshot; this assumes the customers who left before the snapshot month behaved like those seen, "
            "which the file cannot show.")
    truncated = int((df["entry"] > 0).sum())
    if truncated:
        notes.append(f"{truncated:,} customers ({truncated / n:.0%}) joined before the records begin "
                     f"({_date(df.attrs['entry_date'])}) and enter with delayed entry.")
    return " ".join([
        f"**{n:,} customers**, {churned:,} churned and {n - churned:,} censored (still customers when "
        f"observation ends, {censor}). Time unit: {unit} (a month is 30.44 days). Longest observed tenure: "
        f"{df['duration'].max():.1f} {unit}.", *notes])


def km_text(overall: pd.DataFrame, *, horizons: Sequence[float], rmst_horizon: float,
            unit: str = "months") -> str:
    """Median lifetime, survival at the horizons and the restricted mean of :func:`km_summary`."""
    o = overall.iloc[0]
    median = ("is not reached: more than half of the customers are still there at the end of follow-up"
              if not np.isfinite(o["median"]) else
              f"is {o['median']:.1f} {unit} (95% CI {o['median_lower']:.1f}–{o['median_upper']:.1f})")
    still = "; ".join(f"{o[f'S({h:g})']:.0%} after {h:g} {unit}" for h in horizons
                      if np.isfinite(o[f"S({h:g})"]))
    return (f"The curve shows the share of customers still with the company at each tenure; the band is the "
            f"pointwise 95% confidence interval. The median lifetime {median}. Still customers: {still}. "
            f"Within the first {rmst_horizon:g} {unit} a customer stays {o['rmst']:.1f} {unit} on average "
            f"(restricted mean survival time).")


def logrank_sentence(result: Mapping, *, by: str, summary: pd.DataFrame | None = None,
                     pairwise: pd.DataFrame | None = None, unit: str = "months", alpha: float = ALPHA) -> str:
    """One-sentence verdict of a log-rank result (with medians and the pairwise count)."""
    verdict = "differs" if result["p"] < alpha else "does not differ significantly"
    out = (f"Survival {verdict} by **{by}** (log-rank chi2 = {result['test_statistic']:.1f} on "
           f"{result['df']} df, {pvalue(result['p'])}).")
    if summary is not None and len(summary):
        meds = ", ".join(f"{yes_no(g)}: {'not reached' if not np.isfinite(m) else f'{m:.1f}'}"
                         for g, m in summary[["group", "median"]].to_numpy())
        out += f" Median lifetime ({unit}) -- {meds}."
    if pairwise is not None and len(pairwise) > 1:
        correction = str(pairwise.attrs.get("correction", "Holm")).capitalize()
        out += (f" {int(pairwise['significant'].sum())} of {len(pairwise)} pairs differ at 5% after "
                f"{correction} correction.")
    return out


def missing_segments_text(missing: Sequence[str]) -> str:
    """The not-available line for segments the data lack (empty when none)."""
    if not missing:
        return ""
    return not_available(f"survival by {', '.join(missing)}",
                         "the data have no such column or only one level of it")


def segment_comparison_text(comparison, *, unit: str = "months") -> str:
    """The log-rank sentence of one :class:`~churn_research.survival.sections.SegmentComparison`."""
    return logrank_sentence(comparison.test, by=comparison.segment, summary=comparison.summary,
                            pairwise=comparison.pairwise, unit=unit)


def segments_text(verdicts: pd.DataFrame) -> str:
    """Across segments: the largest difference and how many differ (see ``segment_verdicts``)."""
    if not len(verdicts):
        return ""
    return (f"Across segments, the largest survival difference is by **{verdicts.index[0]}**; "
            f"{int(verdicts['differs at 5%'].sum())} of {len(verdicts)} segmentations differ at the 5% level. "
            "Log-rank tests compare whole curves one segment at a time; the Cox model below separates the "
            "drivers from one another.")


def _drivers(hr: pd.DataFrame) -> str:
    top = strongest_drivers(hr)
    return "; ".join(f"{c}: HR {r.hr:.2f} ({r.lower:.2f}–{r.upper:.2f})" for c, r in top.iterrows()) \
        or "none at the 5% level"


def cox_lead_text(cox, stratified, ph: pd.DataFrame, *, threshold: float) -> str:
    """When proportional hazards fails: which model the section headlines, and why. Empty otherwise."""
    violations = ph.loc[ph["violates"], "covariate"].tolist()
    if not violations:
        return ""
    if stratified is None:
        return (f"Proportional hazards is rejected (p < {threshold}) for **{', '.join(violations)}**: their "
                "single hazard ratios below average an effect that changes with tenure; the tenure-band view "
                "further down shows how.")
    return (f"Proportional hazards is rejected (p < {threshold}) for **{', '.join(violations)}**, so the "
            f"hazard ratios to read are those of the model **stratified by {', '.join(stratified.strata)}** "
            "(below). The unstratified model after it is shown for reference only: its hazard ratios for these "
            "terms average an effect that changes with tenure.")


def stratified_text(stratified) -> str:
    """The stratified (remedy) Cox model: fit, strongest drivers, concordance."""
    out = (f"Stratified on **{', '.join(stratified.strata)}** (a separate baseline hazard per level, so no hazard "
           f"ratio for them), fitted on {stratified.n_:,} customers and {stratified.events_:,} churn events: the "
           "remaining hazard ratios are adjusted for them without assuming their effect is constant over tenure. "
           f"Strongest significant drivers: {_drivers(stratified.hazard_ratios_)}. "
           f"Concordance {stratified.concordance_:.3f}.")
    if stratified.kept_:
        out += (f" Numeric drivers that also violate ({', '.join(stratified.kept_)}) stay in the model; their "
                "change over tenure is shown by band below.")
    return out


def cox_text(cox, *, data: ChurnData, reference_only: bool = False) -> str:
    """The unstratified Cox model: fit, concordance, strongest drivers, reference levels."""
    entry = " with delayed entry for left-truncated customers" if "entry" in cox.training_frame_ else ""
    refs = ", ".join(f"{k} = {v}" for k, v in cox.design_info_["reference"].items())
    lead = ("**For reference only** (proportional hazards fails, see above): the unstratified model, fitted"
            if reference_only else "Fitted")
    return " ".join(filter(None, [
        f"{lead} on {cox.n_:,} customers and {cox.events_:,} churn events{entry}. "
        f"Concordance (how well the model ranks who churns first): **{cox.concordance_:.3f}**. "
        f"Strongest significant drivers: {_drivers(cox.hazard_ratios_)}. Reference levels: {refs}.",
        sample_note(data, "The Cox, parametric, AFT and time-varying models of this report")]))


def truth_text(truth: pd.DataFrame) -> str:
    """How many Cox intervals cover the generator's true hazard ratios (empty without truth)."""
    if not len(truth):
        return ""
    return (f"**Check against the generator's truth:** {int(truth['covered'].sum())} of {len(truth)} 95% "
            "intervals cover the true hazard ratio (red crosses in the forest plot). This static model leaves "
            "out what it cannot see as a customer attribute -- the hidden satisfaction, recent complaints and "
            "the business change -- so effects are slightly pulled towards 1 (unobserved heterogeneity); the "
            "time-varying model in section 5 adds the change and complaints.")


def ph_text(ph: pd.DataFrame, *, threshold: float, stratified=None) -> str:
    """Verdict of the proportional-hazards check and the remedy taken."""
    violations = ph.loc[ph["violates"], "covariate"].tolist()
    if not violations:
        return (f"No covariate rejects proportional hazards at p < {threshold}: the single hazard ratio per "
                "driver above is a fair summary. (With many customers even small departures get flagged; the "
                "tenure-band view below shows their size.)")
    sources = list(dict.fromkeys(ph.loc[ph["violates"], "source"]))
    remedy = (f"the model stratified on {', '.join(stratified.strata)} (each level gets its own baseline "
              "hazard) at the top of this section, and the hazard ratio by tenure band below"
              if stratified is not None else "the hazard ratio by tenure band below")
    return (f"Proportional hazards are rejected (p < {threshold}) for: **{', '.join(violations)}** (drivers: "
            f"{', '.join(sources)}). Their hazard ratio changes with tenure, so a single number misleads. "
            f"Remedy following the advice: {remedy}.")


def bands_text(bands: pd.DataFrame, *, unit: str = "months") -> str:
    """How the tenure-band hazard ratios were estimated and how to read them
    (``bands`` from :func:`~churn_research.survival.sections.tenure_bands`)."""
    return (f"Time interaction for {', '.join(bands.attrs['vary'])}"
            + (" (the strongest violations)" if bands.attrs["from_violations"] else "")
            + ": the lifetimes are split at tenures " + ", ".join(f"{c:g}" for c in bands.attrs["cuts"])
            + f" {unit} and the hazard ratio is estimated separately in each band (lifelines' time-varying Cox). "
            "A flat profile supports proportional hazards; a trend shows how the effect fades or grows with tenure.")


def bands_title(bands: pd.DataFrame) -> str:
    """Title of the tenure-band figure."""
    return f"Hazard ratio by tenure band: {', '.join(bands.attrs['vary'])}"


def parametric_text(comparison: pd.DataFrame, fitters: Mapping, extrapolated: pd.DataFrame, *,
                    to: float, observed_until: float, unit: str = "months",
                    true_shape: float | None = None) -> str:
    """Best parametric model by AIC, its extrapolation, and the Weibull shape when it wins."""
    best = comparison["model"].iloc[0]
    e = extrapolated.loc[float(to)]
    out = f"Best fit by AIC: **{best}**"
    if len(comparison) > 1:
        runner_up = comparison.iloc[1]
        out += f" (next: {runner_up['model']}, ΔAIC = {runner_up['delta_aic']:.0f})"
    out += (f". Extrapolated to {to:g} {unit}: {e['survival']:.1%} still customers "
            f"(95% CI {e['lower']:.1%}–{e['upper']:.1%}); the data end at {observed_until:.0f} {unit}.")
    if best == "weibull":
        out += (f" The Weibull shape is {fitters[best].rho_:.2f} (below 1: the churn hazard falls with tenure -- "
                "long-standing customers churn less).")
        if true_shape:
            out += (f" The generator's baseline shape is {true_shape}; the fitted marginal shape "
                    "is a little lower because customers differ (the frail leave first).")
    return out


def aft_text(comparison: pd.DataFrame, ratios: pd.DataFrame) -> str:
    """Best AFT model and the drivers with the shortest and longest lifetimes."""
    ends = ratios.sort_values("time_ratio").iloc[[0, -1]]
    return (f"Best AFT model by AIC: **{comparison['model'].iloc[0]}** (concordance "
            f"{comparison['concordance'].iloc[0]:.3f}). Shortest lifetimes: {ends.index[0]} (time ratio "
            f"{ends['time_ratio'].iloc[0]:.2f}); longest: {ends.index[1]} (time ratio {ends['time_ratio'].iloc[1]:.2f})."
            + (" For the Weibull AFT, `implied_hr` converts each time ratio into the hazard ratio it implies, "
               "comparable with the Cox estimates." if "implied_hr" in ratios else ""))


def change_text(change: ChangeAnalysis | None, *, true_log_hr: Mapping[str, float] | None = None) -> str:
    """The change's hazard ratio (and recent complaints'), checked against the truth if known."""
    if change is None:
        return not_available("the business change as a time-varying exposure",
                             "the data record no business change (no `events` table)")
    hr = change.hazard_ratios
    c = hr.loc["after_change"]
    out = (f"**{change.name}** ({_date(change.date)}): {change.episodes['customer_id'].nunique():,} customers in "
           f"{len(change.episodes):,} episodes. At the same tenure and with the same attributes, the churn hazard "
           f"after the change is **{c['hr']:.2f} times** the hazard before (95% CI {c['lower']:.2f}–{c['upper']:.2f}, "
           f"p = {c['p']:.2g}).")
    if "complaint_90d" in hr.index:
        k = hr.loc["complaint_90d"]
        out += (f" A complaint in the previous {change.complaint_window_days} days multiplies the hazard by "
                f"{k['hr']:.2f} ({k['lower']:.2f}–{k['upper']:.2f}); this is not purely causal -- customers who "
                "complain are also the less satisfied ones, who churn more anyway.")
    if true_log_hr and "change" in true_log_hr:
        t = np.exp(true_log_hr["change"])
        out += (f" The generator's true change hazard ratio is {t:.2f}: "
                f"{'inside' if c['lower'] <= t <= c['upper'] else 'outside'} the interval.")
    return out


def acquired_text(change: ChangeAnalysis, *, unit: str = "months") -> str:
    """Survival of the cohorts acquired before vs after the change."""
    if change is None or change.acquired_test is None:
        return ""
    return (f"Customers acquired in the {change.acquired.attrs['window']:.0f} {unit} before vs after the change, "
            "each followed for at most that long, the earlier cohort only until the change date (so its curve "
            "shows the old regime). "
            + logrank_sentence(change.acquired_test, by="acquisition period", summary=change.acquired_summary,
                               unit=unit))


def cohort_table_text(cohorts: CohortAnalysis, *, unit: str = "months") -> str:
    """What the cohort table shows, or why there is none."""
    if cohorts.skipped == "not eligible":
        return not_available("the cohort retention projection", cohorts.reason)
    if cohorts.skipped:
        return not_available("the cohort retention projection",
                             "cohort analysis is switched off for this dataset (`cohort_analysis: false`)")
    return (f"{len(cohorts.table)} acquisition cohorts ({cohorts.freq}), tenure periods of {cohorts.period:g} {unit}; "
            "share still customers at the start of each period (customers who joined before the records began "
            "are not in a closed cohort and are left out):")


def sbg_fit_text(cohorts: CohortAnalysis) -> str:
    """How many cohorts were fitted and how to read gamma and delta."""
    if cohorts.sbg_table is None:
        return ""
    return (f"sBG fitted to each of {len(cohorts.sbg_table)} cohorts with at least {cohorts.min_periods} observed "
            "periods. γ/(γ+δ) is the average churn probability per period at acquisition; small γ and δ mean very "
            "different customers (a reverse-J mix of loyal and flighty), large values near-identical ones.")


def sbg_holdout_text(cohorts: CohortAnalysis, *, change_date=None) -> str:
    """The hold-out check of the sBG projection, and the change falling inside it."""
    if cohorts.sbg_table is None:
        return ""
    need = cohorts.calibration_periods + cohorts.margin
    if not cohorts.chosen:
        return f"No cohort has the {need} observed periods a hold-out check needs."
    acc = cohorts.accuracy
    out = (f"The {len(cohorts.chosen)} largest cohorts with at least {need} observed periods were fitted "
           f"on their first {cohorts.calibration_periods} periods only (solid lines) and projected forward (dashed) "
           f"against what was then observed (dots). Mean absolute hold-out error: {acc['mae_pp'].mean():.1f} "
           "percentage points; at the last observed period the projection is off by "
           + ", ".join(f"{r.error_pp:+.1f} pp ({r.cohort})" for r in acc.itertuples())
           + ". The black curve is the Kaplan–Meier estimate from all customers for comparison.")
    if change_date is not None:
        out += (f" The business change ({_date(change_date)}) falls inside the hold-out of "
                f"{cohorts.change_in_holdout} of these cohorts: the sBG projects the behaviour seen during "
                "calibration, so observed survival falling below the projection after the change date is what "
                "the change's higher churn looks like.")
    return out


def key_figures_text(flat: Mapping, path: str) -> str:
    """The closing line: how many key figures were written where."""
    return f"{len(flat)} key figures written to `{path.split('/')[-1]}`."


def period_label(period: float, unit: str = "months") -> str:
    """Axis label of sBG periods: the unit itself, or "periods of 3 months"."""
    return unit if period == 1 else f"periods of {period:g} {unit}"
