"""Findings and section sentences of 30_survival: how long customers stay, and what changes that.

:func:`findings` builds the Findings box from the key figures; the other functions build the
text of each report section from the stage's result objects (:mod:`churn_research.survival`).
Every sentence is marked for translation (:mod:`churn_research.i18n`); :func:`show` gives the
Chinese view of a table the notebook displays (English: the table unchanged), and
:func:`term_label` the reader's name of a model term such as ``contract[annual]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from churn_research.i18n import _, _p, is_chinese, label, label_msg, n_, t
from churn_research.model import ChurnData, sample_note, yes_no
from churn_research.narrate.findings import Finding, StageFindings
from churn_research.narrate.format import (
    count,
    get,
    not_available,
    pct_ci,
    pvalue,
    ratio_ci,
    readable,
    text,
)
from churn_research.survival.sections import (
    ALPHA,
    ChangeAnalysis,
    CohortAnalysis,
    strongest_drivers,
)
from churn_research.wording import (
    band_label,
    bracket,
    colon,
    gap,
    join,
    paren,
    semicolons,
    term_label,
)

#: Data labels of this stage shown to readers (translated by :func:`churn_research.i18n.label`):
#: the time units, the Kaplan-Meier groups, the time-varying exposures, the parametric models,
#: the proportional-hazards remedies and the cohort frequencies.
LABELS = (label_msg("months"), label_msg("days"), label_msg("weeks"), label_msg("all customers"),
          label_msg("before change"), label_msg("after change"), label_msg("after_change"),
          label_msg("complaint_90d"), label_msg("campaign_contact"), label_msg("exponential"), label_msg("weibull"),
          label_msg("lognormal"), label_msg("loglogistic"), label_msg("none"), label_msg("stratify"),
          label_msg("bin and stratify"), label_msg("Q"), label_msg("M"), label_msg("Y"))


# ---------------------------------------------------------------------------------------
# Reader's names (English: as before; Chinese: labels joined the Chinese way)
# ---------------------------------------------------------------------------------------






def _name(column: str) -> str:
    """A column named in running text: its label (English: a raw name in words, review s5 4a)."""
    return label(column)






def _group(value: Any) -> str:
    """A group (segment level) as a reader sees it."""
    return label(yes_no(value))


# ---------------------------------------------------------------------------------------
# Tables as displayed
# ---------------------------------------------------------------------------------------
def _headers() -> dict[str, str]:
    """Chinese column / index headers of the tables of this stage (built at call time)."""
    return {
        "group": _("group"), "customers": _("customers"), "churned": _p("survival", "churned"),
        "group_a": _("group A"), "group_b": _("group B"), "test_statistic": _("test statistic"),
        "p": _("p-value"), "p_adjusted": _("adjusted p-value"), "significant": _("significant"),
        "segment": _("segment"), "chi2": _("chi-square"), "df": _("degrees of freedom"),
        "differs at 5%": _("differs at 5%"), "covariate": _("covariate"), "coef": _("coefficient"),
        "se": _("standard error"), "hr": _("hazard ratio"), "lower": _("lower 95% limit"),
        "upper": _("upper 95% limit"), "true_hr": _("true hazard ratio"), "covered": _("covers the truth"),
        "source": _("driver"), "chi2_rank": _("chi-square (rank time)"), "p_rank": _("p-value (rank time)"),
        "chi2_km": _("chi-square (KM time)"), "p_km": _("p-value (KM time)"), "violates": _("violates"),
        "advice": _("advice"), "remedy": _("remedy"), "band": _("tenure band"), "note": _("note"),
        "model": _("model"), "parameters": _p("survival", "parameters"), "log_likelihood": _("log-likelihood"),
        "aic": "AIC", "delta_aic": "ΔAIC", "akaike_weight": _("Akaike weight"), "median": _("median"),
        "concordance": _("concordance"), "time_ratio": _("time ratio"), "implied_hr": _("implied hazard ratio"),
        "cohort": _("cohort"), "period": _("period"), "size": _("cohort size"),
        "periods_fitted": _("periods fitted"), "gamma": _("gamma (γ)"), "gamma_se": _("standard error of γ"),
        "delta": _("delta (δ)"), "delta_se": _("standard error of δ"), "mean_churn": _("mean churn probability"),
        "periods_held_out": _("periods held out"), "last_period": _("last period"),
        "observed_survival": _("observed survival"), "projected_survival": _("projected survival"),
        "error_pp": _("error (percentage points)"), "mae_pp": _("mean absolute error (percentage points)"),
        "km_survival": _("Kaplan–Meier survival"), "event": _("event"), "date": _("date"),
    }


def _header(name: Any, headers: Mapping[str, str]) -> Any:
    if not isinstance(name, str):
        return name
    return headers.get(name, name)


def _cell(column: str, value: Any) -> Any:
    """A text cell in Chinese: advice sentences, remedies, notes, model and group names."""
    if not isinstance(value, str) or not value:
        return value
    if column == "advice":
        return _advice(value)
    if column == "note":
        return {"no churn in this band: not estimable": _("no churn in this band: not estimable"),
                "no heterogeneity found (geometric limit)": _("no heterogeneity found (geometric limit)"),
                }.get(value, value)
    if column == "band":
        return band_label(value)
    return label(value)


def _advice(value: str) -> str:
    """The proportional-hazards advice of :meth:`CoxRegression.check_ph` in the report language."""
    import re  # noqa: PLC0415

    if value == "proportional hazards not rejected":
        return _("proportional hazards not rejected")
    m = re.fullmatch(r"only (\d+) distinct values: stratify on '(.+)' \(a separate baseline hazard per level\)",
                     value)
    if m:
        return t("only {k} distinct values: stratify on '{column}' (a separate baseline hazard per level)",
                 k=m.group(1), column=label(m.group(2)))
    m = re.fullmatch(r"check the functional form of '(.+)'; or bin it \(quantiles\) and stratify on the bins; "
                     r"or add an interaction with time", value)
    if m:
        return t("check the functional form of '{column}'; or bin it (quantiles) and stratify on the bins; "
                 "or add an interaction with time", column=label(m.group(1)))
    return value


def _index(index: pd.Index, headers: Mapping[str, str], terms: bool) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [[(term_label(v) if terms else _group(v)) for v in index.get_level_values(i)]
                  for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=[_header(n, headers) for n in index.names])
    name = _header(index.name, headers)
    if isinstance(index, pd.RangeIndex):
        return index
    values = [term_label(v) if terms or index.name == "covariate" else _group(v) for v in index]
    return pd.Index(values, name=name)


def readable_name(value: Any) -> str:
    """A code name shown to a reader (a model term such as ``price_rise``, an event such as
    ``rename_and_new_owner``): its label; in English with underscores as spaces. Terms with a
    level keep it (``customer_type[business]`` -> ``customer type[business]``)."""
    if is_chinese():
        return term_label(value)
    text_ = str(value)
    if " @ " in text_:
        head, band = text_.split(" @ ", 1)
        return f"{readable_name(head)} @ {band}"
    if text_.endswith("]") and "[" in text_:             # column[level]: the column in words
        column, level = text_[:-1].split("[", 1)
        return f"{readable(column)}[{level}]"
    return readable(text_)


def _english_index(index: pd.Index, headers: Mapping[str, str], terms: bool) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_names([_header(n, headers) for n in index.names])
    if isinstance(index, pd.RangeIndex):
        return index
    if terms or index.name in ("covariate", "event", "segment", "source"):
        return pd.Index([readable_name(v) for v in index], name=_header(index.name, headers))
    return index.rename(_header(index.name, headers))


def show(df: pd.DataFrame, *, terms: bool = False) -> pd.DataFrame:
    """A table of this stage as the reader sees it: unchanged in English; in Chinese formatted as
    the report formats tables (:func:`churn_research.narrate.tables.readable`, which reads the
    English column names), then with Chinese headers, row labels, yes/no and text cells.
    ``terms``: the index holds model terms (``covariate``)."""
    headers = _headers()
    if not is_chinese():                     # numbers as they are; headers and terms in words
        out = df.copy()
        for c in ("source", "segment"):          # drivers and segments named in words
            if c in out.columns and out[c].dtype == object:
                out[c] = [readable_name(v) if isinstance(v, str) else v for v in out[c]]
        if "advice" in out.columns:              # the advice names its column in words too
            out["advice"] = [_advice(v) if isinstance(v, str) else v for v in out["advice"]]
        out.columns = [_header(c, headers) for c in df.columns]
        out.index = _english_index(df.index, headers, terms)
        return out
    from churn_research.narrate.tables import readable  # noqa: PLC0415

    src = df.copy()
    for c in src.columns:
        if pd.api.types.is_bool_dtype(src[c]) or (
                src[c].dtype == object and src[c].map(lambda v: isinstance(v, bool | np.bool_)).any()):
            src[c] = src[c].map(lambda v: label(yes_no(v)) if isinstance(v, bool | np.bool_) else v)
    out = readable(src)
    for c in out.columns:
        if src[c].dtype == object:
            out[c] = [_cell(c, v) for v in out[c]]
    out.index = _index(df.index, headers, terms)
    out.columns = [_header(c, headers) for c in out.columns]
    if df.columns.name is not None:
        out.columns.name = _header(df.columns.name, headers)
    return out


def show_styled(df: pd.DataFrame) -> pd.DataFrame:
    """Headers and row labels of a table the notebook formats itself (``.style.format``): the
    cells are left as they are (numbers stay numbers); English: the headers in words only."""
    headers = _headers()
    if not is_chinese():
        out = df.copy()
        out.columns = pd.Index([_header(c, headers) for c in df.columns], name=df.columns.name)
        out.index = out.index.rename(_header(df.index.name, headers))
        return out
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = [_cell(c, v) for v in out[c]]
    out.index = pd.Index([_group(v) for v in df.index], name=_header(df.index.name, headers))
    out.columns = pd.Index([_header(c, headers) for c in df.columns], name=_header(df.columns.name, headers))
    return out


# ---------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------
def _horizons(figures) -> list[float]:
    return sorted(float(k.split(".", 1)[1]) for k in figures
                  if k.startswith("km_survival.") and get(figures, k) is not None)


def findings(figures: Mapping[str, Any], *, dataset: str, context: Mapping[str, Any]) -> StageFindings:
    """Headline: the share still a customer at the first reported horizon, with its interval."""
    unit = get(figures, "time_unit", "months")
    u = label(unit)
    hs = _horizons(figures)
    keys, unavailable = [], []
    if hs:
        h = 12.0 if 12.0 in hs else hs[0]
        tag = f"{h:g}"
        s = pct_ci(get(figures, f"km_survival.{tag}"), get(figures, f"km_survival_lower.{tag}"),
                   get(figures, f"km_survival_upper.{tag}"))
        if context.get("kind") == "non-contractual":
            headline = t("{share} of customers bought again at least {h} {unit} after their first "
                         "purchase (time to the last purchase, Kaplan–Meier).", share=s, h=tag, unit=u)
        else:
            headline = t("{share} of customers are still customers {h} {unit} after they start "
                         "(Kaplan–Meier).", share=s, h=tag, unit=u)
    else:
        headline = _("Too few customers are followed long enough to estimate retention.")
    median = get(figures, "km_median_label")
    stay = _("How long do customers stay")
    if median == "not reached":
        keys.append(Finding(_("Fewer than half of the customers leave within the observed tenures "
                              "(the median lifetime is not reached)."), stay))
    elif median is not None and context.get("kind") == "non-contractual" and get(figures, "km_median") == 0:
        keys.append(Finding(t("More than half of the customers never bought again after their first "
                              "purchase (median time to the last purchase: 0 {unit}).", unit=u), stay))
    elif median is not None:
        keys.append(Finding(t("Half of the customers have left by {median} {unit} (median lifetime).",
                              median=median, unit=u), stay))
    hr = get(figures, "change_hr")
    if hr is not None:
        keys.append(Finding(
            t("After the business change on {date}, the hazard of leaving was {ratio} times the hazard "
              "before ({p}), other covariates held equal.", date=text(get(figures, "change_date")),
              ratio=ratio_ci(hr, get(figures, "change_hr_lower"), get(figures, "change_hr_upper")),
              p=pvalue(get(figures, "change_p"))),
            _("Did the business change raise the hazard")))
        n_events = int(get(figures, "change_events.count", 1) or 1)
        later = [i for i in range(1, n_events + 1) if get(figures, f"change_events.{i}.hr") is not None][1:]
        if later:
            keys.append(Finding(
                t("Each later business event has its own exposure: {events} (hazard after vs since the "
                  "previous event).", events=join([colon(paren(label(get(figures, f"change_events.{i}.event")),
                                                         text(get(figures, f"change_events.{i}.date"))),
                                                   ratio_ci(get(figures, f"change_events.{i}.hr"),
                                                            get(figures, f"change_events.{i}.hr_lower"),
                                                            get(figures, f"change_events.{i}.hr_upper")))
                                             for i in later])),
                _("Did the business change raise the hazard")))
    else:
        unavailable.append(_("Not available for this dataset: the business change as a time-varying "
                             "exposure, because the data record no business change."))
    violations = get(figures, "ph_violations") or []
    if violations:
        strata = get(figures, "ph_remedy_strata") or []
        if strata:
            sentence = n_("Proportional hazards fails for {n} Cox term; the report reads the model "
                          "stratified by {strata} instead of their single hazard ratios.",
                          "Proportional hazards fails for {n} Cox terms; the report reads the model "
                          "stratified by {strata} instead of their single hazard ratios.",
                          len(violations), strata=join(_name(s).replace("_", " ") if not is_chinese()
                                                        else _name(s) for s in strata))
        else:
            sentence = n_("Proportional hazards fails for {n} Cox term; the report reads the "
                          "stratified model instead of their single hazard ratios.",
                          "Proportional hazards fails for {n} Cox terms; the report reads the "
                          "stratified model instead of their single hazard ratios.", len(violations))
        keys.append(Finding(sentence, _("proportional-hazards assumption")))
    truncated = get(figures, "left_truncated", 0)
    if truncated:
        keys.append(Finding(t("{n} customers joined before the records begin and enter the risk set at "
                              "their tenure then (left truncation).", n=count(truncated)),
                            _("The data on the survival time scale")))
    concordance = get(figures, "cox_concordance")
    stratified_c = get(figures, "cox_stratified_concordance") if violations else None
    if stratified_c is not None:  # the model the report reads, not the one shown for reference
        sentence = (t("The stratified Cox model, the one this report reads, ranks who leaves first "
                      "with concordance {c} (0.5 = chance; barely better than chance).",
                      c=f"{stratified_c:.2f}")
                    if stratified_c < 0.6 else
                    t("The stratified Cox model, the one this report reads, ranks who leaves first "
                      "with concordance {c} (0.5 = chance).", c=f"{stratified_c:.2f}"))
        if (concordance is not None and concordance > stratified_c  # review s7 (telco 0.69 vs 0.86)
                and f"{concordance:.2f}" != f"{stratified_c:.2f}"):
            sentence += gap() + t("It ranks on its other terms alone: the strata have no hazard ratio, "
                                  "so their differences are not in this ranking (with them, the "
                                  "unstratified model reaches {full}).", full=f"{concordance:.2f}")
        keys.append(Finding(sentence, _("Which drivers move the hazard")))
    elif concordance is not None:
        keys.append(Finding(
            t("The Cox model ranks who leaves first with concordance {c} (0.5 = chance; barely better "
              "than chance).", c=f"{concordance:.2f}") if concordance < 0.6 else
            t("The Cox model ranks who leaves first with concordance {c} (0.5 = chance).",
              c=f"{concordance:.2f}"),
            _("Which drivers move the hazard")))
    if get(figures, "sbg_not_available"):
        unavailable.append(not_available(_("the cohort projection with the sBG model"),
                                         str(get(figures, "sbg_not_available"))))
    elif not any(k.startswith("sbg.") for k in figures):
        unavailable.append(_("Not available for this dataset: the cohort projection with the sBG "
                             "model, because the data do not follow acquisition cohorts period by period."))
    truth = get(figures, "cox_truth_covered")
    checked = t("the generator's true hazard ratios ({covered} intervals cover the truth)",
                covered=truth) if truth else None
    if get(figures, "rmst.value") is not None:
        keys.append(Finding(t("Over the first {h} {unit} a customer stays {value} {unit} on average "
                              "(restricted mean).", h=f"{get(figures, 'rmst.horizon'):g}",
                              value=f"{get(figures, 'rmst.value'):.1f}", unit=u), stay))
    return StageFindings("30_survival", dataset, headline, keys[:6], unavailable, checked)


# ---------------------------------------------------------------------------------------
# Section sentences
# ---------------------------------------------------------------------------------------
def _date(value) -> str:
    return str(pd.Timestamp(value).date())


def data_text(data: ChurnData, df: pd.DataFrame, *, unit: str = "months") -> str:
    """Counts on the survival time scale, with the notes on inferred churn, snapshots and
    left truncation that the dataset needs."""
    n, churned = len(df), int(df["event"].sum())
    censor = _date(df.attrs["censor_date"])
    u = label(unit)
    notes = []
    if data.kind == "non-contractual":
        notes.append(t(
            "Churn is **inferred** (non-contractual data): a customer with no purchase for more than "
            "{days} days before the snapshot is taken as lost on the day of their last "
            "purchase. The others are censored on {censor} (snapshot minus the inactivity window: the "
            "last day on which a lapse can already be seen); {excluded} customers who "
            "joined after that day are left out. A customer who bought only once has a lifetime of zero; "
            "{share} of customers did.", days=data.inactivity_days, censor=censor,
            excluded=f"{df.attrs['excluded']:,}", share=f"{(df['duration'] == 0).mean():.0%}"))
    if data.is_snapshot:
        notes.append(_(
            "The data are **one snapshot**: tenure and a churn flag for customers present in the last month. "
            "Like every published analysis of this file, lifetimes run from the start implied by tenure to the "
            "snapshot; this assumes the customers who left before the snapshot month behaved like those seen, "
            "which the file cannot show."))
    truncated = int((df["entry"] > 0).sum())
    if truncated:
        notes.append(t("{n} customers ({share}) joined before the records begin ({date}) and enter with "
                       "delayed entry.", n=f"{truncated:,}", share=f"{truncated / n:.0%}",
                       date=_date(df.attrs['entry_date'])))
        notes.append(t("In the Kaplan–Meier plots, *n* in the legend counts every customer ever at risk, late "
                       "entrants included; the number-at-risk rows under each plot count the customers at risk "
                       "at that tenure, so at tenure 0 they leave out the {n} who enter late.", n=f"{truncated:,}"))
    return gap().join([
        t("**{n} customers**, {churned} churned and {censored} censored (still customers when "
          "observation ends, {censor}). Time unit: {unit} (a month is 30.44 days). Longest observed tenure: "
          "{longest} {unit}.", n=f"{n:,}", churned=f"{churned:,}", censored=f"{n - churned:,}", censor=censor,
          unit=u, longest=f"{df['duration'].max():.1f}"), *notes])


def km_text(overall: pd.DataFrame, *, horizons: Sequence[float], rmst_horizon: float,
            unit: str = "months") -> str:
    """Median lifetime, survival at the horizons and the restricted mean of :func:`km_summary`."""
    o = overall.iloc[0]
    u = label(unit)
    if not np.isfinite(o["median"]):
        median = _("The median lifetime is not reached: more than half of the customers are still there at "
                   "the end of follow-up.")
    else:
        median = t("The median lifetime is {median} {unit} (95% CI {low}–{high}).", median=f"{o['median']:.1f}",
                   unit=u, low=f"{o['median_lower']:.1f}", high=f"{o['median_upper']:.1f}")
    still = semicolons([t("{share} after {h} {unit}", share=f"{o[f'S({h:g})']:.0%}", h=f"{h:g}", unit=u)
                          for h in horizons if np.isfinite(o[f"S({h:g})"])])
    return gap().join([
        _("The curve shows the share of customers still with the company at each tenure; the band is the "
          "pointwise 95% confidence interval."), median,
        t("Still customers: {still}.", still=still),
        t("Within the first {h} {unit} a customer stays {value} {unit} on average (restricted mean survival "
          "time).", h=f"{rmst_horizon:g}", unit=u, value=f"{o['rmst']:.1f}")])



def logrank_sentence(result: Mapping, *, by: str, summary: pd.DataFrame | None = None,
                     pairwise: pd.DataFrame | None = None, unit: str = "months", alpha: float = ALPHA) -> str:
    """One-sentence verdict of a log-rank result (with medians and the pairwise count)."""
    values = dict(by=label(by), chi2=f"{result['test_statistic']:.1f}", df=result["df"], p=pvalue(result["p"]))
    if result["p"] < alpha:
        out = t("Survival differs by **{by}** (log-rank chi2 = {chi2} on {df} df, {p}).", **values)
    else:
        out = t("Survival does not differ significantly by **{by}** (log-rank chi2 = {chi2} on {df} df, {p}).",
                **values)
    if summary is not None and len(summary):
        meds = join([colon(_group(g), _("not reached") if not np.isfinite(m) else f"{m:.1f}")
                      for g, m in summary[["group", "median"]].to_numpy()])
        out += gap() + t("Median lifetime ({unit}) -- {medians}.", unit=label(unit), medians=meds)
    if pairwise is not None and len(pairwise) > 1:
        correction = str(pairwise.attrs.get("correction", "Holm")).capitalize()
        out += gap() + t("{k} of {n} pairs differ at 5% after {correction} correction.",
                       k=int(pairwise["significant"].sum()), n=len(pairwise), correction=correction)
    return out


def missing_segments_text(missing: Sequence[str]) -> str:
    """The not-available line for segments the data lack (empty when none)."""
    if not missing:
        return ""
    return not_available(t("survival by {segments}", segments=join([label(m) for m in missing])),
                         _("the data have no such column or only one level of it"))


def segment_comparison_text(comparison, *, unit: str = "months") -> str:
    """The log-rank sentence of one :class:`~churn_research.survival.sections.SegmentComparison`."""
    return logrank_sentence(comparison.test, by=comparison.segment, summary=comparison.summary,
                            pairwise=comparison.pairwise, unit=unit)


def segment_title(segment: str) -> str:
    """Title of a segment's Kaplan-Meier figure."""
    return t("Survival by {segment}", segment=label(segment))


