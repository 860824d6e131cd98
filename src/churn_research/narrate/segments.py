"""Findings of 40_segments: who is at risk now, how well that can be told, and what to do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, money, pct, text


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: how well the risk model ranks customers, against the naive baseline."""
    auc, lo, hi = (get(figures, k) for k in ("cv_auc", "cv_auc_ci_low", "cv_auc_ci_high"))
    base = get(figures, "baseline_cv_auc")
    prospective = get(figures, "design") == "prospective"
    keys = []
    if auc is not None:
        what = ("ranks who will churn in the next "
                f"{text(get(figures, 'horizon_days'))} days" if prospective else
                "describes who has churned (one snapshot: not a forecast)")
        headline = (f"The churn-risk model {what} with cross-validated AUC {auc:.2f} (95% CI "
                    f"{lo:.2f}–{hi:.2f}), against {base:.2f} for the naive one-feature baseline "
                    "and 0.50 for chance.")
    else:
        headline = "No churn-risk model could be fitted to these data."
    size = get(figures, "watchlist.size")
    cur = context.get("currency", "")
    if size and prospective:
        keys.append(Finding(
            f"The watchlist names the {count(size)} active customers with the highest risk × value "
            f"(mean predicted risk {pct(get(figures, 'watchlist.mean_risk'))}), each with the "
            "signals that put them there and a suggested action: start retention calls there.",
            "The watchlist"))
    elif size:
        keys.append(Finding(
            f"The watchlist names the {count(size)} current customers who most resemble those who "
            "left, weighted by value (a descriptive score from one snapshot, not a forecast).",
            "The watchlist"))
    lift = get(figures, "top_decile_lift")
    if lift is not None:
        keys.append(Finding(f"The riskiest tenth of customers churns {lift:.1f} times as often as "
                            "the average customer.", "The churn-risk model"))
    ece = get(figures, "ece")
    if ece is not None and prospective:
        keys.append(Finding(
            f"Predicted risks differ from the observed churn by {100 * ece:.1f} percentage points on "
            "average across risk deciles (expected calibration error).", "The churn-risk model"))
    at_risk = get(figures, "tiers.at risk.churn_rate")
    overall = get(figures, "churn_rate_in_horizon")
    if at_risk is not None and overall is not None:
        days = text(get(figures, "horizon_days"))
        separates = at_risk > 1.2 * overall
        keys.append(Finding(
            f"The rule-based 'at risk' value tier ({count(get(figures, 'tiers.at risk.customers'))} "
            f"customers) churned {pct(at_risk)} in the {days} days after the cutoff, against "
            f"{pct(overall)} overall" + ("." if separates else
                                        ": the rule does not separate churners; use the model's ranking."),
            "Value tiers"))
    k = get(figures, "clusters.k")
    if k is not None:
        keys.append(Finding(
            f"{k} behavioural clusters (silhouette {get(figures, 'clusters.silhouette'):.2f}); their "
            f"churn rates range from {pct(get(figures, 'clusters.churn_rate_min'))} to "
            f"{pct(get(figures, 'clusters.churn_rate_max'))}.", "Behavioural clusters"))
    value = get(figures, "watchlist.value_at_risk")
    if value is not None and size and prospective:
        keys.append(Finding(
            f"Expected revenue lost if nothing is done: {money(value, cur)} a year (predicted risk × "
            f"value), of the {money(get(figures, 'watchlist.annual_value'), cur)} a year these "
            f"{count(size)} customers bring.", "The watchlist"))
    unavailable = []
    if not prospective:
        unavailable.append("Not available for this dataset: early-warning signals and a forward-"
                           "looking risk model, because the data are one snapshot without an "
                           "activity history.")
    return StageFindings("40_segments", dataset, headline, keys[:6], unavailable)
