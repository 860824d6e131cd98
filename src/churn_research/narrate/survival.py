"""Findings of 30_survival: how long customers stay, and what changes that."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, pct_ci, plural, pvalue, ratio_ci, text


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
    if not any(k.startswith("sbg.") for k in figures):
        unavailable.append("Not available for this dataset: the cohort projection with the sBG "
                           "model, because the data do not follow acquisition cohorts period by period.")
    truth = get(figures, "cox_truth_covered")
    checked = f"the generator's true hazard ratios ({truth} intervals cover the truth)" if truth else None
    if get(figures, "rmst.value") is not None:
        keys.append(Finding(f"Over the first {get(figures, 'rmst.horizon'):g} {unit} a customer stays "
                            f"{get(figures, 'rmst.value'):.1f} {unit} on average (restricted mean).",
                            "How long do customers stay"))
    return StageFindings("30_survival", dataset, headline, keys[:6], unavailable, checked)
