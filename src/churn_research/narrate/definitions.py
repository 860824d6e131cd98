"""Definitions and how the numbers relate: every churn figure a reader meets across the reports
of one dataset, side by side with what it measures, so that two different numbers for "churn"
(or for the effect of the business change) read as answers to different questions rather than
as a contradiction.

Built from the key figures of all stages of a dataset; shown on ``reports/<dataset>/summary.html``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from churn_research.narrate.format import count, get, pct, pct_ci, plural, ratio_ci, text

__all__ = ["Definition", "data_definitions", "churn_definitions", "change_definitions", "annual_churn", "annual_churn_measures",
           "CHURN_NOTE", "CHANGE_NOTE"]


@dataclass
class Definition:
    """One figure: what it is called, its value, what exactly it measures, its report."""

    name: str
    value: str
    measures: str
    stage: str


CHURN_NOTE = ("These answer different questions: a per-period rate counts the customers lost in "
              "one period among those who could be lost in it; a window share grows with the "
              "window's length; 1 − S(12) is a new customer's chance of leaving within a year; the "
              "annual rate of the base applies to customers of every tenure, who churn less than new "
              "ones; the model horizon is the risk model's label. Compare like with like.")
CHANGE_NOTE = ("The interrupted time series compares churn after the change with the pre-change "
               "trend continued; the Cox and driver models compare customers' hazards before and "
               "after, holding their other attributes equal; the pooled ratio ignores any trend. "
               "They estimate related but different quantities, so their intervals, not their "
               "point values, are what should agree.")


def annual_churn_measures(figs: Mapping[str, Any]) -> str:
    """How the dataset's annual churn (``annual_churn.*`` figures of
    :func:`churn_research.annual.annual_churn`) was measured, in one clause."""
    method = get(figs, "annual_churn.method")
    if method == "survival curve":
        by = get(figs, "annual_churn.by")
        return ("each active customer's chance of leaving within 12 months given their tenure, "
                "read off the Kaplan–Meier curve" + (f" of their {str(by).replace('_', ' ')}"
                                                     if by else "")
                + " (integer months; beyond the longest tenure at the "
                "curve's last-year hazard), averaged over the "
                f"{count(get(figs, 'annual_churn.active'))} active customers; the data are one "
                "snapshot, so the figure is indicative")
    months = get(figs, "annual_churn.months") or 12
    out = (f"of the {count(get(figs, 'annual_churn.at_risk'))} customers on the books on "
           f"{text(get(figs, 'annual_churn.window_start'))}, the share who left by "
           f"{text(get(figs, 'annual_churn.window_end'))}")
    if method == "window, annualised":
        out += (f" ({pct(get(figs, 'annual_churn.window_rate'))} in {plural(months, 'month')}), "
                f"annualised as 1 − (1 − rate)^(12/{months})")
    return out


def annual_churn(figs: Mapping[str, Any]) -> str:
    """The dataset's annual churn with its interval and definition, as one sentence (the same
    in every report that shows it); empty without ``annual_churn.*`` figures."""
    rate = get(figs, "annual_churn.rate")
    if rate is None:
        return ""
    return (f"Annual churn of the customer base: **"
            f"{pct_ci(rate, get(figs, 'annual_churn.ci_low'), get(figs, 'annual_churn.ci_high'))}**"
            f" — {annual_churn_measures(figs)}.")


def churn_definitions(figs: Mapping[str, Mapping[str, Any]]) -> list[Definition]:
    """The churn figures of the dataset's reports (``figs``: stage -> flat key figures)."""
    ind, surv = figs.get("10_indicators", {}), figs.get("30_survival", {})
    seg, clv = figs.get("40_segments", {}), figs.get("50_clv", {})
    out = []
    freq = get(ind, "freq", "period")
    snapshot = get(ind, "annual_churn.method") == "survival curve"
    if get(ind, "churn_rate") is not None and snapshot:
        out.append(Definition(
            f"Share who left in the snapshot's last {freq} ({text(get(ind, 'latest_period'))})",
            pct_ci(get(ind, "churn_rate"), get(ind, "churn_rate_ci_low"), get(ind, "churn_rate_ci_high")),
            "the dataset's churn flag: customers who left in that month / customers in the "
            "snapshot; a sample enriched for churners gives a share, not a monthly churn rate",
            "10_indicators"))
    elif get(ind, "churn_rate") is not None:
        out.append(Definition(
            f"Churn per {freq} (latest complete {freq}, {text(get(ind, 'latest_period'))})",
            pct_ci(get(ind, "churn_rate"), get(ind, "churn_rate_ci_low"), get(ind, "churn_rate_ci_high")),
            f"customers lost in the {freq} / customers who could have been lost in it (on the books "
            f"at its start or joining during it"
            + (", or returning after a lapse; every lapse counts, not only the last"
               if get(ind, "lapses") == "episodes" else "")
            + f"); {pct(get(ind, 'mean_churn_rate_per_period'))} per {freq} on average",
            "10_indicators"))
    if get(ind, "churn_rate_overall") is not None and not snapshot:
        out.append(Definition(
            f"Share lost over the window {text(get(ind, 'window_start'))} to {text(get(ind, 'window_end'))}",
            pct_ci(get(ind, "churn_rate_overall"), get(ind, "churn_rate_overall_ci_low"),
                   get(ind, "churn_rate_overall_ci_high")),
            "customers lost in the window / customers ever observed at risk in it; grows with the "
            "window's length", "10_indicators"))
    if get(ind, "cohort_retention_12m_median") is not None:
        out.append(Definition(
            "First-year churn of a typical monthly cohort",
            pct(1 - get(ind, "cohort_retention_12m_median")),
            "1 − the median share of a start month's customers still customers 12 months later",
            "10_indicators"))
    s12 = get(surv, "km_survival.12")
    if s12 is not None:
        low, high = get(surv, "km_survival_upper.12"), get(surv, "km_survival_lower.12")
        out.append(Definition(
            "First-year churn of a new customer, 1 − S(12)",
            pct_ci(1 - s12, None if low is None else 1 - low, None if high is None else 1 - high),
            "Kaplan–Meier: the chance that a customer leaves within 12 months of starting (with "
            "left truncation where the records start late)", "30_survival"))
    annual = clv if get(clv, "annual_churn.rate") is not None else ind
    if get(annual, "annual_churn.rate") is not None:
        out.append(Definition(
            "Annual churn of the customer base",
            pct_ci(get(annual, "annual_churn.rate"), get(annual, "annual_churn.ci_low"),
                   get(annual, "annual_churn.ci_high")),
            annual_churn_measures(annual) + "; the rate the cost of churn and the scenarios use",
            "10_indicators, 50_clv" if get(ind, "annual_churn.rate") is not None else "50_clv"))
    horizon = get(seg, "churn_rate_in_horizon")
    if horizon is not None:
        days = get(seg, "horizon_days")
        out.append(Definition(
            f"Churn within the risk model's horizon ({text(days)} days)",
            pct(horizon),
            "share of the customers active at the cutoff who churned within the horizon after it "
            "(the risk model's label)" if get(seg, "design") == "prospective" else
            "the dataset's churn flag among the customers in the snapshot (the model's label)",
            "40_segments"))
    return out