def segments_text(verdicts: pd.DataFrame) -> str:
    """Across segments: the largest difference and how many differ (see ``segment_verdicts``)."""
    if not len(verdicts):
        return ""
    return t("Across segments, the largest survival difference is by **{segment}**; "
             "{k} of {n} segmentations differ at the 5% level. "
             "Log-rank tests compare whole curves one segment at a time; the Cox model below separates the "
             "drivers from one another.", segment=label(verdicts.index[0]),
             k=int(verdicts['differs at 5%'].sum()), n=len(verdicts))


def _drivers(hr: pd.DataFrame) -> str:
    top = strongest_drivers(hr)
    return ("；" if is_chinese() else "; ").join(
        colon(term_label(c), f"HR {r.hr:.2f}" + bracket(f"{r.lower:.2f}–{r.upper:.2f}"))
        for c, r in top.iterrows()) or _("none at the 5% level")


def cox_lead_text(cox, stratified, ph: pd.DataFrame, *, threshold: float) -> str:
    """When proportional hazards fails: which model the section headlines, and why. Empty otherwise."""
    violations = ph.loc[ph["violates"], "covariate"].tolist()
    if not violations:
        return ""
    terms = join([term_label(v) for v in violations])
    if stratified is None:
        return t("Proportional hazards is rejected (p < {threshold}) for **{terms}**: their "
                 "single hazard ratios below average an effect that changes with tenure; the tenure-band view "
                 "further down shows how.", threshold=threshold, terms=terms)
    return t("Proportional hazards is rejected (p < {threshold}) for **{terms}**, so the "
             "hazard ratios to read are those of the model **stratified by {strata}** "
             "(below). The unstratified model after it is shown for reference only: its hazard ratios for these "
             "terms average an effect that changes with tenure.", threshold=threshold, terms=terms,
             strata=join([_name(s) for s in stratified.strata]))


