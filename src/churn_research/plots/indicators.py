"""Figures of the indicators stage: rates over time with confidence bands, revenue retention,
the cohort heatmap, targets, and the change-impact figures (before/after, interrupted time
series with its counterfactual, control chart with flagged periods).

Every function draws on ``ax`` (or a new figure), titles and labels it through
:func:`churn_research.plots.finish` and returns the axis (or the array of axes).
Partial periods (cut short by the observation window) are left out of line plots.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from churn_research.i18n import _, label, label_msg, t
from churn_research.plots import finish, percent_axis

__all__ = [
    "period_unit",
    "plot_rate",
    "plot_churn_retention",
    "plot_segment_rates",
    "plot_revenue_retention",
    "plot_cohort_heatmap",
    "plot_targets",
    "plot_before_after",
    "plot_its",
    "plot_control_chart",
]

_UNITS = {"M": label_msg("month"), "Q": label_msg("quarter"), "H": label_msg("half-year"),
          "Y": label_msg("year")}


def _indicator_name(name: str) -> str:
    """An indicator's name on a figure (a target's panel), in the report language."""
    names = {"churn_rate": _("Churn rate"), "retention_rate": _("Retention rate"),
             "csat": _("Mean CSAT"), "nps": _("NPS"),
             "complaint_rate": _("Complaints per active customer"),
             "share_complaining": _("Share complaining"), "share_satisfied": _("Share satisfied"),
             "recommendation_rate": _("Promoter share"),
             "repeat_purchase_rate": _("Repeat-purchase rate"),
             "grr": _("Gross revenue retention"), "nrr": _("Net revenue retention"),
             "growth_rate": _("Customer growth rate"), "joins": _("Joins (new customers)"),
             "net_adds": _("Net adds (joins − losses)"), "customers_end": _("Customers at end")}
    return names.get(name, label(name.replace("_", " ")))


def period_unit(table: pd.DataFrame) -> str:
    """``"month"``, ``"quarter"``, ... from a table's ``attrs["freq"]`` (default "period"); a
    data label: figures show it through :func:`churn_research.i18n.label`."""
    return _UNITS.get(table.attrs.get("freq"), label_msg("period"))


def _ax(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _complete(table: pd.DataFrame) -> pd.DataFrame:
    if "partial" in table:
        return table[~table["partial"].astype(bool)]
    return table


def _event_line(ax, event_date, text: str | None = None):
    if event_date is not None:
        ax.axvline(pd.Timestamp(event_date), color="0.3", ls=":", lw=1.2,
                   label=text or _("business change"))


def plot_rate(table: pd.DataFrame, value: str, *, title: str, ylabel: str,
              lo: str | None = None, hi: str | None = None, by: str | None = None,
              percent: bool = True, event_date=None, ax=None, xlabel: str | None = None,
              min_denominator: int = 0, denominator: str | None = None):
    """A rate over time with its confidence band, one line per segment of ``by``.

    Parameters
    ----------
    table : DataFrame
        Any indicator table with ``period_start`` and the ``value`` column (and ``lo`` / ``hi``).
    by : str, optional
        Segment column: one line per level.
    min_denominator : int
        Leave out points whose ``denominator`` column is below this (noisy tiny segments).
    """
    ax = _ax(ax)
    kept = _complete(table)
    if denominator is not None and min_denominator:
        kept = kept[kept[denominator] >= min_denominator]
    groups = [(None, kept)] if by is None else list(kept.groupby(by, sort=True, dropna=False))
    for name, g in groups:
        g = g.sort_values("period_start")
        x = pd.to_datetime(g["period_start"])
        line, = ax.plot(x, g[value], marker="o", ms=3, lw=1.6,
                        label=None if name is None else label(name))
        if lo is not None and hi is not None:
            ax.fill_between(x, g[lo], g[hi], color=line.get_color(), alpha=0.18, lw=0)
    _event_line(ax, event_date)
    _date_axis(ax)
    if percent:
        percent_axis(ax, decimals=1)
    # the legend under the axes: inside, the segment lines and their bands leave it no free corner
    return finish(ax, title=title, xlabel=xlabel or _("Period start"), ylabel=ylabel,
                  legend="below")


def _date_axis(ax) -> None:
    """At most seven date ticks, labelled concisely (months, then the year once), so that a
    short series of monthly periods does not print overlapping ``YYYY-MM`` labels."""
    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def plot_churn_retention(table: pd.DataFrame, *, title: str | None = None, event_date=None,
                         by: str | None = None):
    """Churn rate (left) and retention rate (right) per period with 95% Wilson bands (default
    title: "Churn and retention per <period>")."""
    unit = label(period_unit(table))
    title = title or t("Churn and retention per {unit}", unit=unit)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    plot_rate(table, "churn_rate", lo="churn_ci_low", hi="churn_ci_high", by=by,
              event_date=event_date, ax=axes[0], title=t("{title}: churn rate", title=title),
              ylabel=t("Customers lost per {unit} (% of those at risk)", unit=unit))
    plot_rate(table, "retention_rate", lo="retention_ci_low", hi="retention_ci_high", by=by,
              event_date=event_date, ax=axes[1], title=t("{title}: retention rate", title=title),
              ylabel=t("Customers retained per {unit} (%)", unit=unit))
    fig.tight_layout()
    return axes


def plot_segment_rates(pooled: pd.DataFrame, by: str, *, title: str, xlabel: str, ax=None,
                       reference: float | None = None):
    """Horizontal bars of pooled rates per segment with their 95% intervals.

    ``pooled`` is :func:`churn_research.indicators.pooled_rates` output; ``reference`` draws
    a vertical line (e.g. the overall rate).
    """
    p = pooled.sort_values("rate")
    ax = _ax(ax, figsize=(8, 0.45 * len(p) + 1.8))
    y = np.arange(len(p))
    err = np.vstack([p["rate"] - p["ci_low"], p["ci_high"] - p["rate"]])
    ax.barh(y, p["rate"], xerr=err, capsize=4, color="C0", alpha=0.85)
    ax.set_yticks(y, [label(v) for v in p[by]])
    if reference is not None:
        ax.axvline(reference, color="0.3", ls="--", lw=1, label=_("all customers"))
    percent_axis(ax, axis="x", decimals=1)
    # the reference line's legend beside the axes: inside, it sits on the longest bar
    return finish(ax, title=title, xlabel=xlabel, ylabel=_segment_name(by).capitalize(),
                  legend="right")


def _segment_name(by: str) -> str:
    """A segment column's name on a figure ("tenure group" for the built-in new-vs-existing
    segment), in the report language."""
    if by == "tenure_group":
        return _("tenure group")
    return label(by) if label(by) != by else by.replace("_", " ")


def plot_revenue_retention(table: pd.DataFrame, *, title: str | None = None, event_date=None,
                           ax=None):
    """Gross (GRR) and net (NRR) revenue retention per period (100% = base revenue kept)."""
    title = title or t("Revenue retention per {unit} (all revenue)", unit=label(period_unit(table)))
    ax = _ax(ax)
    kept = _complete(table).dropna(subset=["grr", "nrr"])
    x = pd.to_datetime(kept["period_start"])
    ax.plot(x, kept["grr"], marker="o", ms=3, label=_("gross revenue retention (GRR)"))
    ax.plot(x, kept["nrr"], marker="s", ms=3, label=_("net revenue retention (NRR)"))
    ax.axhline(1.0, color="0.5", lw=0.8)
    _event_line(ax, event_date)
    percent_axis(ax)
    unit = label(period_unit(table))
    return finish(ax, title=title, xlabel=_("Period start"),
                  ylabel=t("Revenue kept vs previous {unit} (%)", unit=unit))


def plot_cohort_heatmap(matrix: pd.DataFrame, *, title: str | None = None, ax=None,
                        max_cohorts: int = 36):
    """Heatmap of a cohort retention matrix (rows: start month; columns: months since start)."""
    title = title or _("Share of each start-month cohort still a customer")
    m = matrix.tail(max_cohorts).dropna(axis=1, how="all")
    ax = _ax(ax, figsize=(12, max(4.0, 0.22 * len(m) + 1.5)))
    sns.heatmap(m, ax=ax, cmap="viridis", vmin=0, vmax=1,
                cbar_kws={"label": _("share still a customer")},
                xticklabels=max(1, m.shape[1] // 20), yticklabels=max(1, len(m) // 24))
    return finish(ax, title=title, xlabel=_("Months since start"), ylabel=_("Start-month cohort"))


def plot_targets(series: pd.DataFrame, targets: pd.DataFrame, *, title: str | None = None,
                 labels: dict | None = None):
    """One panel per target: the indicator over time, the straight path from baseline to
    target (dashed) and the target at its deadline (star). Each panel is titled
    "``title``: indicator" (default "Target: indicator", in the report language)."""
    rows = targets[targets["indicator"].isin(series.columns) & targets["target"].notna()]
    if rows.empty:
        return None
    n = len(rows)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.2), squeeze=False)
    kept = _complete(series)
    unit = label(period_unit(series))
    for ax, (_i, r) in zip(axes[0], rows.iterrows(), strict=True):
        name = r["indicator"]
        x = pd.to_datetime(kept["period_end"])
        ax.plot(x, kept[name], marker="o", ms=3, label=_("actual"))
        if r.get("baseline_period") is not None and not pd.isna(r["baseline"]):
            b_end = pd.to_datetime(series.loc[series["period"] == r["baseline_period"], "period_end"]).iloc[0]
            ax.plot([b_end, pd.Timestamp(r["by"])], [r["baseline"], r["target"]], ls="--",
                    color="0.4", label=_("path to target"))
        ax.plot([pd.Timestamp(r["by"])], [r["target"]], marker="*", ms=14, color="C3", ls="",
                label=t("target ({status})", status=label(r["status"])))
        pct = name not in ("csat", "nps")
        if pct:
            percent_axis(ax, decimals=1)
        shown = (labels or {}).get(name) or _indicator_name(name)
        ylabel = (t("{indicator} per {unit} (%)", indicator=shown, unit=unit) if pct else
                  t("{indicator} per {unit} (points, -100 to 100)", indicator=shown, unit=unit)
                  if name == "nps" else t("{indicator} per {unit} (1-5)", indicator=shown, unit=unit))
        panel = (t("Target: {indicator}", indicator=shown) if title is None else
                 ": ".join([title, shown]))
        finish(ax, title=panel, xlabel=_("Period end"),
               ylabel=ylabel, legend="below")
    fig.tight_layout()
    return axes[0]


def plot_before_after(result, *, title: str | None = None, ax=None, unit: str = "month",
                      event_date=None):
    """Pooled churn before vs after the change (on ``event_date``) with 95% intervals."""
    if title is None:
        title = t("Churn per {unit} before vs after {date}", unit=label(unit),
                  date=f"{pd.Timestamp(event_date):%Y-%m-%d}")
    ax = _ax(ax, figsize=(6.5, 4.2))
    tab = result.table
    x = np.arange(len(tab))
    err = np.vstack([tab["churn_rate"] - tab["ci_low"], tab["ci_high"] - tab["churn_rate"]])
    ax.bar(x, tab["churn_rate"], yerr=err, capsize=8, color=["C0", "C3"], alpha=0.85)
    ax.set_xticks(x, [t("{phase}\n({first} to {last})", phase=label(i), first=r["first"], last=r["last"])
                      for i, r in tab.iterrows()])
    percent_axis(ax, decimals=1)
    return finish(ax, title=title, xlabel=_("Phase (periods pooled)"),
                  ylabel=t("Churn per {unit} (% of customers at risk)", unit=label(unit)))


def plot_its(its, *, title: str | None = None, ax=None, unit: str = "month"):
    """Observed churn (points with Wilson bars), the fitted segmented trend and the
    counterfactual (pre-change trend continued, dashed, with its 95% band)."""
    title = title or _("Interrupted time series: churn with the no-change counterfactual")
    ax = _ax(ax, figsize=(11, 4.8))
    s = its.series_
    used = s[s["used"]]
    x = pd.to_datetime(used["period_start"])
    ax.errorbar(x, used["rate"], yerr=np.vstack([used["rate"] - used["rate_ci_low"],
                                                  used["rate_ci_high"] - used["rate"]]),
                fmt="o", ms=3.5, color="0.35", ecolor="0.75", lw=1, label=_("observed (95% CI)"))
    for phase, color, lab in (("before", "C0", _("fitted trend before")),
                              ("after", "C3", _("fitted trend after"))):
        part = s[(s["phase"] == phase) & s["used"]]
        ax.plot(pd.to_datetime(part["period_start"]), part["fitted"], color=color, lw=2, label=lab)
    cf = s[s["counterfactual"].notna() & s["used"]]
    xc = pd.to_datetime(cf["period_start"])
    ax.plot(xc, cf["counterfactual"], color="C0", ls="--", lw=2,
            label=_("counterfactual (no change)"))
    ax.fill_between(xc, cf["cf_ci_low"], cf["cf_ci_high"], color="C0", alpha=0.15, lw=0)
    _event_line(ax, its.event_date_)
    percent_axis(ax, decimals=1)
    # legend below the axes: inside, it covers the post-change points it is about
    return finish(ax, title=title, xlabel=_("Period start"),
                  ylabel=t("Churn per {unit} (% of customers at risk)", unit=label(unit)), legend="below")


def plot_control_chart(chart, *, title: str | None = None, ax=None, unit: str = "month",
                       what: str | None = None, ylabel: str | None = None):
    """Control chart ("Early warning: churn per <period>"): churn per period, centre line,
    control limits, baseline shaded, and flagged periods (above the upper limit) marked in red.
    ``what`` / ``ylabel``: the charted rate's legend entry and axis label (default churn's)."""
    title = title or t("Early warning: churn per {unit}", unit=label(unit))
    ax = _ax(ax, figsize=(11, 4.8))
    tab = chart.table_[chart.table_["phase"] != "not charted"]
    x = pd.to_datetime(tab["period_start"])
    hist = tab["phase"] == "history"
    ax.plot(x, tab["rate"], color="0.3", lw=1.2, label=what or _("churn rate"))
    ax.plot(x[~hist], tab.loc[~hist, "rate"], "o", ms=3.5, color="0.3")
    if hist.any():
        ax.plot(x[hist], tab.loc[hist, "rate"], "o", ms=3.5, color="0.7",
                label=_("before the baseline (context, not flagged)"))
    xl, tl = x[~hist], tab[~hist]
    ax.step(xl, tl["ucl"], where="mid", color="C3", lw=1.2, label=_("upper control limit"))
    ax.step(xl, tl["lcl"], where="mid", color="C3", lw=1.2, ls="--", label=_("lower control limit"))
    if getattr(chart, "seasonal_", False):
        ax.step(xl, tl["center"], where="mid", color="C0", lw=1.2,
                label=_("centre line (baseline, per calendar month)"))
    else:
        ax.plot([xl.min(), xl.max()], [chart.center_] * 2, color="C0", lw=1.2,
                label=_("centre line (baseline)"))
    base = tab[tab["phase"].str.startswith("baseline")]
    if len(base):
        ax.axvspan(pd.to_datetime(base["period_start"]).min(),
                   pd.to_datetime(base["period_start"]).max(), color="C0", alpha=0.07,
                   label=_("Phase I baseline"))
    hi = tab[tab["signal"] == "high"]
    ax.plot(pd.to_datetime(hi["period_start"]), hi["rate"], "o", ms=8, mfc="none", mec="red",
            mew=2, label=_("abnormally high (signal)"))
    lo = tab[tab["signal"] == "low"]
    if len(lo):
        ax.plot(pd.to_datetime(lo["period_start"]), lo["rate"], "o", ms=8, mfc="none",
                mec="C2", mew=2, label=_("abnormally low"))
    percent_axis(ax, decimals=1)
    # the legend beside the axes: inside, it covered the flagged points and the upper limit
    return finish(ax, title=t("{title} ({chart}-chart)", title=title, chart=chart.chart_),
                  xlabel=_("Period start"),
                  ylabel=ylabel or t("Churn per {unit} (% of customers at risk)", unit=label(unit)),
                  legend="right")


def plot_complaint_handling(ch, *, unit: str = "month"):
    """The complaint-handling figures (``ch``: a
    :class:`~churn_research.indicators.complaints.ComplaintHandling`): churn's and the complaint
    share's control charts one above the other (the early warning), and, with resolution data,
    resolution per period beside churn within N days by resolution time (Wilson intervals).
    Returns the axes drawn (empty when there are no complaints)."""
    axes = []
    if ch.chart is not None:
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(11, 9.5), sharex=True)
        plot_control_chart(ch.churn_chart, ax=a1, unit=unit)
        plot_control_chart(ch.chart, ax=a2, unit=unit, what=_("complaint share"),
                           title=t("Early warning: share of customers complaining per {unit}",
                                   unit=label(unit)),
                           ylabel=t("Customers with a complaint (% of those on the books, per {unit})",
                                    unit=label(unit)))
        axes += [a1, a2]
    if ch.resolution is None or ch.dose is None:
        return axes
    fig, (b1, b2) = plt.subplots(1, 2, figsize=(12, 4.5))
    r = _complete(ch.resolution)
    r = r[r["complaints"] > 0]
    x = pd.to_datetime(r["period_start"])
    for col, lo, hi, name, color in (
            ("resolution_rate", "resolution_ci_low", "resolution_ci_high", _("resolved"), "C0"),
            ("within_target_rate", "within_ci_low", "within_ci_high",
             t("resolved within {d} days", d=f"{ch.service_target_days:g}"), "C1")):
        b1.plot(x, r[col], "o-", ms=3, color=color, label=name)
        b1.fill_between(x, r[lo], r[hi], color=color, alpha=0.15)
    percent_axis(b1, decimals=0)
    _date_axis(b1)
    b1.set_ylim(0, 1.02)
    twin = b1.twinx()
    twin.plot(x, r["median_days"], "s--", ms=3, color="0.4", label=_("median days (right axis)"))
    twin.set_ylabel(_("Median days to resolution"))
    twin.set_ylim(0, max(1.0, float(r["median_days"].max()) * 1.5))
    h1, l1 = b1.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    b1.legend(h1 + h2, l1 + l2, frameon=False, fontsize=8, loc="lower left")
    finish(b1, title=t("Complaint resolution per {unit}", unit=label(period_unit(ch.resolution))),
           xlabel=_("Period start"), ylabel=_("Share of the period's complaints"), legend=False)
    d = ch.dose
    names = list(d["band_label"])
    pos = np.arange(len(d))
    b2.bar(pos, d["churn_rate"], color=["C0"] * (len(d) - 1) + ["C3"], alpha=0.8)
    b2.errorbar(pos, d["churn_rate"], yerr=[d["churn_rate"] - d["ci_low"], d["ci_high"] - d["churn_rate"]],
                fmt="none", ecolor="0.2", capsize=4)
    b2.set_xticks(pos, names, rotation=15)
    percent_axis(b2, decimals=0)
    finish(b2, title=t("Churn within {n} days after a complaint, by resolution time",
                       n=d.attrs["within_days"]),
           xlabel=_("Time to resolution (bars: 95% Wilson intervals)"),
           ylabel=t("Left within {n} days (% of complaints)", n=d.attrs["within_days"]))
    return axes + [b1, b2]


def _annual_what(annual) -> str:
    """What the dataset's annual churn was read from, for the figure's axis and legend."""
    if annual.method == "survival curve":
        return _("1 − survival at 12 months")
    if annual.method == "window, annualised":
        return t("last {n} months, annualised", n=annual.months)
    return _("last 12 months")


def _two_lines(text: str) -> str:
    """A tick label broken at the space nearest its middle (unchanged without a space)."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


