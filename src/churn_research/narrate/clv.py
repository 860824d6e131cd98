"""Findings of 50_clv: what customers are worth and what churn costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from churn_research.clv.analysis import (
    HEADLINE_KEYS,
    TOP_SHARE,
    BtydDiagnostics,
    BtydValidation,
    BtydValue,
    ChurnCostResult,
    ContractualValue,
    DerlResult,
    MoneyAtRisk,
    top_share,
)
from churn_research.i18n import _, is_chinese, label, t
from churn_research.narrate import definitions
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    count,
    get,
    money,
    money_ends,
    not_available,
    pct,
    pct_ci,
    text,
)
from churn_research.wording import gap, join, sentences, stop


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the yearly profit lost to churn and the value of the customers now active."""
    cur = context.get("currency", "")
    lost = get(figures, "cost_of_churn.lost_profit")
    rate = get(figures, "cost_of_churn.annual_churn_rate")
    equity = get(figures, "customer_equity")
    keys, unavailable = [], []
    if lost is not None:
        base = get(figures, "cost_of_churn.customers_active", get(figures, "scenario_base_customers"))
        # the cost's interval is the annual churn's (revenue and margin taken as given)
        low, high = (get(figures, "cost_of_churn.lost_profit_ci_low"),
                     get(figures, "cost_of_churn.lost_profit_ci_high"))
        values = dict(lost=money(lost, cur) if low is None or high is None else
                      t("{value} (95% CI {low}–{high}, from the annual churn rate's interval alone)",
                        value=money(lost, cur), **money_ends(low, high, cur, decimals=0)),
                      rate=pct_ci(rate, get(figures, "annual_churn.ci_low"),
                                  get(figures, "annual_churn.ci_high")),
                      n=count(get(figures, "cost_of_churn.lost_customers")))
        if base is not None:
            headline = t("Churn costs about {lost} of profit a year: at {rate} annual churn, about {n} "
                         "of the {base} customers active now would leave each year",
                         base=count(base), **values)
        else:
            headline = t("Churn costs about {lost} of profit a year: at {rate} annual churn, about {n} "
                         "of the customers active now would leave each year", **values)
        if equity is not None and context.get("kind") == "non-contractual":
            headline += t("; all customers are worth {equity} of discounted profit over {years} years "
                          "(BG/NBD × Gamma-Gamma, each weighted by the probability of still being "
                          "active).", equity=money(equity, cur),
                          years=text(get(figures, "clv.horizon_years")))
        elif equity is not None:
            headline += t("; the active customers are worth {equity} of future profit.",
                          equity=money(equity, cur))
        else:
            headline += stop()
    else:
        headline = t("The customers are worth {equity} of future profit.", equity=money(equity, cur))
    if lost is not None and context.get("kind") == "non-contractual":
        days = context.get("inactivity_days")
        lapse = (t("A leaver here is a lapse: no purchase for {days} days.", days=days) if days else
                 _("A leaver here is a lapse under the inactivity rule."))
        keys.append(Finding(sentences(
            lapse,
            _("Some lapsed customers buy again later (60_retention's win-back section measures how "
              "many come back within 6 and 12 months), so the yearly cost of churn counts profit "
              "that partly returns."),
            None if get(figures, "money_at_risk.expected_loss") is None else t(
                "The value lost to churn within {months} months uses the BG/NBD probability of having "
                "stopped for good instead.", months=text(get(figures, "money_at_risk.horizon_months", 12)))),
            _("The cost of churn")))
    if get(figures, "annual_churn.method") == "survival curve":
        keys.append(Finding(
            _("These data record exits for one month only: the annual churn is read off the survival "
              "curve (each active customer's chance of leaving within a year given their tenure), so "
              "the cost of churn is indicative."), _("The cost of churn")))
    if get(figures, "clv.mean") is not None:
        definition = definitions.value_model_name(str(get(figures, "clv.definition", "lifetime value")))
        keys.append(Finding(
            t("{definition}: mean {mean}, median {median} per customer.",
              definition=f"{definition[0].upper()}{definition[1:]}",
              mean=money(get(figures, "clv.mean"), cur), median=money(get(figures, "clv.median"), cur)),
            _("Contractual value") if context.get("kind") == "contractual"
            else _("Non-contractual purchasing")))
    new = get(figures, "clv_new_customer.mean")
    if new is not None:
        keys.append(Finding(t("A new customer is worth {value} of profit on average.",
                              value=money(new, cur)),
                            _("Contractual value from the retention curve")))
    best = max((k for k in figures if k.startswith("scenarios.") and k.endswith(".extra_profit")
                and get(figures, k)), key=lambda k: get(figures, k), default=None)
    if best is not None:
        name = best.split(".")[1].replace("churn_minus_", "").replace("_pts", "").replace("_", ".")
        keys.append(Finding(
            t("Cutting annual churn by {points} percentage points would add about {profit} of "
              "discounted profit over {years} years.", points=name,
              profit=money(get(figures, best), cur), years=text(get(figures, "scenario_years"))),
            _("Retention scenarios")))
    loss = get(figures, "money_at_risk.expected_loss")
    if loss is not None:
        months = int(get(figures, "money_at_risk.horizon_months", 12))
        line = t("If nothing changes, about {loss} of future profit (95% CI {low}–{high}) is expected "
                 "to be lost to churn within {months} months (P(churn) × value over the {n} active "
                 "customers)", loss=money(loss, cur),
                 **money_ends(get(figures, "money_at_risk.ci_low"), get(figures, "money_at_risk.ci_high"),
                              cur, decimals=0 if abs(float(loss)) >= 100 else 2), months=months,
                 n=count(get(figures, "money_at_risk.customers")))
        flagged = get(figures, "money_at_risk.flagged_expected_loss")
        if flagged is not None:
            line += t("; the {n} customers in the 'at risk' tier or with a warning signal (the rules "
                      "of 40_segments) hold {flagged} of it ({share})",
                      n=count(get(figures, "money_at_risk.flagged_customers")),
                      flagged=money(flagged, cur), share=pct(flagged / loss if loss else None))
        line += (_(". Indicative: these data are one snapshot.") if context.get("snapshot")
                 else stop())
        if lost is not None:  # two yearly money figures on one page: say how they differ
            line += gap() + _("It counts each leaver's whole future profit; the yearly cost of churn "
                              "above counts one year of profit per leaver.")
        keys.append(Finding(line, _("The value of customers at risk")))
    if get(figures, "holdout.relative_error") is not None:
        err = get(figures, "holdout.relative_error")
        values = dict(error=pct(abs(err)), correlation=f"{get(figures, 'holdout.correlation'):.2f}")
        keys.append(Finding(
            t("The BG/NBD model under-forecasts the holdout purchases by {error} (correlation "
              "{correlation} across customers): read its values as approximate.", **values)
            if err < 0 else
            t("The BG/NBD model over-forecasts the holdout purchases by {error} (correlation "
              "{correlation} across customers): read its values as approximate.", **values),
            _("Non-contractual purchasing")))
    if get(figures, "sbg_not_available"):
        unavailable.append(not_available(_("DERL under the shifted-beta-geometric model"),
                                         str(get(figures, "sbg_not_available"))))
    elif get(figures, "clv_new_customer.mean") is None:
        unavailable.append(not_available(_("survival-based value and DERL"),
                                         _("the data are not contractual with a revenue per period")))
    checked = (_("the published CDNOW estimates (Fader, Hardie & Lee 2005)")
               if get(figures, "bgnbd.r") is not None and dataset == "cdnow" else
               _("textbook worked examples") if get(figures, "sanity.all_ok") else None)
    return StageFindings("50_clv", dataset, headline, keys[:6], unavailable, checked)


