"""Findings and section sentences of 20_causes: why customers leave (stated reasons, associated
drivers, claims).

:func:`findings` builds the Findings box from the key figures; the other functions build the
text of each report section from the stage's results (``churn_research.causes``) and return
markdown, and the ``*_table`` functions the tables as displayed. A section that does not apply
to a dataset reads as one line from :func:`not_available`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from churn_research.causes import (
    ALPHA,
    DriverModel,
    ReasonShift,
    collinear_terms,
    largest_rise,
    moved_reasons,
    no_reason_count,
    rank_disagreements,
    reasons_covering,
    significant_drivers,
    strongest_effects,
)
from churn_research.causes.labels import (
    LOG2_SUFFIX,
    TERM_NAMES,
    driver_label,
    rule_label,
    term_label,
)
from churn_research.causes.sections import RANK_GAP, TOP_DRIVERS, TOP_TERMS
from churn_research.model import ChurnData, sample_note
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    MISSING,
    count,
    get,
    is_missing,
    not_available,
    pct,
    plural,
    pvalue,
    ratio_ci,
)

_TERM = re.compile(r"^driver_model\.(?P<term>.+)\.ratio$")


#: How known model terms read in a sentence (the one list: :mod:`churn_research.causes.labels`).
DRIVER_NAMES = TERM_NAMES

#: ``contract[annual]`` -> ``contract = annual``; ``age_per_10y`` -> ``age (per 10y)``.
_label = term_label


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
        low, high = get(figures, "reasons.top1_ci_low"), get(figures, "reasons.top1_ci_high")
        k = get(figures, "reasons.n_reasons")
        # the shares count every churner, those without a recorded reason as "unknown"
        n_none = get(figures, "reasons.n_no_reason")
        whom = "of churners" + (_no_reason(n_none) if n_none else
                                " (every churner gave one)" if n_none == 0 else "")
        headline = (f"The most common exit reason is {_reason(top)}, given by "
                    f"{pct(share)}{_simultaneous(low, high, k)} {whom}.")
        if driver_text:
            keys.append(Finding(driver_text, "The driver model"))
    else:
        headline = driver_text or "No driver is clearly associated with churn in these data."
        unavailable.append(not_available("exit reasons and their shift after the business change",
                                         "the data record no reason for leaving"))
    shift_p = get(figures, "reason_shift.p_value")
    if shift_p is not None:
        rise = str(get(figures, "reason_shift.most_increased")).replace("_", " ")
        diff = get(figures, "reason_shift.largest_rise.diff")
        lo, hi = (get(figures, f"reason_shift.largest_rise.{b}") for b in ("ci_low", "ci_high"))
        size = (f", by {100 * diff:+.1f} percentage points (simultaneous 95% CI {100 * lo:+.1f} to "
                f"{100 * hi:+.1f})" if None not in (diff, lo, hi) else "")
        keys.append(Finding(
            (f"The reason mix changed after the business change ({pvalue(shift_p)}); "
             if shift_p < ALPHA else
             f"The reason mix did not change significantly after the business change "
             f"({pvalue(shift_p)}); ") + f"{rise} rose most{size}.",
            "Did the reasons change"))
    rule, lift = get(figures, "profiles.top_rule"), get(figures, "profiles.top_lift")
    if rule is not None and lift is not None and lift > 1.2:
        keys.append(Finding(
            f"Highest-churn profile: {_rule(rule)} — {lift:.1f} times the base churn rate, covering "
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
                    + f" (crude comparisons, each at the 5% level without adjustment for testing "
                    f"{len(claims)}).")
        keys.append(Finding(sentence, "Common claims"))
    untested = [k for k, v in figures.items() if k.startswith("claim_supported.") and v is None]
    if untested and not claims:
        unavailable.append(not_available("the common claims (tenure, age, gender, channel)",
                                         "the data lack the columns or the design to test them"))
    if not any(k.startswith("dose_") for k in figures):
        unavailable.append(not_available("churn by complaints and by satisfaction",
                                         "the data have no tickets or surveys"))
    covered, terms = get(figures, "truth_check.covered"), get(figures, "truth_check.terms")
    checked = None
    if covered is not None and terms:
        checked = f"the generator's true effects ({covered} of {terms} intervals cover the truth)"
    return StageFindings("20_causes", dataset, headline, keys[:6], unavailable, checked)


# =============================================================================================
# section sentences: results -> markdown
# =============================================================================================
def _words(name: str) -> str:
    return str(name).replace("_", " ")


def _reason(name: str) -> str:
    """An exit reason in words (churners without a recorded reason count as ``unknown``)."""
    return NO_REASON if str(name) == "unknown" else _words(name)


#: How the churners without a recorded reason read.
NO_REASON = "no reason recorded"


def data_note(data: ChurnData, sample: ChurnData, *, dataset: str, design: str, outcome: str,
              drivers: list[str]) -> str:
    """What the stage works on: the data, the design, the drivers and any model sample."""
    design_text = {
        "person-period": "customer-months at risk (a hazard model, so customers observed for "
                         "different lengths of time are compared fairly)",
        "snapshot": f"one row per customer; outcome: {outcome.lower()}",
    }[design]
    churned = int(data.customers["end_date"].notna().sum())
    return (f"**Data:** `{dataset}`, {len(data.customers):,} customers, {churned:,} churned "
            f"by {data.observation_end:%Y-%m-%d} ({data.kind}).  \n"
            f"**Design:** {design_text}.  \n"
            f"**Drivers:** {', '.join(driver_label(d) for d in drivers)}.  \n"
            + sample_note(sample, "The complaint and satisfaction curves, the driver models and "
                                  "the tests of claims"))



def _simultaneous(low, high, k) -> str:
    """`` (95% CI 23.3–27.5%, simultaneous across the 7 reasons)``; empty without an interval."""
    if is_missing(low) or is_missing(high):
        return ""
    return (f" (95% CI {100 * float(low):.1f}–{100 * float(high):.1f}%"
            + (f", simultaneous across the {k} reasons)" if k else ")"))


def _no_reason(n) -> str:
    """`` (312 with no reason recorded)`` when some churners have none; else empty."""
    return f" ({count(n)} with no reason recorded)" if n else ""


def _p(p) -> str:
    """A p-value as a table cell: ``< 0.001`` or ``0.012``."""
    return MISSING if is_missing(p) else pvalue(p).removeprefix("p = ").replace("p < ", "< ")


def _rule(rule: str) -> str:
    """A profile rule with words for its column names."""
    return rule_label(rule)


def pareto_title(pareto: pd.DataFrame) -> str:
    """Title of the Pareto chart."""
    return f"Exit reasons of {int(pareto['count'].sum()):,} churners (Pareto)"


# -- exit reasons ------------------------------------------------------------------------------
def reasons_heading(pareto: pd.DataFrame | None, *, dataset: str) -> str:
    """The section heading, or the one line saying why there is no exit-reason section (the
    reason shift section is then left out too)."""
    if pareto is None:
        return not_available("exit reasons and the reason mix before and after the business "
                             "change", f"the {dataset} data record no exit reasons (no "
                             "churn_reason column)")
    return "## What do churners say? Exit reasons"


def reasons(pareto: pd.DataFrame | None, *, dataset: str) -> str:
    """The top exit reason with its simultaneous interval and how many reasons cover most
    exits (empty without reasons: :func:`reasons_heading` said why)."""
    if pareto is None:
        return ""
    top = pareto.iloc[0]
    n = reasons_covering(pareto)
    k = len(pareto)
    return (f"The most frequent exit reason is **{_reason(top['reason'])}**, given by "
            f"{pct(top['share'])} of churners{_no_reason(no_reason_count(pareto))}"
            f"{_simultaneous(top['ci_low'], top['ci_high'], k)}; "
            f"the top {n} reasons cover {pct(pareto['cumulative_share'].iloc[n - 1])} of all "
            f"exits. The intervals are simultaneous 95% intervals across the {k} reasons "
            "(Goodman's multinomial intervals): all of them hold together with 95% confidence.")


def reasons_table(pareto: pd.DataFrame) -> Styler:
    """The Pareto table as displayed: count, share and its simultaneous interval."""
    t = pareto.assign(reason=pareto["reason"].map(_reason))[
        ["reason", "count", "share", "ci_low", "ci_high", "cumulative_share"]]
    t = t.rename(columns={"count": "churners", "ci_low": "simultaneous 95% CI low",
                          "ci_high": "simultaneous 95% CI high",
                          "cumulative_share": "cumulative share"})
    shares = ["share", "simultaneous 95% CI low", "simultaneous 95% CI high", "cumulative share"]
    return (t.style.format({**{c: "{:.1%}" for c in shares}, "churners": "{:,}"})
            .hide(axis="index"))


def reasons_by_segment(by_segment: pd.DataFrame | None, *, segment: str | None,
                       has_reasons: bool) -> str:
    """The top reason in each segment (empty without reasons: :func:`reasons_heading` said why)."""
    if not has_reasons:
        return ""
    if by_segment is None:
        return ("No segment column chosen (parameter `reason_segment`), so reasons are shown "
                "overall only." if not segment else
                f"The data have no `{segment}` column (parameter `reason_segment`), so reasons "
                "are shown overall only.")
    tops = by_segment[by_segment["rank"] == 1]
    return (f"Each row shows how the churners of one {_words(segment)} split across the reasons. "
            f"Top reason by {_words(segment)}: "
            + "; ".join(f"{r[segment]}: {_reason(r['reason'])} ({pct(r['share'], 0)})"
                        for _, r in tops.iterrows()) + ".")


def reason_shift_heading(shift: ReasonShift | None, *, has_reasons: bool) -> str:
    """The heading and method of the reason-shift section; one line when there is a reason mix
    but no business change; nothing without reasons (:func:`reasons_heading` said why)."""
    if not has_reasons:
        return ""
    if shift is None:
        return not_available("the reason mix before and after the business change",
                             "there is no business change in the events table")
    k = len(shift.table)
    return ("## Did the reasons change after the business change?\n\n"
            "Churners who left before the change date are compared with those who left on or "
            "after it; a chi-square test asks whether the reason mix is the same. Each reason's "
            f"shares and share difference have simultaneous 95% intervals across the {k} reasons "
            "(Goodman's multinomial intervals for the shares; Newcombe's interval at the "
            f"Bonferroni level 1 − 0.05/{k} for the differences), and each reason's own test "
            f"(this reason against the others) is Holm-adjusted for testing {k} reasons.")


def reason_shift(shift: ReasonShift | None, *, has_reasons: bool) -> str:
    """Whether the reason mix changed at the business change, the reason that rose most and the
    reasons whose share moved (Holm-adjusted); empty when the section does not apply."""
    if shift is None:
        return ""
    up = largest_rise(shift)
    moved = moved_reasons(shift)
    k = len(shift.table)
    verdict = "changed" if shift.p_value < ALPHA else "did not change significantly"
    moved_text = (f" Reasons whose share moved (Holm-adjusted p < {ALPHA:g} over {k} reasons): "
                  + ", ".join(_reason(r) for r in moved) + "." if moved else
                  f" No single reason's share moved significantly after Holm's adjustment for "
                  f"{k} reasons.")
    return (f"The reason mix **{verdict}** after {shift.change_date:%Y-%m-%d} "
            f"(chi-square = {shift.chi2:.1f}, {shift.dof} df, {pvalue(shift.p_value)}, "
            f"Cramér's V = {shift.cramers_v:.2f}; {shift.n_before:,} churners before, "
            f"{shift.n_after:,} after). The largest rise: **{_reason(up['reason'])}**, from "
            f"{pct(up['share_before'])} to {pct(up['share_after'])} of exits "
            f"({100 * up['diff']:+.1f} percentage points, simultaneous 95% CI "
            f"{100 * up['ci_low']:+.1f} to {100 * up['ci_high']:+.1f})." + moved_text
            + (" " + " ".join(shift.notes) if shift.notes else ""))


def reason_shift_table(shift: ReasonShift) -> Styler:
    """The reason shift table as displayed (shares in %, the change in percentage points)."""
    t = shift.table
    out = pd.DataFrame({
        "reason": t["reason"].map(_reason),
        "churners before": t["count_before"], "churners after": t["count_after"],
        "share before": t["share_before"], "share after": t["share_after"],
        "change (points)": 100 * t["diff"],
        "simultaneous 95% CI low": 100 * t["ci_low"],
        "simultaneous 95% CI high": 100 * t["ci_high"],
        "p (Holm)": t["p_holm"]})
    points = ["change (points)", "simultaneous 95% CI low", "simultaneous 95% CI high"]
    return (out.style.format({"share before": "{:.1%}", "share after": "{:.1%}",
                              **{c: "{:+.1f}" for c in points}, "p (Holm)": _p,
                              "churners before": "{:,}", "churners after": "{:,}"})
            .hide(axis="index"))


# -- driver-by-driver tests ------------------------------------------------------------------
def driver_tests_table(tests: pd.DataFrame) -> Styler:
    """The driver-by-driver tests, raw and Holm-adjusted p-values side by side."""
    t = tests.assign(driver=tests["driver"].map(driver_label))
    t = t[["driver", "levels", "chi2", "dof", "p_value", "p_holm", "trend_p_value", "highest",
           "lowest", "max_ratio"]].rename(columns={
               "chi2": "chi-square", "dof": "df", "p_value": "p", "p_holm": "p (Holm)",
               "trend_p_value": "trend p", "highest": "highest-churn level",
               "lowest": "lowest-churn level", "max_ratio": "highest ÷ lowest"})
    return (t.style.format({"chi-square": "{:.1f}", "p": _p, "p (Holm)": _p, "trend p": _p,
                            "highest ÷ lowest": "{:.2f}"}, na_rep=MISSING)
            .hide(axis="index"))


def driver_tests(rates: pd.DataFrame, tests: pd.DataFrame, *, outcome: str) -> str:
    """Base rate, how many drivers differ significantly (Holm-adjusted) and the widest gaps."""
    strong = significant_drivers(tests)
    text = (f"Base rate: {pct(rates.attrs['base_rate'])} ({outcome.lower()}). "
            f"{len(strong)} of {len(tests)} drivers go with significantly different churn "
            f"(p < {ALPHA:g} after Holm's adjustment for testing {len(tests)} drivers; the "
            "table shows the Holm-adjusted p beside the raw one).")
    if len(strong):
        text += " The widest gap: " + "; ".join(
            f"**{driver_label(r.driver)}** ({r.highest} churns {r.max_ratio:.1f}× as often as "
            f"{r.lowest})" for r in strong.head(TOP_DRIVERS).itertuples()) + "."
    return text


def dose_heading(doses: dict[str, pd.DataFrame | None], *, dataset: str) -> str:
    """The dose-response heading and method, or the one line saying why it is missing."""
    if doses.get("complaints") is None and doses.get("satisfaction") is None:
        return not_available("churn by complaints and by satisfaction (dose-response)",
                             f"the {dataset} data have no tickets or surveys")
    return ("### Dose-response: complaints and satisfaction\n\n"
            "Monthly churn rate (churn events per customer-month at risk) by the number of "
            "complaints in the previous 90 days, and by the customer's last CSAT answer. Both "
            "are time-varying, so they are measured month by month rather than once per customer.")


def dose_response(doses: dict[str, pd.DataFrame | None], *, dataset: str) -> str:
    """Churn by complaints and by satisfaction (empty when both are missing:
    :func:`dose_heading` said why)."""
    dose_c, dose_s = doses.get("complaints"), doses.get("satisfaction")
    if dose_c is None and dose_s is None:
        return ""
    out = []
    if dose_c is not None:
        out.append(f"Customers with a complaint in the last 90 days churn "
                   f"{dose_c['rate_ratio'].iloc[1]:.1f}× as often as those without "
                   f"({pct(dose_c['churn_rate'].iloc[1])} vs {pct(dose_c['churn_rate'].iloc[0])} "
                   f"per month; trend {pvalue(dose_c.attrs['trend_p_value'])}).")
    else:
        out.append(not_available("churn by complaints", "there is no tickets table"))
    if dose_s is not None:
        a = dose_s[dose_s["level"] != "no answer yet"]
        out.append(f"Churn falls with satisfaction: {pct(a['churn_rate'].iloc[0])} per month "
                   f"after a CSAT of {a['level'].iloc[0]} vs {pct(a['churn_rate'].iloc[-1])} after "
                   f"a {a['level'].iloc[-1]} (trend {pvalue(dose_s.attrs['trend_p_value'])}).")
    else:
        out.append(not_available("churn by satisfaction", "there is no surveys table"))
    return " ".join(out)


# -- the driver model --------------------------------------------------------------------------
def model_table(model: DriverModel) -> Styler:
    """The driver model's effects as displayed (terms in words)."""
    t = model.summary()
    t = t.assign(term=t["term"].map(_label)).rename(
        columns={"term": "driver (level)", "reference": "compared with", "ci_low": "95% CI low",
                 "ci_high": "95% CI high",
                 "p_value": "p"})
    fmt = {model.ratio_name: "{:.2f}", "95% CI low": "{:.2f}", "95% CI high": "{:.2f}", "p": _p}
    return t.style.format(fmt, na_rep=MISSING).hide(axis="index")


