"""Findings of 20_causes: why customers leave (stated reasons, associated drivers, claims)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import get, pct, pct_ci, pvalue, ratio_ci
from churn_research.stats import wilson_ci

_TERM = re.compile(r"^driver_model\.(?P<term>.+)\.ratio$")


#: How known driver names read in a sentence.
DRIVER_NAMES = {
    "complaint_90d": "a complaint in the last 90 days",
    "last_csat_per_point": "satisfaction (per CSAT point)",
    "log_tenure": "tenure (log)",
    "price_rise": "a price rise",
    "change": "the business change",
    "purchases_first_90d": "purchases in the first 90 days (per purchase)",
    "first_amount_log2": "first purchase amount (per doubling)",
    "first_quantity": "first purchase quantity (per item)",
}


def _label(term: str) -> str:
    """``contract[annual]`` -> ``contract = annual``; ``age_per_10y`` -> ``age (per 10y)``."""
    if term in DRIVER_NAMES:
        return DRIVER_NAMES[term]
    m = re.match(r"^(?P<var>[^\[]+)\[(?P<level>.+)\]$", term)
    if m:
        return f"{m['var'].replace('_', ' ')} = {m['level']}"
    m = re.match(r"^(?P<var>.+)_per_(?P<unit>.+)$", term)
    if m:
        return f"{m['var'].replace('_', ' ')} (per {m['unit'].replace('_', ' ')})"
    return term.replace("_", " ")


def _strongest(figures) -> tuple[str, float, float, float, float] | None:
    """The driver-model term with the largest effect (|log ratio|) among those whose interval
    excludes 1 (the order of the report's "strongest associations")."""
    best = None
    for key in figures:
        m = _TERM.match(key)
        if not m:
            continue
        term = m["term"]
        r, lo, hi = (get(figures, f"driver_model.{term}.{k}") for k in ("ratio", "ci_low", "ci_high"))
        p = get(figures, f"driver_model.{term}.p_value")
        if None in (r, lo, hi, p) or lo <= 1 <= hi or term == "change":
            continue
        if best is None or abs(math.log(r)) > abs(math.log(best[1])):
            best = (term, r, lo, hi, p)
    return best


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the main stated reason where reasons exist, else the strongest association."""
    keys, unavailable = [], []
    ratio_name = get(figures, "driver_model.ratio", "ratio")
    strongest = _strongest(figures)
    driver_text = None
    if strongest is not None:
        term, r, lo, hi, p = strongest
        driver_text = (f"The strongest association in the driver model: {_label(term)}, "
                       f"{ratio_name} {ratio_ci(r, lo, hi)}, other drivers held equal "
                       "(an association in observational data, not proof of cause)")
        missed = get(figures, "truth_check.not_covered") or []
        driver_text += (": its interval misses the generator's true effect (it also carries part of "
                        "effects the model does not see; see the driver model section)."
                        if term in missed else ".")
    top = get(figures, "reasons.top1")
    if top is not None:
        share = get(figures, "reasons.top1_share")
        first = (get(figures, "reasons.top") or [{}])[0]
        n = first.get("count", 0) / first["share"] if first.get("share") else None
        low, high = wilson_ci(first.get("count", 0), n) if n else (None, None)
        headline = (f"The most common exit reason is {str(top).replace('_', ' ')}, given by "
                    f"{pct_ci(share, float(low) if low is not None else None, float(high) if high is not None else None)} "
                    "of the churners who stated one.")
        if driver_text:
            keys.append(Finding(driver_text, "The driver model"))
    else:
        headline = driver_text or "No driver is clearly associated with churn in these data."
        unavailable.append("Not available for this dataset: exit reasons and their shift after the "
                           "business change, because the data record no reason for leaving.")
    shift_p = get(figures, "reason_shift.p_value")
    if shift_p is not None:
        keys.append(Finding(
            f"The reason mix changed after the business change ({pvalue(shift_p)}); "
            f"{str(get(figures, 'reason_shift.most_increased')).replace('_', ' ')} rose most.",
            "Did the reasons change"))
    rule, lift = get(figures, "profiles.top_rule"), get(figures, "profiles.top_lift")
    if rule is not None and lift is not None and lift > 1.2:
        keys.append(Finding(
            f"Highest-churn profile: {rule} — {lift:.1f} times the base churn rate, covering "
            f"{pct(get(figures, 'profiles.top_support'))} of customers.", "Which customer profiles"))
    claims = [c for c in (get(figures, "claims") or []) if c.get("supported") is not None]
    if claims:
        names = {"tenure": "long-standing customers churn less", "age": "older customers churn less",
                 "gender": "men churn less than women",
                 "channel": "intermediary customers churn less than end consumers"}
        def contradicted(c) -> bool:
            return (not c["supported"] and bool(c.get("effect")) and c["effect"] > 1
                    and (c.get("p_value") or 1) < 0.05)

        yes = [names.get(c["claim"], c["claim"]) for c in claims if c["supported"]]
        opposite = [f"{names.get(c['claim'], c['claim'])} (the group churns {c['effect']:.2f}× as "
                    "much)" for c in claims if contradicted(c)]
        no = [names.get(c["claim"], c["claim"]) for c in claims
              if not c["supported"] and not contradicted(c)]
        sentence = ("Claims supported by these data: " + ("; ".join(yes) if yes else "none")
                    + (". Contradicted: " + "; ".join(opposite) if opposite else "")
                    + (". Not shown: " + "; ".join(no) if no else "")
                    + " (crude comparisons, each at the 5% level without adjustment for testing four).")
        keys.append(Finding(sentence, "Common claims"))
    untested = [k for k, v in figures.items() if k.startswith("claim_supported.") and v is None]
    if untested and not claims:
        unavailable.append("Not available for this dataset: the common claims (tenure, age, gender, "
                           "channel), because the data lack the columns or the design to test them.")
    covered, terms = get(figures, "truth_check.covered"), get(figures, "truth_check.terms")
    checked = None
    if covered is not None and terms:
        checked = f"the generator's true effects ({covered} of {terms} intervals cover the truth)"
    return StageFindings("20_causes", dataset, headline, keys[:6], unavailable, checked)
