"""Definitions and how the numbers relate: every churn figure a reader meets across the reports
of one dataset, side by side with what it measures, so that two different numbers for "churn"
(or for the effect of the business change) read as answers to different questions rather than
as a contradiction.

Built from the key figures of all stages of a dataset; shown on ``reports/<dataset>/summary.html``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from churn_research.i18n import _, label, label_msg, n_, t
from churn_research.narrate.data import paren
from churn_research.narrate.format import count, get, money, money_ci, pct, pct_ci, ratio_ci, text
from churn_research.wording import gap

__all__ = ["Definition", "data_definitions", "churn_definitions", "change_definitions", "annual_churn", "annual_churn_measures",
           "churn_note", "change_note", "change_models_note", "money_definitions", "money_note"]  # CHURN_NOTE, CHANGE_NOTE: module attributes (__getattr__)

#: The period units and the driver model's ratios a definition names (data labels, context "label").
UNITS = (label_msg("month"), label_msg("quarter"), label_msg("half-year"), label_msg("year"),
         label_msg("period"))
RATIOS = (label_msg("hazard ratio"), label_msg("odds ratio"))


@dataclass
class Definition:
    """One figure: what it is called, its value, what exactly it measures, its report."""

    name: str
    value: str
    measures: str
    stage: str


def churn_note() -> str:
    """The note under the churn definitions (in the report language)."""
    return _("These answer different questions: a per-period rate counts the customers lost in "
             "one period among those who could be lost in it; a window share grows with the "
             "window's length; 1 − S(12) is a new customer's chance of leaving within a year; the "
             "annual rate of the base applies to customers of every tenure, who churn less than new "
             "ones; the model horizon is the risk model's label. Compare like with like.")


def change_note() -> str:
    """The note under the estimates of the change's effect (in the report language)."""
    return _("The interrupted time series compares churn after the change with the pre-change "
             "trend continued; the Cox and driver models compare customers' hazards before and "
             "after, holding their other attributes equal; the pooled ratio ignores any trend. "
             "They estimate related but different quantities, so their intervals, not their "
             "point values, are what should agree.") + gap() + change_models_note()


def change_models_note() -> str:
    """Why the Cox model's and the driver model's change ratios differ a little (the second part
    of :func:`change_note`)."""
    return _("Both hazard models hold a retention campaign's contact fixed where the data record "
             "one (otherwise customers the campaign kept after the change would read as a smaller "
             "change effect), but they differ in form: the Cox model (30_survival) leaves the "
             "baseline hazard over tenure free and uses the exact exit times; the driver model "
             "(20_causes) is a complementary log-log model on calendar-month rows with a log-tenure "
             "(Weibull) baseline that also holds its other time-varying drivers fixed (such as the "
             "last survey answer), so its point value differs a little from the Cox model's.")


def __getattr__(name: str) -> str:
    # CHURN_NOTE / CHANGE_NOTE are read when shown, so that they are in the report's language
    if name == "CHURN_NOTE":
        return churn_note()
    if name == "CHANGE_NOTE":
        return change_note()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def annual_churn_measures(figs: Mapping[str, Any]) -> str:
    """How the dataset's annual churn (``annual_churn.*`` figures of
    :func:`churn_research.annual.annual_churn`) was measured, in one clause."""
    method = get(figs, "annual_churn.method")
    if method == "survival curve":
        by = get(figs, "annual_churn.by")
        active = count(get(figs, "annual_churn.active"))
        if by:
            return t("each active customer's chance of leaving within 12 months given their tenure, "
                     "read off the Kaplan–Meier curve of their {by} (integer months; beyond the "
                     "longest tenure at the curve's last-year hazard), averaged over the {n} active "
                     "customers; the data are one snapshot, so the figure is indicative",
                     by=label(by) if label(by) != str(by) else str(by).replace("_", " "), n=active)
        return t("each active customer's chance of leaving within 12 months given their tenure, "
                 "read off the Kaplan–Meier curve (integer months; beyond the longest tenure at the "
                 "curve's last-year hazard), averaged over the {n} active customers; the data are "
                 "one snapshot, so the figure is indicative", n=active)
    months = get(figs, "annual_churn.months") or 12
    values = {"n": count(get(figs, "annual_churn.at_risk")),
              "start": text(get(figs, "annual_churn.window_start")),
              "end": text(get(figs, "annual_churn.window_end"))}
    if method == "window, annualised":
        return t("of the {n} customers on the books on {start}, the share who left by {end} ({rate} "
                 "in {period}), annualised as 1 − (1 − rate)^(12/{months})",
                 rate=pct(get(figs, "annual_churn.window_rate")),
                 period=n_("{n} month", "{n} months", months), months=months, **values)
    return t("of the {n} customers on the books on {start}, the share who left by {end}", **values)


