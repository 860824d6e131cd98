"""Findings of 10_indicators: how many customers are lost per period, and did the business
change make it worse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from churn_research.indicators.churn import latest_period
from churn_research.indicators.figures import (
    COHORT_MONTH,
    MIN_PERIODS_AFTER,
    MIN_PERIODS_BEFORE,
    ImpactReadiness,
    cohort_retention_at,
    cohorts_followable,
    flagged_periods,
    has_trend,
    tenure_groups,
    trend_periods,
)
from churn_research.indicators.impact import BeforeAfter, ControlChart, InterruptedTimeSeries
from churn_research.indicators.impact import verdict as impact_verdict
from churn_research.model import ChurnData, yes_no
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    count,
    get,
    not_available,
    pct,
    pct_ci,
    pvalue,
    ratio_ci,
    text,
)


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
        first, last = get(figures, "mean_churn_rate_first_period"), get(figures, "mean_churn_rate_last_period")
        span = (f"from {text(first)} to {text(last)} (after the {freq}s of heavy acquisition)"
                if first is not None and last is not None else
                f"from {text(get(figures, 'window_start'))} to {text(get(figures, 'window_end'))}")
        latest_text = (f"Churn was {rate} in the latest complete {freq} ({latest}), against "
                       f"{pct(get(figures, 'mean_churn_rate_per_period'))} per {freq} on average {span}.")
    if context.get("kind") == "non-contractual" and not snapshot:
        days = context.get("inactivity_days", 180)
        if get(figures, "lapses") == "episodes":
            latest_text += (f" Churn is inferred: every gap of more than {days} days without a purchase "
                            f"is a lapse, counted in the {freq} of the purchase before it, and a customer "
                            "who buys again is at risk again from then on; a lapse is visible only "
                            f"{days} days later, so the window ends on {text(get(figures, 'window_end'))}.")
        else:
            latest_text += (f" Churn is inferred after {days} days without "
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
    if new is not None and old is not None and context.get("snapshot"):
        keys.append(Finding(f"{pct(new)} of the new customers in the snapshot left in its last "
                            f"{freq}, against {pct(old)} of existing customers.",
                            "New vs existing customers"))
    elif new is not None and old is not None:
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


# --- the sentences of each section of the report ---------------------------------------------
# Each takes the stage's result objects or tables and returns Markdown; the notebook displays it.

def window_text(data: ChurnData, *, dataset: str, window, unit: str, impact_unit: str,
                inactivity_days: int | None = None) -> str:
    """Which data, over which window, in which periods; how churn is dated."""
    start, end = window
    notes = []
    if data.kind == "non-contractual":
        days = inactivity_days or data.inactivity_days
        notes.append(
            f"Churn is **inferred** (non-contractual data). A **lapse** is a gap of more than {days} days "
            "without a purchase, between two purchases of a customer or after their last one; it counts "
            f"as a loss in the {unit} of the purchase before the gap. A customer who buys again after a "
            f"lapse **returns** and is at risk again from that purchase on. Every churn rate per {unit} in "
            f"this report counts every lapse, so every {unit} is judged with the same {days} days of "
            "hindsight. The share lost over the window and cohort retention count only each "
            "customer's final lapse (lost for good): their "
            f"last purchase, if no purchase followed for more than {days} days before the snapshot "
            f"({data.observation_end:%Y-%m-%d}). A lapse is only visible {days} days later, so the window "
            f"ends on {end:%Y-%m-%d}: later periods would show no churn yet. Customers who joined in the "
            f"last {days} days cannot be classed yet ('undetermined').")
    if data.is_snapshot:
        notes.append("This dataset is **one snapshot**: churn is only recorded for the month before the "
                     "snapshot, so there is one period and no trend over time.")
    if data.records_start is not None:
        notes.append(f"Records start on {data.records_start:%Y-%m-%d}; customers who joined earlier enter "
                     "the counts as customers at risk from then on (earlier churn is unknown).")
    return (f"**Dataset:** {dataset} ({data.kind}); {len(data.customers):,} customers.  \n"
            f"**Observation window:** {start:%Y-%m-%d} to {end:%Y-%m-%d}; dashboard periods are "
            f"{unit}s, change-impact periods are {impact_unit}s. A period cut short by the window is "
            "marked partial and left out of trend lines.  \n" + "  \n".join(notes))


def churn_text(overall: Mapping[str, Any], latest: pd.Series, *, unit: str) -> str:
    """Churn over the whole window and in the latest period."""
    complete = "" if latest["partial"] else "complete "
    final = overall.get("lapses") == "final"
    returns = int(latest.get("returned", 0) or 0)
    return (
        f"Over the whole window {overall['churned']:,} of the {overall['customers_at_risk']:,} customers "
        f"ever observed at risk were lost{' for good (final lapse)' if final else ''}: "
        f"**{overall['churn_rate']:.1%}** (95% CI {overall['ci_low']:.1%}–"
        f"{overall['ci_high']:.1%}; this share grows with the window's length). In the latest "
        f"{complete}{unit} ({latest['period']}) churn was **{latest['churn_rate']:.2%}** (95% CI "
        f"{latest['churn_ci_low']:.2%}–{latest['churn_ci_high']:.2%}), i.e. retention "
        f"{latest['retention_rate']:.2%}"
        + (f"; {returns:,} customer{'s' if returns != 1 else ''} returned after a lapse in it"
           if returns else "")
        + f". The table shows the last 12 {unit}s (`churned_new`: joined "
        + ("or returned, " if "returned" in latest and final else "")
        + "and left within the period; "
        + ("`returned`: bought again after a lapse; " if "returned" in latest and final else "")
        + "`exposed` is the denominator).")


def trend_text(table: pd.DataFrame, *, kind: str, unit: str, event_date=None) -> str:
    """How churn per period moved over the window (from the periods that describe the trend)."""
    if not has_trend(table):
        return (f"Only one {unit} can be measured, so there is no trend to plot; the figures above "
                "are the whole story over time.")
    trend, inflated = trend_periods(table, kind=kind)
    episodes = table.attrs.get("lapses") == "episodes"
    caveat = ""
    if inflated is not None:
        who = ("customers who lapse right after their first purchase" if episodes
               else "customers who never bought again")
        caveat = (f"Churn is inferred from inactivity, so {who} count as lost "
                  f"in the {unit} they joined: the {unit}s of heavy acquisition before "
                  f"{trend['period'].iloc[0]} show inflated churn (up to {inflated:.0%}) and are left out "
                  "of the trend and the figure. ")
    first, last = trend.iloc[0], trend.iloc[-1]
    return (caveat + f"Churn per {unit} moved from {first['churn_rate']:.2%} ({first['period']}) to "
            f"{last['churn_rate']:.2%} ({last['period']}); shaded bands are 95% Wilson intervals"
            + (", the dotted line marks the business change." if event_date is not None else ".")
            + (_returns_text(trend, unit=unit) if episodes else ""))


def _returns_text(trend: pd.DataFrame, *, unit: str) -> str:
    """Where returns enter the trend: how many, how many lapse again at once, and churn among
    the customers on the books at the start of the first and last trend periods ("" without
    returns)."""
    back = trend[trend["returned"] > 0]
    if back.empty:
        return ""
    first, last = trend.iloc[0], trend.iloc[-1]

    def on_books(row) -> str:
        return f"{(row['churned'] - row['churned_new']) / row['at_risk']:.2%}" if row["at_risk"] else "–"

    return (f" Customers who buy again after a lapse count again from the {unit} of that purchase "
            f"(from {back['period'].iloc[0]}; {int(last['returned']):,} in {last['period']}), and "
            f"many lapse again in the same {unit} ({int(last['churned_new']):,} in {last['period']}). "
            f"Among the customers on the books at the start of a {unit}, churn moved from "
            f"{on_books(first)} ({first['period']}) to {on_books(last)} ({last['period']}).")


def segments_unavailable(segments) -> str:
    """Why there is no churn by segment: none requested, or none of them in the data."""
    if not segments:
        return not_available("churn by segment", "no segment columns are set (parameter `segments`)")
    wanted = ", ".join(f"`{c}`" for c in segments)
    return not_available("churn by segment", "none of the segment columns in the parameters "
                         f"({wanted}) is in the customers table")


def segment_sentence(pooled: pd.DataFrame, column: str, *, unit: str) -> str:
    """The segments with the highest and the lowest pooled churn, and whether the gap is clear."""
    top, bottom = pooled.iloc[0], pooled.iloc[-1]
    overlap = top["ci_low"] <= bottom["ci_high"]
    return (f"By **{column}**: highest churn in *{yes_no(top[column])}* ({top['rate']:.2%} per {unit}, "
            f"95% CI {top['ci_low']:.2%}–{top['ci_high']:.2%}), lowest in *{yes_no(bottom[column])}* "
            f"({bottom['rate']:.2%}, {bottom['ci_low']:.2%}–{bottom['ci_high']:.2%})"
            + ("; their intervals overlap, so the difference is not clear." if overlap
               else "; the gap is clear."))


def tenure_sentence(pooled: pd.DataFrame, *, unit: str) -> str:
    """New vs existing customers' pooled churn (``pooled`` indexed by ``tenure_group``)."""
    groups = tenure_groups(pooled)
    if groups is None:
        return not_available("the comparison of new and existing customers",
                             "one of the two groups has no customers in the window")
    n_, e_ = groups
    clear = n_["ci_low"] > e_["ci_high"] or e_["ci_low"] > n_["ci_high"]
    return (f"New customers (新客户) lost {n_['rate']:.2%} per {unit} (95% CI {n_['ci_low']:.2%}–"
            f"{n_['ci_high']:.2%}), existing ones (老客户) {e_['rate']:.2%} ({e_['ci_low']:.2%}–"
            f"{e_['ci_high']:.2%}): "
            + ("new customers churn more" if n_["rate"] > e_["rate"] else "existing customers churn more")
            + (" and the intervals do not overlap." if clear else ", but the intervals overlap.")
            + f" (New customers are on the books for part of the {unit} they join in, which lowers "
            "their rate.)")


