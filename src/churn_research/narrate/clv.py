"""Findings of 50_clv: what customers are worth and what churn costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from churn_research.clv.analysis import (
    TOP_SHARE,
    BtydValidation,
    BtydValue,
    ChurnCostResult,
    ContractualValue,
    DerlResult,
    MoneyAtRisk,
    top_share,
)
from churn_research.narrate import definitions
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, money, not_available, pct, text


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the yearly profit lost to churn and the value of the customers now active."""
    cur = context.get("currency", "")
    lost = get(figures, "cost_of_churn.lost_profit")
    rate = get(figures, "cost_of_churn.annual_churn_rate")
    equity = get(figures, "customer_equity")
    keys, unavailable = [], []
    if lost is not None:
        base = get(figures, "cost_of_churn.customers_active", get(figures, "scenario_base_customers"))
        headline = (f"Churn costs about {money(lost, cur)} of profit a year: at {pct(rate)} annual "
                    f"churn, about {count(get(figures, 'cost_of_churn.lost_customers'))} of the "
                    + (f"{count(base)} " if base is not None else "")
                    + "customers active now would leave each year")
        if equity is not None and context.get("kind") == "non-contractual":
            headline += (f"; all customers are worth {money(equity, cur)} of discounted profit over "
                         f"{text(get(figures, 'clv.horizon_years'))} years (BG/NBD × Gamma-Gamma, "
                         "each weighted by the probability of still being active).")
        elif equity is not None:
            headline += f"; the active customers are worth {money(equity, cur)} of future profit."
        else:
            headline += "."
    else:
        headline = f"The customers are worth {money(equity, cur)} of future profit."
    if get(figures, "annual_churn.method") == "survival curve":
        keys.append(Finding(
            "These data record exits for one month only: the annual churn is read off the survival "
            "curve (each active customer's chance of leaving within a year given their tenure), so "
            "the cost of churn is indicative.", "The cost of churn"))
    if get(figures, "clv.mean") is not None:
        definition = str(get(figures, "clv.definition", "lifetime value"))
        keys.append(Finding(
            f"{definition[0].upper()}{definition[1:]}: mean {money(get(figures, 'clv.mean'), cur)}, "
            f"median {money(get(figures, 'clv.median'), cur)} per customer.",
            "Contractual value" if context.get("kind") == "contractual" else "Non-contractual purchasing"))
    new = get(figures, "clv_new_customer.mean")
    if new is not None:
        keys.append(Finding(f"A new customer is worth {money(new, cur)} of profit on average.",
                            "Contractual value from the retention curve"))
    best = max((k for k in figures if k.startswith("scenarios.") and k.endswith(".extra_profit")
                and get(figures, k)), key=lambda k: get(figures, k), default=None)
    if best is not None:
        name = best.split(".")[1].replace("churn_minus_", "").replace("_pts", "").replace("_", ".")
        keys.append(Finding(
            f"Cutting annual churn by {name} percentage points would add about "
            f"{money(get(figures, best), cur)} of discounted profit over "
            f"{text(get(figures, 'scenario_years'))} years.",
            "Retention scenarios"))
    loss = get(figures, "money_at_risk.expected_loss")
    if loss is not None:
        months = int(get(figures, "money_at_risk.horizon_months", 12))
        line = (f"If nothing changes, about {money(loss, cur)} of future profit (95% CI "
                f"{money(get(figures, 'money_at_risk.ci_low'), cur)}–"
                f"{money(get(figures, 'money_at_risk.ci_high'), cur)}) is expected to be lost to "
                f"churn within {months} months (P(churn) × value over the "
                f"{count(get(figures, 'money_at_risk.customers'))} active customers)")
        flagged = get(figures, "money_at_risk.flagged_expected_loss")
        if flagged is not None:
            line += (f"; the {count(get(figures, 'money_at_risk.flagged_customers'))} customers in "
                     "the 'at risk' tier or with a warning signal (the rules of 40_segments) hold "
                     f"{money(flagged, cur)} of it ({pct(flagged / loss if loss else None)})")
        line += (". Indicative: these data are one snapshot." if context.get("snapshot") else ".")
        keys.append(Finding(line, "The value of customers at risk"))
    if get(figures, "holdout.relative_error") is not None:
        err = get(figures, "holdout.relative_error")
        keys.append(Finding(
            f"The BG/NBD model {'under' if err < 0 else 'over'}-forecasts the holdout purchases by "
            f"{pct(abs(err))} (correlation {get(figures, 'holdout.correlation'):.2f} across "
            "customers): read its values as approximate.", "Non-contractual purchasing"))
    if get(figures, "sbg_not_available"):
        unavailable.append(not_available("DERL under the shifted-beta-geometric model",
                                         str(get(figures, "sbg_not_available"))))
    elif get(figures, "clv_new_customer.mean") is None:
        unavailable.append("Not available for this dataset: survival-based value and DERL, because "
                           "the data are not contractual with a revenue per period.")
    checked = ("the published CDNOW estimates (Fader, Hardie & Lee 2005)"
               if get(figures, "bgnbd.r") is not None and dataset == "cdnow" else
               "textbook worked examples" if get(figures, "sanity.all_ok") else None)
    return StageFindings("50_clv", dataset, headline, keys[:6], unavailable, checked)


