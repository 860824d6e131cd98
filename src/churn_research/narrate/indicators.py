"""Findings of 10_indicators: how many customers are lost per period, and did the business
change make it worse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from churn_research.i18n import _, _p, is_chinese, label, label_msg, n_, t
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
from churn_research.narrate.complaints import (  # noqa: F401  (the notebook's narrate.*)
    Md,
    complaint_handling_views,
    growth_views,
)
from churn_research.narrate.events import events_views  # noqa: F401  (the notebook's narrate.*)
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (  # noqa: F401  (seasonality_sentence: the notebook's narrate.*)
    count,
    get,
    not_available,
    pct,
    pct_ci,
    pvalue,
    ratio_ci,
    readable,
    seasonality_sentence,
    text,
)


def _impact_unit(figures) -> str:
    """The period of the change-impact analyses, read off the event period's label (a data
    label: shown through :func:`~churn_research.i18n.label`)."""
    period = str(get(figures, "its.event_period", ""))
    return (label_msg("month") if len(period) == 7 and period[4] == "-" else
            label_msg("quarter") if "Q" in period else
            label_msg("half-year") if "H" in period else label_msg("period"))


def _change(figures) -> tuple[str | None, Finding | None]:
    ratio = get(figures, "its.level_ratio")
    if ratio is None:
        return None, None
    lo, hi = get(figures, "its.level_ratio_ci_low"), get(figures, "its.level_ratio_ci_high")
    date = text(get(figures, "its.event_date"))
    hr = ratio_ci(ratio, lo, hi)
    if lo is not None and lo > 1:
        excess = get(figures, "its.excess_churned")
        if excess is not None:
            sentence = t("Churn rose after the business change on {date}: {hr} times the level the "
                         "pre-change trend predicts, about {excess} extra customers lost (95% CI "
                         "{low}–{high}).", date=date, hr=hr, excess=count(excess),
                         low=count(get(figures, "its.excess_churned_ci_low")),
                         high=count(get(figures, "its.excess_churned_ci_high")))
        else:
            sentence = t("Churn rose after the business change on {date}: {hr} times the level the "
                         "pre-change trend predicts.", date=date, hr=hr)
    elif hi is not None and hi < 1:
        sentence = t("Churn fell after the business change on {date}: {hr} times the level the "
                     "pre-change trend predicts.", date=date, hr=hr)
    else:
        sentence = t("No clear change in churn after the business change on {date}: the level "
                     "ratio is {hr}, an interval that includes no change.", date=date, hr=hr)
    return sentence, Finding(sentence, _("Did churn change after the business change"))


def _list(items) -> str:
    """Items joined as a list in the report language."""
    return _("; ").join(items)


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the change's effect where there is a change, else the latest period's churn."""
    unit = label(get(figures, "freq", "period"))
    latest = text(get(figures, "latest_period"))
    rate = pct_ci(get(figures, "churn_rate"), get(figures, "churn_rate_ci_low"),
                  get(figures, "churn_rate_ci_high"))
    snapshot = bool(context.get("snapshot"))
    if snapshot:
        latest_text = t("{rate} of the customers in this snapshot left in its last month ({latest}): "
                        "the dataset's churn flag, the only exits these data record. A sample enriched "
                        "for churners gives a share, not the business's monthly churn rate.",
                        rate=rate, latest=latest)
    else:
        first, last = get(figures, "mean_churn_rate_first_period"), get(figures, "mean_churn_rate_last_period")
        span = (t("from {first} to {last} (after the {unit}s of heavy acquisition)", first=text(first),
                  last=text(last), unit=unit)
                if first is not None and last is not None else
                t("from {start} to {end}", start=text(get(figures, "window_start")),
                  end=text(get(figures, "window_end"))))
        latest_text = t("Churn was {rate} in the latest complete {unit} ({latest}), against "
                        "{mean} per {unit} on average {span}.", rate=rate, unit=unit, latest=latest,
                        mean=pct(get(figures, "mean_churn_rate_per_period")), span=span)
        again, on_books = get(figures, "churned_new"), get(figures, "churn_rate_on_books")
        if again and on_books is not None:   # review s8 (cdnow): returners lapsing again at once
            latest_text += t(" That rate includes {again} customers who started or came back during "
                             "{latest} and made no purchase in the {days} days after it; among the "
                             "customers on the books at its start, churn was {on_books}.",
                             again=count(again), latest=latest, on_books=pct(on_books),
                             days=context.get("inactivity_days", 180))
    if context.get("kind") == "non-contractual" and not snapshot:
        days = context.get("inactivity_days", 180)
        end = text(get(figures, "window_end"))
        if get(figures, "lapses") == "episodes":
            latest_text += t(" Churn is inferred: every gap of more than {days} days without a purchase "
                             "is a lapse, counted in the {unit} of the purchase before it, and a customer "
                             "who buys again is at risk again from then on; a lapse is visible only "
                             "{days} days later, so the window ends on {end}.", days=days, unit=unit,
                             end=end)
        else:
            latest_text += t(" Churn is inferred after {days} days without a purchase, so the window "
                             "ends on {end}; in a single acquisition cohort the early months also hold "
                             "the customers who never bought again, so a fall over time is partly the "
                             "cohort ageing.", days=days, end=end)
    change_text, change_finding = _change(figures)
    headline = change_text or latest_text
    keys = [Finding(latest_text, _("How many customers do we lose"))] if change_text else []
    event_keys = _event_findings(figures)
    keys += event_keys
    if change_finding is not None and not event_keys:
        before, after = get(figures, "before_after.rate_before"), get(figures, "before_after.rate_after")
        if before is not None and after is not None:
            keys.append(Finding(
                t("Pooled churn per {unit} was {before} before and {after} after the change ({p}); "
                  "this simple comparison ignores any trend.", unit=label(_impact_unit(figures)),
                  before=pct(before, 2), after=pct(after, 2),
                  p=pvalue(get(figures, "before_after.p_value"))),
                _("Did churn change after the business change")))
    new, old = get(figures, "churn_rate_new"), get(figures, "churn_rate_existing")
    months = get(figures, "new_tenure_months")  # "new" differs between stages: say which
    if new is not None and old is not None and context.get("snapshot"):
        # review s6 (telco): beside 30_survival's first-year retention this reads as a contradiction
        keys.append(Finding(t("{new} of the new customers (under {months} months) in the snapshot "
                              "left in its last {unit}, against {old} of existing customers. This "
                              "is the share who left in that one {unit}, not in their first year: "
                              "30_survival's first-year retention spreads the same exits over every "
                              "customer who reached each tenure.",
                              new=pct(new), old=pct(old), unit=unit, months=months)
                            if months is not None else
                            t("{new} of the new customers in the snapshot left in its last {unit}, "
                              "against {old} of existing customers.", new=pct(new), old=pct(old),
                              unit=unit),
                            _("New vs existing customers")))
    elif new is not None and old is not None:
        keys.append(Finding(t("New customers (under {months} months) churn {new} per {unit}, "
                              "existing customers {old}.", new=pct(new), old=pct(old), unit=unit,
                              months=months)
                            if months is not None else
                            t("New customers churn {new} per {unit}, existing customers {old}.",
                              new=pct(new), old=pct(old), unit=unit),
                            _("New vs existing customers")))
    signal = get(figures, "control_chart.latest_signal")
    if signal is not None:
        period = text(get(figures, "control_chart.latest_period"))
        keys.append(Finding(
            t("Early warning: the latest period ({period}) is within its control limits.", period=period)
            if signal == "none" else
            t("Early warning: the latest period ({period}) is flagged ({signal}).", period=period,
              signal=label(signal)),
            _("Did churn change after the business change")))
    keys += _complaint_findings(figures)
    growth = _growth_finding(figures, unit=unit)
    keys += growth
    statuses = {k.split(".")[1]: v for k, v in figures.items()
                if k.startswith("target.") and k.endswith(".status") and v is not None}
    if growth:   # the growth line states its own target
        statuses.pop("growth_rate", None)
    if statuses:
        items = [t("{indicator} {status}", indicator=label(k.replace("_", " ")), status=label(v))
                 for k, v in statuses.items()]
        keys.append(Finding(t("Targets: {targets}.", targets=_list(items)), _("Targets: are we on track")))
    unavailable = []
    if change_finding is None:
        unavailable.append(not_available(_IMPACT_WHAT(), _("the data record no business change "
                                                           "(no events table)")))
    if get(figures, "complaint_rate") is None and get(figures, "csat") is None:
        unavailable.append(not_available(_("complaint, satisfaction (CSAT) and recommendation (NPS) "
                                           "rates, complaint handling (resolution within the service "
                                           "target, churn after resolved vs unresolved complaints)"),
                                         _("the data have no tickets or surveys")))
    elif get(figures, "complaints.available") and not get(figures, "complaints.resolution_available"):
        unavailable.append(not_available(_("resolution rate, time to resolution and churn by resolution"),
                                         _("the tickets have no resolved / resolution_days columns")))
    if snapshot and get(figures, "growth.net_adds") is None:
        unavailable.append(not_available(_("customer growth, acquisition and net adds per period"),
                                         _("the data are one snapshot, not a series of periods")))
    return StageFindings("10_indicators", dataset, headline, keys[:MAX_FINDINGS], unavailable,
                         checked_against=(_("the generator's true change effect")
                                          if get(figures, "its.true_level_change") is not None else None))