def annual_churn(figs: Mapping[str, Any]) -> str:
    """The dataset's annual churn with its interval and definition, as one sentence (the same
    in every report that shows it); empty without ``annual_churn.*`` figures."""
    rate = get(figs, "annual_churn.rate")
    if rate is None:
        return ""
    return t("Annual churn of the customer base: **{value}** — {measures}.",
             value=pct_ci(rate, get(figs, "annual_churn.ci_low"), get(figs, "annual_churn.ci_high")),
             measures=annual_churn_measures(figs))


def churn_definitions(figs: Mapping[str, Mapping[str, Any]]) -> list[Definition]:
    """The churn figures of the dataset's reports (``figs``: stage -> flat key figures)."""
    ind, surv = figs.get("10_indicators", {}), figs.get("30_survival", {})
    seg, clv = figs.get("40_segments", {}), figs.get("50_clv", {})
    out = []
    freq = label(get(ind, "freq", "period"))
    snapshot = get(ind, "annual_churn.method") == "survival curve"
    if get(ind, "churn_rate") is not None and snapshot:
        out.append(Definition(
            t("Share who left in the snapshot's last {freq} ({period})", freq=freq,
              period=text(get(ind, "latest_period"))),
            pct_ci(get(ind, "churn_rate"), get(ind, "churn_rate_ci_low"), get(ind, "churn_rate_ci_high")),
            _("the dataset's churn flag: customers who left in that month / customers in the "
              "snapshot; a sample enriched for churners gives a share, not a monthly churn rate"),
            "10_indicators"))
    elif get(ind, "churn_rate") is not None:
        mean = pct(get(ind, "mean_churn_rate_per_period"))
        out.append(Definition(
            t("Churn per {freq} (latest complete {freq}, {period})", freq=freq,
              period=text(get(ind, "latest_period"))),
            pct_ci(get(ind, "churn_rate"), get(ind, "churn_rate_ci_low"), get(ind, "churn_rate_ci_high")),
            t("customers lost in the {freq} / customers who could have been lost in it (on the books "
              "at its start or joining during it, or returning after a lapse; every lapse counts, "
              "not only the last); {mean} per {freq} on average", freq=freq, mean=mean)
            if get(ind, "lapses") == "episodes" else
            t("customers lost in the {freq} / customers who could have been lost in it (on the books "
              "at its start or joining during it); {mean} per {freq} on average", freq=freq, mean=mean),
            "10_indicators"))
    if get(ind, "churn_rate_overall") is not None and not snapshot:
        out.append(Definition(
            t("Share lost over the window {start} to {end}", start=text(get(ind, "window_start")),
              end=text(get(ind, "window_end"))),
            pct_ci(get(ind, "churn_rate_overall"), get(ind, "churn_rate_overall_ci_low"),
                   get(ind, "churn_rate_overall_ci_high")),
            _("customers lost in the window / customers ever observed at risk in it; grows with the "
              "window's length"), "10_indicators"))
    if get(ind, "cohort_retention_12m_median") is not None:
        out.append(Definition(
            _("First-year churn of a typical monthly cohort"),
            pct(1 - get(ind, "cohort_retention_12m_median")),
            _("1 − the median share of a start month's customers still customers 12 months later"),
            "10_indicators"))
    s12 = get(surv, "km_survival.12")
    if s12 is not None:
        low, high = get(surv, "km_survival_upper.12"), get(surv, "km_survival_lower.12")
        out.append(Definition(
            _("First-year churn of a new customer, 1 − S(12)"),
            pct_ci(1 - s12, None if low is None else 1 - low, None if high is None else 1 - high),
            _("Kaplan–Meier: the chance that a customer leaves within 12 months of starting (with "
              "left truncation where the records start late)"), "30_survival"))
    annual = clv if get(clv, "annual_churn.rate") is not None else ind
    if get(annual, "annual_churn.rate") is not None:
        out.append(Definition(
            _("Annual churn of the customer base"),
            pct_ci(get(annual, "annual_churn.rate"), get(annual, "annual_churn.ci_low"),
                   get(annual, "annual_churn.ci_high")),
            t("{measures}; the rate the cost of churn and the scenarios use",
              measures=annual_churn_measures(annual)),
            "10_indicators, 50_clv" if get(ind, "annual_churn.rate") is not None else "50_clv"))
    horizon = get(seg, "churn_rate_in_horizon")
    if horizon is not None:
        days = get(seg, "horizon_days")
        out.append(Definition(
            t("Churn within the risk model's horizon ({days} days)", days=text(days)),
            pct(horizon),
            _("share of the customers active at the cutoff who churned within the horizon after it "
              "(the risk model's label)") if get(seg, "design") == "prospective" else
            _("the dataset's churn flag among the customers in the snapshot (the model's label)"),
            "40_segments"))
    return out