# ========================================================================================
# section sentences: built from the result objects of churn_research.clv.analysis
# ========================================================================================
def _names(items) -> str:
    return ", ".join(map(str, items))


def _date(ts) -> str:
    return str(pd.Timestamp(ts).date())


def setting(data, *, dataset: str, margin: float, discount_rate: float) -> str:
    """The data and the assumptions the stage runs on."""
    return (f"**Data:** `{dataset}` ({data.kind}), {count(len(data.customers))} customers, snapshot "
            f"{_date(data.observation_end)}; tables present: {', '.join(sorted(data.tables()))}. "
            f"Assumed margin {margin:.0%}, annual discount rate {discount_rate:.0%}.")


def sanity(checks: pd.DataFrame) -> str:
    """After :func:`churn_research.clv.analysis.sanity_checks` (which raises on a failure)."""
    n_ok = int(checks["ok"].sum())
    if n_ok == len(checks):
        return f"All {len(checks)} worked examples are reproduced exactly."
    return f"{n_ok} of {len(checks)} worked examples are reproduced exactly."


def retention_curve(value: ContractualValue | None, *, data, value_col: str | None) -> str:
    """Which exits the retention curve is estimated from, or why there is none."""
    if value is None:
        why = ("it needs contractual data with a revenue-per-month column "
               f"(`{value_col}`) and ")
        why += ("these data are non-contractual (their value is modelled with BG/NBD below)"
                if data.kind != "contractual" else "these data have no such column")
        return not_available("survival-based lifetime value", why)
    regime = {"event": f"exits observed since the business change on {_date(value.observed_from)} "
                       "(the regime customers face now; earlier customers enter at their tenure then)",
              "records": f"exits observed from {_date(value.observed_from)}, when the records begin "
                         "(earlier customers enter at their tenure then: left truncation)",
              "all": "all exits in the data"}[value.regime]
    return f"Retention curve {'by ' + value.by if value.by else 'for all customers'}, from {regime}."


def new_customer_value(value: ContractualValue) -> str:
    """The CLV of a new customer, its spread across segments and the tail's share."""
    seg = value.segments
    out = (f"A new customer is worth **{value.new_mean:,.0f}** of profit on average (margin "
           f"{value.margin:.0%}, discounted at {value.discount_rate:.0%} a year). ")
    if value.by and len(seg) > 1:
        best, worst = seg["clv"].idxmax(), seg["clv"].idxmin()
        out += (f"By {value.by}: {best} {seg.loc[best, 'clv']:,.0f} vs {worst} "
                f"{seg.loc[worst, 'clv']:,.0f}. ")
    return out + (f"The parametric tail contributes {seg['tail_share'].min():.0%}-"
                  f"{seg['tail_share'].max():.0%} of the discounted lifetime: that part is an "
                  "extrapolation beyond the observed tenures.")


