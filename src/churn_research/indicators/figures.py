"""The rules 10_indicators applies to its results, and its flat key figures.

The decisions a report makes about what to show (is there a trend to draw, which periods
describe it, is there enough on both sides of the change to analyse it) and the key figures it
writes live here, so that the notebook only calls, shows and saves. Sentences are built from
these results in :mod:`churn_research.narrate.indicators`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churn_research.indicators.churn import churn_table, latest_period, pooled_rates
from churn_research.indicators.events import events_figures
from churn_research.indicators.experience import (
    complaint_table,
    repeat_purchase_table,
    revenue_retentions,
    satisfaction_table,
)
from churn_research.indicators.impact import ControlChart, prepare_series
from churn_research.model import ChurnData

__all__ = [
    "ACQUISITION_SETTLED_SHARE", "MIN_PERIODS_BEFORE", "MIN_PERIODS_AFTER", "COHORT_MONTH",
    "ImpactReadiness", "impact_readiness", "present_segments", "measurable", "recurring_column",
    "experience_tables", "survey_measures", "latest", "has_trend",
    "over_time", "trend_periods", "trend_table", "segment_rates", "tenure_groups", "cohorts_followable",
    "cohort_retention_at", "flagged_periods", "synthetic_truth",
    "header_figures", "churn_figures", "segment_figures", "tenure_figures", "complaint_figures",
    "satisfaction_figures", "repeat_figures", "revenue_figures", "cohort_figures",
    "target_figures", "impact_figures", "impact_skipped_figures", "verdict_figures",
]

#: Inferred churn: a period counts as "settled" (its acquisition no longer inflates churn) when
#: its joiners are at most this share of the customers at risk at its start.
ACQUISITION_SETTLED_SHARE = 0.1
#: Complete periods needed before and after the change for the change-impact analyses.
MIN_PERIODS_BEFORE = 6
MIN_PERIODS_AFTER = 2
#: Months since start at which cohort retention is summarised.
COHORT_MONTH = 12


# --- what the data allow -------------------------------------------------------------------

def present_segments(data: ChurnData, segments: Iterable[str] | None) -> list[str]:
    """The requested segment columns that the customers table has, in the requested order."""
    return [c for c in (segments or []) if c in data.customers.columns]


def measurable(data: ChurnData) -> dict[str, bool]:
    """Which experience indicators the data can measure: ``complaints`` (a tickets table with
    a ``kind`` column), ``surveys`` and ``transactions``."""
    return {"complaints": data.has("tickets") and "kind" in data.columns_of("tickets"),
            "surveys": data.has("surveys"), "transactions": data.has("transactions")}


def recurring_column(data: ChurnData, column: str | None) -> str | None:
    """``column`` if the customers table has it (a recurring charge), else None."""
    return column if column in data.customers.columns else None


def experience_tables(data: ChurnData, *, freq: str, satisfied_min: int, recurring_col: str | None,
                      inactivity_days: int | None = None, tables=None) -> dict[str, pd.DataFrame | None]:
    """The experience indicators per period (None where the data cannot measure them):
    ``complaints``, ``satisfaction``, ``repeat``, ``revenue`` and ``revenue_recurring`` (only
    with a recurring-charge column).

    ``tables``: the same data as engine tables (``churn_research.sources.engine.Tables``, the
    notebook's ``tables``): the complaint and satisfaction tables and the purchases come from
    the engine, which reads tickets, surveys and transactions in place (the same numbers)."""
    can = measurable(data)
    kw = {"freq": freq, "inactivity_days": inactivity_days}
    tx = can["transactions"]
    if tables is None:
        complaints = complaint_table(data, **kw) if can["complaints"] else None
        satisfaction = satisfaction_table(data, satisfied_min=satisfied_min, **kw) if can["surveys"] else None
    else:
        complaints = tables.complaint_table(**kw) if can["complaints"] else None
        satisfaction = (tables.satisfaction_table(satisfied_min=satisfied_min, **kw)
                        if can["surveys"] else None)
    revenue, recurring = (revenue_retentions(data, recurring_col=recurring_col, tables=tables, **kw)
                          if tx else (None, None))
    return {
        "complaints": complaints,
        "satisfaction": satisfaction,
        "repeat": repeat_purchase_table(data, recurring_col=recurring_col, tables=tables, **kw) if tx else None,
        "revenue": revenue,
        "revenue_recurring": recurring,
    }


def survey_measures(table: pd.DataFrame | None) -> list[str]:
    """The survey measures a satisfaction table has (``csat``, ``nps``)."""
    return [] if table is None else [m for m in ("csat", "nps") if m in table]


def latest(table: pd.DataFrame | None) -> pd.Series | None:
    """The latest complete period's row, None for a missing table."""
    return None if table is None else latest_period(table)


def has_trend(table: pd.DataFrame) -> bool:
    """More than one complete period: a trend over time can be drawn."""
    return int((~table["partial"].astype(bool)).sum()) > 1


def over_time(table: pd.DataFrame) -> bool:
    """More than two periods: a per-segment rate over time is worth a line chart."""
    return table["period"].nunique() > 2


def trend_periods(table: pd.DataFrame, *, kind: str) -> tuple[pd.DataFrame, float | None]:
    """The complete periods that describe churn's trend, and the highest churn left out.

    With inferred churn (non-contractual data) customers who never bought again count as lost
    in the period they joined, so periods of heavy acquisition show inflated churn: the trend
    starts at the first period whose joiners are at most :data:`ACQUISITION_SETTLED_SHARE` of
    the customers at risk (when that leaves more than one period and drops some). Returns the
    periods and the highest churn rate among those dropped (None when none are).
    """
    complete = table[~table["partial"].astype(bool)]
    if kind == "non-contractual":
        settled = complete[complete["new"] <= ACQUISITION_SETTLED_SHARE * complete["at_risk"]]
        if len(settled) > 1 and settled.index[0] != complete.index[0]:
            return settled, float(complete.loc[:settled.index[0] - 1, "churn_rate"].max())
    return complete, None


def trend_table(table: pd.DataFrame, *, kind: str) -> pd.DataFrame:
    """The periods the report draws and describes (:func:`trend_periods`): complete periods
    only (none cut short by the window, and for inferred churn none whose lapses are not all
    visible yet) and, for inferred churn, none of heavy acquisition."""
    return trend_periods(table, kind=kind)[0]


def segment_rates(data: ChurnData, columns: Iterable[str], *, freq: str,
                  **kw) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per segment column: its churn table per period and its rates pooled over the window."""
    return pooled_segments({col: churn_table(data, freq=freq, by=col, **kw) for col in columns})


def pooled_segments(tables: Mapping[str, pd.DataFrame]) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per segment column: its churn table per period (``tables``, one per column, e.g. from
    the data engine: ``churn_research.sources.engine.Tables.churn_tables``) and its rates pooled
    over the window."""
    return {col: (seg, pooled_rates(seg, by=col)) for col, seg in tables.items()}


def tenure_groups(pooled: pd.DataFrame) -> tuple[pd.Series, pd.Series] | None:
    """The pooled rows of new and existing customers (indexed by ``tenure_group``), or None
    when one group has no customers."""
    if {"new", "existing"} <= set(pooled.index):
        return pooled.loc["new"], pooled.loc["existing"]
    return None


def cohorts_followable(cohorts: pd.DataFrame) -> bool:
    """More than one cohort followed over more than two months."""
    return cohorts.shape[0] > 1 and cohorts.shape[1] > 2


def cohort_retention_at(cohorts: pd.DataFrame, month: int = COHORT_MONTH) -> pd.Series:
    """Each cohort's retention ``month`` months after start (observed cohorts only)."""
    return cohorts[month].dropna() if month in cohorts.columns else pd.Series(dtype=float)


@dataclass(frozen=True)
class ImpactReadiness:
    """Whether the change-impact analyses can run: a dated change with at least
    :data:`MIN_PERIODS_BEFORE` complete periods before it and :data:`MIN_PERIODS_AFTER` after.
    ``table`` is the churn table per change-impact period (None without a change)."""

    event_date: pd.Timestamp | None
    n_before: int = 0
    n_after: int = 0
    table: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def ready(self) -> bool:
        return (self.event_date is not None and self.n_before >= MIN_PERIODS_BEFORE
                and self.n_after >= MIN_PERIODS_AFTER)


def impact_readiness(data: ChurnData, *, freq: str, event_date=None, tables=None,
                     **kw) -> ImpactReadiness:
    """The churn table per ``freq`` period and the complete periods on each side of the change
    (``event_date``, else the data's own; none recorded: not ready). ``kw`` go to
    :func:`~churn_research.indicators.churn_table`; ``tables``: the same data as engine tables,
    whose churn table it then is (the same numbers)."""
    ev = pd.Timestamp(event_date) if event_date is not None else data.event_date
    if ev is None:
        return ImpactReadiness(None)
    table = churn_table(data, freq=freq, **kw) if tables is None else tables.churn_table(freq=freq, **kw)
    s = prepare_series(table, event_date=ev)
    return ImpactReadiness(ev, int((s["used"] & (s["phase"] == "before")).sum()),
                           int((s["used"] & (s["phase"] == "after")).sum()), table)


def flagged_periods(chart: ControlChart) -> pd.DataFrame:
    """The charted periods flagged as abnormally high."""
    return chart.table_[chart.table_["signal"] == "high"]


def synthetic_truth(data: ChurnData) -> dict[str, float] | None:
    """The generator's true change effect (synthetic data only): ``log_hr`` and
    ``hazard_ratio``; None for real data."""
    truth = data.meta.get("truth") or {}
    if "change" not in (truth.get("log_hr") or {}):
        return None
    return {"log_hr": truth["log_hr"]["change"], "hazard_ratio": truth["change_hazard_ratio"]}


# --- key figures ---------------------------------------------------------------------------

def header_figures(*, dataset: str, unit: str, denominator: str, window) -> dict[str, Any]:
    return {"dataset": dataset, "freq": unit, "denominator": denominator,
            "window_start": window[0], "window_end": window[1]}


def churn_figures(overall: Mapping[str, Any], latest: pd.Series, table: pd.DataFrame, *,
                  kind: str = "contractual") -> dict[str, Any]:
    """The churn key figures. ``mean_churn_rate_per_period`` pools the periods of the trend
    (:func:`trend_table`: for inferred churn without the months of heavy acquisition, which
    ``mean_churn_rate_first_period`` / ``_last_period`` then name). Lapse episodes
    (``table.attrs["lapses"]``) add ``lapses`` and ``returned`` (returns in the latest period);
    ``churn_rate_overall`` counts final lapses (customers lost for good)."""
    trend = trend_table(table, kind=kind)
    out = {
        "churn_rate_overall": overall["churn_rate"], "churn_rate_overall_ci_low": overall["ci_low"],
        "churn_rate_overall_ci_high": overall["ci_high"],
        "churn_rate_overall_definition": overall["definition"],
        "customers_ever_at_risk": overall["customers_at_risk"], "churned_in_window": overall["churned"],
        "latest_period": latest["period"], "latest_period_partial": bool(latest["partial"]),
        "churn_rate": latest["churn_rate"], "churn_rate_ci_low": latest["churn_ci_low"],
        "churn_rate_ci_high": latest["churn_ci_high"], "retention_rate": latest["retention_rate"],
        "mean_churn_rate_per_period": pooled_rates(trend if len(trend) else table)["rate"].iloc[0],
    }
    if 0 < len(trend) < int((~table["partial"].astype(bool)).sum()):
        out["mean_churn_rate_first_period"] = trend["period"].iloc[0]
        out["mean_churn_rate_last_period"] = trend["period"].iloc[-1]
    if table.attrs.get("lapses") == "episodes":
        out["lapses"] = "episodes"
        out["returned"] = int(latest["returned"])
        # the latest rate counts customers who joined or came back in it and lapsed again at once;
        # among those on the books at its start churn is (churned - churned_new) / at_risk
        if {"churned", "churned_new", "at_risk"} <= set(latest.index) and latest["at_risk"]:
            out["churned_new"] = int(latest["churned_new"])
            out["churn_rate_on_books"] = float((latest["churned"] - latest["churned_new"])
                                               / latest["at_risk"])
    return out


def segment_figures(rates: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]]) -> dict[str, Any]:
    return {f"segment.{col}.{r[col]}.churn_rate": r["rate"]
            for col, (_, pooled) in rates.items() for _, r in pooled.iterrows()}