def driver_model(model: DriverModel) -> str:
    """Size of the fit, the strongest associations (collinear terms left out) and warnings."""
    sig = strongest_effects(model)
    left_out = ", collinear terms left out" if collinear_terms(model) else ""
    return (f"{model.n_rows_:,} rows, {model.n_customers_:,} customers, {model.n_events_:,} churn "
            f"events. Strongest associations ({model.ratio_name}s{left_out}): "
            + "; ".join(f"**{_label(r.term)}** {ratio_ci(r.ratio, r.ci_low, r.ci_high)}"
                        for r in sig.head(TOP_TERMS).itertuples()) + ". "
            + ("**Warnings:** " + " ".join(model.warnings_) if model.warnings_ else
               f"No collinearity warnings (every VIF ≤ {model.vif_threshold:g}).")
            + "".join(f" The {driver_label(t)} enters the model as log₂(1 + amount), so its "
                      f"{model.ratio_name} compares customers whose {driver_label(t)} differs by "
                      "a factor of two (e.g. 20 against 40), whatever the level."
                      for t in model.effects_["term"] if str(t).endswith(LOG2_SUFFIX)))


def truth_table(cmp: pd.DataFrame) -> Styler:
    """The check against the generator's truth as displayed."""
    t = cmp.assign(term=cmp["term"].map(_label)).rename(columns={
        "term": "driver (level)", "true_log_hr": "true log HR", "coef": "estimate",
        "coef_low": "95% CI low", "coef_high": "95% CI high", "covered": "interval covers truth",
        "sign_ok": "right sign"})
    return (t.style.format({c: "{:.3f}" for c in ["true log HR", "estimate", "95% CI low",
                                                   "95% CI high"]})
            .hide(axis="index"))


