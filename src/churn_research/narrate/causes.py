"""Findings and section sentences of 20_causes: why customers leave (stated reasons, associated
drivers, claims).

:func:`findings` builds the Findings box from the key figures; the other functions build the
text of each report section from the stage's results (``churn_research.causes``) and return
markdown, and the ``*_table`` functions the tables as displayed. A section that does not apply
to a dataset reads as one line from :func:`not_available`.

Every sentence, table header and label goes through the language layer
(:mod:`churn_research.i18n`): English reads as before, Chinese from ``locale/zh/causes.po``.
The results themselves (reasons, levels, rules, the outcome and the ratio name) stay English in
the key figures and are translated here, at display time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from churn_research.causes import (
    ADJUSTMENTS,
    ALPHA,
    DriverModel,
    ReasonShift,
    adjustment_terms,
    collinear_terms,
    largest_rise,
    moved_reasons,
    no_reason_count,
    rank_disagreements,
    reasons_covering,
    significant_drivers,
    strongest_effects,
)
from churn_research.causes.competing import GROUPS, CompetingReasons, reason_heterogeneity
from churn_research.causes.sections import RANK_GAP, TOP_DRIVERS, TOP_TERMS
from churn_research.i18n import _, is_chinese, label, label_msg, n_, t
from churn_research.model import ChurnData, sample_note
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    MISSING,
    count,
    get,
    is_missing,
    not_available,
    pct,
    pvalue,
    ratio_ci,
)
from churn_research.wording import colon, gap, join, semicolons, sentences
from churn_research.wording.drivers import (
    LOG2_SUFFIX,
    TERM_NAMES,
    driver_label,
    level_label,
    outcome_text,
    ratio_label,
    rule_label,
    term_label,
)

_TERM = re.compile(r"^driver_model\.(?P<term>.+)\.ratio$")


#: How known model terms read in a sentence (the one list: :mod:`churn_research.wording.drivers`).
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
        if None in (r, lo, hi, p) or lo <= 1 <= hi or term == "change" or term in ADJUSTMENTS:
            continue
        if best is None or abs(math.log(r)) > abs(math.log(best[1])):
            best = (term, r, lo, hi, p)
    return best


#: The common claims as the Findings box names them (claim key -> words; data labels).
_CLAIM_NAMES = {"tenure": label_msg("long-standing customers churn less"),
                "age": label_msg("older customers churn less"),
                "gender": label_msg("men churn less than women"),
                "channel": label_msg("intermediary customers churn less than end consumers")}


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the main stated reason where reasons exist, else the strongest association."""
    keys, unavailable = [], []
    ratio_name = ratio_label(get(figures, "driver_model.ratio", "ratio"))
    strongest = _strongest(figures)
    driver_text = None
    if strongest is not None:
        term, r, lo, hi, p = strongest
        missed = get(figures, "truth_check.not_covered") or []
        if term in missed:
            driver_text = t("The strongest association in the driver model: {term}, {ratio} {value}, "
                            "other drivers held equal (an association in observational data, not "
                            "proof of cause): its interval misses the generator's true effect (it "
                            "also carries part of effects the model does not see; see the driver "
                            "model section).", term=_label(term), ratio=ratio_name,
                            value=ratio_ci(r, lo, hi))
        else:
            driver_text = t("The strongest association in the driver model: {term}, {ratio} {value}, "
                            "other drivers held equal (an association in observational data, not "
                            "proof of cause).", term=_label(term), ratio=ratio_name,
                            value=ratio_ci(r, lo, hi))
    top = get(figures, "reasons.top1")
    if top is not None:
        share = get(figures, "reasons.top1_share")
        low, high = get(figures, "reasons.top1_ci_low"), get(figures, "reasons.top1_ci_high")
        k = get(figures, "reasons.n_reasons")
        # the shares count every churner, those without a recorded reason as "unknown"
        n_none = get(figures, "reasons.n_no_reason")
        interval = _simultaneous(low, high, k)
        if n_none:
            headline = t("The most common exit reason is {reason}, given by {share}{interval} of "
                         "churners ({n} with no reason recorded).", reason=_reason(top),
                         share=pct(share), interval=interval, n=count(n_none))
        elif n_none == 0:
            headline = t("The most common exit reason is {reason}, given by {share}{interval} of "
                         "churners (every churner gave one).", reason=_reason(top),
                         share=pct(share), interval=interval)
        else:
            headline = t("The most common exit reason is {reason}, given by {share}{interval} of "
                         "churners.", reason=_reason(top), share=pct(share), interval=interval)
        if driver_text:
            keys.append(Finding(driver_text, _("The driver model")))
    else:
        headline = driver_text or _("No driver is clearly associated with churn in these data.")
        unavailable.append(not_available(_("exit reasons and their shift after the business change"),
                                         _("the data record no reason for leaving")))
    shift_p = get(figures, "reason_shift.p_value")
    if shift_p is not None:
        rise = _reason(get(figures, "reason_shift.most_increased"))
        diff = get(figures, "reason_shift.largest_rise.diff")
        lo, hi = (get(figures, f"reason_shift.largest_rise.{b}") for b in ("ci_low", "ci_high"))
        size = (t(", by {diff} percentage points (simultaneous 95% CI {low} to {high})",
                  diff=f"{100 * diff:+.1f}", low=f"{100 * lo:+.1f}", high=f"{100 * hi:+.1f}")
                if None not in (diff, lo, hi) else "")
        keys.append(Finding(
            (t("The reason mix changed after the business change ({p}); {reason} rose most{size}.",
               p=pvalue(shift_p), reason=rise, size=size)
             if shift_p < ALPHA else
             t("The reason mix did not change significantly after the business change ({p}); "
               "{reason} rose most{size}.", p=pvalue(shift_p), reason=rise, size=size)),
            _("Did the reasons change")))
    avoid = get(figures, "competing.annual_split.avoidable.rate")
    annual = get(figures, "competing.annual_split.rate")
    if avoid is not None and annual:
        keys.append(Finding(
            t("Of the annual churn of {rate}, {avoidable} percentage points are avoidable ({reasons}: "
              "{share} of it), {unavoidable} unavoidable ({others}) and {other} other; preventing "
              "every avoidable exit would leave {floor}.", avoidable=f"{100 * avoid:.1f}",
              rate=pct(annual),
              other=f"{100 * (get(figures, 'competing.annual_split.other.rate') or 0.0):.1f}",
              reasons=join(map(_reason, get(figures, "competing.annual_split.avoidable_reasons")
                               or [])) or MISSING,
              share=pct(avoid / annual, 0),
              unavoidable=f"{100 * get(figures, 'competing.annual_split.unavoidable.rate'):.1f}",
              others=join(map(_reason, get(figures, "competing.annual_split.unavoidable_reasons")
                              or [])) or MISSING,
              floor=pct(annual - avoid)), _("Avoidable churn")))
    rule, lift = get(figures, "profiles.top_rule"), get(figures, "profiles.top_lift")
    base = get(figures, "profiles.base_rate")
    if rule is not None and lift is not None and lift > 1.2 and base is not None:
        # review s7: the base is this section's outcome, not the annual churn quoted elsewhere
        keys.append(Finding(
            t("Highest-churn profile: {rule} — {rate} churned, {lift} times the {base} of all "
              "customers in the profile analysis, covering {share} of customers.", rule=_rule(rule),
              rate=pct(lift * base), lift=f"{lift:.1f}", base=pct(base),
              share=pct(get(figures, 'profiles.top_support'))), _("Which customer profiles")))
    elif rule is not None and lift is not None and lift > 1.2:
        keys.append(Finding(
            t("Highest-churn profile: {rule} — {lift} times the base churn rate, covering {share} "
              "of customers.", rule=_rule(rule), lift=f"{lift:.1f}",
              share=pct(get(figures, 'profiles.top_support'))), _("Which customer profiles")))
    claims = [c for c in (get(figures, "claims") or []) if c.get("supported") is not None]
    if claims:
        def name(c) -> str:
            return label(_CLAIM_NAMES.get(c["claim"], c["claim"]))

        def contradicted(c) -> bool:
            return (not c["supported"] and bool(c.get("effect")) and c["effect"] > 1
                    and (c.get("p_value") or 1) < 0.05)

        yes = [name(c) for c in claims if c["supported"]]
        opposite = [t("{claim} (the group churns {ratio}× as much)", claim=name(c),
                      ratio=f"{c['effect']:.2f}") for c in claims if contradicted(c)]
        no = [name(c) for c in claims if not c["supported"] and not contradicted(c)]
        sentence = (t("Claims supported by these data: {claims}",
                      claims=semicolons(yes) if yes else _("none"))
                    + (t(". Contradicted: {claims}", claims=semicolons(opposite)) if opposite else "")
                    + (t(". Not shown: {claims}", claims=semicolons(no)) if no else "")
                    + t(" (crude comparisons, each at the 5% level without adjustment for testing "
                        "{n}).", n=len(claims)))
        keys.append(Finding(sentence, _("Common claims")))
    untested = [k for k, v in figures.items() if k.startswith("claim_supported.") and v is None]
    if untested and not claims:
        unavailable.append(not_available(_("the common claims (tenure, age, gender, channel)"),
                                         _("the data lack the columns or the design to test them")))
    if not any(k.startswith("dose_") for k in figures):
        unavailable.append(not_available(_("churn by complaints and by satisfaction"),
                                         _("the data have no tickets or surveys")))
    covered, terms = get(figures, "truth_check.covered"), get(figures, "truth_check.terms")
    checked = None
    if covered is not None and terms:
        checked = t("the generator's true effects ({covered} of {terms} intervals cover the truth)",
                    covered=covered, terms=terms)
    return StageFindings("20_causes", dataset, headline, keys[:6], unavailable, checked)