def annual_is_last_year(full: pd.DataFrame, annual) -> bool:
    """Whether the dataset's annual churn (``annual``, a 12-month window) is the last complete
    calendar year of ``full`` (the same customers and losses): drawn once, not twice."""
    if annual is None or not len(full) or annual.method != "window" or annual.months != 12:
        return False
    last = full.iloc[-1]
    return (int(last["denominator"]) == int(annual.at_risk) and int(last["numerator"]) == int(annual.lost)
            and pd.Timestamp(last["period_end"]).normalize() == pd.Timestamp(annual.window_end).normalize())


def plot_annual_churn(yearly: pd.DataFrame, annual, *, band=(0.10, 0.30),
                      source: str | None = None, ax=None):
    """Annual churn per calendar year (churn among the customers on the books on 1 January,
    complete years, Wilson intervals) and the dataset's annual churn (``annual``:
    :class:`~churn_research.annual.AnnualChurn`), against a benchmark band (``band``: low and
    high annual churn, None: no band; ``source`` names where it comes from)."""
    ax = _ax(ax, figsize=(8, 4.2))
    full = _complete(yearly)
    full = full[full["denominator"] > 0]
    if band is not None:
        ax.axhspan(float(band[0]), float(band[1]), color="C2", alpha=0.12,
                   label=(t("benchmark {low}–{high} a year ({source})", low=f"{band[0]:.0%}",
                            high=f"{band[1]:.0%}", source=source) if source else
                          t("benchmark {low}–{high} a year", low=f"{band[0]:.0%}",
                            high=f"{band[1]:.0%}")))
    names = list(full["period"].astype(str))
    pos = np.arange(len(names))
    if len(full):
        ax.errorbar(pos, full["churn_rate"], yerr=[full["churn_rate"] - full["churn_ci_low"],
                                                   full["churn_ci_high"] - full["churn_rate"]],
                    fmt="o", color="C0", capsize=4, label=_("calendar year (customers on the books on 1 January)"))
    same = annual_is_last_year(full, annual)
    if same:
        # the last 12 months are the last calendar year: one point, marked as both
        last = full.iloc[-1]
        ax.errorbar([pos[-1]], [last["churn_rate"]],
                    yerr=[[last["churn_rate"] - last["churn_ci_low"]], [last["churn_ci_high"] - last["churn_rate"]]],
                    fmt="D", color="C3", capsize=4,
                    label=t("{year} is also the dataset's annual churn (its last 12 months are this "
                            "calendar year)", year=str(last["period"])))
    elif annual is not None and np.isfinite(annual.rate):
        x = len(names)
        ax.errorbar([x], [annual.rate], yerr=[[annual.rate - annual.ci_low], [annual.ci_high - annual.rate]],
                    fmt="D", color="C3", capsize=4, label=t("the dataset's annual churn ({what})",
                                                              what=_annual_what(annual)))
        names.append(_two_lines(_annual_what(annual)))
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylim(0, max(0.35, float(np.nanmax([*full["churn_ci_high"], annual.ci_high if annual else 0,
                                               band[1] if band else 0])) * 1.1))
    percent_axis(ax, decimals=0)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    return finish(ax, title=_("Annual churn against the benchmark"), xlabel=_("Year"),
                  ylabel=_("Customers lost within a year (%)"), legend=False)