def truth_check(cmp: pd.DataFrame | None) -> str:
    """How many intervals cover the generator's truth, and the known limits (synthetic data)."""
    if cmp is None:
        return ""
    missed = cmp.loc[~cmp["covered"], "term"].tolist()
    return (f"**Check against the generator's truth (log hazard ratios):** "
            f"{int(cmp['covered'].sum())} of {len(cmp)} 95% intervals cover the true value, and "
            f"{int(cmp['sign_ok'].sum())} of {len(cmp)} effects have the right sign (or, for a "
            "true zero, an interval containing zero). "
            + (f"Not covered: {', '.join(_label(m) for m in missed)}. " if missed else "")
            + "Two known limits: the hidden satisfaction that drives both complaints and churn is "
              "observed only through occasional surveys, so a complaint in the last 90 days "
              "also carries part of the satisfaction effect (biased upwards), and that unobserved "
              "heterogeneity attenuates the largest effects slightly (e.g. the annual contract).")


def odds_table(both: pd.DataFrame) -> Styler:
    """Hazard ratios beside odds ratios as displayed."""
    t = both.assign(term=both["term"].map(_label)).rename(columns={
        "term": "driver (level)", "ratio_hr": "hazard ratio", "ci_low_hr": "HR 95% CI low",
        "ci_high_hr": "HR 95% CI high", "ratio_or": "odds ratio", "ci_low_or": "OR 95% CI low",
        "ci_high_or": "OR 95% CI high"})
    return (t.style.format({c: "{:.2f}" for c in t.columns if c != "driver (level)"})
            .hide(axis="index"))