def tenure_title(new_tenure_months: int, *, unit: str | None = None) -> str:
    """The title of the new-vs-existing chart (per ``unit`` when drawn over time)."""
    what = f"Churn per {unit}" if unit else "Churn"
    return f"{what}: new (< {new_tenure_months} months) vs existing customers"


def complaint_sentence(table: pd.DataFrame | None) -> str:
    """Complaints in the latest period (``table`` from
    :func:`~churn_research.indicators.complaint_table`; None: not measurable)."""
    if table is None:
        return not_available("complaint rates", "the data have no tickets table")
    lc = latest_period(table)
    return (f"In {lc['period']} {lc['complaints']:,} complaints came from {lc['complainants']:,} of "
            f"{lc['active']:,} active customers: {lc['complaint_rate']:.3f} complaints per active customer "
            f"and {lc['share_complaining']:.1%} of customers complaining (95% CI "
            f"{lc['share_complaining_ci_low']:.1%}–{lc['share_complaining_ci_high']:.1%}).")


SURVEYS_UNAVAILABLE = not_available("satisfaction (CSAT) and recommendation (NPS)",
                                    "the data have no surveys table")


def survey_sentence(table: pd.DataFrame, measure: str, *, satisfied_min: int) -> str:
    """CSAT (``measure="csat"``) or NPS (``"nps"``) in the latest period, the change since the
    first period with answers, and — when it rose — the survivor-selection caveat."""
    ls = latest_period(table)
    if measure == "csat":
        out = (f"In {ls['period']} mean CSAT was **{ls['csat']:.2f}** (95% CI {ls['csat_ci_low']:.2f}–"
               f"{ls['csat_ci_high']:.2f}, {int(ls['csat_responses']):,} answers); "
               f"{ls['share_satisfied']:.1%} answered {satisfied_min} or 5 (satisfied).")
    else:
        out = (f"In {ls['period']} the NPS was **{ls['nps']:+.1f}** (95% CI {ls['nps_ci_low']:+.1f} to "
               f"{ls['nps_ci_high']:+.1f}): {ls['recommendation_rate']:.1%} promoters (would "
               f"recommend, 9–10) and {ls['detractors'] / ls['nps_responses']:.1%} detractors (0–6).")
    return out + survivor_note(table, measure)