def customer_equity(result: ContractualValue | BtydValue) -> str:
    """What the customers are worth together, and how concentrated that value is."""
    v = result.values
    top = f"the top {TOP_SHARE:.0%} of customers hold {top_share(v):.0%} of it."
    if isinstance(result, BtydValue):
        h = result.horizon_years
        return (f"**Customer equity:** {result.equity:,.0f} of discounted profit over {h} years "
                f"(mean {v.mean():,.2f}, median {v.median():,.2f} per customer); {top}")
    return (f"**Customer equity:** the {len(v):,} active customers are worth **{result.equity:,.0f}** "
            f"of future profit (mean {v.mean():,.0f}, median {v.median():,.0f} per customer); {top}")


def derl_flat(result: DerlResult) -> str:
    """Segments where the sBG finds no heterogeneity ("" when there are none)."""
    if not result.available:
        return ""
    flat = result.flat_segments
    if not flat:
        return ""
    return (f"For {_names(flat)} the sBG finds no heterogeneity (polarisation near 0: every "
            "customer the same churn probability), so its DERL does not grow with tenure; the "
            "retention curve shows what the data say.")


def derl(result: DerlResult | None, *, data=None) -> str:
    """DERL under the sBG and what the retention curve says about it (or why there is none).

    The curve's DERL is read per segment: where it stops rising (the renewals from which no
    later value is higher) is said for each segment that levels off; a segment whose DERL
    rises to the last renewals is said to keep rising.
    """
    if result is None:
        kind = getattr(data, "kind", None)
        return not_available("DERL", "it is a contractual (renewal) measure and these data "
                             + ("are non-contractual" if kind == "non-contractual"
                                else "have no revenue column"))
    if not result.available:
        return not_available("DERL under the shifted-beta-geometric (sBG) model", result.reason)
    renewals = result.renewals
    first, last = renewals[0], renewals[-1]
    seg0 = result.sbg_table.columns[0]
    out = (f"Under the sBG, a {seg0} customer who has just joined has a discounted expected "
           f"residual lifetime of {result.sbg_table.loc[first, seg0]:.1f} months, one with {last} "
           f"renewals {result.sbg_table.loc[last, seg0]:.1f}: the sBG explains rising retention by "
           "sorting (the customers with high churn probabilities leave first). ")
    rising = result.curve_rises
    if not rising.all():
        return out + (
            f"The retention curve shows it only for {_names(rising[rising].index) or 'no segment'}: "
            f"for {_names(rising[~rising].index)} the hazard does not fall with tenure (for "
            "instance at contract ends), which the sBG cannot represent, so there the curve is "
            "the better guide.")
    stops = {seg: n for seg, n in result.curve_levels_off.items() if n is not None}
    agrees = ("The retention curve agrees that long-standing customers have more discounted "
              "lifetime ahead of them than new ones in every segment")
    if not stops:
        return out + agrees + f", and it keeps rising up to {last} renewals, as the sBG does."
    by_stop: dict = {}
    for seg, n in stops.items():
        by_stop.setdefault(n, []).append(seg)
    levels = "; ".join(f"for {_names(segs)} from about {n} renewals" for n, segs in by_stop.items())
    keeps = [seg for seg in result.curve_table.columns if seg not in stops]
    return out + (agrees + f". It levels off {levels} (flat or slightly falling after that), "
                  "while the sBG keeps rising"
                  + (f"; for {_names(keeps)} it keeps rising up to {last} renewals, as the sBG does."
                     if keeps else "."))


def btyd_split(result: BtydValidation | None, *, data=None) -> str:
    """The calibration and holdout periods (or why there are no BTYD models)."""
    if result is None:
        kind = getattr(data, "kind", None)
        has_tx = data is not None and data.has("transactions")
        why = "they are for non-contractual purchase logs and these data are " + (
            "contractual: their transactions are subscription invoices" if kind == "contractual" and has_tx
            else f"{kind} without transactions")
        return not_available("the BG/NBD and Gamma-Gamma models", why)
    cal = _date(result.calibration_end)
    return (f"Calibration period: first purchases up to {cal} ({len(result.split):,} customers); "
            f"holdout period: {cal} to {_date(result.observation_end)} "
            f"({result.split['duration_holdout'].iloc[0]:.1f} {result.unit}).")