# ========================================================================================
# section sentences: built from the result objects of churn_research.clv.analysis
# ========================================================================================
def _names(items) -> str:
    return join(label(i) for i in items)


def _date(ts) -> str:
    return str(pd.Timestamp(ts).date())


def setting(data, *, dataset: str, margin: float, discount_rate: float) -> str:
    """The data and the assumptions the stage runs on."""
    return t("**Data:** `{dataset}` ({kind}), {n} customers, snapshot {date}; tables present: "
             "{tables}. Assumed margin {margin}, annual discount rate {discount_rate}.",
             dataset=dataset, kind=label(data.kind), n=count(len(data.customers)),
             date=_date(data.observation_end),
             tables=join(label(x) for x in sorted(data.table_names())),
             margin=f"{margin:.0%}", discount_rate=f"{discount_rate:.0%}")


def sanity(checks: pd.DataFrame) -> str:
    """After :func:`churn_research.clv.analysis.sanity_checks` (which raises on a failure)."""
    n_ok = int(checks["ok"].sum())
    if n_ok == len(checks):
        return t("All {n} worked examples are reproduced exactly.", n=len(checks))
    return t("{ok} of {n} worked examples are reproduced exactly.", ok=n_ok, n=len(checks))


def retention_curve(value: ContractualValue | None, *, data, value_col: str | None) -> str:
    """Which exits the retention curve is estimated from, or why there is none."""
    if value is None:
        if data.kind != "contractual":
            why = t("it needs contractual data with a revenue-per-month column (`{column}`) and "
                    "these data are non-contractual (their value is modelled with BG/NBD below)",
                    column=value_col)
        else:
            why = t("it needs contractual data with a revenue-per-month column (`{column}`) and "
                    "these data have no such column", column=value_col)
        return not_available(_("survival-based lifetime value"), why)
    since = _date(value.observed_from) if value.observed_from is not None else ""
    regime = {"event": t("exits observed since the business change on {date} (the regime customers "
                         "face now; earlier customers enter at their tenure then)", date=since),
              "records": t("exits observed from {date}, when the records begin (earlier customers "
                           "enter at their tenure then: left truncation)", date=since),
              "all": _("all exits in the data")}[value.regime]
    if value.by:
        return t("Retention curve by {by}, from {regime}.", by=label(value.by), regime=regime)
    return t("Retention curve for all customers, from {regime}.", regime=regime)