#: The rate charts of the report: value, interval columns, percent axis, title and y label
#: (``{unit}`` is the period's name, ``{label}`` the segment column's); the titles and labels
#: are translated when drawn (:func:`plot_indicator`).
RATE_CHARTS = {
    "churn": ("churn_rate", "churn_ci_low", "churn_ci_high", True,
              "Churn per {unit} over time by {label}", "Customers lost per {unit} (%)"),
    "complaints": ("share_complaining", "share_complaining_ci_low", "share_complaining_ci_high", True,
                   "Share of customers on the books complaining per {unit}",
                   "Customers with a complaint (% of those on the books, per {unit})"),
    "csat": ("csat", "csat_ci_low", "csat_ci_high", False, "Mean satisfaction (CSAT) per {unit}",
             "Mean CSAT (1 = very unsatisfied, 5 = very satisfied)"),
    "nps": ("nps", "nps_ci_low", "nps_ci_high", False, "Net Promoter Score per {unit}",
            "NPS (% promoters − % detractors, points)"),
    "repeat": ("repeat_purchase_rate", "repeat_ci_low", "repeat_ci_high", True,
               "Repeat-purchase rate per {unit}", "Active past buyers who bought again (% per {unit})"),
}


def plot_indicator(table: pd.DataFrame, chart: str, *, unit: str, event_date=None,
                   by: str | None = None, title: str | None = None):
    """One of the report's :data:`RATE_CHARTS` over time (one line per level of ``by``)."""
    value, lo, hi, percent, title_, ylabel = RATE_CHARTS[chart]
    names = {"unit": label(unit), "label": _segment_name(by) if by else ""}
    return plot_rate(table, value, lo=lo, hi=hi, by=by, percent=percent, event_date=event_date,
                     title=title or _(title_).format(**names), ylabel=_(ylabel).format(**names))