def _change_estimates() -> tuple[tuple[str, str, str, str, str, str], ...]:
    """The estimates of the change effect: (stage, ratio key, low key, high key, name, what it
    measures), named in the report language."""
    return (
        ("10_indicators", "its.level_ratio", "its.level_ratio_ci_low", "its.level_ratio_ci_high",
         _("Interrupted time series: level change"),
         _("churn right after the change / the pre-change trend continued")),
        ("30_survival", "change_hr", "change_hr_lower", "change_hr_upper",
         _("Cox model: time-varying exposure to the change"),
         _("hazard after / before the change, covariates held equal")),
        ("20_causes", "driver_model.change.ratio", "driver_model.change.ci_low",
         "driver_model.change.ci_high", _("Driver model: the change term"),
         _("monthly hazard after / before, other drivers held equal")),
        # the interval widened for overdispersion, as the report's sentence and Findings give it
        ("10_indicators", "before_after.ratio", "before_after.ratio_ci_adjusted_low",
         "before_after.ratio_ci_adjusted_high", _("Pooled before/after ratio"),
         _("churn per period after / before, ignoring any trend")),
    )


#: The key figure that shows a stage's change model held a retention campaign's contact fixed.
_CONTACT_HELD = {"30_survival": "campaign_contact_hr", "20_causes": "driver_model.campaign_contact.ratio"}


def change_definitions(figs: Mapping[str, Mapping[str, Any]]) -> list[Definition]:
    """The estimates of the business change's effect across the reports (empty without one)."""
    out = []
    for stage, key, low, high, name, measures in _change_estimates():
        f = figs.get(stage, {})
        if get(f, key) is None:
            continue
        if stage in _CONTACT_HELD and get(f, _CONTACT_HELD[stage]) is not None:
            measures = t("{measures}; a retention campaign's contact held fixed too", measures=measures)
        if stage == "20_causes":
            name = paren(name, label(get(f, "driver_model.ratio", "ratio")))
        out.append(Definition(name, ratio_ci(get(f, key), get(f, low), get(f, high)), measures,
                              stage))
    truth = get(figs.get("10_indicators", {}), "its.true_level_change")
    if out and truth is not None:
        out.append(Definition(_("The generator's true effect"), f"{math.exp(truth):.2f}",
                              _("the hazard ratio the synthetic data were generated with"),
                              "10_indicators"))
    return out