def stratified_title() -> str:
    return _("Stratified Cox model: hazard ratios with 95% CIs")


def stratified_text(stratified) -> str:
    """The stratified (remedy) Cox model: fit, strongest drivers, concordance."""
    out = t("Stratified on **{strata}** (a separate baseline hazard per level, so no hazard "
            "ratio for them), fitted on {n} customers and {events} churn events: the "
            "remaining hazard ratios are adjusted for them without assuming their effect is constant over tenure. "
            "Strongest significant drivers: {drivers}. Concordance {c}.",
            strata=join([_name(s) for s in stratified.strata]), n=f"{stratified.n_:,}",
            events=f"{stratified.events_:,}", drivers=_drivers(stratified.hazard_ratios_),
            c=f"{stratified.concordance_:.3f}")
    if stratified.kept_:
        out += gap() + t("Numeric drivers that also violate ({drivers}) stay in the model; their "
                       "change over tenure is shown by band below.",
                       drivers=join([_name(k) for k in stratified.kept_]))
    return out


def cox_text(cox, *, data: ChurnData, reference_only: bool = False) -> str:
    """The unstratified Cox model: fit, concordance, strongest drivers, reference levels."""
    entry = "entry" in cox.training_frame_
    refs = join([f"{_name(k)} = {label(v)}"
                  for k, v in cox.design_info_["reference"].items()])
    values = dict(n=f"{cox.n_:,}", events=f"{cox.events_:,}")
    if reference_only:
        lead = (t("**For reference only** (proportional hazards fails, see above): the unstratified model, "
                  "fitted on {n} customers and {events} churn events with delayed entry for left-truncated "
                  "customers.", **values) if entry else
                t("**For reference only** (proportional hazards fails, see above): the unstratified model, "
                  "fitted on {n} customers and {events} churn events.", **values))
    else:
        lead = (t("Fitted on {n} customers and {events} churn events with delayed entry for left-truncated "
                  "customers.", **values) if entry else
                t("Fitted on {n} customers and {events} churn events.", **values))
    body = t("Concordance (how well the model ranks who churns first): **{c}**. "
             "Strongest significant drivers: {drivers}. Reference levels: {refs}.",
             c=f"{cox.concordance_:.3f}", drivers=_drivers(cox.hazard_ratios_), refs=refs)
    return gap().join(filter(None, [
        f"{lead}{gap()}{body}",
        sample_note(data, _("The Cox, parametric, AFT and time-varying models of this report"))]))