def new_customer_value(value: ContractualValue, *, currency: str = "") -> str:
    """The CLV of a new customer, its spread across segments and the tail's share."""
    seg = value.segments
    out = t("A new customer is worth **{value}** of profit on average (margin {margin}, discounted "
            "at {discount_rate} a year).", value=money(value.new_mean, currency, decimals=0),
            margin=f"{value.margin:.0%}", discount_rate=f"{value.discount_rate:.0%}")
    by = ""
    if value.by and len(seg) > 1:
        best, worst = seg["clv"].idxmax(), seg["clv"].idxmin()
        by = t("By {by}: {best} {best_value} vs {worst} {worst_value}.", by=label(value.by),
               best=label(best), best_value=money(seg.loc[best, "clv"], currency, decimals=0),
               worst=label(worst), worst_value=money(seg.loc[worst, "clv"], currency, decimals=0))
    tail = t("The parametric tail contributes {low}-{high} of the discounted lifetime: that part is "
             "an extrapolation beyond the observed tenures.",
             low=f"{seg['tail_share'].min():.0%}", high=f"{seg['tail_share'].max():.0%}")
    return sentences(out, by, tail)


def customer_equity(result: ContractualValue | BtydValue, *, currency: str = "") -> str:
    """What the customers are worth together, and how concentrated that value is."""
    v = result.values
    top = t("the top {share} of customers hold {held} of it.", share=f"{TOP_SHARE:.0%}",
            held=f"{top_share(v):.0%}")
    if isinstance(result, BtydValue):
        return t("**Customer equity:** {equity} of discounted profit over {years} years (mean {mean}, "
                 "median {median} per customer); {top}",
                 equity=money(result.equity, currency, decimals=0), years=result.horizon_years,
                 mean=money(v.mean(), currency, decimals=2),
                 median=money(v.median(), currency, decimals=2), top=top)
    return t("**Customer equity:** the {n} active customers are worth **{equity}** of future profit "
             "(mean {mean}, median {median} per customer); {top}", n=f"{len(v):,}",
             equity=money(result.equity, currency, decimals=0),
             mean=money(v.mean(), currency, decimals=0),
             median=money(v.median(), currency, decimals=0), top=top)


def derl_flat(result: DerlResult) -> str:
    """Segments where the sBG finds no heterogeneity ("" when there are none)."""
    if not result.available:
        return ""
    flat = result.flat_segments
    if not flat:
        return ""
    return t("For {segments} the sBG finds no heterogeneity (polarisation near 0: every customer the "
             "same churn probability), so its DERL does not grow with tenure; the retention curve "
             "shows what the data say.", segments=_names(flat))