def data_definitions(data, annual_figures: Mapping[str, Any]) -> pd.DataFrame:
    """The definitions every stage uses, stated for these data (00_data's table).

    ``data`` is the :class:`~churn_research.model.ChurnData` being written; ``annual_figures``
    the flat figures of :func:`churn_research.annual.annual_churn` on it. The churn event, the
    active base and the annual churn carry their values here; the figures that need a stage's
    model carry theirs in that stage's report and side by side on the summary page. The table
    is for display: its headers and text are in the report language.
    """
    obs = pd.Timestamp(data.observation_end)
    cust = data.customers
    lost = int(pd.to_datetime(cust["end_date"]).le(obs).sum())
    active = get(annual_figures, "annual_churn.active")
    if data.kind == "non-contractual":
        event = t("no purchase for more than {days} days, dated at the last purchase (a lapse is only "
                  "visible {days} days later, so churn windows end {days} days before the "
                  "observation end)", days=data.inactivity_days)
    elif data.is_snapshot:
        event = _("the dataset's churn flag: left during the snapshot's last month (the only exits "
                  "these data record)")
    else:
        event = _("an end date (contract ended) on or before the observation end")
    see = _("on the summary page")          # where each figure that needs a stage's model is
    every = _("every report")
    rows = [
        (_("Churn (the event)"), event,
         t("{n} customers ({share})", n=count(lost), share=pct(lost / len(cust) if len(cust) else None)),
         every),
        (_("Active customers (the base)"),
         t("customers on the books on {date}: started by then, not lost by then",
           date=f"{obs:%Y-%m-%d}"), count(active), every),
        (_("Churn per period"), _("customers lost in the period / customers who could have been lost "
                                  "in it (on the books at its start or joining during it)"),
         see, "10_indicators"),
        (_("Share lost over a window"), _("customers lost in the window / customers ever at risk in "
                                          "it; grows with the window's length, so it is not a "
                                          "yearly rate"), see, "10_indicators"),
        (_("Annual churn of the customer base"), annual_churn_measures(annual_figures),
         pct_ci(get(annual_figures, "annual_churn.rate"), get(annual_figures, "annual_churn.ci_low"),
                get(annual_figures, "annual_churn.ci_high")), "10_indicators, 50_clv"),
        (_("First-year churn of a new customer, 1 − S(12)"),
         _("Kaplan–Meier: the chance that a customer leaves within 12 months of starting; higher "
           "than the annual churn of the base when new customers churn more than established ones"),
         see, "30_survival"),
        (_("Churn within the risk model's horizon"),
         _("the share of the customers active at the model's cutoff who churned within its horizon "
           "(one snapshot: the churn flag)"), see, "40_segments"),
    ]
    return pd.DataFrame(rows, columns=[_("figure"), _("what it counts, for these data"), _("value"),
                                       _("report")])


def money_note() -> str:
    """The note under the money figures (in the report language)."""
    return _("These figures measure different things over different customers and horizons: "
             "compare like with like, and read each one with its base.")


def value_model_name(definition: str) -> str:
    """The key figure ``clv.definition`` of 50_clv (English in the JSON) as a reader sees it:
    the value model's name, shared by 50_clv's findings and the summary's money table."""
    if definition == "residual lifetime value of active customers (survival curve)":
        return _("residual lifetime value of active customers (survival curve)")
    m = re.fullmatch(r"(.+)-year BG/NBD x Gamma-Gamma value", definition)
    if m:
        return t("{years}-year BG/NBD x Gamma-Gamma value", years=m[1])
    if definition == "lifetime value":
        return _("lifetime value")
    return definition


def reads_as_probabilities(retention: Mapping[str, Any]) -> bool:
    """Whether 60_retention's scores in use are shown right as churn probabilities (its key figure
    ``calibration.probabilities``: calibrated scores, or the model's own already within the
    calibration tolerance; figures written before it: whether calibrated scores were used)."""
    return get(retention, "calibration.probabilities", get(retention, "calibration.used")) is not False


def _winback_definitions(ret: Mapping[str, Any], currency: str | None) -> list[Definition]:
    """The win-back list's money figure with its base: customers already lost (not active ones),
    revenue (not profit), and the return model's chance when a purchase log shows returns."""
    value, expected = get(ret, "winback.lost_value"), get(ret, "winback.expected_recovered_value")
    if value is None:
        return []
    snapshot = get(ret, "winback.snapshot_date")
    who = (t("the {n} customers who had left by the snapshot of {date} (already lost, not active)",
             n=count(get(ret, "winback.lost_by_snapshot")), date=text(snapshot)) if snapshot is not None
           else t("the {n} customers lost in the last {days} days (already lost, not active)",
                  n=count(get(ret, "winback.recently_lost")), days=text(get(ret, "winback.days"))))
    months = next((m for m in (12, 6) if get(ret, f"winback.return_{m}m.auc") is not None), None)
    if expected is not None and months is not None:
        return [Definition(
            _("Expected recovered value of the win-back list"), money(expected, currency),
            t("{who}: P(return within {months} months) from the return model of 60_retention × the "
              "revenue of their last year before the loss; revenue, not profit, and a stated base "
              "(a year's revenue per expected return), not a forecast of what returners will spend",
              who=who, months=months), "60_retention")]
    return [Definition(
        _("Revenue taken by the lost customers of the win-back list"), money(value, currency),
        t("{who}: the revenue of their last year before the loss; revenue, not profit, and none "
          "of it weighted by a chance of returning", who=who), "60_retention")]