def btyd_holdout(result: BtydValidation) -> str:
    """How well the calibration fit predicts the holdout purchases."""
    h, hist = result.holdout, result.histogram
    return (
        f"Fitted in {result.model.fit_seconds_:.2f} s. Given each customer's history, the model "
        f"predicts {h['predicted_total'].sum():,.0f} holdout purchases against "
        f"{h['actual_total'].sum():,.0f} actual ({result.relative_error:+.1%}; correlation across "
        f"customers {h.attrs['correlation']:.2f}); customers with no repeat purchase in calibration "
        f"made {h.loc['0', 'actual']:.2f} purchases each, predicted {h.loc['0', 'predicted']:.2f}. "
        "All repeat purchases from the first purchase to the end of the holdout period are "
        f"forecast with an error of {h.attrs['cumulative_forecast_error']:+.1%} (Fader, Hardie & "
        "Lee report -4% and a correlation of 0.63 on the 1/10 sample of CDNOW). The calibration "
        f"histogram fits with chi-square {hist.attrs['chi2']:.1f} on {hist.attrs['dof']} df "
        f"(p = {hist.attrs['p_value']:.2g}"
        + ("; with tens of thousands of customers small misfits are significant" if result.large_sample else "")
        + ").")


def btyd_value(result: BtydValue) -> str:
    """The refitted models, P(alive) and the expected purchases."""
    bg, gg, h = result.bg, result.gg, result.horizon_years
    return (
        f"Refitted on all purchases up to {_date(result.observation_end)}: {len(result.summary):,} "
        f"customers, {bg.n_customers_:,.0f} in the BG/NBD and {gg.n_customers_:,} repeat buyers in "
        f"the Gamma-Gamma model (mean spend per purchase {gg.mean_spend_:,.2f}; the correlation "
        f"between frequency and average spend is {result.spend_correlation:.2f}, small enough for "
        "the model's independence assumption). The mean probability of still being active is "
        f"{result.value['p_alive'].mean():.0%}, but the BG/NBD counts the "
        f"{result.share_no_repeat:.0%} of customers who never bought again as alive (they can only "
        f"drop out after a purchase); among repeat buyers it is {result.p_alive_repeat:.0%}. Over "
        f"the next {h} years the base is expected to make "
        f"{result.value['expected_purchases'].sum():,.0f} purchases.")


def churn_cost(result: ChurnCostResult) -> str:
    """The dataset's annual churn, the revenue per customer and what a year of churn costs."""
    cost, figs = result.cost, result.annual.flat_figures()
    out = definitions.annual_churn(figs)
    if result.kind == "non-contractual" and result.annual.window_end is not None:
        out += (f" The window ends {result.inactivity_days} days before the observation end, the "
                "last date up to which a lapse without a purchase is visible.")
    source = result.inputs["revenue_source"]
    out += (f" A customer brings {result.revenue:,.0f} of revenue a year (from "
            + ("the transactions" if source == "transactions" else f"the column {source}") + ").")
    out += (f" At that rate the {result.inputs['active']:,} "
            f"customers active at {_date(result.observation_end)} would lose about "
            f"{cost.lost_customers:,.0f} a year, costing **{cost.lost_revenue:,.0f} of revenue and "
            f"{cost.lost_profit:,.0f} of profit a year**; winning as many new customers would cost "
            f"about {cost.replacement_cost:,.0f}, against {cost.retention_cost:,.0f} to keep them.")
    return out


def scenario_base(result: ChurnCostResult) -> str:
    """Which customers the retention scenarios project."""
    return (f"The scenarios project the {result.inputs['active']:,} customers active at "
            f"{_date(result.observation_end)}.")