def derl(result: DerlResult | None, *, data=None) -> str:
    """DERL under the sBG and what the retention curve says about it (or why there is none).

    The curve's DERL is read per segment: where it stops rising (the renewals from which no
    later value is higher) is said for each segment that levels off; a segment whose DERL
    rises to the last renewals is said to keep rising.
    """
    if result is None:
        kind = getattr(data, "kind", None)
        why = (_("it is a contractual (renewal) measure and these data are non-contractual")
               if kind == "non-contractual" else
               _("it is a contractual (renewal) measure and these data have no revenue column"))
        return not_available("DERL", why)
    if not result.available:
        return not_available(_("DERL under the shifted-beta-geometric (sBG) model"), result.reason)
    renewals = result.renewals
    first, last = renewals[0], renewals[-1]
    seg0 = result.sbg_table.columns[0]
    out = t("Under the sBG, a {segment} customer who has just joined has a discounted expected "
            "residual lifetime of {first} months, one with {last} renewals {last_value}: the sBG "
            "explains rising retention by sorting (the customers with high churn probabilities "
            "leave first).", segment=label(seg0), first=f"{result.sbg_table.loc[first, seg0]:.1f}",
            last=last, last_value=f"{result.sbg_table.loc[last, seg0]:.1f}")
    rising = result.curve_rises
    if not rising.all():
        return sentences(out, t(
            "The retention curve shows it only for {rising}: for {others} the hazard does not fall "
            "with tenure (for instance at contract ends), which the sBG cannot represent, so there "
            "the curve is the better guide.",
            rising=_names(rising[rising].index) or _("no segment"),
            others=_names(rising[~rising].index)))
    stops = {seg: n for seg, n in result.curve_levels_off.items() if n is not None}
    if not stops:
        return sentences(out, t("The retention curve agrees that long-standing customers have more "
                           "discounted lifetime ahead of them than new ones in every segment, and it "
                           "keeps rising up to {last} renewals, as the sBG does.", last=last))
    by_stop: dict = {}
    for seg, n in stops.items():
        by_stop.setdefault(n, []).append(seg)
    levels = ("；" if is_chinese() else "; ").join(
        t("for {segments} from about {n} renewals", segments=_names(segs), n=n)
        for n, segs in by_stop.items())
    keeps = [seg for seg in result.curve_table.columns if seg not in stops]
    if keeps:
        return sentences(out, t(
            "The retention curve agrees that long-standing customers have more discounted lifetime "
            "ahead of them than new ones in every segment. It levels off {levels} (flat or slightly "
            "falling after that), while the sBG keeps rising; for {keeps} it keeps rising up to "
            "{last} renewals, as the sBG does.", levels=levels, keeps=_names(keeps), last=last))
    return sentences(out, t(
        "The retention curve agrees that long-standing customers have more discounted lifetime "
        "ahead of them than new ones in every segment. It levels off {levels} (flat or slightly "
        "falling after that), while the sBG keeps rising.", levels=levels))


def btyd_split(result: BtydValidation | None, *, data=None) -> str:
    """The calibration and holdout periods (or why there are no BTYD models)."""
    if result is None:
        kind = getattr(data, "kind", None)
        has_tx = data is not None and data.has("transactions")
        if kind == "contractual" and has_tx:
            why = _("they are for non-contractual purchase logs and these data are contractual: "
                    "their transactions are subscription invoices")
        else:
            why = t("they are for non-contractual purchase logs and these data are {kind} without "
                    "transactions", kind=label(kind))
        return not_available(_("the BG/NBD and Gamma-Gamma models"), why)
    cal = _date(result.calibration_end)
    split = t("Calibration period: first purchases up to {calibration_end} ({n} customers); holdout "
              "period: {calibration_end} to {end} ({duration} {unit}).", calibration_end=cal,
              n=f"{len(result.split):,}", end=_date(result.observation_end),
              duration=f"{result.split['duration_holdout'].iloc[0]:.1f}", unit=label(result.unit))
    return sentences(split, fit_rows(result))


