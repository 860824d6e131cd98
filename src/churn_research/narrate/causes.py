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
    rank_disagreements,
    reasons_covering,
    significant_drivers,
    strongest_effects,
)
from churn_research.causes.sections import RANK_GAP, TOP_DRIVERS, TOP_TERMS
from churn_research.model import ChurnData, sample_note
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import get, not_available, pct, pct_ci, pvalue, ratio_ci
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


# =============================================================================================
# section sentences: results -> markdown
# =============================================================================================
def _words(name: str) -> str:
    return str(name).replace("_", " ")


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
            f"**Drivers:** {', '.join(drivers)}.  \n"
            + sample_note(sample, "The complaint and satisfaction curves, the driver models and "
                                  "the tests of claims"))


def pareto_title(pareto: pd.DataFrame) -> str:
    """Title of the Pareto chart."""
    return f"Exit reasons of {int(pareto['count'].sum()):,} churners (Pareto)"


def reasons(pareto: pd.DataFrame | None, *, dataset: str) -> str:
    """The top exit reason with its interval and how many reasons cover most exits."""
    if pareto is None:
        return not_available("exit reasons and the reason mix before and after the business "
                             "change", f"the `{dataset}` data record no exit reasons (no "
                             "`churn_reason` column)")
    top = pareto.iloc[0]
    n = reasons_covering(pareto)
    return (f"The most frequent exit reason is **{_words(top['reason'])}** "
            f"({top['share']:.0%} of churners, 95% CI {top['ci_low']:.0%}–{top['ci_high']:.0%}); "
            f"the top {n} reasons cover {pareto['cumulative_share'].iloc[n - 1]:.0%} of all exits.")


def reasons_by_segment(by_segment: pd.DataFrame | None, *, segment: str | None,
                       has_reasons: bool) -> str:
    """The top reason in each segment (empty without reasons: :func:`reasons` said why)."""
    if not has_reasons:
        return ""
    if by_segment is None:
        return ("No segment column chosen (`reason_segment`), so reasons are shown overall only."
                if not segment else
                f"The data have no `{segment}` column (`reason_segment`), so reasons are shown "
                "overall only.")
    tops = by_segment[by_segment["rank"] == 1]
    return (f"Each row shows how the churners of one {_words(segment)} split across the reasons. "
            f"Top reason by {_words(segment)}: "
            + "; ".join(f"{r[segment]}: {_words(r['reason'])} ({r['share']:.0%})"
                        for _, r in tops.iterrows()) + ".")


def reason_shift(shift: ReasonShift | None, *, has_reasons: bool) -> str:
    """Whether the reason mix changed at the business change, and the reason that rose most."""
    if shift is None:
        return (not_available("the reason mix before and after the business change",
                              "there is no business change in `events`") if has_reasons else
                not_available("the reason mix before and after the business change",
                              "the data record no exit reasons"))
    up = largest_rise(shift)
    verdict = "changed" if shift.p_value < ALPHA else "did not change significantly"
    return (f"The reason mix **{verdict}** after {shift.change_date:%Y-%m-%d} "
            f"(chi-square = {shift.chi2:.1f}, {shift.dof} df, p = {shift.p_value:.2g}, "
            f"Cramér's V = {shift.cramers_v:.2f}; {shift.n_before:,} churners before, "
            f"{shift.n_after:,} after). The largest rise: **{_words(up['reason'])}**, from "
            f"{up['share_before']:.0%} to {up['share_after']:.0%} of exits "
            f"({100 * up['diff']:+.1f} percentage points, 95% CI {100 * up['ci_low']:+.1f} to "
            f"{100 * up['ci_high']:+.1f})." + (" " + " ".join(shift.notes) if shift.notes else ""))


def reason_shift_table(shift: ReasonShift) -> Styler:
    """The reason shift table as displayed."""
    shares = ["share_before", "share_after", "diff", "ci_low", "ci_high"]
    return (shift.table[["reason", "count_before", "count_after", *shares]]
            .style.format({c: "{:.1%}" for c in shares}).hide(axis="index"))


def driver_tests_table(tests: pd.DataFrame) -> Styler:
    """The driver-by-driver tests, raw and Holm-adjusted p-values side by side."""
    cols = ["driver", "levels", "chi2", "dof", "p_value", "p_holm", "trend_p_value", "highest",
            "lowest", "max_ratio"]
    return (tests[cols].style.format({"chi2": "{:.1f}", "p_value": "{:.2g}", "p_holm": "{:.2g}",
                                      "trend_p_value": "{:.2g}", "max_ratio": "{:.2f}"}, na_rep="–")
            .hide(axis="index"))