def odds_vs_hazards(both: pd.DataFrame | None) -> str:
    """How far the logit model's odds ratios are from the hazard ratios (person-months only)."""
    if both is None:
        return ""
    return (f"The logit version of the same model gives **odds ratios** that differ from the "
            f"hazard ratios by at most {pct(both.attrs['max_gap'])}: with a monthly churn rate "
            "of a few percent, odds ratios on customer-months approximate hazard ratios.")


# -- the model-agnostic check ----------------------------------------------------------------
def importance_table(comparison: pd.DataFrame) -> Styler:
    """The GLM and permutation rankings as displayed."""
    cols = {"driver": "driver", "wald_chi2": "GLM Wald chi-square", "glm_p_value": "GLM p",
            "glm_rank": "GLM rank", "importance": "permutation importance (AUC drop)",
            "importance_std": "its SD", "importance_rank": "permutation rank",
            "rank_gap": "rank gap"}
    t = comparison[list(cols)].rename(columns=cols)
    t["driver"] = t["driver"].map(driver_label)
    fmt = {"GLM Wald chi-square": "{:.1f}", "GLM p": _p, "GLM rank": "{:.0f}",
           "permutation importance (AUC drop)": "{:.4f}", "its SD": "{:.4f}",
           "permutation rank": "{:.0f}", "rank gap": "{:+.0f}"}
    return t.style.format(fmt, na_rep=MISSING).hide(axis="index")