def survivor_note(table: pd.DataFrame, measure: str) -> str:
    """The change of a survey measure since the first period with answers, and, when it rose
    beyond that period's interval, that survivor selection can drive such a rise (the
    dissatisfied leave, so those still answering are increasingly the satisfied)."""
    answered = table.dropna(subset=[measure, f"{measure}_ci_high"])
    if "partial" in answered:
        answered = answered.loc[~answered["partial"].fillna(False).astype(bool)]
    if len(answered) < 2:
        return ""
    first, last = answered.iloc[0], answered.iloc[-1]
    fmt = "{:.2f}" if measure == "csat" else "{:+.1f}"
    name = "CSAT" if measure == "csat" else "the NPS"
    if last[measure] <= first[f"{measure}_ci_high"]:
        return ""
    return (f" {name[0].upper()}{name[1:]} rose from {fmt.format(first[measure])} in "
            f"{first['period']}. Part of such a rise can be survivor selection: dissatisfied "
            "customers leave, so those still answering are increasingly the satisfied ones; read it "
            "as an improvement only if the same customers (or each start cohort) rate higher too.")


def repeat_sentence(table: pd.DataFrame | None, *, recurring_col: str | None = None) -> str:
    """Repeat purchases in the latest period (None: not measurable)."""
    if table is None:
        return not_available("repeat purchases", "the data have no transactions table")
    lr = latest_period(table)
    return (f"In {lr['period']} {lr['repeat_buyers']:,} of the {lr['buyers_before']:,} active customers "
            f"who had bought before bought again: **{lr['repeat_purchase_rate']:.1%}** (95% CI "
            f"{lr['repeat_ci_low']:.1%}–{lr['repeat_ci_high']:.1%})."
            + (f" Recurring invoices (amount equal to `{recurring_col}`) are not counted as purchases."
               if recurring_col else ""))