def driver_tests(rates: pd.DataFrame, tests: pd.DataFrame, *, outcome: str) -> str:
    """Base rate, how many drivers differ significantly (Holm-adjusted) and the widest gaps."""
    strong = significant_drivers(tests)
    text = (f"Base rate: {rates.attrs['base_rate']:.1%} ({outcome.lower()}). "
            f"{len(strong)} of {len(tests)} drivers go with significantly different churn "
            f"(p < {ALPHA:g} after Holm's adjustment for testing {len(tests)} drivers; "
            "`p_holm` beside the raw `p_value`).")
    if len(strong):
        text += " The widest gap: " + "; ".join(
            f"**{r.driver}** ({r.highest} churns {r.max_ratio:.1f}× as often as {r.lowest})"
            for r in strong.head(TOP_DRIVERS).itertuples()) + "."
    return text


def dose_response(doses: dict[str, pd.DataFrame | None], *, dataset: str) -> str:
    """Churn by complaints and by satisfaction, or why either is missing."""
    dose_c, dose_s = doses.get("complaints"), doses.get("satisfaction")
    if dose_c is None and dose_s is None:
        return not_available("complaint and satisfaction curves",
                             f"the `{dataset}` data have no tickets or surveys")
    out = []
    if dose_c is not None:
        out.append(f"Customers with a complaint in the last 90 days churn "
                   f"{dose_c['rate_ratio'].iloc[1]:.1f}× as often as those without "
                   f"({dose_c['churn_rate'].iloc[1]:.1%} vs {dose_c['churn_rate'].iloc[0]:.1%} "
                   f"per month; trend p = {dose_c.attrs['trend_p_value']:.2g}).")
    else:
        out.append("No tickets table: complaints cannot be analysed.")
    if dose_s is not None:
        a = dose_s[dose_s["level"] != "no answer yet"]
        out.append(f"Churn falls with satisfaction: {a['churn_rate'].iloc[0]:.1%} per month "
                   f"after a CSAT of {a['level'].iloc[0]} vs {a['churn_rate'].iloc[-1]:.1%} after "
                   f"a {a['level'].iloc[-1]} (trend p = {dose_s.attrs['trend_p_value']:.2g}).")
    else:
        out.append("No surveys table: satisfaction cannot be analysed.")
    return " ".join(out)


def model_table(model: DriverModel) -> Styler:
    """The driver model's effects as displayed."""
    fmt = {model.ratio_name: "{:.2f}", "ci_low": "{:.2f}", "ci_high": "{:.2f}", "p_value": "{:.2g}"}
    return model.summary().style.format(fmt, na_rep="–").hide(axis="index")


def driver_model(model: DriverModel) -> str:
    """Size of the fit, the strongest associations (collinear terms left out) and warnings."""
    sig = strongest_effects(model)
    left_out = ", collinear terms left out" if collinear_terms(model) else ""
    return (f"{model.n_rows_:,} rows, {model.n_customers_:,} customers, {model.n_events_:,} churn "
            f"events. Strongest associations ({model.ratio_name}s{left_out}): "
            + "; ".join(f"**{r.term}** {r.ratio:.2f} (95% CI {r.ci_low:.2f}–{r.ci_high:.2f})"
                        for r in sig.head(TOP_TERMS).itertuples()) + ". "
            + ("**Warnings:** " + " ".join(model.warnings_) if model.warnings_ else
               f"No collinearity warnings (every VIF ≤ {model.vif_threshold:g})."))


def truth_table(cmp: pd.DataFrame) -> Styler:
    """The check against the generator's truth as displayed."""
    return (cmp.style.format({c: "{:.3f}" for c in ["true_log_hr", "coef", "coef_low", "coef_high"]})
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
            + (f"Not covered: {', '.join(missed)}. " if missed else "")
            + "Two known limits: the hidden satisfaction that drives both complaints and churn is "
              "observed only through occasional surveys, so `complaint_90d` also carries part of "
              "the satisfaction effect (biased upwards), and that unobserved heterogeneity "
              "attenuates the largest effects slightly (e.g. the annual contract).")


def odds_table(both: pd.DataFrame) -> Styler:
    """Hazard ratios beside odds ratios as displayed."""
    return (both.style.format({c: "{:.2f}" for c in both.columns if c != "term"})
            .hide(axis="index"))


