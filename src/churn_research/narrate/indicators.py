"""Findings of 10_indicators: how many customers are lost per period, and did the business
change make it worse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, pct, pct_ci, pvalue, ratio_ci, text


def _impact_unit(figures) -> str:
    """The period of the change-impact analyses, read off the event period's label."""
    label = str(get(figures, "its.event_period", ""))
    return ("month" if len(label) == 7 and label[4] == "-" else
            "quarter" if "Q" in label else "half-year" if "H" in label else "period")


def _change(figures) -> tuple[str | None, Finding | None]:
    ratio = get(figures, "its.level_ratio")
    if ratio is None:
        return None, None
    lo, hi = get(figures, "its.level_ratio_ci_low"), get(figures, "its.level_ratio_ci_high")
    date = text(get(figures, "its.event_date"))
    hr = ratio_ci(ratio, lo, hi)
    if lo is not None and lo > 1:
        sentence = (f"Churn rose after the business change on {date}: {hr} times the level the "
                "pre-change trend predicts")
        excess = get(figures, "its.excess_churned")
        if excess is not None:
            sentence += (f", about {count(excess)} extra customers lost (95% CI "
                     f"{count(get(figures, 'its.excess_churned_ci_low'))}–"
                     f"{count(get(figures, 'its.excess_churned_ci_high'))})")
        sentence += "."
    elif hi is not None and hi < 1:
        sentence = (f"Churn fell after the business change on {date}: {hr} times the level the "
                "pre-change trend predicts.")
    else:
        sentence = (f"No clear change in churn after the business change on {date}: the level "
                f"ratio is {hr}, an interval that includes no change.")
    return sentence, Finding(sentence, "Did churn change after the business change")


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the change's effect where there is a change, else the latest period's churn."""
    freq = get(figures, "freq", "period")
    latest = text(get(figures, "latest_period"))
    rate = pct_ci(get(figures, "churn_rate"), get(figures, "churn_rate_ci_low"),
                  get(figures, "churn_rate_ci_high"))
    snapshot = bool(context.get("snapshot"))
    if snapshot:
        latest_text = (f"{rate} of the customers in this snapshot left in its last month ({latest}): "
                       "the dataset's churn flag, the only exits these data record. A sample enriched "
                       "for churners gives a share, not the business's monthly churn rate.")
    else:
        latest_text = (f"Churn was {rate} in the latest complete {freq} ({latest}), against "
                       f"{pct(get(figures, 'mean_churn_rate_per_period'))} per {freq} on average "
                       f"from {text(get(figures, 'window_start'))} to {text(get(figures, 'window_end'))}.")
    if context.get("kind") == "non-contractual" and not snapshot:
        latest_text += (f" Churn is inferred after {context.get('inactivity_days', 180)} days without "
                        f"a purchase, so the window ends on {text(get(figures, 'window_end'))}; in a "
                        "single acquisition cohort the early months also hold the customers who "
                        "never bought again, so a fall over time is partly the cohort ageing.")
    change_text, change_finding = _change(figures)
    headline = change_text or latest_text
    keys = [Finding(latest_text, "How many customers do we lose")] if change_text else []
    if change_finding is not None:
        before, after = get(figures, "before_after.rate_before"), get(figures, "before_after.rate_after")
        if before is not None and after is not None:
            keys.append(Finding(
                f"Pooled churn per {_impact_unit(figures)} was {pct(before, 2)} before and "
                f"{pct(after, 2)} after the "
                f"change ({pvalue(get(figures, 'before_after.p_value'))}); this simple comparison "
                "ignores any trend.", "Did churn change after the business change"))
    new, old = get(figures, "churn_rate_new"), get(figures, "churn_rate_existing")
    if new is not None and old is not None:
        keys.append(Finding(f"New customers churn {pct(new)} per {freq}, existing customers "
                            f"{pct(old)}.", "New vs existing customers"))
    signal = get(figures, "control_chart.latest_signal")
    if signal is not None:
        keys.append(Finding(
            f"Early warning: the latest period ({text(get(figures, 'control_chart.latest_period'))}) is "
            + ("within its control limits." if signal == "none" else f"flagged ({signal}).")
            , "Did churn change after the business change"))
    statuses = {k.split(".")[1]: v for k, v in figures.items()
                if k.startswith("target.") and k.endswith(".status") and v is not None}
    if statuses:
        keys.append(Finding("Targets: " + "; ".join(f"{k.replace('_', ' ')} {v}"
                                                    for k, v in statuses.items()) + ".",
                            "Targets: are we on track"))
    unavailable = []
    if change_finding is None:
        unavailable.append("Not available for this dataset: the change-impact analysis (before/after, "
                           "interrupted time series, control chart), because the data record no "
                           "business change (no events table).")
    if get(figures, "complaint_rate") is None and get(figures, "csat") is None:
        unavailable.append("Not available for this dataset: complaint, satisfaction (CSAT) and "
                           "recommendation (NPS) rates, because the data have no tickets or surveys.")
    return StageFindings("10_indicators", dataset, headline, keys[:6], unavailable,
                         checked_against=("the generator's true change effect"
                                          if get(figures, "its.true_level_change") is not None else None))