def importance(comparison: pd.DataFrame) -> str:
    """Whether the GLM and the permutation ranking agree."""
    disagree = rank_disagreements(comparison)
    return (f"Rank correlation between the two rankings: **{comparison.attrs['spearman']:.2f}** "
            f"(held-out AUC of the boosting model {comparison.attrs['test_score']:.3f}). "
            + (f"They disagree most on {', '.join(driver_label(d) for d in disagree)} — typically "
               "drivers collinear with others (the GLM splits shared effects) or with non-linear "
               "effects the GLM does not model." if disagree else
               f"No driver moves by {RANK_GAP} or more places between the rankings."))


# -- profiles ----------------------------------------------------------------------------------
def profiles_title(outcome: str) -> str:
    """Title of the profiles chart."""
    return f"High-churn profiles ({outcome.lower()})"


def profiles_table(profiles: pd.DataFrame) -> Styler:
    """The churn profiles as displayed."""
    t = profiles[["rule", "n", "support", "churn_rate", "ci_low", "ci_high", "lift"]].rename(
        columns={"rule": "profile", "n": "customers", "support": "share of customers",
                 "churn_rate": "churn rate", "ci_low": "95% CI low", "ci_high": "95% CI high",
                 "lift": "× base rate"})
    t["profile"] = t["profile"].map(_rule)
    rates = {c: "{:.1%}" for c in ["share of customers", "churn rate", "95% CI low",
                                   "95% CI high"]}
    return (t.style.format({**rates, "× base rate": "{:.2f}×", "customers": "{:,}"})
            .hide(axis="index"))