#: The Findings box lists at most this many key findings (the change, the latest period, each
#: event's before/after, new vs existing, the early warning, complaints, growth, targets).
MAX_FINDINGS = 8
#: Events with their own before/after line in the Findings box (the rest: see the section).
MAX_EVENT_FINDINGS = 2


def _event_findings(figures: Mapping[str, Any]) -> list[Finding]:
    """One line per analysed event (at most :data:`MAX_EVENT_FINDINGS`): churn per period before
    and after with the ratio, and the experience measures before/after that the data hold."""
    n_events = int(get(figures, "events.count", 0) or 0)
    unit = label(_impact_unit(figures))
    out = []
    for i in range(1, n_events + 1):
        before, after = get(figures, f"events.{i}.rate_before"), get(figures, f"events.{i}.rate_after")
        if before is None or after is None:
            continue
        if len(out) == MAX_EVENT_FINDINGS:
            out[-1] = Finding(out[-1].text + " " + n_(
                "{n} more event: see the section.", "{n} more events: see the section.",
                n_events - i + 1), out[-1].section)
            break
        parts = [t("churn per {unit} {before} → {after}, ratio {ratio}", unit=unit,
                   before=pct(before, 2), after=pct(after, 2),
                   ratio=ratio_ci(get(figures, f"events.{i}.ratio"),
                                  get(figures, f"events.{i}.ratio_ci_low"),
                                  get(figures, f"events.{i}.ratio_ci_high")))]
        for key, name, digits in (("csat", _("mean CSAT"), 2), ("nps", _("NPS"), 1)):
            b, a = get(figures, f"events.{i}.{key}_before"), get(figures, f"events.{i}.{key}_after")
            if b is not None and a is not None:
                parts.append(t("{measure} {before} → {after} ({p})", measure=name,
                               before=f"{b:.{digits}f}", after=f"{a:.{digits}f}",
                               p=pvalue(get(figures, f"events.{i}.{key}_p_value"))))
        b, a = (get(figures, f"events.{i}.complaint_share_before"),
                get(figures, f"events.{i}.complaint_share_after"))
        if b is not None and a is not None:
            parts.append(t("complaint share {before} → {after} ({p})", before=pct(b, 2),
                           after=pct(a, 2), p=pvalue(get(figures, f"events.{i}.complaint_share_p_value"))))
        out.append(Finding(t("Before vs after {event} ({date}): {parts}.",
                             event=readable(text(get(figures, f"events.{i}.event"))),
                             date=text(get(figures, f"events.{i}.date"))[:10], parts=_list(parts)),
                           _("Did churn change after the business change")))
    return out