def revenue_sentence(table: pd.DataFrame | None, recurring: pd.DataFrame | None = None, *,
                     unit: str) -> str:
    """GRR and NRR of the latest period, on all revenue and (if given) on recurring invoices."""
    if table is None:
        return not_available("revenue retention", "the data have no transactions table")
    lv = latest_period(table)
    text_ = (f"In {lv['period']} GRR was **{lv['grr']:.1%}** and NRR **{lv['nrr']:.1%}** of "
             f"the previous {unit}'s revenue from the same customers (all transactions).")
    if recurring is not None:
        lm = latest_period(recurring)
        text_ += (f" On recurring invoices only (the subscription view) GRR was {lm['grr']:.1%} "
                  f"and NRR {lm['nrr']:.1%}; the gap to the all-revenue figures is add-on spending "
                  "moving up and down.")
    return text_


def cohort_sentence(cohorts: pd.DataFrame, *, kind: str) -> str:
    """How to read the cohort heatmap, and the spread of 12-month retention."""
    if not cohorts_followable(cohorts):
        return not_available("cohort retention", "no cohort can be followed over several months "
                             "(one snapshot, or all customers started before the observation window)")
    at = cohort_retention_at(cohorts)
    return ("Each row is a start-month cohort (the last 36 are shown), each column the months since "
            "start; blank cells are not observed yet."
            + (f" After {COHORT_MONTH} months between {at.min():.0%} and {at.max():.0%} of a cohort "
               f"remained (median {at.median():.0%})." if len(at) else "")
            + (" For purchase logs month 0 is the share who bought again after their first day."
               if kind == "non-contractual" else ""))


_TARGET_LISTED = ("on track", "off track", "not distinguishable from target")