def odds_vs_hazards(both: pd.DataFrame | None) -> str:
    """How far the logit model's odds ratios are from the hazard ratios (person-months only)."""
    if both is None:
        return ""
    return (f"The logit version of the same model gives **odds ratios** that differ from the "
            f"hazard ratios by at most {both.attrs['max_gap']:.1%}: with a monthly churn rate of "
            "a few percent, odds ratios on customer-months approximate hazard ratios.")


def importance_table(comparison: pd.DataFrame) -> Styler:
    """The GLM and permutation rankings as displayed."""
    cols = ["driver", "wald_chi2", "glm_p_value", "glm_rank", "importance", "importance_std",
            "importance_rank", "rank_gap"]
    fmt = {"wald_chi2": "{:.1f}", "glm_p_value": "{:.2g}", "glm_rank": "{:.0f}",
           "importance": "{:.4f}", "importance_std": "{:.4f}", "importance_rank": "{:.0f}",
           "rank_gap": "{:+.0f}"}
    return comparison[cols].style.format(fmt, na_rep="–").hide(axis="index")


def importance(comparison: pd.DataFrame) -> str:
    """Whether the GLM and the permutation ranking agree."""
    disagree = rank_disagreements(comparison)
    return (f"Rank correlation between the two rankings: **{comparison.attrs['spearman']:.2f}** "
            f"(held-out AUC of the boosting model {comparison.attrs['test_score']:.3f}). "
            + (f"They disagree most on {', '.join(disagree)} — typically drivers collinear with "
               "others (the GLM splits shared effects) or with non-linear effects the GLM does "
               "not model." if disagree else
               f"No driver moves by {RANK_GAP} or more places between the rankings."))


def profiles_title(outcome: str) -> str:
    """Title of the profiles chart."""
    return f"High-churn profiles ({outcome.lower()})"


def profiles_table(profiles: pd.DataFrame) -> Styler:
    """The churn profiles as displayed."""
    rates = {c: "{:.1%}" for c in ["support", "churn_rate", "ci_low", "ci_high"]}
    return (profiles[["rule", "n", "support", "churn_rate", "ci_low", "ci_high", "lift"]]
            .style.format({**rates, "lift": "{:.2f}×"}).hide(axis="index"))


def profiles(table: pd.DataFrame, *, min_lift: float) -> str:
    """The highest-churn profile and how many reach ``min_lift`` times the base rate."""
    best = table.iloc[0]
    n_high = int(table["high_churn"].sum())
    return (f"**{best['rule']}**: {best['churn_rate']:.0%} churn, {best['lift']:.1f}× the base rate "
            f"of {table.attrs['base_rate']:.0%}, {best['support']:.0%} of customers. "
            + (f"{n_high} profile(s) reach at least {min_lift:g}× the base rate." if n_high else
               f"No profile reaches {min_lift:g}× the base rate: churn is spread rather than "
               "concentrated in a few groups."))


def claims_table(claims: pd.DataFrame) -> Styler:
    """The claims as displayed."""
    cols = ["statement", "supported", "effect", "ci_low", "ci_high", "p_value", "n"]
    fmt = {"effect": "{:.2f}", "ci_low": "{:.2f}", "ci_high": "{:.2f}", "p_value": "{:.2g}",
           "n": "{:,}"}
    return claims[cols].style.format(fmt, na_rep="–").hide(axis="index")


def claim_sentences(claims: pd.DataFrame) -> list[str]:
    """One plain sentence per claim of :func:`churn_research.causes.test_claims` (markdown)."""
    out = []
    for r in claims.itertuples():
        if pd.isna(r.supported):
            out.append(f"**{r.statement}** — cannot be tested on these data. {r.note}")
            continue
        verdict = "supported" if r.supported else "not supported"
        more_less = "less" if r.effect < 1 else "more"
        out.append(
            f"**{r.statement}** — {verdict}: {r.group} churn {abs(1 - r.effect) * 100:.0f}% "
            f"{more_less} than {r.reference_group} (ratio {r.effect:.2f}, 95% CI "
            f"{r.ci_low:.2f}–{r.ci_high:.2f}, {pvalue(r.p_value)}, {r.n:,} customers). {r.note}")
    return out


def claims(table: pd.DataFrame) -> str:
    """The claims as a bulleted list, then the method."""
    return ("\n".join(f"- {s}" for s in claim_sentences(table))
            + f"\n\nMethod: {table['method'].iloc[0]}.")


def saved(flat: dict[str, Any]) -> str:
    """The closing line: how many key figures were saved."""
    return f"{len(flat)} key figures saved for the reports index."
