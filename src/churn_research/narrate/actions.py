"""What to do: one action line per question of the summary page, from the stages' key figures.

Each line follows from numbers the page shows (it names them), recommends what the data
support and no more (associations are not causes, a snapshot's score is not a forecast), and
points at the tool the project provides for it (the watchlist, the control chart, the
scenarios). Built from the flat key figures of all stages of a dataset (``figs``: stage ->
figures), like :mod:`churn_research.narrate.definitions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.i18n import _, label, t
from churn_research.narrate.definitions import reads_as_probabilities
from churn_research.narrate.format import count, get, money, pct, ratio_ci, text
from churn_research.wording import gap, join

__all__ = ["action", "ACTIONS"]

Figures = Mapping[str, Mapping[str, Any]]


def _annual(figs: Figures) -> float | None:
    for stage in ("50_clv", "10_indicators", "00_data"):
        rate = get(figs.get(stage, {}), "annual_churn.rate")
        if rate is not None:
            return rate
    return None


def _how_many(figs: Figures, currency: str) -> str | None:
    ind = figs.get("10_indicators", {})
    kind = get(figs.get("00_data", {}), "kind")
    low = get(ind, "its.level_ratio_ci_low")
    if low is not None and low > 1:
        return t("The business change raised churn to {ratio} times the level the pre-change trend "
                 "predicts: win back the customers lost since the change first, starting with the "
                 "exit reasons that rose most after it (the causes report).",
                 ratio=ratio_ci(get(ind, "its.level_ratio"), low, get(ind, "its.level_ratio_ci_high")))
    if get(ind, "control_chart.latest_signal") == "high":
        return t("The latest period ({period}) is above the control chart's upper limit: find out "
                 "what changed in it before the next period.",
                 period=text(get(ind, "control_chart.latest_period")))
    if get(ind, "target.churn_rate.status") == "off track":
        return t("Churn ({actual}) is off track for its target of {target}: the watchlist and the "
                 "retention scenarios below show where a cut can come from.",
                 actual=pct(get(ind, "target.churn_rate.actual")),
                 target=pct(get(ind, "target.churn_rate.target")))
    if get(ind, "annual_churn.method") == "survival curve":
        return _("These data are one snapshot: export the same table again next month and compare, "
                 "so that churn can be tracked over time instead of read off one month.")
    if kind == "non-contractual":
        return _("A lapse is only visible long after a customer's last purchase, so churn figures "
                 "arrive late: act on the early-warning signals of the watchlist instead of waiting "
                 "for churn to show.")
    if get(ind, "control_chart.center") is not None:
        return _("Keep tracking churn against the control chart's limits, and act when a period "
                 "crosses them.")
    return t("Keep tracking churn per {period} as new data arrive, against the target.",
             period=label(text(get(ind, "freq", "period"))))


def _how_long(figs: Figures, currency: str) -> str | None:
    s12 = get(figs.get("30_survival", {}), "km_survival.12")
    annual = _annual(figs)
    if s12 is None or annual is None:
        return None
    first_year = 1 - s12
    if first_year > annual:
        return t("New customers are the most at risk: {first_year} leave within their first year, "
                 "against {annual} of the whole base a year — put retention effort into onboarding "
                 "and the first months.", first_year=pct(first_year), annual=pct(annual))
    return t("Risk does not fall with tenure here ({first_year} of new customers leave in their "
             "first year, {annual} of the base a year): retention must cover established customers, "
             "not only new ones.", first_year=pct(first_year), annual=pct(annual))


def _why(figs: Figures, currency: str) -> str | None:
    causes = figs.get("20_causes", {})
    top, share = get(causes, "reasons.top1"), get(causes, "reasons.top1_share")
    if top is not None and share is not None:
        return t("Start with the most frequent exit reason, {reason} ({share} of the reasons given); "
                 "the drivers are associations, so test an action on them against a control group "
                 "before rolling it out.", reason=label(top), share=pct(share))
    if causes:
        return _("The drivers are associations in observational data: test an action aimed at the "
                 "strongest one against a control group before rolling it out (no exit reasons "
                 "are recorded here; recording them would say why customers leave).")
    return None


def _who(figs: Figures, currency: str) -> str | None:
    seg = figs.get("40_segments", {})
    size = get(seg, "watchlist.size")
    if size is None:
        return None
    retention = figs.get("60_retention", {})
    if get(seg, "design") != "prospective" and get(retention, "money_at_risk.all.customers") is not None:
        return t("Contact the {size} customers of the retention watchlist (retention_watchlist.csv of "
                 "60_retention), highest risk × value first, with the action each one's state calls "
                 "for; their score describes who resembles past churners in one snapshot, so check it "
                 "against the next export's exits before relying on it.", size=count(size))
    if get(seg, "design") != "prospective":
        return t("Contact the {size} customers of the watchlist (watchlist.csv), highest risk × value "
                 "first, with the action the playbook gives each; their score describes who resembles "
                 "past churners in one snapshot, so check it against the next export's exits before "
                 "relying on it.", size=count(size))
    states = get(retention, "action_states")
    if states and get(retention, "calibration.used") is False:
        return t("Contact the {size} customers of the retention watchlist (retention_watchlist.csv of "
                 "60_retention), highest risk × value first (the model's own scores: calibration did "
                 "not improve them), each with the action that fits their state ({states}).",
                 size=count(size), states=join(_state_name(x) for x in str(states).split(", ")))
    if states:
        return t("Contact the {size} customers of the retention watchlist (retention_watchlist.csv of "
                 "60_retention), highest calibrated risk × value first, each with the action that "
                 "fits their state ({states}).", size=count(size),
                 states=join(_state_name(x) for x in str(states).split(", ")))
    if any(str(k).startswith("action_counts") for k in retention):  # state-aware
        return t("Contact the {size} customers of the retention watchlist (retention_watchlist.csv of "
                 "60_retention), highest calibrated risk × value first, each with the action that "
                 "fits their state (contract, value, tenure, open complaints, price sensitivity).",
                 size=count(size))
    return t("Contact the {size} customers of the watchlist (watchlist.csv), highest risk × value "
             "first, with the action the playbook gives each.", size=count(size))


def _state_name(state: str) -> str:
    """A customer state the playbook reads, in the report language."""
    names = {"contract": _("contract"), "value": _("customer value"), "tenure": _("tenure"),
             "open complaints": _("open complaints"), "price sensitivity": _("price sensitivity")}
    return names.get(state, state)


def value_per_active_customer(clv: Mapping[str, Any]) -> float | None:
    """The mean residual value of the customers active now (50_clv's value of the active base /
    its customers); ``clv.mean`` when those are not recorded. In a purchase log ``clv.mean``
    averages over every customer ever seen, most of them long gone, so it is not the value of a
    customer kept."""
    base, n = get(clv, "money_at_risk.base_value"), get(clv, "money_at_risk.customers")
    if base is not None and n:
        return float(base) / float(n)
    return get(clv, "clv.mean")


def _cost(figs: Figures, currency: str) -> str | None:
    clv = figs.get("50_clv", {})
    gain = get(clv, "scenarios.churn_minus_5_pts.extra_profit")
    value = value_per_active_customer(clv)
    if gain is None or value is None:
        return None
    years = get(clv, "scenario_years", 3)
    risk = figs.get("60_retention", {})
    at_risk = get(risk, "money_at_risk.all.expected_loss")
    lost = get(clv, "money_at_risk.expected_loss")
    # 60_retention's sum is the expected loss only for calibrated probabilities of leaving a
    # contract (narrate.retention.is_expected_loss); otherwise 50_clv's value lost is quoted
    ranking = (get(risk, "design") == "cross-sectional" or not reads_as_probabilities(risk)
               or get(risk, "money_at_risk.value_model") == "non-contractual")
    if at_risk is not None and ranking and lost is not None:
        return t("A retention programme pays when it costs less than what it saves: a customer kept "
                 "is worth about {value} of future profit, and the customers active now are "
                 "expected to take {lost} with them within {months} months (50_clv): the money at "
                 "stake, of which a programme saves only the part belonging to the customers it "
                 "keeps.", value=money(value, currency), lost=money(lost, currency),
                 months=text(get(clv, "money_at_risk.horizon_months", 12)))
    if at_risk is not None and not ranking:
        score = (_("the churn-risk model's own P(churn), already calibrated")
                 if get(risk, "calibration.used") is False else _("calibrated P(churn)"))
        return t("A retention programme pays when it costs less than what it saves: a customer kept "
                 "is worth about {value} of future profit, and the customers active now are "
                 "expected to take {risk} with them within {days} days ({score} × residual value, "
                 "60_retention): the money at stake, of which a programme saves only the part "
                 "belonging to the customers it keeps.", value=money(value, currency),
                 risk=money(at_risk, currency), days=text(get(risk, "horizon_days")), score=score)
    return t("A retention programme pays when it costs less than what it saves: a customer kept is "
             "worth about {value} of future profit, and cutting annual churn by 5 points about "
             "{gain} over {years} years — the most a programme achieving that could cost before it "
             "loses money.", value=money(value, currency), gain=money(gain, currency), years=text(years))


def _whom(risk: Mapping[str, Any]) -> str:
    """Whom to contact first: by the uplift model only where its normalised Qini interval is
    above 0 (it finds the customers a contact helps better than chance)."""
    low = get(risk, "uplift.qini_normalised_ci_low")
    if low is not None and low <= 0:
        return _("Work through the retention watchlist (retention_watchlist.csv): the uplift model "
                 "cannot yet tell whom a contact helps (its Qini interval includes 0), so do not "
                 "target by it; keep a control group to measure the next campaign.")
    return _("Contact first the customers the uplift model ranks highest, and keep a control group "
             "to measure the next campaign.")


def _above_target(risk: Mapping[str, Any]) -> str | None:
    """How far the churn estimate per period is above the target, in percentage points (``0.9``),
    None without both figures."""
    actual, target = get(risk, "plan.period_actual"), get(risk, "plan.period_target")
    if actual is None or target is None:
        return None
    return f"{100 * (float(actual) - float(target)):.1f}"


def _retention(figs: Figures, currency: str) -> str | None:
    risk = figs.get("60_retention", {})
    contacts = get(risk, "plan.contacts")
    within = get(risk, "plan.met_how") == "within interval"
    if get(risk, "plan.met") and not within:
        return _("Churn already meets its target, so no campaign is needed to reach it.") + gap() + _whom(risk)
    above = _above_target(risk)
    if within and above is not None and contacts is not None:
        return t("Churn is not shown to meet its target: the estimate is {above} percentage points "
                 "above it, though its interval still covers the target. Reaching the target takes "
                 "keeping about {save} customers: at the campaign's measured effect about {contacts} "
                 "contacts costing {cost}.", above=above, save=count(get(risk, "plan.to_save")),
                 contacts=count(contacts), cost=money(get(risk, "plan.cost"), currency)) + gap() + _whom(risk)
    if within and above is not None:
        return t("Churn is not shown to meet its target: the estimate is {above} percentage points "
                 "above it, though its interval still covers the target.", above=above) + gap() + _whom(risk)
    if contacts is not None:
        return t("Meeting the churn target takes keeping about {save} customers: at the campaign's "
                 "measured effect about {contacts} contacts costing {cost}.",
                 save=count(get(risk, "plan.to_save")), contacts=count(contacts),
                 cost=money(get(risk, "plan.cost"), currency)) + gap() + _whom(risk)
    if get(risk, "money_at_risk.all.expected_loss") is not None:
        return _("Work through the retention watchlist (retention_watchlist.csv) with the action "
                 "each customer's state calls for, and run the next retention action with a "
                 "randomly held-out control group so that its effect can be measured.")
    return None


#: The action of each summary question (stage -> builder).
ACTIONS = {"10_indicators": _how_many, "30_survival": _how_long, "20_causes": _why,
           "40_segments": _who, "50_clv": _cost, "60_retention": _retention}


def action(stage: str, figs: Figures, *, currency: str = "") -> str | None:
    """The "What to do" line of the summary section answered by ``stage`` (None if the data
    say nothing actionable for it)."""
    build = ACTIONS.get(stage)
    return build(figs, currency) if build else None