# =============================================================================================
# section sentences: results -> markdown
# =============================================================================================
def _words(name: str) -> str:
    """A coded value or column name in words (``service_quality`` -> ``service quality``; in
    Chinese its label)."""
    return label(name) if is_chinese() else str(name).replace("_", " ")


def _reason(name: str) -> str:
    """An exit reason in words (churners without a recorded reason count as ``unknown``)."""
    return _("no reason recorded") if str(name) == "unknown" else _words(name)


#: How the churners without a recorded reason read (in English; :func:`_reason` translates).
NO_REASON = "no reason recorded"


def data_note(data: ChurnData, sample: ChurnData, *, dataset: str, design: str, outcome: str,
              drivers: list[str]) -> str:
    """What the stage works on: the data, the design, the drivers and any model sample."""
    design_text = {
        "person-period": _("customer-months at risk (a hazard model, so customers observed for "
                           "different lengths of time are compared fairly)"),
        "snapshot": t("one row per customer; outcome: {outcome}", outcome=outcome_text(outcome).lower()),
    }[design]
    churned = int(data.customers["end_date"].notna().sum())
    return (t("**Data:** `{dataset}`, {n} customers, {churned} churned by {date} ({kind}).",
              dataset=dataset, n=f"{len(data.customers):,}", churned=f"{churned:,}",
              date=f"{data.observation_end:%Y-%m-%d}", kind=label(data.kind)) + "  \n"
            + t("**Design:** {design}.", design=design_text) + "  \n"
            + t("**Drivers:** {drivers}.", drivers=join(driver_label(d) for d in drivers
                                                        if d not in ADJUSTMENTS))
            + _adjusted_for(drivers) + "  \n"
            + sample_note(sample, _("The complaint and satisfaction curves, the driver models and "
                                    "the tests of claims")))



def _adjusted_for(drivers) -> str:
    """`` Held fixed as an adjustment, not ranked: retention campaign contact.`` when the drivers
    include one of :data:`ADJUSTMENTS`; else empty."""
    adjust = [d for d in drivers if d in ADJUSTMENTS]
    if not adjust:
        return ""
    return gap() + t("Held fixed as an adjustment, not ranked as a driver: {terms}.",
                   terms=join(driver_label(d) for d in adjust))


def _simultaneous(low, high, k) -> str:
    """`` (95% CI 23.3–27.5%, simultaneous across the 7 reasons)``; empty without an interval."""
    if is_missing(low) or is_missing(high):
        return ""
    low, high = f"{100 * float(low):.1f}", f"{100 * float(high):.1f}"
    if k:
        return t(" (95% CI {low}–{high}%, simultaneous across the {k} reasons)", low=low,
                 high=high, k=k)
    return t(" (95% CI {low}–{high}%)", low=low, high=high)


def _no_reason(n) -> str:
    """`` (312 with no reason recorded)`` when some churners have none; else empty."""
    return t(" ({n} with no reason recorded)", n=count(n)) if n else ""


def _p(p) -> str:
    """A p-value as a table cell: ``< 0.001`` or ``0.012``."""
    return MISSING if is_missing(p) else pvalue(p).removeprefix("p = ").replace("p < ", "< ")


def _rule(rule: str) -> str:
    """A profile rule with words for its column names."""
    return rule_label(rule)