def cox_title() -> str:
    return _("Cox model: hazard ratios with 95% CIs")


def truth_text(truth: pd.DataFrame) -> str:
    """How many Cox intervals cover the generator's true hazard ratios (empty without truth)."""
    if not len(truth):
        return ""
    return t("**Check against the generator's truth:** {k} of {n} 95% "
             "intervals cover the true hazard ratio (red crosses in the forest plot). This static model leaves "
             "out what it cannot see as a customer attribute -- the hidden satisfaction, recent complaints and "
             "the business change -- so effects are slightly pulled towards 1 (unobserved heterogeneity); the "
             "time-varying model in section 5 adds the change and complaints.",
             k=int(truth['covered'].sum()), n=len(truth))


def ph_text(ph: pd.DataFrame, *, threshold: float, stratified=None) -> str:
    """Verdict of the proportional-hazards check and the remedy taken."""
    violations = ph.loc[ph["violates"], "covariate"].tolist()
    if not violations:
        return t("No covariate rejects proportional hazards at p < {threshold}: the single hazard ratio per "
                 "driver above is a fair summary. (With many customers even small departures get flagged; the "
                 "tenure-band view below shows their size.)", threshold=threshold)
    sources = list(dict.fromkeys(ph.loc[ph["violates"], "source"]))
    remedy = (t("the model stratified on {strata} (each level gets its own baseline "
                "hazard) at the top of this section, and the hazard ratio by tenure band below",
                strata=join([_name(s) for s in stratified.strata]))
              if stratified is not None else _("the hazard ratio by tenure band below"))
    return t("Proportional hazards are rejected (p < {threshold}) for: **{terms}** (drivers: "
             "{sources}). Their hazard ratio changes with tenure, so a single number misleads. "
             "Remedy following the advice: {remedy}.", threshold=threshold,
             terms=join([term_label(v) for v in violations]), sources=join([_name(s) for s in sources]),
             remedy=remedy)