def btyd_tracking(diag: BtydDiagnostics | None, *, data=None) -> str:
    """What the tracking plot shows (or the one line for contractual data)."""
    if diag is None:
        if getattr(data, "kind", None) == "contractual":
            return _("BG/NBD tracking plot and P(alive): not applicable, churn dates are recorded "
                     "(contractual data), so churn need not be inferred from purchases.")
        return ""
    c, h = diag.totals.loc["calibration"], diag.totals.loc["holdout"]
    return t("From each customer's first purchase alone (no later history), the BG/NBD expects "
             "{cal_expected} repeat transactions in the calibration period against {cal_actual} "
             "actual ({cal_error}) and {hold_expected} in the holdout against {hold_actual} "
             "({hold_error}): the expected curve {verdict} the actual one.",
             cal_expected=f"{c['expected']:,.0f}", cal_actual=f"{c['actual']:,.0f}",
             cal_error=f"{c['relative_error']:+.1%}", hold_expected=f"{h['expected']:,.0f}",
             hold_actual=f"{h['actual']:,.0f}", hold_error=f"{h['relative_error']:+.1%}",
             verdict=(_("tracks") if abs(h["relative_error"]) <= 0.05
                      else _("falls below") if h["relative_error"] < 0 else _("runs above")))


def btyd_p_alive(diag: BtydDiagnostics) -> str:
    """P(alive) at the calibration end against holdout activity, and against the risk model."""
    a = diag.auc["auc"]
    zero = diag.bands.loc["no repeat purchase", "active_share"]
    first = t("As a ranking of who buys in the holdout, P(alive) at the calibration end has AUC "
              "{auc_all} over all customers: every customer without a repeat purchase has "
              "P(alive) = 1 in the BG/NBD (a customer can only drop out right after a repeat "
              "purchase), yet only {zero} of them bought again. Among repeat buyers its AUC is "
              "{auc_repeat}, and the expected holdout purchases, which weigh P(alive) by the "
              "purchase rate, reach {auc_expected}.", auc_all=f"{a['p_alive']:.2f}",
              zero=pct(zero), auc_repeat=f"{a['p_alive_repeat']:.2f}",
              auc_expected=f"{a['expected_holdout']:.2f}")
    if "risk_model" not in a.index:
        return sentences(first, _("The churn-risk model is in 40_segments and 60_retention."))
    gap = a["expected_holdout"] - a["risk_model"]
    second = t("The risk model of 40_segments, trained on this very label (cross-validated), "
               "reaches {auc_risk}: the BG/NBD, which never sees the holdout, ranks customers "
               "{how}.", auc_risk=f"{a['risk_model']:.2f}",
               how=(_("about as well") if abs(gap) <= 0.02
                    else _("better") if gap > 0 else _("less well")))
    return sentences(first, second)


def btyd_holdout(result: BtydValidation) -> str:
    """How well the calibration fit predicts the holdout purchases."""
    h, hist = result.holdout, result.histogram
    fit = t("Fitted in {seconds} s. Given each customer's history, the model predicts {predicted} "
            "holdout purchases against {actual} actual ({error}; correlation across customers "
            "{correlation}); customers with no repeat purchase in calibration made {zero_actual} "
            "purchases each, predicted {zero_predicted}. All repeat purchases from the first "
            "purchase to the end of the holdout period are forecast with an error of {cumulative} "
            "(Fader, Hardie & Lee report -4% and a correlation of 0.63 on the 1/10 sample of "
            "CDNOW).", seconds=f"{result.model.fit_seconds_:.2f}",
            predicted=f"{h['predicted_total'].sum():,.0f}", actual=f"{h['actual_total'].sum():,.0f}",
            error=f"{result.relative_error:+.1%}", correlation=f"{h.attrs['correlation']:.2f}",
            zero_actual=f"{h.loc['0', 'actual']:.2f}", zero_predicted=f"{h.loc['0', 'predicted']:.2f}",
            cumulative=f"{h.attrs['cumulative_forecast_error']:+.1%}")
    values = dict(chi2=f"{hist.attrs['chi2']:.1f}", dof=hist.attrs["dof"],
                  p=f"{hist.attrs['p_value']:.2g}")
    if result.large_sample:
        chi = t("The calibration histogram fits with chi-square {chi2} on {dof} df (p = {p}; with "
                "tens of thousands of customers small misfits are significant).", **values)
    else:
        chi = t("The calibration histogram fits with chi-square {chi2} on {dof} df (p = {p}).",
                **values)
    return sentences(fit, chi)