def money_definitions(figs: Mapping[str, Mapping[str, Any]], *, currency: str | None = "") -> list[Definition]:
    """The money figures of the summary with their bases: which customers, the horizon, the
    model and the stage each comes from (``figs``: stage -> flat key figures)."""
    clv, ret = figs.get("50_clv", {}), figs.get("60_retention", {})
    out = []
    model = value_model_name(str(get(clv, "clv.definition", "lifetime value")))
    active = get(clv, "cost_of_churn.customers_active")
    cost = get(clv, "annual_cost_of_churn")
    if cost is not None:
        out.append(Definition(
            _("Annual cost of churn (profit lost in a year)"),
            money_ci(cost, get(clv, "cost_of_churn.lost_profit_ci_low"),
                     get(clv, "cost_of_churn.lost_profit_ci_high"), currency),
            t("the {n} customers active now × annual churn {rate} × annual revenue per customer "
              "{revenue} × margin {margin}: one year of profit of the customers expected to leave; "
              "no model beyond the annual churn rate", n=count(active),
              rate=pct(get(clv, "cost_of_churn.annual_churn_rate")),
              revenue=money(get(clv, "cost_of_churn.annual_revenue_per_customer"), currency),
              margin=pct(get(clv, "margin"), 0)), "50_clv"))
    lost = get(clv, "money_at_risk.expected_loss")
    if lost is not None:
        out.append(Definition(
            t("Value lost to churn within {months} months",
              months=text(get(clv, "money_at_risk.horizon_months", 12))), money(lost, currency),
            t("the {n} customers active now: P(churn within {months} months) × residual value, "
              "both from 50_clv's value model ({model}); future profit, not revenue",
              n=count(get(clv, "money_at_risk.customers")),
              months=text(get(clv, "money_at_risk.horizon_months", 12)), model=model), "50_clv"))
    risk = get(ret, "money_at_risk.all.expected_loss")
    if risk is not None and get(ret, "design") == "cross-sectional":
        score = (_("the churn-risk model's own score (calibration did not improve it)")
                 if get(ret, "calibration.used") is False else _("the churn-risk model's calibrated score"))
        out.append(Definition(
            _("Money at risk (one snapshot)"), money(risk, currency),
            t("the {n} customers active now: {score} × residual value "
              "from 50_clv ({model}); in one snapshot the score says how much a customer resembles "
              "those who left, not their chance of leaving within a period, so this is not "
              "comparable with the value lost within 12 months", score=score,
              n=count(get(ret, "money_at_risk.all.customers")), model=model), "60_retention"))
    if risk is not None and get(ret, "design") != "cross-sectional":
        if get(ret, "calibration.used") is False:
            base = t("the {n} customers active now: P(churn within {days} days) from the churn-risk "
                     "model of 40_segments (its own scores: calibration did not improve them) × "
                     "residual value from 50_clv ({model})",
                     n=count(get(ret, "money_at_risk.all.customers")),
                     days=text(get(ret, "horizon_days")), model=model)
        else:
            base = t("the {n} customers active now: calibrated P(churn within {days} days) from the "
                     "churn-risk model of 40_segments × residual value from 50_clv ({model})",
                     n=count(get(ret, "money_at_risk.all.customers")),
                     days=text(get(ret, "horizon_days")), model=model)
        noncontractual = get(clv, "kind") == "non-contractual" or get(ret, "money_at_risk.value_model") == "non-contractual"
        if noncontractual:
            base += _("; churn here is the inactivity rule, which also counts customers who will buy "
                      "again, while the value lost within 12 months uses the BG/NBD probability of "
                      "having stopped for good, so this figure can be the larger")
        if noncontractual or not reads_as_probabilities(ret):
            name = t("Risk-weighted value within {days} days (a ranking, not an expected loss)",
                     days=text(get(ret, "horizon_days")))
        else:
            name = t("Money at risk within {days} days", days=text(get(ret, "horizon_days")))
        out.append(Definition(name, money(risk, currency), base, "60_retention"))
    out += _winback_definitions(ret, currency)
    from churn_research.narrate.actions import value_per_active_customer  # noqa: PLC0415

    value = value_per_active_customer(clv)
    if value is not None:
        out.append(Definition(
            _("Value of a customer kept"), money(value, currency),
            t("mean residual value of the {n} customers active now ({model}): the future profit a "
              "customer kept brings", n=count(active), model=model), "50_clv"))
    camp = get(ret, "campaign.value_per_customer")
    if camp is not None:
        out.append(Definition(
            _("Value of a customer kept by the campaign"), money(camp, currency),
            t("mean residual value ({model}) of the customers contacted, on the campaign's date "
              "{date}: what the campaign's customers saved are valued at", model=model,
              date=text(get(ret, "campaign.date"))), "60_retention"))
    return out