def profiles(table: pd.DataFrame, *, min_lift: float) -> str:
    """The highest-churn profile and how many reach ``min_lift`` times the base rate."""
    best = table.iloc[0]
    n_high = int(table["high_churn"].sum())
    return (f"**{_rule(best['rule'])}**: {pct(best['churn_rate'], 0)} churn, {best['lift']:.1f}× "
            f"the base rate of {pct(table.attrs['base_rate'], 0)}, {pct(best['support'], 0)} of "
            "customers. "
            + (f"{plural(n_high, 'profile')} reach{'es' if n_high == 1 else ''} at least "
               f"{min_lift:g}× the base rate." if n_high else
               f"No profile reaches {min_lift:g}× the base rate: churn is spread rather than "
               "concentrated in a few groups."))


# -- claims ------------------------------------------------------------------------------------
def _why_untestable(note: str) -> str:
    """Why a claim cannot be tested, as a clause that follows "because": ``"Not testable: no
    'gender' column."`` and ``"No gender column."`` both read ``"the data have no 'gender'
    column"``; a leading capital is lowered unless the word is an acronym (``CSAT``)."""
    why = str(note).strip().removeprefix("Not testable:").strip().rstrip(".").strip()
    if len(why) > 1 and why[0].isupper() and not why[1].isupper():
        why = why[0].lower() + why[1:]
    return "the data have " + why if why.startswith("no ") else why