def tenure_figures(pooled: pd.DataFrame, *, new_tenure_months: int) -> dict[str, Any]:
    groups = tenure_groups(pooled)
    if groups is None:
        return {}
    return {"churn_rate_new": groups[0]["rate"], "churn_rate_existing": groups[1]["rate"],
            "new_tenure_months": new_tenure_months}


def complaint_figures(table: pd.DataFrame | None) -> dict[str, Any]:
    if table is None:
        return {}
    lc = latest_period(table)
    return {"complaint_rate": lc["complaint_rate"], "share_complaining": lc["share_complaining"]}


def satisfaction_figures(table: pd.DataFrame | None) -> dict[str, Any]:
    out = {}
    ls = latest(table)
    if "csat" in survey_measures(table):
        out.update({"csat": ls["csat"], "share_satisfied": ls["share_satisfied"]})
    if "nps" in survey_measures(table):
        out.update({"nps": ls["nps"], "recommendation_rate": ls["recommendation_rate"]})
    return out


def repeat_figures(table: pd.DataFrame | None) -> dict[str, Any]:
    return {} if table is None else {"repeat_purchase_rate": latest_period(table)["repeat_purchase_rate"]}


def revenue_figures(table: pd.DataFrame | None, recurring: pd.DataFrame | None = None) -> dict[str, Any]:
    if table is None:
        return {}
    lv = latest_period(table)
    out = {"grr": lv["grr"], "nrr": lv["nrr"]}
    if recurring is not None:
        lm = latest_period(recurring)
        out.update({"grr_recurring": lm["grr"], "nrr_recurring": lm["nrr"]})
    return out