def _complaint_findings(figures: Mapping[str, Any]) -> list[Finding]:
    """The complaint → churn effect (unresolved vs resolved, risk ratio with CI) and the share
    resolved within the service target, in one line."""
    rr = get(figures, "complaints.risk_ratio")
    within = get(figures, "complaints.within_target_rate")
    if rr is None and within is None:
        return []
    parts = []
    if rr is not None:
        parts.append(t("{unres} of the customers whose complaint was never resolved left within {n} "
                       "days, against {res} after a resolved one: a risk ratio of {rr}",
                       n=count(get(figures, "complaints.within_days")),
                       unres=pct(get(figures, "complaints.unresolved_rate")),
                       res=pct(get(figures, "complaints.resolved_rate")),
                       rr=ratio_ci(rr, get(figures, "complaints.risk_ratio_ci_low"),
                                   get(figures, "complaints.risk_ratio_ci_high"))))
    if within is not None:
        parts.append(t("{within} of complaints were resolved within the {d}-day service target",
                       within=pct(within),
                       d=f"{float(get(figures, 'complaints.service_target_days')):g}"))
    return [Finding(t("Complaints: {parts}.", parts=_list(parts)), _("Complaint handling"))]


def _growth_finding(figures: Mapping[str, Any], *, unit: str) -> list[Finding]:
    """Net adds and the growth rate of the latest complete period, against its target if set."""
    net = get(figures, "growth.net_adds")
    if net is None:
        return []
    values = {"period": text(get(figures, "growth.period")), "net": f"{int(net):+,}",
              "joins": count(get(figures, "growth.joins")), "losses": count(get(figures, "growth.losses")),
              "rate": f"{float(get(figures, 'growth.growth_rate')):+.2%}", "unit": unit,
              "returns": count(get(figures, "growth.returns"))}
    if get(figures, "growth.returns"):
        values["joins"] = t("{joins} joined, {returns} came back", **values)
    else:
        values["joins"] = t("{joins} joined", **values)
    target, status = get(figures, "target.growth_rate.target"), get(figures, "target.growth_rate.status")
    ahead = get(figures, "target.growth_rate.rule") == "ahead" and status == "on track"
    if ahead and float(get(figures, "growth.growth_rate")) != float(target):
        # on track only by the straight path: say first where the rate stands against the target
        side = (_("below") if float(get(figures, "growth.growth_rate")) < float(target) else _("above"))
        sentence = t("Growth: net adds {net} in {period} ({joins}, {losses} lost), a growth rate "
                     "of {rate} per {unit}: {side} the {target} target, but ahead of the straight "
                     "path from the {baseline} baseline (the path expects {expected} by now), so "
                     "on track.",
                     side=side, target=f"{float(target):+.2%}",
                     baseline=text(get(figures, "target.growth_rate.baseline_period")),
                     expected=f"{float(get(figures, 'target.growth_rate.expected_now')):+.2%}", **values)
    elif target is not None and status is not None:
        sentence = t("Growth: net adds {net} in {period} ({joins}, {losses} lost), a growth rate "
                     "of {rate} per {unit} against a target of {target}: {status}.",
                     target=f"{float(target):+.2%}", status=label(status), **values)
    else:
        sentence = t("Growth: net adds {net} in {period} ({joins}, {losses} lost), a growth "
                     "rate of {rate} per {unit}.", **values)
    return [Finding(sentence, _("How many customers do we lose"))]


def _IMPACT_WHAT() -> str:  # noqa: N802 - reads as the constant it stands for
    return _("the change-impact analysis (before/after, interrupted time series, control chart)")


# --- the sentences of each section of the report ---------------------------------------------
# Each takes the stage's result objects or tables and returns Markdown; the notebook displays it.
# ``unit`` is the period's name from ``FREQ_NAMES`` (English, a data label): the sentences show
# it through :func:`~churn_research.i18n.label`.

def window_text(data: ChurnData, *, dataset: str, window, unit: str, impact_unit: str,
                inactivity_days: int | None = None) -> str:
    """Which data, over which window, in which periods; how churn is dated."""
    start, end = window
    u = label(unit)
    notes = []
    if data.kind == "non-contractual":
        days = inactivity_days or data.inactivity_days
        notes.append(t(
            "Churn is **inferred** (non-contractual data). A **lapse** is a gap of more than {days} days "
            "without a purchase, between two purchases of a customer or after their last one; it counts "
            "as a loss in the {unit} of the purchase before the gap. A customer who buys again after a "
            "lapse **returns** and is at risk again from that purchase on. Every churn rate per {unit} in "
            "this report counts every lapse, so every {unit} is judged with the same {days} days of "
            "hindsight. The share lost over the window and cohort retention count only each "
            "customer's final lapse (lost for good): their "
            "last purchase, if no purchase followed for more than {days} days before the snapshot "
            "({snapshot}). A lapse is only visible {days} days later, so the window "
            "ends on {end}: later periods would show no churn yet. Customers who joined in the "
            "last {days} days cannot be classed yet ('undetermined').", days=days, unit=u,
            snapshot=f"{data.observation_end:%Y-%m-%d}", end=f"{end:%Y-%m-%d}"))
    if data.is_snapshot:
        notes.append(_("This dataset is **one snapshot**: churn is only recorded for the month before the "
                       "snapshot, so there is one period and no trend over time."))
    if data.records_start is not None:
        notes.append(t("Records start on {date}; customers who joined earlier enter "
                       "the counts as customers at risk from then on (earlier churn is unknown).",
                       date=f"{data.records_start:%Y-%m-%d}"))
    return (t("**Dataset:** {dataset} ({kind}); {n} customers.", dataset=dataset, kind=label(data.kind),
              n=f"{len(data.customers):,}") + "  \n"
            + t("**Observation window:** {start} to {end}; dashboard periods are "
                "{unit}s, change-impact periods are {impact_unit}s. A period cut short by the window is "
                "marked partial and left out of trend lines.", start=f"{start:%Y-%m-%d}",
                end=f"{end:%Y-%m-%d}", unit=u, impact_unit=label(impact_unit))
            + "  \n" + "  \n".join(notes))