def bands_text(bands: pd.DataFrame, *, unit: str = "months") -> str:
    """How the tenure-band hazard ratios were estimated and how to read them
    (``bands`` from :func:`~churn_research.survival.sections.tenure_bands`)."""
    values = dict(vary=join([_name(v) for v in bands.attrs["vary"]]),
                  cuts=join([f"{c:g}" for c in bands.attrs["cuts"]]), unit=label(unit))
    if bands.attrs["from_violations"]:
        return t("Time interaction for {vary} (the strongest violations): the lifetimes are split at tenures "
                 "{cuts} {unit} and the hazard ratio is estimated separately in each band (lifelines' "
                 "time-varying Cox). A flat profile supports proportional hazards; a trend shows how the effect "
                 "fades or grows with tenure.", **values)
    return t("Time interaction for {vary}: the lifetimes are split at tenures "
             "{cuts} {unit} and the hazard ratio is estimated separately in each band (lifelines' "
             "time-varying Cox). A flat profile supports proportional hazards; a trend shows how the effect "
             "fades or grows with tenure.", **values)


def bands_title(bands: pd.DataFrame) -> str:
    """Title of the tenure-band figure."""
    return t("Hazard ratio by tenure band: {vary}", vary=join([_name(v) for v in bands.attrs["vary"]]))


def _model(name: str) -> str:
    return label(name)


def parametric_title() -> str:
    return _("Kaplan–Meier vs parametric fits, extrapolated")


def parametric_text(comparison: pd.DataFrame, fitters: Mapping, extrapolated: pd.DataFrame, *,
                    to: float, observed_until: float, unit: str = "months",
                    true_shape: float | None = None) -> str:
    """Best parametric model by AIC, its extrapolation, and the Weibull shape when it wins."""
    best = comparison["model"].iloc[0]
    e = extrapolated.loc[float(to)]
    u = label(unit)
    if len(comparison) > 1:
        runner_up = comparison.iloc[1]
        out = t("Best fit by AIC: **{best}** (next: {next}, ΔAIC = {delta}).", best=_model(best),
                next=_model(runner_up["model"]), delta=f"{runner_up['delta_aic']:.0f}")
    else:
        out = t("Best fit by AIC: **{best}**.", best=_model(best))
    out += gap() + t("Extrapolated to {to} {unit}: {share} still customers "
                   "(95% CI {low}–{high}); the data end at {until} {unit}.", to=f"{to:g}", unit=u,
                   share=f"{e['survival']:.1%}", low=f"{e['lower']:.1%}", high=f"{e['upper']:.1%}",
                   until=f"{observed_until:.0f}")
    if best == "weibull":
        out += gap() + t("The Weibull shape is {shape} (below 1: the churn hazard falls with tenure -- "
                       "long-standing customers churn less).", shape=f"{fitters[best].rho_:.2f}")
        if true_shape:
            out += gap() + t("The generator's baseline shape is {shape}; the fitted marginal shape "
                           "is a little lower because customers differ (the frail leave first).", shape=true_shape)
    return out