def _headers(t_: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Rename a table's columns to the headers a reader sees (``names``: key -> header)."""
    return t_.rename(columns=dict(names))


def pareto_title(pareto: pd.DataFrame) -> str:
    """Title of the Pareto chart."""
    return t("Exit reasons of {n} churners (Pareto)", n=f"{int(pareto['count'].sum()):,}")


# -- exit reasons ------------------------------------------------------------------------------
def reasons_heading(pareto: pd.DataFrame | None, *, dataset: str) -> str:
    """The section heading, or the one line saying why there is no exit-reason section (the
    reason shift section is then left out too)."""
    if pareto is None:
        return not_available(_("exit reasons and the reason mix before and after the business "
                               "change"), t("the {dataset} data record no exit reasons (no "
                                            "churn_reason column)", dataset=dataset))
    return "## " + _("What do churners say? Exit reasons")


def reasons(pareto: pd.DataFrame | None, *, dataset: str) -> str:
    """The top exit reason with its simultaneous interval and how many reasons cover most
    exits (empty without reasons: :func:`reasons_heading` said why)."""
    if pareto is None:
        return ""
    top = pareto.iloc[0]
    n = reasons_covering(pareto)
    k = len(pareto)
    return t("The most frequent exit reason is **{reason}**, given by {share} of churners"
             "{no_reason}{interval}; the top {n} reasons cover {cover} of all exits. The intervals "
             "are simultaneous 95% intervals across the {k} reasons (Goodman's multinomial "
             "intervals): all of them hold together with 95% confidence.",
             reason=_reason(top["reason"]), share=pct(top["share"]),
             no_reason=_no_reason(no_reason_count(pareto)),
             interval=_simultaneous(top["ci_low"], top["ci_high"], k), n=n,
             cover=pct(pareto["cumulative_share"].iloc[n - 1]), k=k)


def reasons_table(pareto: pd.DataFrame) -> Styler:
    """The Pareto table as displayed: count, share and its simultaneous interval."""
    names = {"reason": _("reason"), "count": _("churners"), "share": _("share"),
             "ci_low": _("simultaneous 95% CI low"), "ci_high": _("simultaneous 95% CI high"),
             "cumulative_share": _("cumulative share")}
    t_ = pareto.assign(reason=pareto["reason"].map(_reason))[list(names)]
    t_ = _headers(t_, names)
    shares = [names[c] for c in ("share", "ci_low", "ci_high", "cumulative_share")]
    return (t_.style.format({**{c: "{:.1%}" for c in shares}, names["count"]: "{:,}"})
            .hide(axis="index"))


def reasons_by_segment(by_segment: pd.DataFrame | None, *, segment: str | None,
                       has_reasons: bool) -> str:
    """The top reason in each segment (empty without reasons: :func:`reasons_heading` said why)."""
    if not has_reasons:
        return ""
    if by_segment is None:
        return (_("No segment column chosen (parameter `reason_segment`), so reasons are shown "
                  "overall only.") if not segment else
                t("The data have no `{segment}` column (parameter `reason_segment`), so reasons "
                  "are shown overall only.", segment=segment))
    tops = by_segment[by_segment["rank"] == 1]
    return t("Each row shows how the churners of one {segment} split across the reasons. "
             "Top reason by {segment}: {tops}.", segment=_words(segment),
             tops=semicolons(_segment_top(r, segment) for _i, r in tops.iterrows()))


def _segment_top(row: pd.Series, segment: str) -> str:
    """``basic: price (27%)``: a segment's top reason and its share."""
    level = _words(row[segment]) if is_chinese() else row[segment]
    if is_chinese():
        return f"{level}：{_reason(row['reason'])}（{pct(row['share'], 0)}）"
    return f"{level}: {_reason(row['reason'])} ({pct(row['share'], 0)})"


def reason_shift_heading(shift: ReasonShift | None, *, has_reasons: bool) -> str:
    """The heading and method of the reason-shift section; one line when there is a reason mix
    but no business change; nothing without reasons (:func:`reasons_heading` said why)."""
    if not has_reasons:
        return ""
    if shift is None:
        return not_available(_("the reason mix before and after the business change"),
                             _("there is no business change in the events table"))
    k = len(shift.table)
    return ("## " + _("Did the reasons change after the business change?") + "\n\n"
            + t("Churners who left before the change date are compared with those who left on or "
                "after it; a chi-square test asks whether the reason mix is the same. Each reason's "
                "shares and share difference have simultaneous 95% intervals across the {k} reasons "
                "(Goodman's multinomial intervals for the shares; Newcombe's interval at the "
                "Bonferroni level 1 − 0.05/{k} for the differences), and each reason's own test "
                "(this reason against the others) is Holm-adjusted for testing {k} reasons.", k=k))


def reason_shift(shift: ReasonShift | None, *, has_reasons: bool) -> str:
    """Whether the reason mix changed at the business change, the reason that rose most and the
    reasons whose share moved (Holm-adjusted); empty when the section does not apply."""
    if shift is None:
        return ""
    up = largest_rise(shift)
    moved = moved_reasons(shift)
    k = len(shift.table)
    verdict = _("changed") if shift.p_value < ALPHA else _("did not change significantly")
    moved_text = (t(" Reasons whose share moved (Holm-adjusted p < {alpha} over {k} reasons): "
                    "{reasons}.", alpha=f"{ALPHA:g}", k=k,
                    reasons=join(_reason(r) for r in moved)) if moved else
                  t(" No single reason's share moved significantly after Holm's adjustment for "
                    "{k} reasons.", k=k))
    notes = shift.notes
    return (t("The reason mix **{verdict}** after {date} (chi-square = {chi2}, {dof} df, {p}, "
              "Cramér's V = {v}; {before} churners before, {after} after). The largest rise: "
              "**{reason}**, from {share_before} to {share_after} of exits ({diff} percentage "
              "points, simultaneous 95% CI {low} to {high}).", verdict=verdict,
              date=f"{shift.change_date:%Y-%m-%d}", chi2=f"{shift.chi2:.1f}", dof=shift.dof,
              p=pvalue(shift.p_value), v=f"{shift.cramers_v:.2f}", before=f"{shift.n_before:,}",
              after=f"{shift.n_after:,}", reason=_reason(up["reason"]),
              share_before=pct(up["share_before"]), share_after=pct(up["share_after"]),
              diff=f"{100 * up['diff']:+.1f}", low=f"{100 * up['ci_low']:+.1f}",
              high=f"{100 * up['ci_high']:+.1f}")
            + moved_text + (" " + " ".join(notes) if notes else ""))


def reason_shift_table(shift: ReasonShift) -> Styler:
    """The reason shift table as displayed (shares in %, the change in percentage points)."""
    tb = shift.table
    h = {"reason": _("reason"), "churners before": _("churners before"),
         "churners after": _("churners after"), "share before": _("share before"),
         "share after": _("share after"), "change (points)": _("change (points)"),
         "simultaneous 95% CI low": _("simultaneous 95% CI low"),
         "simultaneous 95% CI high": _("simultaneous 95% CI high"), "p (Holm)": _("p (Holm)")}
    out = pd.DataFrame({
        h["reason"]: tb["reason"].map(_reason),
        h["churners before"]: tb["count_before"], h["churners after"]: tb["count_after"],
        h["share before"]: tb["share_before"], h["share after"]: tb["share_after"],
        h["change (points)"]: 100 * tb["diff"],
        h["simultaneous 95% CI low"]: 100 * tb["ci_low"],
        h["simultaneous 95% CI high"]: 100 * tb["ci_high"],
        h["p (Holm)"]: tb["p_holm"]})
    points = [h["change (points)"], h["simultaneous 95% CI low"], h["simultaneous 95% CI high"]]
    return (out.style.format({h["share before"]: "{:.1%}", h["share after"]: "{:.1%}",
                              **{c: "{:+.1f}" for c in points}, h["p (Holm)"]: _p,
                              h["churners before"]: "{:,}", h["churners after"]: "{:,}"})
            .hide(axis="index"))


# -- competing exit reasons --------------------------------------------------------------------
#: The reason groups as a reader sees them (data labels).
GROUP_NAMES = {"avoidable": label_msg("avoidable"), "unavoidable": label_msg("unavoidable"),
               "other": label_msg("other or no reason recorded")}


def _group(name: str) -> str:
    return label(GROUP_NAMES.get(name, name))


def _months(h: float) -> str:
    return t("{h} months", h=f"{h:g}")


def competing_heading(comp: CompetingReasons | None, *, has_reasons: bool, dataset: str) -> str:
    """The heading and method of the competing-reasons section, or the one line saying why it
    is missing."""
    if comp is None:
        return not_available(
            _("cumulative incidence per exit reason, cause-specific hazards and avoidable vs "
              "unavoidable churn"),
            t("the {dataset} data record no exit reasons (no churn_reason column)",
              dataset=dataset))
    entry = (_(" Customers who were already customers when the records begin enter the risk "
               "sets at the tenure they had then (left truncation), as in the survival stage.")
             if comp.incidence.entry else "")
    return ("## " + _("Competing exit reasons: who leaves for what, and when") + "\n\n"
            + _("Every churner leaves for one reason, so the reasons compete: a customer who left "
                "over the price can no longer leave for a competitor. The Aalen–Johansen "
                "estimator gives each reason's cumulative incidence, the share of customers who "
                "have left for that reason by each tenure, on the survival stage's lifetime frame "
                "(tenure in months). Unlike 1 − Kaplan–Meier per reason, which treats exits for "
                "the other reasons as censored and so overstates every reason, these curves add "
                "up to the overall churn, 1 − Kaplan–Meier, at every tenure. Tied tenures are "
                "handled exactly (lifelines' AalenJohansenFitter would jitter them at random); "
                "the bands are pointwise 95% intervals (Greenwood-type variance on the "
                "log(−log) scale, as lifelines computes them).") + entry)


def incidence_total(comp: CompetingReasons) -> pd.DataFrame:
    """``time, cif``: the overall churn 1 − Kaplan–Meier, for the figure."""
    tb = comp.incidence.table
    return pd.DataFrame({"time": tb[("time", "")].to_numpy(),
                         "cif": 1 - tb[("survival", "")].to_numpy()})


def incidence_table(comp: CompetingReasons) -> Styler:
    """Cumulative incidence of each reason at the horizons with its 95% interval; the last row
    is the overall churn (1 − Kaplan–Meier)."""
    at = comp.incidence.at(comp.horizons)
    at["text"] = [MISSING if is_missing(r.cif) else
                  pct(r.cif) if is_missing(r.ci_low) else
                  f"{pct(r.cif)} ({100 * r.ci_low:.1f}–{100 * r.ci_high:.1f}%)"
                  for r in at.itertuples()]
    wide = at.pivot(index="reason", columns="horizon", values="text")
    wide = wide.reindex([*comp.incidence.reasons, "all reasons"])
    wide.columns = [_months(h) for h in wide.columns]
    wide.index = [_("all reasons (1 − Kaplan–Meier)") if r == "all reasons" else _reason(r)
                  for r in wide.index]
    wide.index.name = _("exit reason")
    return wide.reset_index().style.hide(axis="index")


def incidence(comp: CompetingReasons) -> str:
    """What the curves say at the horizons, and the check against the generator's reason
    shares where it is recorded."""
    at = comp.incidence.at(comp.horizons).dropna(subset=["cif"])
    if at.empty:
        return t("No horizon lies within the observed tenures (up to {max} months).",
                 max=f"{comp.incidence.times[-1]:.0f}")
    h = float(at["horizon"].max())
    row = at[at["horizon"] == h]
    total = float(row.loc[row["reason"] == "all reasons", "cif"].iloc[0])
    parts = row[row["reason"] != "all reasons"].sort_values("cif", ascending=False)
    top = parts.head(3)
    each = [t("{value} for {reason}", value=pct(r.cif), reason=_reason(r.reason))
            for r in top.itertuples()]
    text = t("By {h} of tenure, {total} of customers have left: {parts}. The top reason, "
             "**{reason}**, accounts for {share} of that churn.", h=_months(h), total=pct(total),
             parts=join(each),
             reason=_reason(top["reason"].iloc[0]),
             share=pct(top["cif"].iloc[0] / total if total else float("nan")))
    truth = comp.shares_truth
    if truth is not None:
        text += gap() + t("The generator's expected reason shares (its reason weights, raised for "
                          "churners with a price rise, a recent complaint or an exit after the "
                          "change) lie within the simultaneous 95% intervals of the observed shares "
                          "for {covered} of {k} reasons (chi-square goodness of fit {p}).",
                          covered=int(truth["covered"].sum()), k=len(truth),
                          p=pvalue(truth.attrs["p_value"]))
    return text


def cause_specific_heading(comp: CompetingReasons, *, reference_from_params: bool) -> str:
    """Heading and method of the cause-specific hazards."""
    hz = comp.hazards
    left = hz.attrs.get("left_out") or []
    refs = (_("the reference levels of the driver model (parameter `reference`)")
            if reference_from_params else _("the most frequent level of each driver as reference"))
    return ("### " + _("Which drivers push which reason? Cause-specific hazards") + "\n\n"
            + t("One Cox model per main reason ({reasons}): exits for any other reason count as "
                "censored, so each hazard ratio says how much faster customers with that trait "
                "leave *for that reason*, the other drivers held equal (an association, not "
                "proof of cause). Drivers: the customer-level drivers of the driver model, coded "
                "the same way, with {refs}.", reasons=join(_reason(r) for r in hz.attrs["reasons"]),
                refs=refs)
            + (gap() + t("Left out: {drivers} (they change during a customer's tenure and would "
                         "need episode splitting).", drivers=join(driver_label(d) for d in left))
               if left else "")
            + gap() + _("Delayed entry as in the survival stage; Efron's method for tied tenures. "
                        "In the table a ratio in bold has a 95% interval that excludes 1."))


def cause_hr_table(comp: CompetingReasons) -> Styler:
    """Terms × main reasons: hazard ratio with its 95% interval (bold where it excludes 1)."""
    hz = comp.hazards
    hz = hz.assign(text=[f"{r.hr:.2f} ({r.ci_low:.2f}–{r.ci_high:.2f})" for r in hz.itertuples()],
                   sig=(hz["ci_low"] > 1) | (hz["ci_high"] < 1))
    text = hz.pivot(index="term", columns="reason", values="text")
    sig = hz.pivot(index="term", columns="reason", values="sig")
    order = list(dict.fromkeys(hz["term"]))
    reasons = hz.attrs["reasons"]
    text, sig = text.reindex(index=order, columns=reasons), sig.reindex(index=order, columns=reasons)
    names = {r: t("{reason} ({n} exits)", reason=_reason(r),
                  n=f"{int(hz.loc[hz['reason'] == r, 'events'].iloc[0]):,}") for r in reasons}
    text.index = [_label(x) for x in text.index]
    sig.index = text.index
    text, sig = text.rename(columns=names), sig.rename(columns=names)
    text.index.name = _("term")
    sig.index.name = text.index.name
    styles = sig.map(lambda v: "font-weight: bold" if v else "")
    return (text.reset_index().style
            .apply(lambda _df: styles.reset_index().assign(**{text.index.name: ""}), axis=None)
            .hide(axis="index"))


def cause_specific(comp: CompetingReasons, *, top: int = 2) -> str:
    """Per main reason the drivers that push it most (interval excludes 1), and the check
    against the generator's approximate truth."""
    hz = comp.hazards
    lines = []
    for r in hz.attrs["reasons"]:
        g = hz[(hz["reason"] == r) & ((hz["ci_low"] > 1) | (hz["ci_high"] < 1))]
        g = g.reindex(g["hr"].map(lambda v: abs(math.log(v))).sort_values(ascending=False).index)
        if g.empty:
            lines.append(t("- **{reason}**: no driver's interval excludes 1.", reason=_reason(r)))
            continue
        terms = [t("{term}: HR {value}", term=_label(x.term), value=ratio_ci(x.hr, x.ci_low, x.ci_high))
                 for x in g.head(top).itertuples()]
        lines.append(t("- **{reason}**, strongest associations: {terms}.", reason=_reason(r),
                       terms=semicolons(terms)))
    text = "\n".join(lines)
    het = reason_heterogeneity(hz)
    if len(het):
        differs = het[het["differs"]]
        k, n_terms = len(hz.attrs["reasons"]), len(het)
        items = [t("{term}, strongest for {reason} ({hr} vs {low}–{high} for the others, {p})",
                   term=_label(r.term), reason=_reason(r.reason), hr=f"{r.hr:.2f}",
                   low=f"{r.others_low:.2f}", high=f"{r.others_high:.2f}", p=pvalue(r.p_holm))
                 for r in differs.itertuples()]
        text += "\n\n" + (
            t("Drivers whose effect differs between the reasons (Cochran's Q across the {k} "
              "reasons, Holm-adjusted over {n} terms; the cause-specific models are independent): "
              "{items}. The other drivers show no significant difference between the reasons.", k=k,
              n=n_terms, items=semicolons(items))
            if len(differs) else
            t("No driver's effect differs significantly between the reasons (Cochran's Q across "
              "the {k} reasons, Holm-adjusted over {n} terms): as far as these data show, the "
              "drivers raise or lower the main reasons alike.", k=k, n=n_terms))
    truth = comp.hazard_truth
    if truth is not None:
        price = truth[truth["term"] == "price_rise"]
        detail = ""
        if len(price):
            mine = price.sort_values("true_hr", ascending=False)
            items = [t("{reason} {truth} (estimate {value})", reason=_reason(x.reason),
                       truth=f"{x.true_hr:.2f}", value=ratio_ci(x.hr, x.ci_low, x.ci_high))
                     for x in mine.itertuples()]
            detail = gap() + t("For a price rise the generator's ratio differs by reason: {items}.",
                               items=semicolons(items))
        text += "\n\n" + t("Checked against the generator: {covered} of {n} intervals cover its "
                           "cause-specific hazard ratio (approximate: the all-cause ratio for "
                           "drivers that do not change the reason, times the change in the "
                           "reason's probability for a price rise, with the other reason flags "
                           "held at no; the models also leave out the generator's complaint "
                           "and change effects and its hidden satisfaction, which pull the "
                           "estimates towards 1).", covered=int(truth["covered"].sum()),
                           n=len(truth)) + detail
    return text


def avoidable_heading(comp: CompetingReasons) -> str:
    """Heading and method of the avoidable vs unavoidable split."""
    groups = comp.split.groups
    members = {g: [r for r, v in groups.items() if v == g] for g in ("avoidable", "unavoidable")}
    a = comp.split.annual
    how = (t("customers on the books on {start} and the share of them lost by {end}",
             start=f"{a.window_start:%Y-%m-%d}", end=f"{a.window_end:%Y-%m-%d}")
           if a.method.startswith("window") else
           _("read off the survival curve; its parts are split by the shares of all recorded "
             "exits"))
    return ("### " + _("Avoidable vs unavoidable churn") + "\n\n"
            + t("Reasons the business can act on count as avoidable ({avoidable}); the "
                "customer's circumstances as unavoidable ({unavoidable}); any other "
                "reason and churners without a recorded reason are shown apart. The grouping is "
                "the parameter `reason_groups`. The annual churn is the project's one figure, as "
                "the indicators stage and the summary report it ({how}); each group's part is the "
                "share of the same customers lost for a reason of that group, so the parts add up "
                "to it.", avoidable=join(_reason(r) for r in members["avoidable"]) or MISSING,
                unavoidable=join(_reason(r) for r in members["unavoidable"]) or MISSING, how=how))


def avoidable_table(comp: CompetingReasons) -> Styler:
    """The annual churn split by reason group."""
    tb = comp.split.table
    h = {"group": _("group"), "lost": _("customers lost"), "share": _("share of the exits"),
         "rate": _("part of the annual churn"), "ci_low": _("95% CI low"),
         "ci_high": _("95% CI high")}
    out = tb.assign(group=tb["group"].map(_group))[list(h)].rename(columns=h)
    total = {h["group"]: _("annual churn"), h["lost"]: int(tb["lost"].sum()),
             h["share"]: float(tb["share"].sum()), h["rate"]: comp.split.annual.rate,
             h["ci_low"]: comp.split.annual.ci_low, h["ci_high"]: comp.split.annual.ci_high}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    return (out.style.format({h["lost"]: "{:,}", **{h[c]: "{:.1%}" for c in
                                                    ("share", "rate", "ci_low", "ci_high")}},
                             na_rep=MISSING).hide(axis="index"))


def avoidable(comp: CompetingReasons) -> str:
    """The split in words and what a churn target can realistically address."""
    sp = comp.split
    rate = sp.annual.rate
    if not set(comp.incidence.reasons) & set(sp.groups):
        return t("None of the data's exit reasons ({reasons}) is listed in the parameter "
                 "`reason_groups`, so every exit counts as other; map each reason to avoidable "
                 "or unavoidable to split the annual churn of {rate}.",
                 reasons=join(_reason(r) for r in comp.incidence.reasons), rate=pct(rate))
    av, un, ot = (sp.rate(g) for g in GROUPS)
    share = sp.table.set_index("group").loc["avoidable", "share"]
    text = t("Of the annual churn of {rate}, **{av} percentage points** are avoidable, {un} "
             "unavoidable and {ot} other ({share} of the exits had an avoidable reason).",
             rate=pct(rate), av=f"{100 * av:.1f}", un=f"{100 * un:.1f}", ot=f"{100 * ot:.1f}",
             share=pct(share, 0))
    if av > 0:
        text += gap() + t("A retention target can only work on the avoidable part: even preventing "
                          "every avoidable exit would leave annual churn at {floor}, and cutting "
                          "annual churn by one percentage point means preventing {per_point} of "
                          "the avoidable exits.", floor=pct(rate - av),
                          per_point=pct(0.01 / av, 0))
    return text


# -- driver-by-driver tests ------------------------------------------------------------------
def driver_tests_table(tests: pd.DataFrame) -> Styler:
    """The driver-by-driver tests, raw and Holm-adjusted p-values side by side."""
    names = {"driver": _("driver"), "levels": _("levels"), "chi2": _("chi-square"),
             "dof": _("df"), "p_value": _("p"), "p_holm": _("p (Holm)"),
             "trend_p_value": _("trend p"), "highest": _("highest-churn level"),
             "lowest": _("lowest-churn level"), "max_ratio": _("highest ÷ lowest")}
    tb = tests.assign(driver=tests["driver"].map(driver_label),
                      highest=tests["highest"].map(level_label),
                      lowest=tests["lowest"].map(level_label))
    tb = _headers(tb[list(names)], names)
    return (tb.style.format({names["chi2"]: "{:.1f}", names["p_value"]: _p, names["p_holm"]: _p,
                             names["trend_p_value"]: _p, names["max_ratio"]: "{:.2f}"},
                            na_rep=MISSING)
            .hide(axis="index"))


def driver_tests(rates: pd.DataFrame, tests: pd.DataFrame, *, outcome: str) -> str:
    """Base rate, how many drivers differ significantly (Holm-adjusted) and the widest gaps."""
    strong = significant_drivers(tests)
    text = t("Base rate: {rate} ({outcome}). {k} of {n} drivers go with significantly different "
             "churn (p < {alpha} after Holm's adjustment for testing {n} drivers; the table shows "
             "the Holm-adjusted p beside the raw one).", rate=pct(rates.attrs['base_rate']),
             outcome=outcome_text(outcome).lower(), k=len(strong), n=len(tests),
             alpha=f"{ALPHA:g}")
    months = re.match(r"^(\d+)-month churn rate$", str(outcome))
    if months:  # review s5: beside the report's annual churn, a second "yearly" rate needs its base
        text += gap() + t("The base rate is the share of the customers followed for {n} whole months "
                        "from when they joined (or from the start of the records) who left within "
                        "them, not the annual churn of the customer base (one year's exits among "
                        "all customers on the books).", n=months[1])
    if len(strong):
        gaps = semicolons(_gap(r) for r in strong.head(TOP_DRIVERS).itertuples())
        text += t(" The widest gap: {gaps}.", gaps=gaps)
    return text


def _gap(r) -> str:
    """``**contract** (monthly churns 1.9× as often as annual)``: a driver's widest gap."""
    return t("**{driver}** ({highest} churns {ratio}× as often as {lowest})",
             driver=driver_label(r.driver), highest=level_label(r.highest),
             ratio=f"{r.max_ratio:.1f}", lowest=level_label(r.lowest))


def dose_heading(doses: dict[str, pd.DataFrame | None], *, dataset: str) -> str:
    """The dose-response heading and method, or the one line saying why it is missing."""
    if doses.get("complaints") is None and doses.get("satisfaction") is None:
        return not_available(_("churn by complaints and by satisfaction (dose-response)"),
                             t("the {dataset} data have no tickets or surveys", dataset=dataset))
    return ("### " + _("Dose-response: complaints and satisfaction") + "\n\n"
            + _("Monthly churn rate (churn events per customer-month at risk) by the number of "
                "complaints in the previous 90 days, and by the customer's last CSAT answer. Both "
                "are time-varying, so they are measured month by month rather than once per "
                "customer."))


def dose_response(doses: dict[str, pd.DataFrame | None], *, dataset: str) -> str:
    """Churn by complaints and by satisfaction (empty when both are missing:
    :func:`dose_heading` said why)."""
    dose_c, dose_s = doses.get("complaints"), doses.get("satisfaction")
    if dose_c is None and dose_s is None:
        return ""
    out = []
    if dose_c is not None:
        out.append(t("Customers with a complaint in the last 90 days churn {ratio}× as often as "
                     "those without ({with_} vs {without} per month; trend {p}).",
                     ratio=f"{dose_c['rate_ratio'].iloc[1]:.1f}",
                     with_=pct(dose_c['churn_rate'].iloc[1]),
                     without=pct(dose_c['churn_rate'].iloc[0]),
                     p=pvalue(dose_c.attrs['trend_p_value'])))
    else:
        out.append(not_available(_("churn by complaints"), _("there is no tickets table")))
    if dose_s is not None:
        a = dose_s[dose_s["level"] != "no answer yet"]
        out.append(t("Churn falls with satisfaction: {low_rate} per month after a CSAT of {low} vs "
                     "{high_rate} after a {high} (trend {p}).", low_rate=pct(a['churn_rate'].iloc[0]),
                     low=a['level'].iloc[0], high_rate=pct(a['churn_rate'].iloc[-1]),
                     high=a['level'].iloc[-1], p=pvalue(dose_s.attrs['trend_p_value'])))
    else:
        out.append(not_available(_("churn by satisfaction"), _("there is no surveys table")))
    return sentences(*out)


# -- the driver model --------------------------------------------------------------------------
def model_table(model: DriverModel) -> Styler:
    """The driver model's effects as displayed (terms in words)."""
    tb = model.summary()
    ratio = ratio_label(model.ratio_name)
    names = {"term": _("driver (level)"), "reference": _("compared with"),
             model.ratio_name: ratio, "ci_low": _("95% CI low"), "ci_high": _("95% CI high"),
             "p_value": _("p")}
    tb = tb.assign(term=tb["term"].map(_label),
                   reference=tb["reference"].map(lambda r: r if r is None or is_missing(r)
                                                 else level_label(r)))
    tb = _headers(tb, names)
    fmt = {ratio: "{:.2f}", names["ci_low"]: "{:.2f}", names["ci_high"]: "{:.2f}",
           names["p_value"]: _p}
    return tb.style.format(fmt, na_rep=MISSING).hide(axis="index")


def driver_model(model: DriverModel) -> str:
    """Size of the fit, the strongest associations (collinear terms left out) and warnings."""
    sig = strongest_effects(model)
    ratio = ratio_label(model.ratio_name)
    left_out = _(", collinear terms left out") if collinear_terms(model) else ""
    head = t("{rows} rows, {customers} customers, {events} churn events. Strongest associations "
             "({ratio}s{left_out}): {terms}. ", rows=f"{model.n_rows_:,}",
             customers=f"{model.n_customers_:,}", events=f"{model.n_events_:,}", ratio=ratio,
             left_out=left_out,
             terms=semicolons(f"**{_label(r.term)}** {ratio_ci(r.ratio, r.ci_low, r.ci_high)}"
                               for r in sig.head(TOP_TERMS).itertuples()))
    warn = (t("**Warnings:** {warnings}", warnings=" ".join(model.warnings_)) if model.warnings_
            else t("No collinearity warnings (every VIF ≤ {vif}).", vif=f"{model.vif_threshold:g}"))
    logs = "".join(t(" The {driver} enters the model as log₂(1 + amount), so its {ratio} compares "
                     "customers whose {driver} differs by a factor of two (e.g. 20 against 40), "
                     "whatever the level.", driver=driver_label(term), ratio=ratio)
                   for term in model.effects_["term"] if str(term).endswith(LOG2_SUFFIX))
    return head + warn + logs + _adjustments(model)


def _adjustments(model: DriverModel) -> str:
    """What the adjustment terms (a retention campaign's contact) are there for; empty without."""
    adjust = adjustment_terms(model)
    if not len(adjust):
        return ""
    ratio = ratio_label(model.ratio_name)
    return gap() + t("The term **{terms}** ({ratio} {value}) is an adjustment, not a driver of interest: a "
                   "retention campaign contacted part of the customers after the business change "
                   "(1 from a customer's first contact on), and holding the contact fixed keeps the "
                   "customers it kept from being read as a smaller change effect. It is left out of "
                   "the strongest associations and of the ranking below.",
                   terms=join(_label(r.term) for r in adjust.itertuples()), ratio=ratio,
                   value=join(ratio_ci(r.ratio, r.ci_low, r.ci_high) for r in adjust.itertuples()))


def truth_table(cmp: pd.DataFrame) -> Styler:
    """The check against the generator's truth as displayed."""
    names = {"term": _("driver (level)"), "true_log_hr": _("true log HR"), "coef": _("estimate"),
             "coef_low": _("95% CI low"), "coef_high": _("95% CI high"),
             "covered": _("interval covers truth"), "sign_ok": _("right sign")}
    tb = cmp.assign(term=cmp["term"].map(_label))
    if is_chinese():
        tb = tb.assign(covered=tb["covered"].map(label), sign_ok=tb["sign_ok"].map(label))
    tb = _headers(tb, names)
    return (tb.style.format({names[c]: "{:.3f}" for c in ["true_log_hr", "coef", "coef_low",
                                                          "coef_high"]})
            .hide(axis="index"))


def truth_check(cmp: pd.DataFrame | None, campaign: Mapping[str, Any] | None = None) -> str:
    """How many intervals cover the generator's truth, and the known limits (synthetic data);
    with ``campaign`` (:func:`churn_research.causes.campaign_truth`), how the contact term reads
    against the campaign's true effect, which is not a hazard ratio."""
    if cmp is None:
        return ""
    return _truth_check(cmp) + _campaign_truth(campaign)


def _campaign_truth(c: Mapping[str, Any] | None) -> str:
    """The campaign's true effect beside the contact term (not counted in the check)."""
    if c is None:
        return ""
    groups = c["by_group"]
    by = (t("; {with_} points with a price rise and {without} without (the campaign saves mostly "
            "price-sensitive leavers)", with_=_points(groups["price_rise"]),
            without=_points(groups["no_price_rise"]))
          if {"price_rise", "no_price_rise"} <= set(groups) else "")
    verdict = (_("inside the contact term's interval") if c["covered"]
               else _("outside the contact term's interval"))
    return gap() + t("**The retention campaign** is not in the check: the generator sets its effect "
                     "as a change in churn within {days} days of the campaign, not as a hazard "
                     "ratio: {ate} percentage points on average among the eligible customers, whose "
                     "churn without the campaign would have been {p0}{by}. The constant hazard ratio "
                     "that gives the same churn within those {days} days is about {implied}, {verdict} ({value}); it is an approximation, as the true "
                     "effect is neither the same for everyone nor constant over time.",
                     days=c["horizon_days"], ate=_points(c["ate"]), p0=pct(c["churn_untreated"]),
                     by=by, implied=f"{c['implied_hr']:.2f}", verdict=verdict,
                     value=ratio_ci(c["ratio"], c["ci_low"], c["ci_high"]))


def _points(share: float) -> str:
    """A change of a share in signed percentage points (``−7.9``, ``+1.2``)."""
    return f"{100 * share:+.1f}".replace("-", "−")


def _truth_check(cmp: pd.DataFrame) -> str:
    missed = cmp.loc[~cmp["covered"], "term"].tolist()
    return (t("**Check against the generator's truth (log hazard ratios):** {covered} of {n} 95% "
              "intervals cover the true value, and {signs} of {n} effects have the right sign (or, "
              "for a true zero, an interval containing zero). ", covered=int(cmp['covered'].sum()),
              n=len(cmp), signs=int(cmp['sign_ok'].sum()))
            + (t("Not covered: {terms}. ", terms=join(_label(m) for m in missed))
               if missed else "")
            + _("Two known limits: the hidden satisfaction that drives both complaints and churn is "
                "observed only through occasional surveys, so a complaint in the last 90 days "
                "also carries part of the satisfaction effect (biased upwards), and that unobserved "
                "heterogeneity attenuates the largest effects slightly (e.g. the annual contract)."))


def odds_table(both: pd.DataFrame) -> Styler:
    """Hazard ratios beside odds ratios as displayed."""
    names = {"term": _("driver (level)"), "ratio_hr": _("hazard ratio"),
             "ci_low_hr": _("HR 95% CI low"), "ci_high_hr": _("HR 95% CI high"),
             "ratio_or": _("odds ratio"), "ci_low_or": _("OR 95% CI low"),
             "ci_high_or": _("OR 95% CI high")}
    tb = _headers(both.assign(term=both["term"].map(_label)), names)
    return (tb.style.format({c: "{:.2f}" for c in tb.columns if c != names["term"]})
            .hide(axis="index"))


def odds_vs_hazards(both: pd.DataFrame | None) -> str:
    """How far the logit model's odds ratios are from the hazard ratios (person-months only)."""
    if both is None:
        return ""
    return t("The logit version of the same model gives **odds ratios** that differ from the "
             "hazard ratios by at most {gap}: with a monthly churn rate of a few percent, odds "
             "ratios on customer-months approximate hazard ratios.", gap=pct(both.attrs['max_gap']))


# -- the model-agnostic check ----------------------------------------------------------------
def importance_table(comparison: pd.DataFrame) -> Styler:
    """The GLM and permutation rankings as displayed."""
    cols = {"driver": _("driver"), "wald_chi2": _("GLM Wald chi-square"), "glm_p_value": _("GLM p"),
            "glm_rank": _("GLM rank"), "importance": _("permutation importance (AUC drop)"),
            "importance_std": _("its SD"), "importance_rank": _("permutation rank"),
            "rank_gap": _("rank gap")}
    tb = comparison[list(cols)].assign(driver=comparison["driver"].map(driver_label))
    tb = tb.rename(columns=cols)
    fmt = {cols["wald_chi2"]: "{:.1f}", cols["glm_p_value"]: _p, cols["glm_rank"]: "{:.0f}",
           cols["importance"]: "{:.4f}", cols["importance_std"]: "{:.4f}",
           cols["importance_rank"]: "{:.0f}", cols["rank_gap"]: "{:+.0f}"}
    return tb.style.format(fmt, na_rep=MISSING).hide(axis="index")


def importance(comparison: pd.DataFrame) -> str:
    """Whether the GLM and the permutation ranking agree."""
    disagree = rank_disagreements(comparison)
    return (t("Rank correlation between the two rankings: **{rho}** (held-out AUC of the boosting "
              "model {auc}). ", rho=f"{comparison.attrs['spearman']:.2f}",
              auc=f"{comparison.attrs['test_score']:.3f}")
            + (t("They disagree most on {drivers} — typically drivers collinear with others (the "
                 "GLM splits shared effects) or with non-linear effects the GLM does not model.",
                 drivers=join(driver_label(d) for d in disagree)) if disagree else
               t("No driver moves by {places} or more places between the rankings.",
                 places=RANK_GAP)))


# -- profiles ----------------------------------------------------------------------------------
def profiles_title(outcome: str) -> str:
    """Title of the profiles chart."""
    return t("High-churn profiles ({outcome})", outcome=outcome_text(outcome).lower())


def profiles_table(profiles: pd.DataFrame) -> Styler:
    """The churn profiles as displayed."""
    names = {"rule": _("profile"), "n": _("customers"), "support": _("share of customers"),
             "churn_rate": _("churn rate"), "ci_low": _("95% CI low"), "ci_high": _("95% CI high"),
             "lift": _("× base rate")}
    tb = profiles[list(names)].assign(rule=profiles["rule"].map(_rule)).rename(columns=names)
    rates = {names[c]: "{:.1%}" for c in ["support", "churn_rate", "ci_low", "ci_high"]}
    return (tb.style.format({**rates, names["lift"]: "{:.2f}×", names["n"]: "{:,}"})
            .hide(axis="index"))


def profiles(table: pd.DataFrame, *, min_lift: float) -> str:
    """The highest-churn profile and how many reach ``min_lift`` times the base rate."""
    best = table.iloc[0]
    n_high = int(table["high_churn"].sum())
    return (t("**{rule}**: {rate} churn, {lift}× the base rate of {base}, {share} of customers. ",
              rule=_rule(best['rule']), rate=pct(best['churn_rate'], 0), lift=f"{best['lift']:.1f}",
              base=pct(table.attrs['base_rate'], 0), share=pct(best['support'], 0))
            + (n_("{n} profile reaches at least {lift}× the base rate.",
                  "{n} profiles reach at least {lift}× the base rate.", n_high,
                  lift=f"{min_lift:g}") if n_high else
               t("No profile reaches {lift}× the base rate: churn is spread rather than "
                 "concentrated in a few groups.", lift=f"{min_lift:g}")))


# -- claims ------------------------------------------------------------------------------------
_NOT_TESTABLE = ("Not testable:", "无法检验：")


def _why_untestable(note: str) -> str:
    """Why a claim cannot be tested, as a clause that follows "because": ``"Not testable: no
    'gender' column."`` and ``"No gender column."`` both read ``"the data have no 'gender'
    column"``; a leading capital is lowered unless the word is an acronym (``CSAT``)."""
    why = str(note).strip()
    for prefix in _NOT_TESTABLE:
        why = why.removeprefix(prefix)
    why = why.strip().rstrip(".。").strip()
    if len(why) > 1 and why[0].isupper() and not why[1].isupper():
        why = why[0].lower() + why[1:]
    return "the data have " + why if why.startswith("no ") else why


def claims_heading(claims: pd.DataFrame) -> str:
    """The heading and method of the claims section, or one line when no claim is testable."""
    testable = claims["supported"].notna()
    if not testable.any():
        return not_available(
            _("tests of the common claims (tenure, age, gender, channel)"),
            semicolons(colon(label(r.claim), _why_untestable(r.note))
                        for r in claims.itertuples()))
    return ("## " + _("Common claims, tested on these data") + "\n\n"
            + _("Each claim compares the churn of one group with its counterpart (crude, as a "
                "manager would see it): on dated data the ratio of monthly churn rates, on a "
                "snapshot the ratio of churn proportions. A claim is *supported* when the group "
                "churns significantly less at the 5% level; it is *not supported* when the "
                "difference is not significant or goes the other way."))


def claims_table(claims: pd.DataFrame) -> Styler | None:
    """The testable claims as displayed (None when no claim is testable)."""
    tb = claims[claims["supported"].notna()]
    if tb.empty:
        return None
    names = {"statement": _("claim"), "supported": _("supported"),
             "effect": _("ratio (group ÷ counterpart)"), "ci_low": _("95% CI low"),
             "ci_high": _("95% CI high"), "p_value": _("p"), "n": _("customers")}
    tb = tb[list(names)].assign(statement=tb["statement"].map(label),
                                supported=tb["supported"].map({True: label("yes"),
                                                               False: label("no")}))
    tb = tb.rename(columns=names)
    fmt = {names["effect"]: "{:.2f}", names["ci_low"]: "{:.2f}", names["ci_high"]: "{:.2f}",
           names["p_value"]: _p, names["n"]: "{:,}"}
    return tb.style.format(fmt, na_rep=MISSING).hide(axis="index")


def claim_sentences(claims: pd.DataFrame) -> list[str]:
    """One plain sentence per claim of :func:`churn_research.causes.test_claims` (markdown)."""
    out = []
    for r in claims.itertuples():
        if pd.isna(r.supported):
            out.append(t("**{claim}** — cannot be tested on these data, because {why}.",
                         claim=label(r.statement), why=_why_untestable(r.note)))
            continue
        verdict = _("supported") if r.supported else _("not supported")
        values = dict(claim=label(r.statement), verdict=verdict, group=r.group,
                      diff=f"{abs(1 - r.effect) * 100:.0f}", reference=r.reference_group,
                      ratio=f"{r.effect:.2f}", low=f"{r.ci_low:.2f}", high=f"{r.ci_high:.2f}",
                      p=pvalue(r.p_value), n=f"{r.n:,}", note=r.note)
        if r.effect < 1:
            text = t("**{claim}** — {verdict}: {group} churn {diff}% less than {reference} (ratio "
                     "{ratio}, 95% CI {low}–{high}, {p}, {n} customers). {note}", **values)
        else:
            text = t("**{claim}** — {verdict}: {group} churn {diff}% more than {reference} (ratio "
                     "{ratio}, 95% CI {low}–{high}, {p}, {n} customers). {note}", **values)
        out.append(text)
    return out


def claims(table: pd.DataFrame) -> str:
    """The testable claims as a bulleted list, the method, and one line for the claims that
    cannot be tested (empty when none is testable: :func:`claims_heading` said why)."""
    testable = table[table["supported"].notna()]
    if testable.empty:
        return ""
    untested = table[table["supported"].isna()]
    na = " ".join(not_available(t("the claim \"{claim}\"", claim=_claim_lower(r.statement)),
                                _why_untestable(r.note))
                  for r in untested.itertuples())
    return ("\n".join(f"- {s}" for s in claim_sentences(testable))
            + "\n\n" + t("Method: {method}.", method=testable['method'].iloc[0])
            + (f"\n\n{na}" if na else ""))


def _claim_lower(statement: str) -> str:
    """A claim's statement inside a sentence (lower case in English)."""
    return label(statement) if is_chinese() else str(statement).lower()


def saved(flat: dict[str, Any]) -> str:
    """The closing line: how many key figures were saved."""
    return t("{n} key figures saved for the reports index.", n=len(flat))