def churn_text(overall: Mapping[str, Any], latest: pd.Series, *, unit: str) -> str:
    """Churn over the whole window and in the latest period."""
    u = label(unit)
    final = overall.get("lapses") == "final"
    returns = int(latest.get("returned", 0) or 0)
    whole = {"churned": f"{overall['churned']:,}", "at_risk": f"{overall['customers_at_risk']:,}",
             "rate": f"{overall['churn_rate']:.1%}", "low": f"{overall['ci_low']:.1%}",
             "high": f"{overall['ci_high']:.1%}"}
    if final:
        text_ = t("Over the whole window {churned} of the {at_risk} customers ever observed at risk "
                  "were lost for good (final lapse): **{rate}** (95% CI {low}–{high}; this share grows "
                  "with the window's length).", **whole)
    else:
        text_ = t("Over the whole window {churned} of the {at_risk} customers ever observed at risk "
                  "were lost: **{rate}** (95% CI {low}–{high}; this share grows with the window's "
                  "length).", **whole)
    back = (n_("; {n} customer returned after a lapse in it", "; {n} customers returned after a lapse "
               "in it", returns) if returns else "")
    now = {"period": latest["period"], "rate": f"{latest['churn_rate']:.2%}",
           "low": f"{latest['churn_ci_low']:.2%}", "high": f"{latest['churn_ci_high']:.2%}",
           "retention": f"{latest['retention_rate']:.2%}", "returns": back, "unit": u}
    if latest["partial"]:
        text_ += t(" In the latest {unit} ({period}) churn was **{rate}** (95% CI {low}–{high}), i.e. "
                   "retention {retention}{returns}.", **now)
    else:
        text_ += t(" In the latest complete {unit} ({period}) churn was **{rate}** (95% CI "
                   "{low}–{high}), i.e. retention {retention}{returns}.", **now)
    cols = {"unit": u, "churned_new": label("churned_new"), "returned": label("returned"),
            "exposed": label("exposed")}
    if "returned" in latest and final:
        text_ += t(" The table shows the last 12 {unit}s (`{churned_new}`: joined or returned, and left "
                   "within the period; `{returned}`: bought again after a lapse; `{exposed}` is the "
                   "denominator).", **cols)
    else:
        text_ += t(" The table shows the last 12 {unit}s (`{churned_new}`: joined and left within the "
                   "period; `{exposed}` is the denominator).", **cols)
    return text_


