"""Findings of 20_causes: why customers leave (stated reasons, associated drivers, claims)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import get, pct, pvalue, ratio_ci

_TERM = re.compile(r"^driver_model\.(?P<term>.+)\.ratio$")


def _label(term: str) -> str:
    """``contract[annual]`` -> ``contract = annual``; ``age_per_10y`` -> ``age (per 10y)``."""
    m = re.match(r"^(?P<var>[^\[]+)\[(?P<level>.+)\]$", term)
    if m:
        return f"{m['var'].replace('_', ' ')} = {m['level']}"
    m = re.match(r"^(?P<var>.+)_per_(?P<unit>.+)$", term)
    if m:
        return f"{m['var'].replace('_', ' ')} (per {m['unit'].replace('_', ' ')})"
    return term.replace("_", " ")


def _strongest(figures) -> tuple[str, float, float, float, float] | None:
    """The driver-model term with the smallest p-value among those whose interval excludes 1."""
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
        if best is None or p < best[4]:
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
                       "(an association in observational data, not proof of cause).")
    top = get(figures, "reasons.top1")
    if top is not None:
        headline = (f"The most common exit reason is {str(top).replace('_', ' ')}, given by "
                    f"{pct(get(figures, 'reasons.top1_share'))} of the churners who stated one.")
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
    supported = {k.split(".", 1)[1]: v for k, v in figures.items()
                 if k.startswith("claim_supported.") and v is not None}
    if supported:
        names = {"tenure": "long-standing customers churn less", "age": "older customers churn less",
                 "gender": "men churn less than women",
                 "channel": "intermediary customers churn less than end consumers"}
        yes = [names.get(k, k) for k, v in supported.items() if v]
        no = [names.get(k, k) for k, v in supported.items() if not v]
        text = ("Claims supported by these data: " + ("; ".join(yes) if yes else "none")
                + (". Not supported: " + "; ".join(no) if no else "") + ".")
        keys.append(Finding(text, "Common claims"))
    untested = [k for k, v in figures.items() if k.startswith("claim_supported.") and v is None]
    if untested and not supported:
        unavailable.append("Not available for this dataset: the common claims (tenure, age, gender, "
                           "channel), because the data lack the columns or the design to test them.")
    covered, terms = get(figures, "truth_check.covered"), get(figures, "truth_check.terms")
    checked = None
    if covered is not None and terms:
        checked = f"the generator's true effects ({covered} of {terms} intervals cover the truth)"
    return StageFindings("20_causes", dataset, headline, keys[:6], unavailable, checked)