def btyd_value(result: BtydValue, *, currency: str = "") -> str:
    """The refitted models, P(alive) and the expected purchases."""
    bg, gg, h = result.bg, result.gg, result.horizon_years
    text_ = t(
        "Refitted on all purchases up to {end}: {n} customers, {n_bg} in the BG/NBD and {n_gg} "
        "repeat buyers in the Gamma-Gamma model (mean spend per purchase {spend}; the correlation "
        "between frequency and average spend is {correlation}, small enough for the model's "
        "independence assumption). The mean probability of still being active is {p_alive}, but "
        "the BG/NBD counts the {no_repeat} of customers who never bought again as alive (they can "
        "only drop out after a purchase); among repeat buyers it is {p_alive_repeat}. Over the "
        "next {years} years the base is expected to make {purchases} purchases.",
        end=_date(result.observation_end), n=f"{len(result.summary):,}",
        n_bg=f"{bg.n_customers_:,.0f}", n_gg=f"{gg.n_customers_:,}",
        spend=money(gg.mean_spend_, currency, decimals=2),
        correlation=f"{result.spend_correlation:.2f}", p_alive=f"{result.value['p_alive'].mean():.0%}",
        no_repeat=f"{result.share_no_repeat:.0%}", p_alive_repeat=f"{result.p_alive_repeat:.0%}",
        years=h, purchases=f"{result.value['expected_purchases'].sum():,.0f}")
    return sentences(text_, fit_rows(result))


def fit_rows(result: BtydValue | BtydValidation) -> str:
    """How many distinct rows the BTYD fits used (the engine's sufficient statistics), or ""
    when they were fitted customer by customer."""
    rows = result.fit_rows
    if rows is None:
        return ""
    if isinstance(rows, dict):  # BtydValue: both models
        return t(
            "Both models were fitted on the sufficient statistics computed by the data engine: "
            "the BG/NBD on {n_bg} unique (frequency, recency, T) combinations for {m_bg} "
            "customers, the Gamma-Gamma on {n_gg} unique (frequency, average spend) combinations "
            "for {m_gg} repeat buyers, each weighted by its number of customers (the likelihood "
            "is exactly that of the customers).",
            n_bg=f"{rows['bgnbd']:,}", m_bg=f"{result.bg.n_customers_:,.0f}",
            n_gg=f"{rows['gamma_gamma']:,}", m_gg=f"{result.gg.n_customers_:,}")
    return t("The BG/NBD was fitted on {n} unique (frequency, recency, T) combinations for {m} "
             "customers, each weighted by its number of customers (the sufficient statistics "
             "computed by the data engine).", n=f"{rows:,}", m=f"{result.model.n_customers_:,.0f}")


def churn_cost(result: ChurnCostResult, *, currency: str = "") -> str:
    """The dataset's annual churn, the revenue per customer and what a year of churn costs."""
    cost, figs = result.cost, result.annual.flat_figures()
    parts = [definitions.annual_churn(figs)]
    if result.kind == "non-contractual" and result.annual.window_end is not None:
        parts.append(t("The window ends {days} days before the observation end, the last date up "
                       "to which a lapse without a purchase is visible.", days=result.inactivity_days))
    source = result.inputs["revenue_source"]
    revenue = money(result.revenue, currency, decimals=0)
    parts.append(t("A customer brings {revenue} of revenue a year (from the transactions).",
                   revenue=revenue) if source == "transactions" else
                 t("A customer brings {revenue} of revenue a year (from the column {column}).",
                   revenue=revenue, column=source))
    parts.append(t(
        "At that rate the {n} customers active at {date} would lose about {lost} a year, costing "
        "**{lost_revenue} of revenue and {lost_profit} of profit a year**; winning as many new "
        "customers would cost about {replacement}, against {retention} to keep them.",
        n=f"{result.inputs['active']:,}", date=_date(result.observation_end),
        lost=f"{cost.lost_customers:,.0f}",
        lost_revenue=money(cost.lost_revenue, currency, decimals=0),
        lost_profit=money(cost.lost_profit, currency, decimals=0),
        replacement=money(cost.replacement_cost, currency, decimals=0),
        retention=money(cost.retention_cost, currency, decimals=0)))
    return sentences(*parts)