def aft_text(comparison: pd.DataFrame, ratios: pd.DataFrame) -> str:
    """Best AFT model and the drivers with the shortest and longest lifetimes."""
    ends = ratios.sort_values("time_ratio").iloc[[0, -1]]
    out = t("Best AFT model by AIC: **{model}** (concordance {c}). Shortest lifetimes: {short} (time ratio "
            "{short_ratio}); longest: {long} (time ratio {long_ratio}).", model=_model(comparison["model"].iloc[0]),
            c=f"{comparison['concordance'].iloc[0]:.3f}", short=readable_name(ends.index[0]),
            short_ratio=f"{ends['time_ratio'].iloc[0]:.2f}", long=readable_name(ends.index[1]),
            long_ratio=f"{ends['time_ratio'].iloc[1]:.2f}")
    if "implied_hr" in ratios:
        out += gap() + _("For the Weibull AFT, the column \"implied hazard ratio\" converts each time ratio "
                         "into the hazard ratio it implies, comparable with the Cox estimates.")
    return out


def change_title() -> str:
    return _("Time-varying Cox: hazard ratios incl. the change")


_EVENT_NOTES = {  # notes of survival.change.separable_events, in the report language (built at call time)
    "too few exits observed before it to estimate its effect":
        lambda: _("too few exits observed before it to estimate its effect"),
    "too few exits between the previous event and it: counted with the previous event":
        lambda: _("too few exits between the previous event and it: counted with the previous event"),
    "too few exits after it to estimate its effect": lambda: _("too few exits after it to estimate its effect"),
}


def _event_note(note: str) -> str:
    return _EVENT_NOTES[note]() if note in _EVENT_NOTES else note


def _after(name: str) -> str:
    return t("after {event}", event=readable_name(name))


def change_ratios(change: ChangeAnalysis) -> pd.DataFrame:
    """The time-varying model's hazard ratios, the events' exposures named after their events when
    there are several (one event keeps ``after_change``)."""
    names = {e: _after(n) for e, n in change.events[["exposure", "event"]].to_numpy()
             if e and e != "after_change"} if len(change.events) else {}
    return change.hazard_ratios.rename(index=names)


def events_table(change: ChangeAnalysis | None) -> pd.DataFrame:
    """One row per business event: its hazard ratio with the 95% interval, the exits in the
    windows that identify it, and why an event was left out (both languages)."""
    if change is None or not len(change.events):
        return pd.DataFrame()
    tb = change.events.copy()
    tb["date"] = [_date(d) for d in tb["date"]]
    tb["note"] = [_event_note(n) for n in tb["note"]]
    tb["event"] = [readable_name(e) for e in tb["event"]]
    tb = tb.set_index("event").drop(columns=["exposure"])
    tb = tb.rename(columns={"exits_before": _("exits in the window before"),
                            "exits_after": _("exits in the window after")})
    return show(tb)


def change_text(change: ChangeAnalysis | None, *, true_log_hr: Mapping[str, float] | None = None) -> str:
    """The change's hazard ratio (and recent complaints'), checked against the truth if known; with
    several events, how each is measured."""
    if change is None:
        return not_available(_("the business change as a time-varying exposure"),
                             _("the data record no business change (no `events` table)"))
    if change.exposure is None:
        return not_available(_("the business change as a time-varying exposure"),
                             _("too few exits are observed around each business event to estimate its effect"))
    hr = change.hazard_ratios
    c = hr.loc[change.exposure]
    out = t("**{name}** ({date}): {n} customers in {episodes} episodes. At the same tenure and with the same "
            "attributes, the churn hazard after the change is **{hr} times** the hazard before (95% CI "
            "{low}–{high}, {p}).", name=readable_name(change.name), date=_date(change.date),
            n=f"{change.episodes['customer_id'].nunique():,}", episodes=f"{len(change.episodes):,}",
            hr=f"{c['hr']:.2f}", low=f"{c['lower']:.2f}", high=f"{c['upper']:.2f}", p=pvalue(c["p"]))
    kept = change.events[change.events["exposure"] != ""] if len(change.events) else change.events
    if len(kept) > 1:
        rest = join([colon(paren(readable_name(r.event), _date(r.date)), ratio_ci(r.hr, r.lower, r.upper))
                     for r in kept.iloc[1:].itertuples()])
        out += gap() + t("Each of the {n} business events has its own exposure, 1 from its date on. The "
                         "exposures are cumulative -- time after a later event is also after the earlier "
                         "ones -- so the windows of neighbouring events overlap and the model separates "
                         "them: each hazard ratio compares the hazard after an event with the hazard "
                         "between the previous event and it (the first: with the time before it). Later "
                         "events: {rest}.", n=len(kept), rest=rest)
    left_out = change.events[change.events["exposure"] == ""] if len(change.events) else change.events
    if len(left_out):
        out += gap() + n_("{n} selected event is not in the model ({events}): see the note in the table.",
                          "{n} selected events are not in the model ({events}): see the notes in the table.",
                          len(left_out), events=join([readable_name(e) for e in left_out["event"]]))
    if "complaint_90d" in hr.index:
        k = hr.loc["complaint_90d"]
        out += gap() + t("A complaint in the previous {days} days multiplies the hazard by "
                       "{hr} ({low}–{high}); this is not purely causal -- customers who "
                       "complain are also the less satisfied ones, who churn more anyway.",
                       days=change.complaint_window_days, hr=f"{k['hr']:.2f}", low=f"{k['lower']:.2f}",
                       high=f"{k['upper']:.2f}")
    if "campaign_contact" in hr.index:
        k = hr.loc["campaign_contact"]
        out += gap() + t("A contact by the retention campaign multiplies the hazard by {hr} ({low}–{high}) from "
                         "the contact on; the model holds it fixed, so that customers the campaign kept after "
                         "the change are not read as a smaller change effect.", hr=f"{k['hr']:.2f}",
                         low=f"{k['lower']:.2f}", high=f"{k['upper']:.2f}")
    if true_log_hr and "change" in true_log_hr and change.exposure == "after_change":
        true = np.exp(true_log_hr["change"])
        values = dict(hr=f"{true:.2f}")
        out += gap() + (t("The generator's true change hazard ratio is {hr}: inside the interval.", **values)
                      if c["lower"] <= true <= c["upper"] else
                      t("The generator's true change hazard ratio is {hr}: outside the interval.", **values))
    return out


def acquired_title() -> str:
    return _("Cohorts acquired before vs after the change")