def trend_text(table: pd.DataFrame, *, kind: str, unit: str, event_date=None) -> str:
    """How churn per period moved over the window (from the periods that describe the trend)."""
    u = label(unit)
    if not has_trend(table):
        return t("Only one {unit} can be measured, so there is no trend to plot; the figures above "
                 "are the whole story over time.", unit=u)
    trend, inflated = trend_periods(table, kind=kind)
    episodes = table.attrs.get("lapses") == "episodes"
    caveat = ""
    if inflated is not None:
        left_out = {"unit": u, "period": trend["period"].iloc[0], "max": f"{inflated:.0%}"}
        caveat = (t("Churn is inferred from inactivity, so customers who lapse right after their first "
                    "purchase count as lost in the {unit} they joined: the {unit}s of heavy acquisition "
                    "before {period} show inflated churn (up to {max}) and are left out of the trend and "
                    "the figure. ", **left_out) if episodes else
                  t("Churn is inferred from inactivity, so customers who never bought again count as "
                    "lost in the {unit} they joined: the {unit}s of heavy acquisition before {period} "
                    "show inflated churn (up to {max}) and are left out of the trend and the figure. ",
                    **left_out))
    first, last = trend.iloc[0], trend.iloc[-1]
    moved = {"unit": u, "first": f"{first['churn_rate']:.2%}", "first_period": first["period"],
             "last": f"{last['churn_rate']:.2%}", "last_period": last["period"]}
    return (caveat
            + (t("Churn per {unit} moved from {first} ({first_period}) to {last} ({last_period}); "
                 "shaded bands are 95% Wilson intervals, the dotted line marks the business change.",
                 **moved) if event_date is not None else
               t("Churn per {unit} moved from {first} ({first_period}) to {last} ({last_period}); "
                 "shaded bands are 95% Wilson intervals.", **moved))
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

    return t(" Customers who buy again after a lapse count again from the {unit} of that purchase "
             "(from {first_back}; {returned} in {last_period}), and many lapse again in the same "
             "{unit} ({churned_new} in {last_period}). Among the customers on the books at the start "
             "of a {unit}, churn moved from {first_rate} ({first_period}) to {last_rate} ({last_period}).",
             unit=label(unit), first_back=back["period"].iloc[0], returned=f"{int(last['returned']):,}",
             last_period=last["period"], churned_new=f"{int(last['churned_new']):,}",
             first_rate=on_books(first), first_period=first["period"], last_rate=on_books(last))


def segments_unavailable(segments) -> str:
    """Why there is no churn by segment: none requested, or none of them in the data."""
    if not segments:
        return not_available(_("churn by segment"),
                             _("no segment columns are set (parameter `segments`)"))
    wanted = ", ".join(f"`{c}`" for c in segments)
    return not_available(_("churn by segment"),
                         t("none of the segment columns in the parameters ({wanted}) is in the "
                           "customers table", wanted=wanted))


def segment_sentence(pooled: pd.DataFrame, column: str, *, unit: str) -> str:
    """The segments with the highest and the lowest pooled churn, and whether the gap is clear."""
    top, bottom = pooled.iloc[0], pooled.iloc[-1]
    overlap = top["ci_low"] <= bottom["ci_high"]
    def level(v) -> str:  # a yes/no column's level names its column: "senior citizen = yes"
        word = yes_no(v)
        return f"{label(column)} = {label(word)}" if word is not v else label(word)

    values = {"column": label(column), "top": level(top[column]), "rate": f"{top['rate']:.2%}",
              "unit": label(unit), "low": f"{top['ci_low']:.2%}", "high": f"{top['ci_high']:.2%}",
              "bottom": level(bottom[column]), "bottom_rate": f"{bottom['rate']:.2%}",
              "bottom_low": f"{bottom['ci_low']:.2%}", "bottom_high": f"{bottom['ci_high']:.2%}"}
    if overlap:
        return t("By **{column}**: highest churn in *{top}* ({rate} per {unit}, 95% CI {low}–{high}), "
                 "lowest in *{bottom}* ({bottom_rate}, {bottom_low}–{bottom_high}); their intervals "
                 "overlap, so the difference is not clear.", **values)
    return t("By **{column}**: highest churn in *{top}* ({rate} per {unit}, 95% CI {low}–{high}), "
             "lowest in *{bottom}* ({bottom_rate}, {bottom_low}–{bottom_high}); the gap is clear.",
             **values)


def tenure_sentence(pooled: pd.DataFrame, *, unit: str, new_tenure_months: int | None = None) -> str:
    """New vs existing customers' pooled churn (``pooled`` indexed by ``tenure_group``);
    ``new_tenure_months``: the tenure below which a customer is new, named in the sentence."""
    groups = tenure_groups(pooled)
    if groups is None:
        return not_available(_("the comparison of new and existing customers"),
                             _("one of the two groups has no customers in the window"))
    new, old = groups
    clear = new["ci_low"] > old["ci_high"] or old["ci_low"] > new["ci_high"]
    if new["rate"] > old["rate"]:
        comparison = (_("new customers churn more and the intervals do not overlap.") if clear else
                      _("new customers churn more, but the intervals overlap."))
    else:
        comparison = (_("existing customers churn more and the intervals do not overlap.") if clear else
                      _("existing customers churn more, but the intervals overlap."))
    lead = (t("New customers (under {months} months)", months=new_tenure_months)
            if new_tenure_months is not None else _("New customers"))
    return t("{lead} lost {new} per {unit} (95% CI {new_low}–{new_high}), existing "
             "ones {old} ({old_low}–{old_high}): {comparison} (New customers are on the books "
             "for part of the {unit} they join in, which lowers their rate.)",
             lead=lead, new=f"{new['rate']:.2%}", unit=label(unit), new_low=f"{new['ci_low']:.2%}",
             new_high=f"{new['ci_high']:.2%}", old=f"{old['rate']:.2%}",
             old_low=f"{old['ci_low']:.2%}", old_high=f"{old['ci_high']:.2%}", comparison=comparison)


def tenure_title(new_tenure_months: int, *, unit: str | None = None) -> str:
    """The title of the new-vs-existing chart (per ``unit`` when drawn over time)."""
    if unit:
        return t("Churn per {unit}: new (< {months} months) vs existing customers", unit=label(unit),
                 months=new_tenure_months)
    return t("Churn: new (< {months} months) vs existing customers", months=new_tenure_months)


def complaint_sentence(table: pd.DataFrame | None) -> str:
    """Complaints in the latest period (``table`` from
    :func:`~churn_research.indicators.complaint_table`; None: not measurable)."""
    if table is None:
        return not_available(_("complaint rates"), _("the data have no tickets table"))
    lc = latest_period(table)
    return t("In {period} {complaints} complaints came from {complainants} of the {active} "
             "customers on the books during that period: {rate} complaints per customer on the books "
             "and {share} of them complaining (95% CI {low}–{high}).", period=lc["period"], complaints=f"{lc['complaints']:,}",
             complainants=f"{lc['complainants']:,}", active=f"{lc['active']:,}",
             rate=f"{lc['complaint_rate']:.3f}", share=f"{lc['share_complaining']:.1%}",
             low=f"{lc['share_complaining_ci_low']:.1%}", high=f"{lc['share_complaining_ci_high']:.1%}")


def surveys_unavailable() -> str:
    """The line of a dataset without surveys."""
    return not_available(_("satisfaction (CSAT) and recommendation (NPS)"),
                         _("the data have no surveys table"))


def survey_sentence(table: pd.DataFrame, measure: str, *, satisfied_min: int) -> str:
    """CSAT (``measure="csat"``) or NPS (``"nps"``) in the latest period, the change since the
    first period with answers, and — when it rose — the survivor-selection caveat."""
    ls = latest_period(table)
    if measure == "csat":
        out = t("In {period} mean CSAT was **{csat}** (95% CI {low}–{high}, {n} answers); {share} "
                "answered {min} or 5 (satisfied).", period=ls["period"], csat=f"{ls['csat']:.2f}",
                low=f"{ls['csat_ci_low']:.2f}", high=f"{ls['csat_ci_high']:.2f}",
                n=f"{int(ls['csat_responses']):,}", share=f"{ls['share_satisfied']:.1%}",
                min=satisfied_min)
    else:
        out = t("In {period} the NPS was **{nps}** (95% CI {low} to {high}): {promoters} promoters "
                "(would recommend, 9–10) and {detractors} detractors (0–6).", period=ls["period"],
                nps=f"{ls['nps']:+.1f}", low=f"{ls['nps_ci_low']:+.1f}", high=f"{ls['nps_ci_high']:+.1f}",
                promoters=f"{ls['recommendation_rate']:.1%}",
                detractors=f"{ls['detractors'] / ls['nps_responses']:.1%}")
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
    if last[measure] <= first[f"{measure}_ci_high"]:
        return ""
    if measure == "csat":
        return t(" CSAT rose from {value} in {period}. Part of such a rise can be survivor selection: "
                 "dissatisfied customers leave, so those still answering are increasingly the satisfied "
                 "ones; read it as an improvement only if the same customers (or each start cohort) rate "
                 "higher too.", value=f"{first[measure]:.2f}", period=first["period"])
    return t(" The NPS rose from {value} in {period}. Part of such a rise can be survivor selection: "
             "dissatisfied customers leave, so those still answering are increasingly the satisfied "
             "ones; read it as an improvement only if the same customers (or each start cohort) rate "
             "higher too.", value=f"{first[measure]:+.1f}", period=first["period"])


def repeat_sentence(table: pd.DataFrame | None, *, recurring_col: str | None = None) -> str:
    """Repeat purchases in the latest period (None: not measurable)."""
    if table is None:
        return not_available(_("repeat purchases"), _("the data have no transactions table"))
    lr = latest_period(table)
    return (t("In {period} {repeat} of the {before} active customers who had bought before bought "
              "again: **{rate}** (95% CI {low}–{high}).", period=lr["period"],
              repeat=f"{lr['repeat_buyers']:,}", before=f"{lr['buyers_before']:,}",
              rate=f"{lr['repeat_purchase_rate']:.1%}", low=f"{lr['repeat_ci_low']:.1%}",
              high=f"{lr['repeat_ci_high']:.1%}")
            + (t(" Recurring invoices (amount equal to `{column}`) are not counted as purchases.",
                 column=label(recurring_col)) if recurring_col else ""))


def revenue_sentence(table: pd.DataFrame | None, recurring: pd.DataFrame | None = None, *,
                     unit: str) -> str:
    """GRR and NRR of the latest period, on all revenue and (if given) on recurring invoices."""
    if table is None:
        return not_available(_("revenue retention"), _("the data have no transactions table"))
    lv = latest_period(table)
    text_ = t("In {period} GRR was **{grr}** and NRR **{nrr}** of the previous {unit}'s revenue from "
              "the same customers (all transactions).", period=lv["period"], grr=f"{lv['grr']:.1%}",
              nrr=f"{lv['nrr']:.1%}", unit=label(unit))
    if recurring is not None:
        lm = latest_period(recurring)
        text_ += t(" On recurring invoices only (the subscription view) GRR was {grr} and NRR {nrr}; "
                   "the gap to the all-revenue figures is add-on spending moving up and down.",
                   grr=f"{lm['grr']:.1%}", nrr=f"{lm['nrr']:.1%}")
    return text_


def cohort_sentence(cohorts: pd.DataFrame, *, kind: str) -> str:
    """How to read the cohort heatmap, and the spread of 12-month retention."""
    if not cohorts_followable(cohorts):
        return not_available(_("cohort retention"),
                             _("no cohort can be followed over several months (one snapshot, or all "
                               "customers started before the observation window)"))
    at = cohort_retention_at(cohorts)
    return (_("Each row is a start-month cohort (the last 36 are shown), each column the months since "
              "start; blank cells are not observed yet.")
            + (t(" After {months} months between {low} and {high} of a cohort remained (median "
                 "{median}).", months=COHORT_MONTH, low=f"{at.min():.0%}", high=f"{at.max():.0%}",
                 median=f"{at.median():.0%}") if len(at) else "")
            + (_(" For purchase logs month 0 is the share who bought again after their first day.")
               if kind == "non-contractual" else ""))


_TARGET_LISTED = ("on track", "off track", "not distinguishable from target")


def _target_value(indicator: str, value, *, signed: bool | None = None) -> str:
    """A target table's value as a reader reads it: rates and shares as percentages, scores
    (CSAT, NPS) as plain numbers; a growth rate (and ``signed``) with its sign, as the Findings
    give it."""
    if value is None or pd.isna(value):
        return "–"
    signed = indicator == "growth_rate" if signed is None else signed
    if indicator.endswith("_rate") or "share" in indicator:
        return f"{float(value):+.2%}" if signed else f"{float(value):.2%}"
    return f"{float(value):+.3g}" if signed else f"{float(value):.3g}"


def _indicator_name(name: str) -> str:
    """An indicator as the Findings name it (``churn_rate`` -> ``churn rate``)."""
    return label(str(name).replace("_", " "))


def target_detail(row) -> str:
    """Why a target has its status, in words with the values formatted (percentages for rates):
    ``row`` is a row of :func:`~churn_research.indicators.target_table`."""
    rule = getattr(row, "rule", None)
    name = row.indicator

    def fmt(v):
        return _target_value(name, v)

    if rule == "met":
        return _("target already met")
    if rule == "interval":
        values = {"reference": fmt(row.reference), "low": fmt(row.actual_ci_low),
                  "high": fmt(row.actual_ci_high)}
        if row.reference == row.target:
            return t("the target ({reference}) lies inside the 95% interval of the actual value "
                     "({low}–{high})", **values)
        return t("the straight path to the target ({reference}) lies inside the 95% interval "
                 "of the actual value ({low}–{high})", **values)
    if rule == "passed":
        return _("deadline passed, target missed")
    if rule in ("ahead", "behind"):
        worse = (row.actual > row.target) if row.direction == "lower" else (row.actual < row.target)
        values = {"side": (_("below") if row.actual < row.target else _("above")),
                  "target": fmt(row.target), "baseline": text(row.baseline_period),
                  "expected": fmt(row.expected_now)}
        if rule == "ahead" and worse:
            return t("{side} the {target} target, but ahead of the straight path from the "
                     "{baseline} baseline (the path expects {expected} by now)", **values)
        if rule == "behind":
            return t("behind the straight path from the {baseline} baseline (the path expects "
                     "{expected} by now)", **values)
    return text(row.detail)


def targets_text(table: pd.DataFrame, *, unit: str) -> str:
    """One line per target with a status (from :func:`~churn_research.indicators.target_table`)."""
    lines = []
    for r in table.itertuples():
        if r.status not in _TARGET_LISTED:
            continue
        values = {"indicator": _indicator_name(r.indicator), "status": label(r.status),
                  "detail": target_detail(r),
                  "actual": _target_value(r.indicator, r.actual), "period": r.period,
                  "target": _target_value(r.indicator, r.target),
                  "by": f"{pd.Timestamp(r.by):%Y-%m-%d}",
                  "change": _target_value(r.indicator, r.change_needed, signed=True)}
        lines.append(t("- **{indicator}**: {status} ({detail}); actual {actual} in {period} vs target "
                       "{target} by {by}, change still needed {change}", **values)
                     if r.change_needed else
                     t("- **{indicator}**: {status} ({detail}); actual {actual} in {period} vs target "
                       "{target} by {by}", **values))
    return (t("Targets refer to {unit}ly values. 'On track' means met already, or at least as good "
              "as a straight path from the baseline to the target would be by now.", unit=label(unit))
            + "\n\n" + "\n".join(lines))


def targets_unavailable() -> str:
    """The line of a dataset without targets."""
    return not_available(_("progress against targets"),
                         _("no targets are set for this dataset (parameter `targets`)"))


def __getattr__(name: str) -> str:
    """``SURVEYS_UNAVAILABLE`` / ``TARGETS_UNAVAILABLE``: the lines in the current language."""
    if name == "SURVEYS_UNAVAILABLE":
        return surveys_unavailable()
    if name == "TARGETS_UNAVAILABLE":
        return targets_unavailable()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def impact_skip_reason(readiness: ImpactReadiness, *, unit: str) -> str:
    """Why the change-impact analyses cannot run (also written to the key figures)."""
    if readiness.event_date is None:
        return _("no business change is recorded (no events table) and no `event_date` parameter is set")
    return t("only {n_before} complete {unit}s before and {n_after} after the change on {date}; at "
             "least {min_before} and {min_after} are needed", n_before=readiness.n_before,
             unit=label(unit), n_after=readiness.n_after, date=f"{readiness.event_date:%Y-%m-%d}",
             min_before=MIN_PERIODS_BEFORE, min_after=MIN_PERIODS_AFTER)


def impact_unavailable(readiness: ImpactReadiness, *, unit: str) -> str:
    return not_available(_IMPACT_WHAT(), impact_skip_reason(readiness, unit=unit))


def before_after_sentence(ba: BeforeAfter, *, unit: str) -> str:
    tab = ba.table
    if ba.seasonal:
        return t("Churn per {unit} after the change: {after} observed against {before} expected "
                 "from the before months of the same calendar month (seasonal baseline: {reason}); "
                 "difference {diff} (95% CI {diff_low} to {diff_high}), ratio {ratio} (95% CI "
                 "{ratio_low}–{ratio_high}, widened for overdispersion {dispersion}); z test "
                 "{p}. This ignores any trend: see the ITS.",
                 unit=label(unit), before=f"{tab.loc['before', 'churn_rate']:.2%}",
                 after=f"{tab.loc['after', 'churn_rate']:.2%}", reason=ba.seasonality_reason,
                 diff=f"{ba.difference:+.2%}", diff_low=f"{ba.difference_ci[0]:+.2%}",
                 diff_high=f"{ba.difference_ci[1]:+.2%}", ratio=f"{ba.ratio:.2f}",
                 ratio_low=f"{ba.ratio_ci_adjusted[0]:.2f}",
                 ratio_high=f"{ba.ratio_ci_adjusted[1]:.2f}", dispersion=f"{ba.dispersion:.2f}",
                 p=pvalue(ba.p_value))
    return t("Pooled churn per {unit}: {before} before vs {after} after; difference {diff} (95% CI "
             "{diff_low} to {diff_high}), ratio {ratio} (95% CI {ratio_low}–{ratio_high}, widened for "
             "overdispersion {dispersion}); score test {p}. This ignores any trend: see the ITS.",
             unit=label(unit), before=f"{tab.loc['before', 'churn_rate']:.2%}",
             after=f"{tab.loc['after', 'churn_rate']:.2%}", diff=f"{ba.difference:+.2%}",
             diff_low=f"{ba.difference_ci[0]:+.2%}", diff_high=f"{ba.difference_ci[1]:+.2%}",
             ratio=f"{ba.ratio:.2f}", ratio_low=f"{ba.ratio_ci_adjusted[0]:.2f}",
             ratio_high=f"{ba.ratio_ci_adjusted[1]:.2f}", dispersion=f"{ba.dispersion:.2f}",
             p=pvalue(ba.p_value))


def its_sentence(its: InterruptedTimeSeries, *, unit: str, truth: Mapping[str, float] | None = None) -> str:
    """The level and slope change of the ITS (and, on synthetic data, the check against the
    generator's true effect, as a second paragraph)."""
    check = truth_sentence(its, truth)
    return (_its_sentence(its, unit=unit) + seasonality_sentence(its)
            + (f"\n\n{check}" if check else ""))


def _its_sentence(its: InterruptedTimeSeries, *, unit: str) -> str:
    scale = _("log hazard ratio") if its.link == "cloglog" else _("log odds ratio")
    return t("Binomial GLM with a {link} link on {n_before} {unit}s before and {n_after} "
             "after (estimates on the {scale} scale; dispersion {dispersion}, standard errors "
             "scaled by it when above 1). **Level change** {level} (95% CI "
             "{level_low} to {level_high}), i.e. a ratio of "
             "{ratio} ({ratio_low}–{ratio_high}); "
             "**slope change** {slope} per {unit} ({slope_low} to "
             "{slope_high}). The dashed line is the counterfactual: churn had the "
             "pre-change trend continued.", link=its.link, n_before=its.n_before_, unit=label(unit),
             n_after=its.n_after_, scale=scale, dispersion=f"{its.dispersion_:.2f}",
             level=f"{its.level_change_:+.3f}", level_low=f"{its.level_change_ci_[0]:+.3f}",
             level_high=f"{its.level_change_ci_[1]:+.3f}", ratio=f"{its.hazard_ratio_:.2f}",
             ratio_low=f"{its.hazard_ratio_ci_[0]:.2f}", ratio_high=f"{its.hazard_ratio_ci_[1]:.2f}",
             slope=f"{its.slope_change_:+.4f}", slope_low=f"{its.slope_change_ci_[0]:+.4f}",
             slope_high=f"{its.slope_change_ci_[1]:+.4f}")


def truth_sentence(its: InterruptedTimeSeries, truth: Mapping[str, float] | None) -> str:
    """The ITS level change against the generator's true change effect ("" for real data)."""
    if truth is None:
        return ""
    lo, hi = its.level_change_ci_
    values = {"log_hr": f"{truth['log_hr']:.3f}", "hr": f"{truth['hazard_ratio']:.2f}",
              "estimate": f"{its.level_change_:.3f}"}
    if lo <= truth["log_hr"] <= hi:
        return t("*Check against the synthetic truth:* the generator's change effect is a log hazard "
                 "ratio of {log_hr} (hazard ratio {hr}); the ITS estimate {estimate} covers it.", **values)
    return t("*Check against the synthetic truth:* the generator's change effect is a log hazard "
             "ratio of {log_hr} (hazard ratio {hr}); the ITS estimate {estimate} does not cover it.",
             **values)


def control_chart_sentence(chart: ControlChart, *, unit: str, event_date) -> str:
    flagged = flagged_periods(chart)
    u = label(unit)
    excluded = (t(" ({periods} set aside as out of control)", periods=", ".join(chart.baseline_flagged_))
                if chart.baseline_flagged_ else "")
    return (t("Chart used: **{chart}** — {reason}. Centre line {center} per {unit} from the baseline "
              "{unit}s before {date}{excluded}.", chart=chart.chart_, reason=chart.reason_,
              center=f"{chart.center_:.2%}", unit=u, date=f"{pd.Timestamp(event_date):%Y-%m-%d}",
              excluded=excluded)
            + t(" Flagged as abnormally high: {periods}.",
                periods=", ".join(flagged["period"]) if len(flagged) else _("none"))
            + t(" {unit_cap}s before the baseline are drawn in grey for context only (the start of a "
                "dataset often carries transients) and are not flagged.", unit_cap=u.capitalize())
            + seasonality_sentence(chart))


def _levels(values) -> str:
    """A control-segment spec's levels as a reader sees them (English: as given)."""
    if not is_chinese():
        return str(values)
    items = values if isinstance(values, list | tuple) else [values]
    return "、".join(label(v) for v in items)


def did_sentence(did: Mapping[str, Any] | None, control_segment: Mapping[str, Any] | None) -> str:
    """The difference-in-differences ratio, or why there is none."""
    if did is None:
        return _("No segment is known to have been spared by the change (parameter `control_segment`), "
                 "so there is no difference-in-differences check; every segment was exposed.")
    return t("Difference in differences ({treated} exposed vs {control} not): ratio {ratio} (95% CI "
             "{low}–{high}), parallel pre-trends check p = {p}.",
             treated=_levels(control_segment["treated"]), control=_levels(control_segment["control"]),
             ratio=f"{did['ratio']:.2f}", low=f"{did['ratio_ci_low']:.2f}",
             high=f"{did['ratio_ci_high']:.2f}", p=f"{did['pretrend_p_value']:.2f}")


def verdict_text(readiness: ImpactReadiness, *, unit: str, its=None, before_after=None, chart=None,
                 did=None) -> str:
    """The change-impact verdict (:func:`churn_research.indicators.impact.verdict`), or why
    there is none."""
    if readiness.ready:
        return impact_verdict(its=its, before_after=before_after, chart=chart, did=did, unit=unit)
    return t("**No change-impact verdict:** {reason}. The indicators above describe churn over the "
             "window; the early-warning chart needs a dated change (or a chosen baseline) to compare "
             "against.", reason=impact_skip_reason(readiness, unit=unit))


# --- how the stage's tables read --------------------------------------------------------------
# Column headers, row labels and coded values are data labels: shown through
# :func:`~churn_research.i18n.label` (English: unchanged); the formats follow the headers.

def _shown(frame: pd.DataFrame, formats: Mapping[str, Any] | None = None):
    """``frame`` with its headers (and index labels) in the report language, and ``formats``
    keyed by the shown headers."""
    out = frame.rename(columns=label)
    if out.index.dtype == object:
        out = out.rename(index=label)
    if frame.index.name is not None:
        out.index.name = label(frame.index.name)
    return out, {label(k): v for k, v in (formats or {}).items()}


def _yes_no_words(values: pd.Series) -> pd.Series:
    """A boolean column as the words a reader expects (yes / no, 是 / 否)."""
    return values.map(lambda v: v if pd.isna(v) else label(yes_no(bool(v))))


def churn_table_view(table: pd.DataFrame, *, last: int = 12):
    """The last ``last`` periods of a churn table, rates as percentages."""
    show = ["period", "partial", "at_risk", "new",
            *(["returned"] if table.attrs.get("lapses") == "episodes" else []),
            "churned", "churned_new", "exposed",
            "churn_rate", "churn_ci_low", "churn_ci_high", "retention_rate"]
    rates = ["churn_rate", "churn_ci_low", "churn_ci_high", "retention_rate"]
    view = table[show].tail(last).copy()
    view["partial"] = _yes_no_words(view["partial"])
    view, formats = _shown(view, {c: "{:.2%}" for c in rates})
    return view.style.format(formats).hide(axis="index")


def targets_view(table: pd.DataFrame):
    """The target table (:func:`~churn_research.indicators.target_table`): values as the reader
    reads them (percentages for rates), headers in words."""
    rows = []
    for r in table.itertuples():
        def fmt(v, signed=None, name=r.indicator):
            return _target_value(name, v, signed=signed)
        listed = r.status in _TARGET_LISTED
        rows.append({
            _("indicator"): _indicator_name(r.indicator),
            _("baseline period"): text(r.baseline_period), _p("target", "baseline"): fmt(r.baseline),
            _("target"): fmt(r.target),
            _("deadline"): f"{pd.Timestamp(r.by):%Y-%m-%d}" if not pd.isna(r.by) else "–",
            _p("target", "period"): text(r.period) if listed else "–",
            _("actual"): fmt(r.actual) if listed else "–",
            _("straight path now"): fmt(r.expected_now) if listed else "–",
            _("change still needed"): fmt(r.change_needed, signed=True) if listed else "–",
            _("change needed (relative to actual)"): (
                f"{float(r.change_needed_rel):+.1%}" if listed and not pd.isna(r.change_needed_rel)
                else "–"),
            _("status"): label(r.status), _("why"): target_detail(r) if listed else text(r.detail)})
    return pd.DataFrame(rows).style.hide(axis="index")


def before_after_view(ba: BeforeAfter):
    view, formats = _shown(ba.table, {"churn_rate": "{:.2%}", "ci_low": "{:.2%}", "ci_high": "{:.2%}",
                                      "at_risk": "{:,}", "churned": "{:,}"})
    return view.style.format(formats)


def its_view(its: InterruptedTimeSeries):
    """The ITS coefficients with their intervals and ratios."""
    cols = ["estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_ci_low", "ratio_ci_high"]
    view, _formats = _shown(its.params_.set_index("term")[cols])
    return view.style.format("{:.4f}")


def control_chart_views(chart: ControlChart, *, unit: str, event_date) -> list:
    """The control chart's sentence and, when periods are flagged, their table."""
    flagged = flagged_view(chart)
    return [Md(control_chart_sentence(chart, unit=unit, event_date=event_date)),
            *([flagged] if flagged is not None else [])]


def flagged_view(chart: ControlChart):
    """The periods the control chart flags as abnormally high (None when there are none)."""
    flagged = flagged_periods(chart)
    if not len(flagged):
        return None
    view = flagged[["period", "phase", "k", "n", "rate", "ucl"]].copy()
    view["phase"] = view["phase"].map(label)
    view, formats = _shown(view, {"rate": "{:.2%}", "ucl": "{:.2%}", "k": "{:,.0f}", "n": "{:,.0f}"})
    return view.style.format(formats).hide(axis="index")