#: The estimates of the change effect: (stage, ratio key, low key, high key, name, what it measures).
_CHANGE_ESTIMATES = (
    ("10_indicators", "its.level_ratio", "its.level_ratio_ci_low", "its.level_ratio_ci_high",
     "Interrupted time series: level change",
     "churn right after the change / the pre-change trend continued"),
    ("30_survival", "change_hr", "change_hr_lower", "change_hr_upper",
     "Cox model: time-varying exposure to the change",
     "hazard after / before the change, covariates held equal"),
    ("20_causes", "driver_model.change.ratio", "driver_model.change.ci_low",
     "driver_model.change.ci_high", "Driver model: the change term",
     "monthly hazard after / before, other drivers held equal"),
    ("10_indicators", "before_after.ratio", "before_after.ratio_ci_low",
     "before_after.ratio_ci_high", "Pooled before/after ratio",
     "churn per period after / before, ignoring any trend"),
)


def change_definitions(figs: Mapping[str, Mapping[str, Any]]) -> list[Definition]:
    """The estimates of the business change's effect across the reports (empty without one)."""
    out = []
    for stage, key, low, high, name, measures in _CHANGE_ESTIMATES:
        f = figs.get(stage, {})
        if get(f, key) is None:
            continue
        if stage == "20_causes":
            name = f"{name} ({get(f, 'driver_model.ratio', 'ratio')})"
        out.append(Definition(name, ratio_ci(get(f, key), get(f, low), get(f, high)), measures,
                              stage))
    truth = get(figs.get("10_indicators", {}), "its.true_level_change")
    if out and truth is not None:
        out.append(Definition("The generator's true effect", f"{math.exp(truth):.2f}",
                              "the hazard ratio the synthetic data were generated with", "10_indicators"))
    return out