def acquired_text(change: ChangeAnalysis, *, unit: str = "months") -> str:
    """Survival of the cohorts acquired before vs after the change."""
    if change is None or change.acquired_test is None:
        return ""
    return (t("Customers acquired in the {window} {unit} before vs after the change, "
              "each followed for at most that long, the earlier cohort only until the change date (so its curve "
              "shows the old regime).", window=f"{change.acquired.attrs['window']:.0f}", unit=label(unit))
            + gap() + logrank_sentence(change.acquired_test, by=label_msg("acquisition period"),
                                     summary=change.acquired_summary, unit=unit))


def cohort_table_text(cohorts: CohortAnalysis, *, unit: str = "months") -> str:
    """What the cohort table shows, or why there is none."""
    if cohorts.skipped == "not eligible":
        return not_available(_("the cohort retention projection"), cohorts.reason)
    if cohorts.skipped:
        return not_available(_("the cohort retention projection"),
                             _("cohort analysis is switched off for this dataset (`cohort_analysis: false`)"))
    return t("{n} acquisition cohorts ({freq}), tenure periods of {period} {unit}; "
             "share still customers at the start of each period (customers who joined before the records began "
             "are not in a closed cohort and are left out):", n=len(cohorts.table), freq=label(cohorts.freq),
             period=f"{cohorts.period:g}", unit=label(unit))


def retention_table(cohorts: CohortAnalysis):
    """The cohort retention shares as displayed (percentages; Chinese headers in Chinese)."""
    return show_styled(cohorts.retention_shares()).style.format("{:.0%}", na_rep="")


def sbg_table(cohorts: CohortAnalysis):
    """The sBG fits per cohort as displayed."""
    shown = show_styled(cohorts.sbg_table.set_index("cohort"))
    return shown.style.format("{:.4g}", subset=shown.select_dtypes("number").columns, na_rep="–")


def sbg_fit_text(cohorts: CohortAnalysis) -> str:
    """How many cohorts were fitted and how to read gamma and delta."""
    if cohorts.sbg_table is None:
        return ""
    return t("sBG fitted to each of {n} cohorts with at least {k} observed "
             "periods. γ/(γ+δ) is the average churn probability per period at acquisition; small γ and δ mean very "
             "different customers (a reverse-J mix of loyal and flighty), large values near-identical ones.",
             n=len(cohorts.sbg_table), k=cohorts.min_periods)


def sbg_title() -> str:
    return _("sBG: fitted, projected and observed cohort survival")


def sbg_holdout_text(cohorts: CohortAnalysis, *, change_date=None) -> str:
    """The hold-out check of the sBG projection, and the change falling inside it."""
    if cohorts.sbg_table is None:
        return ""
    need = cohorts.calibration_periods + cohorts.margin
    if not cohorts.chosen:
        return t("No cohort has the {need} observed periods a hold-out check needs.", need=need)
    acc = cohorts.accuracy
    errors = join([t("{error} pp ({cohort})", error=f"{r.error_pp:+.1f}", cohort=r.cohort)
                    for r in acc.itertuples()])
    out = t("The {n} largest cohorts with at least {need} observed periods were fitted "
            "on their first {k} periods only (solid lines) and projected forward (dashed) "
            "against what was then observed (dots). Mean absolute hold-out error: {mae} "
            "percentage points; at the last observed period the projection is off by {errors}. "
            "The black curve is the Kaplan–Meier estimate from all customers for comparison.",
            n=len(cohorts.chosen), need=need, k=cohorts.calibration_periods, mae=f"{acc['mae_pp'].mean():.1f}",
            errors=errors)
    if change_date is not None:
        out += gap() + t("The business change ({date}) falls inside the hold-out of "
                       "{k} of these cohorts: the sBG projects the behaviour seen during "
                       "calibration, so observed survival falling below the projection after the change date is "
                       "what the change's higher churn looks like.", date=_date(change_date),
                       k=cohorts.change_in_holdout)
    return out


def key_figures_text(flat: Mapping, path: str) -> str:
    """The closing line: how many key figures were written where."""
    return t("{n} key figures written to `{file}`.", n=len(flat), file=path.split("/")[-1])


def period_label(period: float, unit: str = "months") -> str:
    """Axis label of sBG periods: the unit itself, or "periods of 3 months"."""
    return label(unit) if period == 1 else t("periods of {period} {unit}", period=f"{period:g}", unit=label(unit))


# ---------------------------------------------------------------------------------------
# Diagnostics: smoothed hazard, held-out discrimination and calibration
# ---------------------------------------------------------------------------------------
def km_title() -> str:
    return _("Kaplan–Meier survival, all customers")


def hazard_title(hazards: pd.DataFrame) -> str:
    return t("Smoothed churn hazard by tenure (kernel bandwidth {b})", b=f"{hazards.attrs.get('bandwidth', 0):g}")


def hazard_text(hazards: pd.DataFrame, *, unit: str = "months") -> str:
    """Where the all-customers hazard peaks (with its interval) and where it ends up, how the curves
    were smoothed and where they stop (never a value from beyond the cut)."""
    overall = hazards[hazards["segment"].isna()]
    if not len(overall) and hazards.attrs.get("min_at_risk"):
        return t("No hazard curve is shown: at no tenure are {n} customers at risk with churn "
                 "events to smooth (`hazard_min_at_risk`); with fewer, a handful of exits would move "
                 "the curve.", n=count(hazards.attrs["min_at_risk"]))
    if not len(overall):
        return _("Too few churn events to estimate a hazard curve.")
    u = label(unit)
    one = label({"months": "month", "weeks": "week", "days": "day"}.get(unit, unit))
    peak = overall.loc[overall["hazard"].idxmax()]
    last = overall.iloc[-1]
    out = t("The hazard is the share of the customers still there who leave in the next {one} (here in % per "
            "{one}), at each tenure: the Nelson–Aalen estimate smoothed with an Epanechnikov kernel of "
            "{b} {unit} either side (`hazard_bandwidth`). For all customers it is highest at about {peak_t} "
            "{unit} ({peak}% per {one}) and {end}% per {one} at {end_t} {unit}. A bump at a fixed tenure "
            "(such as the end of a contract term) shows as a peak in one segment's curve; peaks narrower than "
            "the bandwidth are smoothed away.",
            one=one, b=f"{hazards.attrs['bandwidth']:g}", unit=u,
            peak_t=f"{peak['time']:.0f}", peak=f"{100 * peak['hazard']:.2f}", end=f"{100 * last['hazard']:.2f}",
            end_t=f"{last['time']:.0f}")
    if "lower" not in overall:
        return out
    return gap().join([out, t(
        "The bands are pointwise 95% confidence intervals (the kernel estimator's variance); at the peak "
        "{low}–{high}% per {one}. Each curve stops where fewer than {n} customers remain at risk "
        "(`hazard_min_at_risk`) -- beyond that a handful of exits moves the curve -- or one bandwidth "
        "before its longest tenure, whichever comes first (all customers: at {cut} {unit}).",
        low=f"{100 * peak['lower']:.2f}", high=f"{100 * peak['upper']:.2f}", one=one,
        n=f"{hazards.attrs.get('min_at_risk', 0):,}", cut=f"{last['time']:.0f}", unit=u)])


