"""Every business event: a before/after and an interrupted time series per event.

The ``events`` table may record several business changes. :func:`each_event` analyses each one
on its own **window**: the periods from the previous event to the next one. An event's
"before" periods start on or after the previous event's date and its "after" periods end before
the next event's date, so no period is credited to two changes and each event's pre-trend is
the regime the previous change left behind. (The period containing a mid-period event is left
out, as in :func:`~churn_research.indicators.impact.prepare_series`.) Events on the same date
count as one. An event whose window is too short for an ITS (3 complete periods before, 2
after) keeps its row with the reason.

:func:`experience_by_event` compares satisfaction (mean CSAT), NPS and the complaint share
before and after each event on the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from churn_research.i18n import t
from churn_research.indicators.churn import churn_table
from churn_research.indicators.experience import complaint_table
from churn_research.indicators.impact import InterruptedTimeSeries, before_after
from churn_research.model import ChurnData, select_events  # select_events: one home, in model

__all__ = ["select_events", "each_event", "experience_by_event", "EventsImpact", "events_impact",
           "events_figures"]

#: The columns of :func:`each_event`'s table.
EVENT_COLUMNS = ["event", "date", "window", "periods_before", "periods_after", "rate_before",
                 "rate_after", "ratio", "ratio_ci_low", "ratio_ci_high", "level_ratio",
                 "level_ratio_ci_low", "level_ratio_ci_high", "slope_change_pct",
                 "slope_change_pct_ci_low", "slope_change_pct_ci_high", "seasonal", "note"]


def _window(table: pd.DataFrame, prev, nxt) -> pd.DataFrame:
    starts = pd.to_datetime(table["period_start"])
    ends = pd.to_datetime(table["period_end"])
    keep = np.ones(len(table), dtype=bool)
    if prev is not None:
        keep &= (starts >= prev).to_numpy()
    if nxt is not None:
        keep &= (ends < nxt).to_numpy()
    return table[keep]


def each_event(table: pd.DataFrame, events: pd.DataFrame, *, link: str = "cloglog",
               seasonality: str = "none", alpha: float = 0.05) -> pd.DataFrame:
    """One row per event (``events``: ``date`` and ``event``, see :func:`select_events`):
    pooled churn before and after with the ratio (interval widened for overdispersion), the ITS
    level change as a ratio (hazard ratio for the cloglog link) and the slope change in % per
    period, each with its 95% interval, on the event's window (module docstring). ``seasonal``
    says whether month-of-year terms entered that event's ITS; ``note`` why an event was not
    analysed."""
    rows = []
    dates = list(pd.to_datetime(events["date"]))
    for i, (date, name) in enumerate(zip(dates, events["event"], strict=True)):
        prev = dates[i - 1] if i > 0 else None
        nxt = dates[i + 1] if i + 1 < len(dates) else None
        sub = _window(table, prev, nxt)
        row: dict[str, Any] = {"event": name, "date": date}
        if len(sub):
            row["window"] = f"{sub['period'].iloc[0]} – {sub['period'].iloc[-1]}"
        try:
            ba = before_after(sub, event_date=date, alpha=alpha)
            its = InterruptedTimeSeries(link=link, seasonality=seasonality, alpha=alpha).fit(
                sub, event_date=date)
        except ValueError:
            row["note"] = t("too few complete periods between the neighbouring events (3 before "
                            "and 2 after are needed)")
            rows.append(row)
            continue
        pct = lambda v: 100 * (np.exp(v) - 1)  # noqa: E731
        row.update({
            "periods_before": its.n_before_, "periods_after": its.n_after_,
            "rate_before": ba.table.loc["before", "churn_rate"],
            "rate_after": ba.table.loc["after", "churn_rate"], "ratio": ba.ratio,
            "ratio_ci_low": ba.ratio_ci_adjusted[0], "ratio_ci_high": ba.ratio_ci_adjusted[1],
            "level_ratio": its.hazard_ratio_, "level_ratio_ci_low": its.hazard_ratio_ci_[0],
            "level_ratio_ci_high": its.hazard_ratio_ci_[1],
            "slope_change_pct": pct(its.slope_change_),
            "slope_change_pct_ci_low": pct(its.slope_change_ci_[0]),
            "slope_change_pct_ci_high": pct(its.slope_change_ci_[1]),
            "seasonal": its.seasonal_, "note": ""})
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=EVENT_COLUMNS)


def _nps_parts(x: np.ndarray) -> tuple[float, float]:
    """NPS (-100..100) of 0-10 answers and its variance (``var = (pP + pD - (pP - pD)^2) / n``)."""
    n = len(x)
    pp, pd_ = float(np.mean(x >= 9)), float(np.mean(x <= 6))
    return 100 * (pp - pd_), 100 ** 2 * (pp + pd_ - (pp - pd_) ** 2) / n


def experience_by_event(data: ChurnData, events: pd.DataFrame, *, freq: str = "M",
                        inactivity_days: int | None = None, seasonality: str = "none",
                        alpha: float = 0.05, tables=None) -> pd.DataFrame:
    """Satisfaction, NPS and complaint share before vs after each event, on the windows of
    :func:`each_event` (survey answers dated from the previous event to the event vs from the
    event to the next one; complaint share per ``freq`` period pooled on each side).

    One row per event and measure: ``event``, ``measure`` (``"mean CSAT"``, ``"NPS"``,
    ``"complaint share per period"``), ``before``, ``after``, ``difference`` (after - before) with
    ``ci_low`` / ``ci_high`` and ``p_value`` (Welch t test for CSAT, normal test for NPS, score
    test with Newcombe's interval for the complaint share), ``n_before`` / ``n_after`` (answers,
    or customer-periods). Measures the data lack are left out. The complaint share follows the
    control chart's ``seasonality`` rule (:func:`~churn_research.indicators.impact.before_after`).
    ``tables``: the same data as engine tables: the complaint share per period comes from the
    engine and the survey answers' dates and scores only are read (the same numbers).
    """
    z = stats.norm.ppf(1 - alpha / 2)
    dates = list(pd.to_datetime(events["date"]))
    share = None
    if data.has("tickets"):
        try:
            share = (complaint_table(data, freq=freq, inactivity_days=inactivity_days)
                     if tables is None or not tables.has("tickets") else
                     tables.complaint_table(freq=freq, inactivity_days=inactivity_days))
        except (ValueError, KeyError):
            share = None
    if not data.has("surveys"):
        surveys = None
    else:
        surveys = (data.surveys if tables is None or not tables.has("surveys")
                   else tables.survey_answers())
    rows = []
    for i, (date, name) in enumerate(zip(dates, events["event"], strict=True)):
        prev = dates[i - 1] if i > 0 else None
        nxt = dates[i + 1] if i + 1 < len(dates) else None
        if surveys is not None:
            d = pd.to_datetime(surveys["date"])
            lo_ok = d >= prev if prev is not None else pd.Series(True, index=d.index)
            hi_ok = d < nxt if nxt is not None else pd.Series(True, index=d.index)
            for col in ("csat", "nps"):
                if col not in surveys:
                    continue
                x = pd.to_numeric(surveys[col], errors="coerce")
                b = x[lo_ok & (d < date)].dropna().to_numpy(float)
                a = x[hi_ok & (d >= date)].dropna().to_numpy(float)
                if len(b) < 2 or len(a) < 2:
                    continue
                if col == "csat":
                    vb, va = b.mean(), a.mean()
                    test = stats.ttest_ind(a, b, equal_var=False)
                    ci = test.confidence_interval(1 - alpha)
                    row = {"measure": "mean CSAT", "before": vb, "after": va, "difference": va - vb,
                           "ci_low": float(ci.low), "ci_high": float(ci.high),
                           "p_value": float(test.pvalue)}
                else:
                    (vb, varb), (va, vara) = _nps_parts(b), _nps_parts(a)
                    se = float(np.sqrt(varb + vara))
                    row = {"measure": "NPS", "before": vb, "after": va, "difference": va - vb,
                           "ci_low": va - vb - z * se, "ci_high": va - vb + z * se,
                           "p_value": float(2 * stats.norm.sf(abs(va - vb) / se)) if se > 0 else np.nan}
                rows.append({"event": name, **row, "n_before": len(b), "n_after": len(a)})
        if share is not None:
            try:
                ba = before_after(_window(share, prev, nxt), event_date=date, numerator="complainants",
                         denominator="active", alpha=alpha, seasonality=seasonality)
            except ValueError:
                continue
            t_ = ba.table
            rows.append({"event": name, "measure": "complaint share per period",
                         "before": t_.loc["before", "churn_rate"], "after": t_.loc["after", "churn_rate"],
                         "difference": ba.difference, "ci_low": ba.difference_ci[0],
                         "ci_high": ba.difference_ci[1], "p_value": ba.p_value,
                         "n_before": int(t_.loc["before", "at_risk"]),
                         "n_after": int(t_.loc["after", "at_risk"])})
    return pd.DataFrame(rows, columns=["event", "measure", "before", "after", "difference",
                                       "ci_low", "ci_high", "p_value", "n_before", "n_after"])


@dataclass
class EventsImpact:
    """:func:`events_impact`'s result: ``table`` (:func:`each_event`) and ``experience``
    (:func:`experience_by_event`)."""

    table: pd.DataFrame
    experience: pd.DataFrame


def events_impact(data: ChurnData, *, freq: str = "M", events=None, link: str = "cloglog",
                  seasonality: str = "none", tables=None, **kw) -> EventsImpact | None:
    """:func:`each_event` on the data's churn table per ``freq`` period for the events chosen by
    ``events`` (:func:`select_events`), and :func:`experience_by_event`; None without an events
    table. ``kw`` go to :func:`~churn_research.indicators.churn_table`. ``tables``: the same
    data as engine tables (the notebook's ``tables``): the churn and complaint tables per period
    come from the engine (the same numbers)."""
    chosen = select_events(data, events)
    if chosen is None or chosen.empty:
        return None
    table = churn_table(data, freq=freq, **kw) if tables is None else tables.churn_table(freq=freq, **kw)
    return EventsImpact(
        each_event(table, chosen, link=link, seasonality=seasonality),
        experience_by_event(data, chosen, freq=freq, inactivity_days=kw.get("inactivity_days"),
                            seasonality=seasonality, tables=tables))


def events_figures(result: EventsImpact | None) -> dict[str, Any]:
    """Flat key figures: ``events.count`` and, per analysed event ``i`` (1, 2, ...), its date,
    level ratio with interval and before/after ratio, and the experience measures before/after."""
    if result is None:
        return {"events.count": 0}
    table = result.table
    out: dict[str, Any] = {"events.count": len(table)}
    index = {name: i for i, name in enumerate(table["event"], start=1)}
    keys = {"mean CSAT": "csat", "NPS": "nps", "complaint share per period": "complaint_share"}
    for row in result.experience.itertuples(index=False):
        for col in ("before", "after", "difference", "ci_low", "ci_high", "p_value"):
            out[f"events.{index[row.event]}.{keys[row.measure]}_{col}"] = getattr(row, col)
    for i, row in enumerate(table.itertuples(index=False), start=1):
        out[f"events.{i}.event"] = row.event
        out[f"events.{i}.date"] = row.date
        for col in EVENT_COLUMNS[3:-1]:
            value = getattr(row, col)
            if not (isinstance(value, float) and np.isnan(value)):
                out[f"events.{i}.{col}"] = value
        if row.note:
            out[f"events.{i}.note"] = row.note
    return out