def scenarios(table: pd.DataFrame, *, annual_churn: float, years: int, discount_rate: float) -> str:
    """What the largest churn cut in :func:`churn_research.clv.retention_scenarios` is worth."""
    top = table.iloc[-1]
    return (f"Cutting annual churn by {top['reduction'] * 100:g} points (from {annual_churn:.1%} to "
            f"{top['churn_rate']:.1%}) keeps {top['extra_customers_end']:,.0f} more customers after "
            f"{years} years and is worth **{top['extra_profit']:,.0f} of profit** "
            f"({top['extra_revenue']:,.0f} of revenue, discounted at {discount_rate:.0%}).")


def money_at_risk(result: MoneyAtRisk | None, *, design: str | None = None,
                  annual: ChurnCostResult | None = None) -> str:
    """The value expected to be lost within the horizon, with its interval, the flagged
    customers' share of it (or why there are no flags) and the snapshot caveat; with ``annual``
    (the cost of churn), how the average probability relates to the dataset's annual churn."""
    if result is None:
        return not_available("the value at risk", "no per-customer value could be computed for "
                             "these data")
    h = result.horizon_months
    lo, hi = result.ci
    p = f"{result.mean_p_churn:.1%} on average"
    if (annual is not None and result.model == "retention curve" and h == 12
            and annual.annual.method == "survival curve"):
        p += (f"; the annual churn, {annual.annual_churn:.1%}, is the same average read off the "
              "Kaplan–Meier curves alone, without the parametric tail this valuation splices on "
              "where few customers remain")
    elif annual is not None and h == 12:
        p += (f"; the annual churn, {annual.annual_churn:.1%}, is the share of the base that "
              "actually left in the last observed year")
    how = (f"the retention curve given their tenure t, 1 − S(t + {h})/S(t) ({p}), times their "
           "residual lifetime value: the whole future profit a leaver takes with them, not one "
           "year of revenue as in the cost of churn"
           if result.model == "retention curve" else
           f"the BG/NBD probability that a customer still active drops out within {h} months "
           f"({p}), times their BG/NBD × Gamma-Gamma value, which already weighs them by their "
           "probability of being active")
    out = (f"If nothing changes, about **{result.expected_loss:,.0f}** of future profit is expected "
           f"to be lost to churn within the next {h} months (95% CI {lo:,.0f}–{hi:,.0f}: the "
           f"model's uncertainty, from {len(result.replicates)} refits on resampled customers). "
           f"It sums, over the {len(result.per_customer):,} active customers (worth "
           f"{result.base_value:,.0f} in all), each one's probability of leaving within {h} "
           f"months times their value: {how}. This is the value at stake if nothing changes, not "
           "what a retention programme could save: a programme saves only the part belonging to "
           "the customers it actually keeps. ")
    if result.has_flags:
        flagged = result.flagged_expected_loss
        flo, fhi = result.flagged_ci
        n = int(result.per_customer["flagged"].fillna(False).sum())
        share = flagged / result.expected_loss if result.expected_loss else 0.0
        out += (f"The {n:,} customers in the 'at risk' tier or with a warning signal hold "
                f"**{flagged:,.0f}** (95% CI "
                f"{flo:,.0f}–{fhi:,.0f}) of the {result.expected_loss:,.0f} expected to be lost "
                f"({share:.0%}).")
        if result.model == "retention curve":
            out += (" The curve's probability depends only on segment and tenure, not on the "
                    "warning signals: this share reflects the flagged customers' value and "
                    "tenure, not their signals.")
    else:
        why = ("the flags need activity history (transactions before the snapshot) and these data "
               "are a single snapshot" if design != "prospective" else
               "no early-warning flags could be computed for these data")
        out += f"Which of these customers the early-warning rules flag is not available: {why}."
    if result.snapshot:
        out += (" These data are one snapshot: the retention curve is a descriptive reading of it, "
                "not a forecast tested on later exits, so the figure is indicative.")
    return out


def key_figures_note(flat: Mapping[str, Any], output_json: str) -> str:
    return f"{len(flat)} key figures written to `{str(output_json).split('/')[-1]}`."
