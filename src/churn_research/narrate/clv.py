"""Findings of 50_clv: what customers are worth and what churn costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import count, get, money, pct, text


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
    if context.get("snapshot"):
        keys.append(Finding(
            "These data record exits for one month only: the churn share of the snapshot is used "
            "as a yearly rate, so the cost of churn is indicative.", "The cost of churn"))
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
    at_risk = get(figures, "at_risk.value")
    if at_risk is not None:
        keys.append(Finding(
            f"{count(get(figures, 'at_risk.customers'))} customers with an at-risk tier or a warning "
            f"signal hold {money(at_risk, cur)} of future profit "
            f"({pct(get(figures, 'at_risk.share_of_equity'))} of the customer equity); only the part "
            "belonging to those who would actually leave is at stake.",
            "The value of customers at risk"))
    if get(figures, "holdout.relative_error") is not None:
        err = get(figures, "holdout.relative_error")
        keys.append(Finding(
            f"The BG/NBD model {'under' if err < 0 else 'over'}-forecasts the holdout purchases by "
            f"{pct(abs(err))} (correlation {get(figures, 'holdout.correlation'):.2f} across "
            "customers): read its values as approximate.", "Non-contractual purchasing"))
    if get(figures, "derl.") is None and not any(k.startswith("derl.") for k in figures):
        unavailable.append("Not available for this dataset: survival-based value and DERL, because "
                           "the data are not contractual with a revenue per period.")
    checked = ("the published CDNOW estimates (Fader, Hardie & Lee 2005)"
               if get(figures, "bgnbd.r") is not None and dataset == "cdnow" else
               "textbook worked examples" if get(figures, "sanity.all_ok") else None)
    return StageFindings("50_clv", dataset, headline, keys[:6], unavailable, checked)