def _validation_model(name: str) -> str:
    if name == "Cox":
        return _("Cox")
    if name.startswith("AFT ("):
        return t("AFT ({model})", model=label(name[5:-1]))
    return {"Kaplan–Meier (no drivers)": _("Kaplan–Meier (no drivers)")}.get(name, name)


def validation_table(validation, *, unit: str = "months") -> pd.DataFrame:
    """The held-out AUC and integrated Brier score as displayed (both languages), each with its 95%
    bootstrap interval in brackets when there is one."""
    if validation.skipped:
        return pd.DataFrame()
    u = label(unit)
    tb = validation.table
    cols = {f"auc({h:g})": t("AUC at {h} {unit}", h=f"{h:g}", unit=u) for h in validation.horizons}
    cols["ibs"] = t("integrated Brier score (to {h} {unit})", h=f"{validation.grid_end:g}", unit=u)
    out = pd.DataFrame(index=pd.Index([_validation_model(m) for m in tb.index], name=_("model")))
    for col, name in cols.items():
        values = tb[col].to_numpy(float)
        if f"{col}_lower" in tb:
            out[name] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                         zip(values, tb[f"{col}_lower"], tb[f"{col}_upper"], strict=True)]
        else:
            out[name] = values.round(3)
    return out


def validation_text(validation, *, unit: str = "months") -> str:
    """What the held-out table shows, in one sentence and its method."""
    if validation.skipped:
        return not_available(_("the held-out check of the Cox and AFT models"),
                             _("too few held-out customers are followed from their start"))
    tb = validation.table
    cox, km = tb.loc["Cox"], tb.loc["Kaplan–Meier (no drivers)"]
    aucs = [cox[f"auc({h:g})"] for h in validation.horizons]
    gain = 1 - cox["ibs"] / km["ibs"] if km["ibs"] > 0 else np.nan
    u = label(unit)
    values = dict(n=f"{validation.n_test:,}", events=f"{validation.events_test:,}",
                  h=join([f"{h:g}" for h in validation.horizons]), unit=u, auc_lo=f"{min(aucs):.2f}",
                  auc_hi=f"{max(aucs):.2f}", ibs=f"{cox['ibs']:.3f}", km=f"{km['ibs']:.3f}")
    if gain < 0:  # worse than the curve without drivers: say "higher", not "-2% lower"
        head = t("On {n} held-out customers ({events} churned) that the models did not see, the Cox model tells "
                 "who leaves by {h} {unit} from who stays with an AUC of {auc_lo}–{auc_hi} (0.5 = chance, 1 = "
                 "perfect), and its integrated Brier score is {ibs} against {km} for the Kaplan–Meier curve "
                 "without drivers ({loss} higher; lower is better).", loss=f"{-gain:.0%}", **values)
    else:
        head = t("On {n} held-out customers ({events} churned) that the models did not see, the Cox model tells "
                 "who leaves by {h} {unit} from who stays with an AUC of {auc_lo}–{auc_hi} (0.5 = chance, 1 = "
                 "perfect), and its integrated Brier score is {ibs} against {km} for the Kaplan–Meier curve "
                 "without drivers ({gain} lower; lower is better).", gain=f"{gain:.0%}", **values)
    parts = [head]
    if validation.n_boot:
        low, high = validation.ibs_gain_ci
        values = dict(n=f"{validation.n_boot:,}", low=f"{low:.1%}", high=f"{high:.1%}")
        parts.append(t("The brackets are 95% intervals from {n} seeded bootstrap resamples of the held-out "
                       "customers; on the same resamples the Cox model's gain in the integrated Brier score "
                       "over the curve without drivers runs from {low} to {high}.", **values)
                     + gap() + (_("The gain is clear of zero: the drivers improve the predicted share still there.") if low > 0 else
                                _("The Cox model's predicted survival is worse than the curve without drivers "
                                  "(the whole interval is below zero): its drivers rank customers better than "
                                  "chance, but its predicted share still there should not be used.") if high < 0 else
                                _("It is not distinguishable from no improvement: the drivers rank customers "
                                  "better than chance, but do not predict the share still there much better "
                                  "than the Kaplan–Meier curve.")))
    method = t("Method: a seeded random {share} of the customers is held out; the models are fitted on the "
               "rest. AUC is the cumulative/dynamic AUC at each horizon (Uno et al. 2007), the Brier score the "
               "squared error of the predicted survival averaged over tenures up to {end} {unit} (Graf et al. "
               "1999), both weighted by the inverse probability of being still observed (scikit-survival).",
               share=f"{validation.test_share:.0%}", end=f"{validation.grid_end:g}", unit=u)
    if validation.left_truncated_out:
        method = gap().join([method, n_(
            "Only held-out customers observed from their start are scored: {n} left-truncated customer "
            "is left out.",
            "Only held-out customers observed from their start are scored: {n} left-truncated customers "
            "are left out.", validation.left_truncated_out)])
    return gap().join([*parts, method])


def pairwise_tables(comparison) -> list[pd.DataFrame]:
    """The pairwise log-rank table of a segment comparison as displayed, when there are more than
    two groups (a list: empty with two groups, whose single test the overall one already is)."""
    if len(comparison.pairwise) <= 1:
        return []
    return [show(comparison.pairwise.set_index(["group_a", "group_b"]))]


def bands_table(bands: pd.DataFrame) -> pd.DataFrame:
    """The hazard ratios by tenure band as displayed."""
    return show(bands[bands["band"] != "all"][["band", "hr", "lower", "upper", "p", "note"]], terms=True)