#: Where each figure of :func:`data_definitions` is reported.
_SEE = "on the summary page"


def data_definitions(data, annual_figures: Mapping[str, Any]) -> pd.DataFrame:
    """The definitions every stage uses, stated for these data (00_data's table).

    ``data`` is the :class:`~churn_research.model.ChurnData` being written; ``annual_figures``
    the flat figures of :func:`churn_research.annual.annual_churn` on it. The churn event, the
    active base and the annual churn carry their values here; the figures that need a stage's
    model carry theirs in that stage's report and side by side on the summary page.
    """
    obs = pd.Timestamp(data.observation_end)
    cust = data.customers
    lost = int(pd.to_datetime(cust["end_date"]).le(obs).sum())
    active = get(annual_figures, "annual_churn.active")
    if data.kind == "non-contractual":
        event = (f"no purchase for more than {data.inactivity_days} days, dated at the last purchase "
                 f"(a lapse is only visible {data.inactivity_days} days later, so churn windows end "
                 f"{data.inactivity_days} days before the observation end)")
    elif data.is_snapshot:
        event = ("the dataset's churn flag: left during the snapshot's last month (the only exits "
                 "these data record)")
    else:
        event = "an end date (contract ended) on or before the observation end"
    rows = [
        ("Churn (the event)", event, f"{count(lost)} customers ({pct(lost / len(cust) if len(cust) else None)})",
         "every report"),
        ("Active customers (the base)", f"customers on the books on {obs:%Y-%m-%d}: started by then, "
         "not lost by then", count(active), "every report"),
        ("Churn per period", "customers lost in the period / customers who could have been lost in "
         "it (on the books at its start or joining during it)", _SEE, "10_indicators"),
        ("Share lost over a window", "customers lost in the window / customers ever at risk in it; "
         "grows with the window's length, so it is not a yearly rate", _SEE, "10_indicators"),
        ("Annual churn of the customer base", annual_churn_measures(annual_figures),
         pct_ci(get(annual_figures, "annual_churn.rate"), get(annual_figures, "annual_churn.ci_low"),
                get(annual_figures, "annual_churn.ci_high")), "10_indicators, 50_clv"),
        ("First-year churn of a new customer, 1 − S(12)", "Kaplan–Meier: the chance that a "
         "customer leaves within 12 months of starting; higher than the annual churn of the base "
         "when new customers churn more than established ones", _SEE, "30_survival"),
        ("Churn within the risk model's horizon", "the share of the customers active at the model's "
         "cutoff who churned within its horizon (one snapshot: the churn flag)", _SEE, "40_segments"),
    ]
    return pd.DataFrame(rows, columns=["figure", "what it counts, for these data", "value", "report"])