def targets_text(table: pd.DataFrame, *, unit: str) -> str:
    """One line per target with a status (from :func:`~churn_research.indicators.target_table`)."""
    lines = [f"- **{r.indicator}**: {r.status} ({r.detail}); actual {r.actual:.4g} in {r.period} vs target "
             f"{r.target:.4g} by {pd.Timestamp(r.by):%Y-%m-%d}"
             + (f", change still needed {r.change_needed:+.4g}" if r.change_needed else "")
             for r in table.itertuples() if r.status in _TARGET_LISTED]
    return (f"Targets refer to {unit}ly values. 'On track' means met already, or at least as good "
            "as a straight path from the baseline to the target would be by now.\n\n" + "\n".join(lines))


TARGETS_UNAVAILABLE = not_available("progress against targets", "no targets are set for this dataset "
                                    "(parameter `targets`)")


def impact_skip_reason(readiness: ImpactReadiness, *, unit: str) -> str:
    """Why the change-impact analyses cannot run (also written to the key figures)."""
    if readiness.event_date is None:
        return "no business change is recorded (no events table) and no `event_date` parameter is set"
    return (f"only {readiness.n_before} complete {unit}s before and {readiness.n_after} after the change "
            f"on {readiness.event_date:%Y-%m-%d}; at least {MIN_PERIODS_BEFORE} and "
            f"{MIN_PERIODS_AFTER} are needed")


def impact_unavailable(readiness: ImpactReadiness, *, unit: str) -> str:
    return not_available("the change-impact analysis (before/after, interrupted time series, control "
                         "chart)", impact_skip_reason(readiness, unit=unit))


def before_after_sentence(ba: BeforeAfter, *, unit: str) -> str:
    t = ba.table
    return (f"Pooled churn per {unit}: {t.loc['before', 'churn_rate']:.2%} before vs "
            f"{t.loc['after', 'churn_rate']:.2%} after; difference {ba.difference:+.2%} (95% CI "
            f"{ba.difference_ci[0]:+.2%} to {ba.difference_ci[1]:+.2%}), ratio {ba.ratio:.2f} (95% CI "
            f"{ba.ratio_ci_adjusted[0]:.2f}–{ba.ratio_ci_adjusted[1]:.2f}, widened for overdispersion "
            f"{ba.dispersion:.2f}); score test p = {ba.p_value:.2g}. This ignores any trend: see the ITS.")


def its_sentence(its: InterruptedTimeSeries, *, unit: str, truth: Mapping[str, float] | None = None) -> str:
    """The level and slope change of the ITS (and, on synthetic data, the check against the
    generator's true effect, as a second paragraph)."""
    check = truth_sentence(its, truth)
    return _its_sentence(its, unit=unit) + (f"\n\n{check}" if check else "")


def _its_sentence(its: InterruptedTimeSeries, *, unit: str) -> str:
    scale = "log hazard ratio" if its.link == "cloglog" else "log odds ratio"
    return (f"Binomial GLM with a {its.link} link on {its.n_before_} {unit}s before and {its.n_after_} "
            f"after (estimates on the {scale} scale; dispersion {its.dispersion_:.2f}, standard errors "
            f"scaled by it when above 1). **Level change** {its.level_change_:+.3f} (95% CI "
            f"{its.level_change_ci_[0]:+.3f} to {its.level_change_ci_[1]:+.3f}), i.e. a ratio of "
            f"{its.hazard_ratio_:.2f} ({its.hazard_ratio_ci_[0]:.2f}–{its.hazard_ratio_ci_[1]:.2f}); "
            f"**slope change** {its.slope_change_:+.4f} per {unit} ({its.slope_change_ci_[0]:+.4f} to "
            f"{its.slope_change_ci_[1]:+.4f}). The dashed line is the counterfactual: churn had the "
            "pre-change trend continued.")


def truth_sentence(its: InterruptedTimeSeries, truth: Mapping[str, float] | None) -> str:
    """The ITS level change against the generator's true change effect ("" for real data)."""
    if truth is None:
        return ""
    lo, hi = its.level_change_ci_
    return (f"*Check against the synthetic truth:* the generator's change effect is a log hazard ratio of "
            f"{truth['log_hr']:.3f} (hazard ratio {truth['hazard_ratio']:.2f}); the ITS estimate "
            f"{its.level_change_:.3f} " + ("covers it." if lo <= truth["log_hr"] <= hi else "does not cover it."))