def cohort_figures(at_month: pd.Series) -> dict[str, Any]:
    return {"cohort_retention_12m_median": at_month.median()} if len(at_month) else {}


def target_figures(table: pd.DataFrame) -> dict[str, Any]:
    out = {}
    for r in table.itertuples():
        out[f"target.{r.indicator}.status"] = r.status
        out[f"target.{r.indicator}.actual"] = r.actual
        out[f"target.{r.indicator}.target"] = r.target
        if getattr(r, "rule", None) == "ahead":     # on track only by the straight path
            out[f"target.{r.indicator}.rule"] = r.rule
            out[f"target.{r.indicator}.expected_now"] = r.expected_now
            out[f"target.{r.indicator}.baseline_period"] = str(r.baseline_period)
    return out


def impact_skipped_figures(reason: str) -> dict[str, Any]:
    """The change-impact figures of a dataset where the analyses could not run."""
    return {"impact_skipped": reason, "its.level_change": None, "its.level_change_ci_low": None,
            "its.level_change_ci_high": None, "its.slope_change": None,
            "its.slope_change_ci_low": None, "its.slope_change_ci_high": None,
            "control_chart.flagged_periods": []}


def impact_figures(*, before_after=None, its=None, truth: Mapping[str, float] | None = None,
                   chart: ControlChart | None = None, did: Mapping[str, Any] | None = None,
                   events: pd.DataFrame | None = None) -> dict[str, Any]:
    """The flat figures of the fitted change-impact results (each optional; ``events``: the
    per-event table of :func:`~churn_research.indicators.events.events_impact`)."""
    out: dict[str, Any] = events_figures(events) if events is not None else {}
    if before_after is not None:
        out.update({f"before_after.{k}": v for k, v in before_after.key_figures().items()})
    if its is not None:
        out.update({f"its.{k}": v for k, v in its.key_figures().items()})
        if truth is not None:
            out["its.true_level_change"] = truth["log_hr"]
    if chart is not None:
        out.update({f"control_chart.{k}": v for k, v in chart.key_figures().items()})
    if did is not None:
        out.update({f"did.{k}": v for k, v in did.items() if k not in ("treated", "control")})
    return out


def verdict_figures(verdict: str, *, ready: bool) -> dict[str, Any]:
    """The verdict as plain text (without Markdown emphasis), when there is one."""
    return {"verdict": verdict.replace("**", "")} if ready else {}
