"""What each section of the 20_causes report shows: the rules that pick what a section reports
(which drivers count as significant, which terms are the strongest, where two rankings disagree),
the sections that exist only for some data (exit reasons, the business change, tickets and
surveys, the generator's truth), and :func:`key_figures`, the stage's flat figures for the JSON.

Each function returns ``None`` where its section does not apply, so the notebook calls and
shows and :mod:`churn_research.narrate.causes` says why a section is missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from churn_research.annual import annual_churn
from churn_research.causes.competing import (
    CompetingReasons,
    annual_split,
    cause_specific_cox,
    cumulative_incidence,
    reason_frame,
    reason_truth,
    true_cause_hr,
)
from churn_research.causes.drivers import DriverModel, compare_with_truth
from churn_research.causes.frame import TIME_VARYING, default_drivers, person_period
from churn_research.causes.rates import dose_response
from churn_research.causes.reasons import ReasonShift, has_reasons, reason_pareto, reason_shift
from churn_research.durations import CAMPAIGN_CONTACT
from churn_research.model import ChurnData

#: Significance level of every test the report calls "significant".
ALPHA = 0.05
#: The report names how many reasons cover this share of exits.
REASON_COVER = 0.8
#: Two rankings "disagree" on a driver that moves by this many places or more.
RANK_GAP = 4
#: How many terms or drivers a sentence lists at most.
TOP_DRIVERS, TOP_TERMS = 3, 4


# -- setup ------------------------------------------------------------------------------------
def resolve_drivers(data: ChurnData, drivers: Sequence[str] | None, *, design: str) -> list[str]:
    """The drivers asked for, or :func:`default_drivers` when ``drivers`` is None."""
    return list(drivers) if drivers is not None else default_drivers(data, design=design)


def static_drivers(drivers: Sequence[str]) -> list[str]:
    """The drivers measured once per customer (without :data:`TIME_VARYING` ones)."""
    return [d for d in drivers if d not in TIME_VARYING]


def true_log_hr(data: ChurnData) -> dict[str, float] | None:
    """The generator's true log hazard ratios (synthetic data), else None."""
    return (data.meta.get("truth") or {}).get("log_hr") or None


# -- exit reasons ------------------------------------------------------------------------------
def exit_reasons(data: ChurnData) -> pd.DataFrame | None:
    """:func:`reason_pareto` of all churners, or None when the data record no exit reasons."""
    return reason_pareto(data) if has_reasons(data) else None


def no_reason_count(pareto: pd.DataFrame) -> int:
    """How many churners of the Pareto have no recorded reason (counted as ``"unknown"``)."""
    return int(pareto.loc[pareto["reason"] == "unknown", "count"].sum())


def reasons_covering(pareto: pd.DataFrame, share: float = REASON_COVER) -> int:
    """How many of the most frequent reasons it takes to cover ``share`` of the exits."""
    return min(int((pareto["cumulative_share"] < share).sum()) + 1, len(pareto))


def reasons_by(data: ChurnData, segment: str | None) -> pd.DataFrame | None:
    """:func:`reason_pareto` by ``segment``; None without reasons or without that column."""
    if not segment or not has_reasons(data) or segment not in data.customers:
        return None
    return reason_pareto(data, by=segment)


def reason_shift_if_changed(data: ChurnData) -> ReasonShift | None:
    """:func:`reason_shift` when there are exit reasons and a business change, else None."""
    if not has_reasons(data) or data.event_date is None:
        return None
    return reason_shift(data)


def largest_rise(shift: ReasonShift) -> pd.Series:
    """The row of ``shift.table`` whose share rose most."""
    return shift.table.sort_values("diff", ascending=False).iloc[0]


def moved_reasons(shift: ReasonShift, alpha: float = ALPHA) -> list[str]:
    """Reasons whose share moved at the change (Holm-adjusted ``p_holm < alpha``), largest
    absolute change first."""
    t = shift.table
    moved = t[t["p_holm"] < alpha]
    return moved.reindex(moved["diff"].abs().sort_values(ascending=False).index)["reason"].tolist()