def control_chart_sentence(chart: ControlChart, *, unit: str, event_date) -> str:
    flagged = flagged_periods(chart)
    return (f"Chart used: **{chart.chart_}** — {chart.reason_}. Centre line {chart.center_:.2%} per {unit} "
            f"from the baseline {unit}s before {pd.Timestamp(event_date):%Y-%m-%d}"
            + (f" ({', '.join(chart.baseline_flagged_)} set aside as out of control)"
               if chart.baseline_flagged_ else "")
            + f". Flagged as abnormally high: {', '.join(flagged['period']) if len(flagged) else 'none'}. "
            f"{unit.capitalize()}s before the baseline are drawn in grey for context only (the start of a "
            "dataset often carries transients) and are not flagged.")


def did_sentence(did: Mapping[str, Any] | None, control_segment: Mapping[str, Any] | None) -> str:
    """The difference-in-differences ratio, or why there is none."""
    if did is None:
        return ("No segment is known to have been spared by the change (parameter `control_segment`), "
                "so there is no difference-in-differences check; every segment was exposed.")
    return (f"Difference in differences ({control_segment['treated']} exposed vs "
            f"{control_segment['control']} not): ratio {did['ratio']:.2f} (95% CI {did['ratio_ci_low']:.2f}–"
            f"{did['ratio_ci_high']:.2f}), parallel pre-trends check p = {did['pretrend_p_value']:.2f}.")


def verdict_text(readiness: ImpactReadiness, *, unit: str, its=None, before_after=None, chart=None,
                 did=None) -> str:
    """The change-impact verdict (:func:`churn_research.indicators.impact.verdict`), or why
    there is none."""
    if readiness.ready:
        return impact_verdict(its=its, before_after=before_after, chart=chart, did=did, unit=unit)
    return (f"**No change-impact verdict:** {impact_skip_reason(readiness, unit=unit)}. The indicators "
            "above describe churn over the window; the early-warning chart needs a dated change (or a "
            "chosen baseline) to compare against.")


# --- how the stage's tables read --------------------------------------------------------------

def churn_table_view(table: pd.DataFrame, *, last: int = 12):
    """The last ``last`` periods of a churn table, rates as percentages."""
    show = ["period", "partial", "at_risk", "new",
            *(["returned"] if table.attrs.get("lapses") == "episodes" else []),
            "churned", "churned_new", "exposed",
            "churn_rate", "churn_ci_low", "churn_ci_high", "retention_rate"]
    rates = ["churn_rate", "churn_ci_low", "churn_ci_high", "retention_rate"]
    return table[show].tail(last).style.format({c: "{:.2%}" for c in rates}).hide(axis="index")


def targets_view(table: pd.DataFrame):
    """The target table (:func:`~churn_research.indicators.target_table`)."""
    return table.style.format({"baseline": "{:.4g}", "target": "{:.4g}", "actual": "{:.4g}",
                               "expected_now": "{:.4g}", "change_needed": "{:+.4g}",
                               "change_needed_rel": "{:+.1%}", "by": "{:%Y-%m-%d}"},
                              na_rep="–").hide(axis="index")


def before_after_view(ba: BeforeAfter):
    return ba.table.style.format({"churn_rate": "{:.2%}", "ci_low": "{:.2%}", "ci_high": "{:.2%}",
                                  "at_risk": "{:,}", "churned": "{:,}"})


def its_view(its: InterruptedTimeSeries):
    """The ITS coefficients with their intervals and ratios."""
    cols = ["estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_ci_low", "ratio_ci_high"]
    return its.params_.set_index("term")[cols].style.format("{:.4f}")


def flagged_view(chart: ControlChart):
    """The periods the control chart flags as abnormally high (None when there are none)."""
    flagged = flagged_periods(chart)
    if not len(flagged):
        return None
    return flagged[["period", "phase", "k", "n", "rate", "ucl"]].style.format(
        {"rate": "{:.2%}", "ucl": "{:.2%}", "k": "{:,.0f}", "n": "{:,.0f}"}).hide(axis="index")