def claims_heading(claims: pd.DataFrame) -> str:
    """The heading and method of the claims section, or one line when no claim is testable."""
    testable = claims["supported"].notna()
    if not testable.any():
        return not_available(
            "tests of the common claims (tenure, age, gender, channel)",
            "; ".join(f"{r.claim}: {_why_untestable(r.note)}" for r in claims.itertuples()))
    return ("## Common claims, tested on these data\n\n"
            "Each claim compares the churn of one group with its counterpart (crude, as a manager "
            "would see it): on dated data the ratio of monthly churn rates, on a snapshot the "
            "ratio of churn proportions. A claim is *supported* when the group churns "
            "significantly less at the 5% level; it is *not supported* when the difference is "
            "not significant or goes the other way.")


def claims_table(claims: pd.DataFrame) -> Styler | None:
    """The testable claims as displayed (None when no claim is testable)."""
    t = claims[claims["supported"].notna()]
    if t.empty:
        return None
    t = t[["statement", "supported", "effect", "ci_low", "ci_high", "p_value", "n"]].rename(
        columns={"statement": "claim", "effect": "ratio (group ÷ counterpart)",
                 "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "p",
                 "n": "customers"})
    t["supported"] = t["supported"].map({True: "yes", False: "no"})
    fmt = {"ratio (group ÷ counterpart)": "{:.2f}", "95% CI low": "{:.2f}",
           "95% CI high": "{:.2f}", "p": _p, "customers": "{:,}"}
    return t.style.format(fmt, na_rep=MISSING).hide(axis="index")


def claim_sentences(claims: pd.DataFrame) -> list[str]:
    """One plain sentence per claim of :func:`churn_research.causes.test_claims` (markdown)."""
    out = []
    for r in claims.itertuples():
        if pd.isna(r.supported):
            out.append(f"**{r.statement}** — cannot be tested on these data, because "
                       f"{_why_untestable(r.note)}.")
            continue
        verdict = "supported" if r.supported else "not supported"
        more_less = "less" if r.effect < 1 else "more"
        out.append(
            f"**{r.statement}** — {verdict}: {r.group} churn {abs(1 - r.effect) * 100:.0f}% "
            f"{more_less} than {r.reference_group} (ratio {r.effect:.2f}, 95% CI "
            f"{r.ci_low:.2f}–{r.ci_high:.2f}, {pvalue(r.p_value)}, {r.n:,} customers). {r.note}")
    return out


def claims(table: pd.DataFrame) -> str:
    """The testable claims as a bulleted list, the method, and one line for the claims that
    cannot be tested (empty when none is testable: :func:`claims_heading` said why)."""
    testable = table[table["supported"].notna()]
    if testable.empty:
        return ""
    untested = table[table["supported"].isna()]
    na = " ".join(not_available(f"the claim \"{r.statement.lower()}\"", _why_untestable(r.note))
                  for r in untested.itertuples())
    return ("\n".join(f"- {s}" for s in claim_sentences(testable))
            + f"\n\nMethod: {testable['method'].iloc[0]}." + (f"\n\n{na}" if na else ""))


def saved(flat: dict[str, Any]) -> str:
    """The closing line: how many key figures were saved."""
    return f"{len(flat)} key figures saved for the reports index."