def _rate_chart_messages() -> None:
    """The :data:`RATE_CHARTS` texts, marked for the catalog (never called)."""
    _("Churn per {unit} over time by {label}")
    _("Customers lost per {unit} (%)")
    _("Share of customers on the books complaining per {unit}")
    _("Customers with a complaint (% of those on the books, per {unit})")
    _("Mean satisfaction (CSAT) per {unit}")
    _("Mean CSAT (1 = very unsatisfied, 5 = very satisfied)")
    _("Net Promoter Score per {unit}")
    _("NPS (% promoters − % detractors, points)")
    _("Repeat-purchase rate per {unit}")
    _("Active past buyers who bought again (% per {unit})")


def plot_segment_churn(pooled: pd.DataFrame, by: str, *, unit: str, reference: float | None = None,
                       title: str | None = None, snapshot: bool = False):
    """Churn per period pooled over the window, one bar per level of ``by``; ``snapshot``: one
    snapshot, whose only period is its last one (the share who left in it, not a churn rate of
    the business: review s7, telco)."""
    words = {"unit": label(unit), "label": _segment_name(by)}
    if snapshot:
        default = t("Share who left in the snapshot's last {unit} by {label}", **words)
        xlabel = t("Customers who left in the snapshot's last {unit} (%)", unit=words["unit"])
    else:
        default = t("Churn per {unit} by {label}", **words)
        xlabel = t("Customers lost per {unit} (%, pooled over the window)", unit=words["unit"])
    return plot_segment_rates(pooled, by, reference=reference, title=title or default,
                              xlabel=xlabel)


def plot_tenure(tenure: pd.DataFrame, pooled: pd.DataFrame, *, unit: str, title: str,
                pooled_title: str, event_date=None, snapshot: bool = False):
    """New vs existing customers: churn over time by tenure group when there are more than two
    periods (``title``), else the pooled rates as bars (``pooled_title``; ``pooled`` indexed by
    ``tenure_group``; ``snapshot`` as in :func:`plot_segment_churn`)."""
    if tenure["period"].nunique() > 2:
        return plot_indicator(tenure, "churn", by="tenure_group", unit=unit, event_date=event_date,
                              title=title)
    return plot_segment_churn(pooled.reset_index(), "tenure_group", unit=unit, title=pooled_title,
                              snapshot=snapshot)