def word_of_mouth(result: ChurnCostResult, *, currency: str = "") -> str:
    """The referral scenario under the cost-of-churn table, labelled as an assumption with its
    source (empty when the scenario is off: ``referral_rate`` null)."""
    wom = result.word_of_mouth
    if wom is None:
        return ""
    parts = [t("**Scenario — an assumption, not measured in these data** (word of mouth; "
               "`referral_rate` {rate}, after seed 001: \"100 satisfied customers bring 25 new "
               "ones\"): the {lost} customers lost a year would have brought about {refs} new "
               "customers a year by referral.", rate=f"{wom['referral_rate']:g}",
               lost=f"{result.cost.lost_customers:,.0f}", refs=f"{wom['lost_referrals']:,.0f}")]
    m = wom["complaint_multiplier"]
    if m is not None and wom["complainers"]:
        parts.append(t("Each complaint speaks for {m} silent customers (`complaint_multiplier`, "
                       "after seed 003): the {k} active customers who complained in the last year "
                       "stand for {silent} dissatisfied customers, who bring no referrals either: "
                       "{forgone} more a year.", m=f"{m:g}", k=f"{wom['complainers']:,}",
                       silent=f"{wom['silent_dissatisfied']:,.0f}",
                       forgone=f"{wom['forgone_referrals']:,.0f}"))
        if wom["capped"]:
            parts.append(_("That number is capped at the active base: the rule of thumb does not "
                           "fit data with this many complaints."))
    elif m is not None:
        parts.append(_("No active customer complained in the last year (or the data have no "
                       "complaints), so `complaint_multiplier` adds nothing."))
    parts.append(t("Winning {n} customers another way would cost about **{cost}** a year at the "
                   "acquisition cost per customer, on top of the replacement cost of {replacement}. "
                   "Set `referral_rate` to null to leave the scenario out.",
                   n=f"{wom['referrals']:,.0f}", cost=money(wom["cost"], currency, decimals=0),
                   replacement=money(result.cost.replacement_cost, currency, decimals=0)))
    return sentences(*parts)


def scenario_base(result: ChurnCostResult) -> str:
    """Which customers the retention scenarios project."""
    return t("The scenarios project the {n} customers active at {date}.",
             n=f"{result.inputs['active']:,}", date=_date(result.observation_end))


def scenarios(table: pd.DataFrame, *, annual_churn: float, years: int, discount_rate: float,
              currency: str = "") -> str:
    """What the largest churn cut in :func:`churn_research.clv.retention_scenarios` is worth."""
    top = table.iloc[-1]
    return t("Cutting annual churn by {points} points (from {churn} to {lower}) keeps {extra} more "
             "customers after {years} years and is worth **{profit} of profit** ({revenue} of "
             "revenue, discounted at {discount_rate}).", points=f"{top['reduction'] * 100:g}",
             churn=f"{annual_churn:.1%}", lower=f"{top['churn_rate']:.1%}",
             extra=f"{top['extra_customers_end']:,.0f}", years=years,
             profit=money(top["extra_profit"], currency, decimals=0),
             revenue=money(top["extra_revenue"], currency, decimals=0),
             discount_rate=f"{discount_rate:.0%}")