# -- driver-by-driver tests ------------------------------------------------------------------
def significant_drivers(tests: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Drivers whose Holm-adjusted chi-square p-value is below ``alpha``, widest gap first."""
    return tests[tests["p_holm"] < alpha].sort_values("max_ratio", ascending=False)


def dose_curves(data: ChurnData, *, study_start=None) -> dict[str, pd.DataFrame | None]:
    """:func:`dose_response` of complaints (needs ``tickets``) and satisfaction (needs
    ``surveys``) on one set of person-month rows; None for a curve whose table is missing."""
    out: dict[str, pd.DataFrame | None] = {"complaints": None, "satisfaction": None}
    needs = {"complaints": "tickets", "satisfaction": "surveys"}
    if not any(data.has(t) for t in needs.values()):
        return out
    # (the curves need no customer column: the person-months without them)
    pp = person_period(data, study_start=study_start, columns=())
    for driver, table in needs.items():
        if data.has(table):
            out[driver] = dose_response(data, driver, pp=pp)
    return out


# -- the driver model --------------------------------------------------------------------------
def collinear_terms(model: DriverModel) -> set[str]:
    """Terms whose VIF exceeds the model's threshold (their ratios are poorly determined)."""
    if not len(model.vif_):
        return set()
    return set(model.vif_.loc[model.vif_["vif"] > model.vif_threshold, "term"])


def strongest_effects(model: DriverModel, alpha: float = ALPHA) -> pd.DataFrame:
    """Driver terms significant at ``alpha`` and not collinear, largest |log ratio| first."""
    eff = model.effects_[model.effects_["kind"] == "driver"]
    keep = (eff["p_value"] < alpha) & ~eff["term"].isin(collinear_terms(model))
    return (eff[keep].assign(dist=lambda e: e["coef"].abs())
            .sort_values("dist", ascending=False))


def truth_check(model: DriverModel, truth: Mapping[str, float] | None) -> pd.DataFrame | None:
    """:func:`compare_with_truth` of the model's effects, or None without a truth."""
    return compare_with_truth(model.effects_, truth) if truth else None


def adjustment_terms(model: DriverModel) -> pd.DataFrame:
    """The model's adjustment terms (:data:`ADJUSTMENTS`: a retention campaign's contact), held
    fixed but not ranked among the drivers; empty when the data have none."""
    e = model.effects_
    return e[e["kind"] == "adjustment"] if "kind" in e else e.iloc[:0]


def campaign_truth(data: ChurnData, model: DriverModel) -> dict[str, Any] | None:
    """The generator's truth for the retention campaign beside the contact term (synthetic data).

    The generator records the campaign's effect as a change in the probability of churning within
    ``horizon_days`` of the campaign (``ate``, among the customers eligible for it; heterogeneous:
    ``effect_by_group`` with and without a price rise), not as a hazard ratio. The constant hazard
    ratio that gives the same churn within the horizon is
    ``log(1 - (churn_untreated + ate)) / log(1 - churn_untreated)``; it is an approximation (the
    effect is neither constant over the horizon nor the same for everyone), so it is set beside the
    term but not counted in :func:`truth_check`. None without a campaign truth, without the contact
    term, or with a logit link (odds ratios).

    Returns
    -------
    dict
        ``ate, churn_untreated, horizon_days, by_group`` (group -> effect), ``implied_hr``,
        ``ratio, ci_low, ci_high`` (the contact term) and ``covered`` (the interval holds
        ``implied_hr``).
    """
    camp = ((data.meta or {}).get("truth") or {}).get("campaign")
    effects = model.effects_.set_index("term")
    if not camp or CAMPAIGN_CONTACT not in effects.index or model.link_ != "cloglog":
        return None
    p0, ate = float(camp["churn_untreated"]), float(camp["ate"])
    if not (0 < p0 < 1 and 0 < p0 + ate < 1):
        return None
    implied = math.log(1 - (p0 + ate)) / math.log(1 - p0)
    e = effects.loc[CAMPAIGN_CONTACT]
    return {"ate": ate, "churn_untreated": p0, "horizon_days": int(camp.get("horizon_days", 365)),
            "by_group": dict(camp.get("effect_by_group") or {}), "implied_hr": implied,
            "ratio": float(e["ratio"]), "ci_low": float(e["ci_low"]), "ci_high": float(e["ci_high"]),
            "covered": bool(e["ci_low"] <= implied <= e["ci_high"])}


def odds_vs_hazards(model: DriverModel, data: ChurnData, **options) -> pd.DataFrame | None:
    """On person-months: the same model with a logit link, its odds ratios beside the hazard
    ratios (duration terms left out); ``attrs["max_gap"]`` is the largest relative difference.
    None on a snapshot (the model already gives odds ratios). ``options`` go to
    :class:`DriverModel` (``drivers``, ``design``, ``reference``, ``duration``, ``study_start``).
    """
    if model.design_ != "person-period":
        return None
    odds = DriverModel(link="logit", **options)
    # the hazard model's person-months, when they are those of the same data and design
    same_rows = (model._data is data and odds.design in ("auto", model.design_)
                 and odds.study_start == model.study_start and odds.change_date == model.change_date)
    odds.fit(data, rows=model.rows_ if same_rows else None)
    cols = ["term", "ratio", "ci_low", "ci_high"]
    both = model.effects_[cols].merge(odds.effects_[cols], on="term", suffixes=("_hr", "_or"))
    both = both[~both["term"].str.startswith("log_tenure")]
    both.attrs["max_gap"] = float((both["ratio_or"] / both["ratio_hr"] - 1).abs().max())
    return both


# -- the model-agnostic check ----------------------------------------------------------------
def rank_disagreements(comparison: pd.DataFrame, places: int = RANK_GAP) -> list[str]:
    """Drivers whose GLM and permutation ranks differ by ``places`` or more."""
    return comparison.loc[comparison["rank_gap"].abs() >= places, "driver"].tolist()


# -- key figures -------------------------------------------------------------------------------
def _mapping(table: pd.DataFrame, key: str, value: str) -> dict[Any, Any]:
    return dict(zip(table[key], table[value], strict=True))


def key_figures(*, dataset: str, design: str, data: ChurnData, pareto: pd.DataFrame | None,
                shift: ReasonShift | None, rates: pd.DataFrame, tests: pd.DataFrame, outcome: str,
                doses: Mapping[str, pd.DataFrame | None], model: DriverModel,
                truth: pd.DataFrame | None, odds: pd.DataFrame | None,
                importance: pd.DataFrame, profiles: pd.DataFrame,
                claims: pd.DataFrame, competing: CompetingReasons | None = None,
                campaign: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stage's key figures (nested; the runner flattens them), from its results."""
    figures: dict[str, Any] = {"dataset": dataset, "design": design,
                               "n_customers": len(data.customers)}
    if pareto is None:
        figures["reasons"] = {"available": False}
    else:
        top = pareto.iloc[0]
        figures["reasons"] = {"available": True, "top": pareto.head(5)[["reason", "count", "share"]],
                              "top1": top["reason"], "top1_share": top["share"],
                              "top1_ci_low": top["ci_low"], "top1_ci_high": top["ci_high"],
                              "n_reasons": len(pareto), "n_churners": int(pareto["count"].sum()),
                              "n_no_reason": no_reason_count(pareto)}
    if competing is not None:
        figures["competing"] = competing.key_figures()
    if shift is not None:
        up = largest_rise(shift)
        figures["reason_shift"] = {**shift.key_figures(), "n_reasons": len(shift.table),
                                   "largest_rise": {"diff": up["diff"], "ci_low": up["ci_low"],
                                                    "ci_high": up["ci_high"],
                                                    "p_holm": up["p_holm"]},
                                   "moved": moved_reasons(shift)}
    figures["driver_rates"] = {"base_rate": rates.attrs["base_rate"], "outcome": outcome,
                               "p_values": _mapping(tests, "driver", "p_value"),
                               "p_holm": _mapping(tests, "driver", "p_holm")}
    for name, dose in doses.items():
        if dose is not None:
            figures[f"dose_{name}"] = _mapping(dose, "level", "churn_rate")
    figures["driver_model"] = model.key_figures()
    if truth is not None:
        figures["truth_check"] = {
            "covered": int(truth["covered"].sum()), "terms": len(truth),
            "signs_ok": int(truth["sign_ok"].sum()),
            "not_covered": truth.loc[~truth["covered"], "term"].tolist()}
    if campaign is not None:
        figures["campaign_truth"] = {k: campaign[k] for k in ("ate", "churn_untreated", "implied_hr",
                                                              "covered")}
    if odds is not None:
        figures["odds_ratios"] = _mapping(odds, "term", "ratio_or")
    figures["importance"] = {"spearman": importance.attrs["spearman"],
                             "test_auc": importance.attrs["test_score"],
                             "rank": _mapping(importance, "driver", "importance_rank")}
    best = profiles.iloc[0]
    figures["profiles"] = {"base_rate": profiles.attrs["base_rate"], "top_rule": best["rule"],
                           "top_lift": best["lift"], "top_support": best["support"],
                           "n_high_churn": int(profiles["high_churn"].sum())}
    figures["claims"] = claims.drop(columns=["statement", "method"])
    figures["claim_supported"] = {r.claim: (None if pd.isna(r.supported) else bool(r.supported))
                                  for r in claims.itertuples()}
    return figures


# -- competing exit reasons ------------------------------------------------------------------
def competing_reasons(data: ChurnData, *, model_data: ChurnData | None = None,
                      drivers: Sequence[str], reference: Mapping[str, str] | None,
                      horizons: Sequence[float], main: int = 4,
                      groups: Mapping[str, str] | None = None, annual_months: int = 12,
                      annual_by: str | None = None) -> CompetingReasons | None:
    """The competing-reasons section: Aalen–Johansen cumulative incidence per reason (all
    customers), cause-specific Cox models of the ``main`` most frequent reasons on the
    customer-level ``drivers`` (on ``model_data``, the stage's model sample), the annual churn
    split into avoidable / unavoidable / other (``groups``) and the generator's truth where it
    is recorded. None when the data record no exit reasons."""
    if not has_reasons(data):
        return None
    # the incidence needs only the lifetimes and reasons of every customer; the Cox models the
    # drivers too, of the model sample (on a large base) or of everyone
    incidence = cumulative_incidence(reason_frame(data, columns=()))
    model_frame = reason_frame(data if model_data is None else model_data)
    hazards = cause_specific_cox(model_frame, drivers=drivers, reasons=main, reference=reference)
    del model_frame
    annual = annual_churn(data, months=annual_months, by=annual_by)
    split = annual_split(data, annual, groups=groups)
    truth = (data.meta or {}).get("truth")
    return CompetingReasons(incidence, [float(h) for h in horizons], hazards,
                            true_cause_hr(truth, hazards), split, reason_truth(data))