def money_at_risk(result: MoneyAtRisk | None, *, design: str | None = None,
                  annual: ChurnCostResult | None = None, currency: str = "") -> str:
    """The value expected to be lost within the horizon, with its interval, the flagged
    customers' share of it (or why there are no flags) and the snapshot caveat; with ``annual``
    (the cost of churn), how the average probability relates to the dataset's annual churn."""
    if result is None:
        return not_available(_("the value at risk"), _("no per-customer value could be computed for "
                                                       "these data"))
    h = result.horizon_months
    lo, hi = result.ci
    p = t("{p} on average", p=f"{result.mean_p_churn:.1%}")
    if (annual is not None and result.model == "retention curve" and h == 12
            and annual.annual.method == "survival curve"):
        p += t("; the annual churn, {rate}, is the same average read off the Kaplan–Meier curves "
               "alone, without the parametric tail this valuation splices on where few customers "
               "remain", rate=f"{annual.annual_churn:.1%}")
    elif annual is not None and h == 12:
        p += t("; the annual churn, {rate}, is the share of the base that actually left in the last "
               "observed year", rate=f"{annual.annual_churn:.1%}")
    if result.model == "retention curve":
        how = t("the retention curve given their tenure t, 1 − S(t + {h})/S(t) ({p}), times their "
                "residual lifetime value: the whole future profit a leaver takes with them, not one "
                "year of revenue as in the cost of churn", h=h, p=p)
    else:
        how = t("the BG/NBD probability that a customer still active drops out within {h} months "
                "({p}), times their BG/NBD × Gamma-Gamma value, which already weighs them by their "
                "probability of being active", h=h, p=p)
    parts = [t(
        "If nothing changes, about **{loss}** of future profit is expected to be lost to churn "
        "within the next {h} months (95% CI {low}–{high}: the model's uncertainty, from {refits} "
        "refits on resampled customers). It sums, over the {n} active customers (worth {base} in "
        "all), each one's probability of leaving within {h} months times their value: {how}. This "
        "is the value at stake if nothing changes, not what a retention programme could save: a "
        "programme saves only the part belonging to the customers it actually keeps.",
        loss=money(result.expected_loss, currency, decimals=0), h=h,
        **money_ends(lo, hi, currency, decimals=0),
        refits=len(result.replicates), n=f"{len(result.per_customer):,}",
        base=money(result.base_value, currency, decimals=0), how=how)]
    if annual is not None and result.model != "retention curve":
        # two money figures on one page: say why they differ (review s5: cdnow)
        parts.append(t(
            "It is not the yearly cost of churn ({cost} of profit a year): that figure counts the "
            "customers the inactivity rule takes as lost ({rate} of the base a year) at one year's "
            "average profit each, while this one weighs each active customer's own expected future "
            "profit by the model's probability that they stop buying within {h} months.",
            cost=money(annual.cost.lost_profit, currency, decimals=0),
            rate=f"{annual.annual_churn:.1%}", h=h))
    if result.has_flags:
        flagged = result.flagged_expected_loss
        flo, fhi = result.flagged_ci
        n = int(result.per_customer["flagged"].fillna(False).sum())
        share = flagged / result.expected_loss if result.expected_loss else 0.0
        parts.append(t("The {n} customers in the 'at risk' tier or with a warning signal hold "
                       "**{flagged}** (95% CI {low}–{high}) of the {loss} expected to be lost "
                       "({share}).", n=f"{n:,}", flagged=money(flagged, currency, decimals=0),
                       **money_ends(flo, fhi, currency, decimals=0),
                       loss=money(result.expected_loss, currency, decimals=0),
                       share=f"{share:.0%}"))
        if result.model == "retention curve":
            parts.append(_("The curve's probability depends only on segment and tenure, not on the "
                           "warning signals: this share reflects the flagged customers' value and "
                           "tenure, not their signals."))
    else:
        why = (_("the flags need activity history (transactions before the snapshot) and these data "
                 "are a single snapshot") if design != "prospective" else
               _("no early-warning flags could be computed for these data"))
        parts.append(t("Which of these customers the early-warning rules flag is not available: "
                       "{why}.", why=why))
    if result.snapshot:
        parts.append(_("These data are one snapshot: the retention curve is a descriptive reading of "
                       "it, not a forecast tested on later exits, so the figure is indicative."))
    if result.model == "retention curve":
        parts.append(_("The money at risk that the summary uses comes from 60_retention: the risk "
                       "model's probability of churning within its horizon (recalibrated only where "
                       "recalibration improves it; 60_retention says whether it did) times this "
                       "residual value, per active customer."))
    else:  # a purchase log: 60_retention's risk x value ranks (review s8: cdnow)
        parts.append(_("60_retention weighs the same value by the churn-risk model's score over its "
                       "horizon; for a purchase log that total ranks customers and is not an "
                       "expected loss, so the expected loss to churn is the figure above."))
    return sentences(*parts)


def key_figures_note(flat: Mapping[str, Any], output_json: str) -> str:
    return t("{n} key figures written to `{file}`.", n=len(flat), file=str(output_json).split("/")[-1])


def headline_figures(flat: Mapping[str, Any]) -> pd.DataFrame:
    """The :data:`~churn_research.clv.analysis.HEADLINE_KEYS` of the flat key figures as a
    one-column table; the mean lifetime value is named by its value model, which differs by the
    kind of data (review s7: "clv.mean" was the residual value of the active customers in one
    report and the 3-year value of every customer in another)."""
    definition = flat.get("clv.definition")

    def name(key: str) -> str:
        if key == "clv.mean" and definition:
            model = definitions.value_model_name(str(definition))
            return t("{definition}: mean per customer", definition=f"{model[0].upper()}{model[1:]}")
        return label(key)

    return pd.Series({name(k): v for k, v in flat.items() if k in HEADLINE_KEYS},
                     name=_("value")).to_frame()
