"""Figures of the survival stage: Kaplan-Meier curves, the Cox forest plot, hazard ratios by
tenure band, parametric extrapolation and sBG cohort projections.

Every function draws on ``ax`` (or a new figure), titles and labels it through
:func:`churn_research.plots.finish` and returns the axis.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullFormatter

from churn_research.i18n import _, is_chinese, label, t
from churn_research.plots import finish, percent_axis
from churn_research.wording import band_label, term_label

__all__ = ["plot_km", "at_risk_counts", "late_entrants", "add_at_risk_table", "plot_hazards", "plot_forest", "plot_band_hazard_ratios", "plot_parametric", "plot_sbg_projection"]


_TICKS = {  # round tick values for log axes, by how many-fold the axis spans
    "wide": (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100),
    "medium": (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10),
    "narrow": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3),
}


def _log_ticks(axis, lo: float, hi: float):
    """Readable ticks on a log-scaled axis: round values between lo and hi, always with 1."""
    lo, hi = min(lo, 1.0), max(hi, 1.0)
    span = hi / max(lo, 1e-12)
    choice = _TICKS["wide"] if span > 30 else _TICKS["medium"] if span > 4 else _TICKS["narrow"]
    ticks = [v for v in choice if lo * 0.9 <= v <= hi * 1.1]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _ax(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def at_risk_counts(kmf, times) -> np.ndarray:
    """Customers at risk at each of ``times`` for a fitted Kaplan-Meier (lifelines' risk set:
    entered at or before t, and still there at t -- their lifetime ends at t or later).

    Read from the fitter's event table: entrants up to t minus those removed before t, so at the
    table's own times it equals its ``at_risk`` column (delayed entry included).
    """
    et = kmf.event_table
    idx = et.index.to_numpy(float)
    entered = np.cumsum(et["entrance"].to_numpy(float))
    removed = np.r_[0.0, np.cumsum(et["removed"].to_numpy(float))]
    times = np.atleast_1d(np.asarray(times, float))
    n_in = np.where(times[:, None] >= idx[None, :], 1, 0).sum(axis=1)   # rows with time <= t
    n_out = np.where(times[:, None] > idx[None, :], 1, 0).sum(axis=1)   # rows with time < t
    out = np.where(n_in > 0, entered[np.maximum(n_in - 1, 0)], 0.0) - removed[n_out]
    return np.round(out).astype(int)


def add_at_risk_table(ax, fitters: Mapping, *, names: list[str] | None = None, colours=None):
    """The number at risk at each x tick, one row per curve, under the axis (the KMunicate
    layout; counts from :func:`at_risk_counts`)."""
    lo, hi = ax.get_xlim()
    ticks = [x for x in ax.get_xticks() if lo <= x <= hi]
    names = names or [label(g) for g in fitters]
    colours = colours or [f"C{k}" for k in range(len(fitters))]
    trans = ax.get_xaxis_transform()  # x in data units, y in axes fractions
    top = -0.16
    left = lo - 0.045 * (hi - lo)
    ax.text(left, top, _("Number at risk"), transform=trans, ha="right", va="top", fontsize=9,
            fontweight="bold")
    for k, (kmf, name, colour) in enumerate(zip(fitters.values(), names, colours, strict=True)):
        y = top - 0.065 * (k + 1)
        ax.text(left, y, name, transform=trans, ha="right", va="top", fontsize=8.5,
                color=colour)
        for x, n in zip(ticks, at_risk_counts(kmf, ticks), strict=True):
            ax.text(x, y, f"{n:,}", transform=trans, ha="center", va="top", fontsize=8.5, color=colour)
    return ax


def plot_km(fitters: Mapping, *, title: str, unit: str = "months", ax=None, ci: bool = True,
            xmax: float | None = None, median_line: bool = True, at_risk: bool = True):
    """Kaplan-Meier curves (one per group) with their confidence bands.

    Parameters
    ----------
    fitters : mapping
        ``{label: fitted lifelines.KaplanMeierFitter}`` (see ``survival.km_fit``).
    unit : str
        Time unit of the durations, for the x-axis label.
    xmax : float, optional
        Right end of the x-axis.
    median_line : bool
        Draw the 50% line (where a curve crosses it is the median lifetime).
    at_risk : bool
        Add the number-at-risk table under the axis (:func:`add_at_risk_table`).
    """
    ax = _ax(ax, figsize=(8, 5 + 0.25 * len(fitters)) if at_risk else None)
    colours, late_any = [], 0
    for group, kmf in fitters.items():
        sf = kmf.survival_function_.iloc[:, 0]
        n = int(kmf.event_table["removed"].sum())  # every customer leaves the risk set once
        late = late_entrants(kmf)
        late_any += late
        if late:  # n counts everyone ever at risk; the at-risk row at 0 only those there from the start
            name = t("{group} (n={n}; {late} enter late)", group=label(group), n=f"{n:,}", late=f"{late:,}")
        else:
            name = f"{label(group)}（n={n:,}）" if is_chinese() else f"{label(group)} (n={n:,})"
        line = ax.step(sf.index, sf.to_numpy(), where="post", label=name, lw=1.8)[0]
        colours.append(line.get_color())
        if ci:
            band = kmf.confidence_interval_survival_function_
            ax.fill_between(band.index, band.iloc[:, 0], band.iloc[:, 1], step="post",
                            color=line.get_color(), alpha=0.18, lw=0)
    if median_line:
        ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, xmax)
    percent_axis(ax)
    finish(ax, title=title, xlabel=t("Tenure ({unit})", unit=label(unit)), ylabel=_("Still customers (%)"))
    if at_risk:
        add_at_risk_table(ax, fitters, names=[label(g) for g in fitters], colours=colours)
        if late_any:
            y = -0.16 - 0.065 * (len(fitters) + 1) - 0.03
            note = "\n".join([_("n: customers ever at risk, late entrants included (already customers when the "
                                 "records begin)."),
                               _("Number at risk: customers at risk at that tenure; a late entrant counts from "
                                 "the tenure they had when the records begin.")])
            ax.text(0, y, note, transform=ax.transAxes, ha="left", va="top", fontsize=8, color="dimgrey")
    return ax


def late_entrants(kmf) -> int:
    """Customers of a fitted Kaplan-Meier who enter the risk set after tenure 0 (delayed entry)."""
    et = kmf.event_table
    return int(et.loc[et.index > 0, "entrance"].sum())


def _hazard_unit(unit: str) -> str:
    return {"days": _("Churn hazard (% per day)"), "weeks": _("Churn hazard (% per week)")}.get(
        unit, _("Churn hazard (% per month)"))


def plot_hazards(hazards: pd.DataFrame, *, unit: str = "months", title: str, ncols: int = 2,
                 segment_name=label):
    """Smoothed hazard per month (or unit) by tenure with its 95% band: one panel for all
    customers and one per segment (``survival.diagnostics.smoothed_hazards``, each curve already
    cut where too few customers remain at risk); returns the figure (None when no curve is
    left, e.g. a base smaller than ``min_at_risk``)."""
    panels = list(dict.fromkeys(hazards["segment"].where(hazards["segment"].notna(), None)))
    if not panels:  # no curve has enough customers at risk: nothing to draw (the text says so)
        return None
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.3 * nrows), sharex=True, squeeze=False)
    for ax, seg in zip(axes.ravel(), panels, strict=False):
        sub = hazards[hazards["segment"].isna()] if seg is None else hazards[hazards["segment"] == seg]
        for group, g in sub.groupby("group", sort=False):
            line = ax.plot(g["time"], 100 * g["hazard"], lw=1.6, label=label(group))[0]
            if "lower" in g:
                ax.fill_between(g["time"], 100 * g["lower"], 100 * g["upper"], color=line.get_color(),
                                alpha=0.15, lw=0)
        ax.set_ylim(bottom=0)
        finish(ax, title=label("all customers") if seg is None else segment_name(seg),
               xlabel=t("Tenure ({unit})", unit=label(unit)), ylabel=_hazard_unit(unit))
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_forest(ratios: pd.DataFrame, *, title: str, truth: Mapping[str, float] | None = None,
                ax=None, value: str = "hr", xlabel: str | None = None):
    """Forest plot of hazard (or time) ratios with confidence intervals.

    Parameters
    ----------
    ratios : DataFrame
        Indexed by covariate with columns ``value`` (default ``hr``), ``lower``, ``upper``.
    truth : mapping, optional
        ``{covariate: true ratio}`` drawn as red crosses (synthetic data).
    """
    xlabel = xlabel or _("Hazard ratio (log scale; < 1 = churn less)")
    r = ratios.iloc[::-1]
    ax = _ax(ax, figsize=(8, 0.45 * len(r) + 1.6))
    y = np.arange(len(r))
    est = r[value].to_numpy(float)
    ax.errorbar(est, y, xerr=[est - r["lower"].to_numpy(float), r["upper"].to_numpy(float) - est],
                fmt="o", color="C0", ecolor="C0", capsize=3, label=_("estimate (95% CI)"))
    if truth:
        ty = [i for i, c in enumerate(r.index) if c in truth]
        ax.scatter([truth[r.index[i]] for i in ty], ty, marker="x", color="C3", zorder=3, s=50,
                   label=_("true value"))
    ax.axvline(1.0, color="grey", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, [term_label(c) for c in r.index])
    values = np.r_[r["lower"].to_numpy(float), r["upper"].to_numpy(float), list((truth or {}).values())]
    _log_ticks(ax.xaxis, np.nanmin(values), np.nanmax(values))
    return finish(ax, title=title, xlabel=xlabel, ylabel=_("Covariate (vs reference level)"))


def plot_band_hazard_ratios(table: pd.DataFrame, *, title: str, unit: str = "months", ax=None):
    """Hazard ratios per tenure band (the time interaction of ``survival.piecewise_hazard_ratios``):
    a flat profile means proportional hazards hold for that covariate."""
    ax = _ax(ax)
    banded = table[table["band"] != "all"]
    bands = list(dict.fromkeys(banded["band"]))
    x = np.arange(len(bands))
    covs = list(dict.fromkeys(c.split(" @ ")[0] for c in banded.index))
    for k, cov in enumerate(covs):
        sub = banded[[c.split(" @ ")[0] == cov for c in banded.index]].set_index("band").reindex(bands)
        off = (k - (len(covs) - 1) / 2) * 0.08
        est = sub["hr"].to_numpy(float)
        ax.errorbar(x + off, est, yerr=[est - sub["lower"].to_numpy(float), sub["upper"].to_numpy(float) - est],
                    fmt="o-", capsize=3, label=term_label(cov))
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_yscale("log")
    _log_ticks(ax.yaxis, float(banded["lower"].min()), float(banded["upper"].max()))
    ax.set_xticks(x, [band_label(b) for b in bands])
    return finish(ax, title=title, xlabel=t("Tenure band ({unit})", unit=label(unit)),
                  ylabel=_("Hazard ratio (log scale)"))


def plot_parametric(km, fitters: Mapping, *, title: str, observed_until: float, unit: str = "months",
                    ax=None, best: str | None = None):
    """Kaplan-Meier curve with parametric fits extended beyond the observed window.

    Parameters
    ----------
    km : lifelines.KaplanMeierFitter
    fitters : mapping
        ``{name: fitted univariate parametric fitter}`` (``survival.fit_parametric``).
    observed_until : float
        Longest observed tenure; the region to its right is shaded as extrapolation.
    best : str, optional
        Name of the model to draw with its confidence band (e.g. the lowest AIC).
    """
    ax = _ax(ax)
    sf = km.survival_function_.iloc[:, 0]
    ax.step(sf.index, sf.to_numpy(), where="post", color="black", lw=1.6, label=_("Kaplan-Meier"))
    horizon = observed_until
    for k, (name, f) in enumerate(fitters.items()):
        s = f.survival_function_.iloc[:, 0]
        horizon = max(horizon, float(s.index.max()))
        ax.plot(s.index, s.to_numpy(), color=f"C{k}", lw=2 if name == best else 1.2,
                ls="-" if name == best else "--",
                label=t("{model} (best AIC)", model=label(name)) if name == best else label(name))
        if name == best:
            ci = f.confidence_interval_survival_function_
            ax.fill_between(ci.index, ci.iloc[:, 0], ci.iloc[:, 1], color=f"C{k}", alpha=0.15, lw=0)
    if horizon > observed_until:
        ax.axvspan(observed_until, horizon, color="grey", alpha=0.08, lw=0)
        ax.axvline(observed_until, color="grey", lw=1)
        ax.text(observed_until, 0.97, "  " + _("extrapolation"), va="top", ha="left", fontsize=9, color="dimgrey")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, horizon)
    percent_axis(ax)
    return finish(ax, title=title, xlabel=t("Tenure ({unit})", unit=label(unit)),
                  ylabel=_("Still customers (%)"))


def plot_sbg_projection(projection: pd.DataFrame, *, title: str, period_label: str = "months", ax=None):
    """Observed cohort survival (dots) vs the sBG projection (lines; solid over the calibration
    periods, dashed beyond), with the Kaplan-Meier curve if ``km_survival`` is present."""
    ax = _ax(ax)
    for k, (cohort, sub) in enumerate(projection.groupby("cohort", sort=False)):
        colour = f"C{k}"
        cal = sub[sub["calibration"]]
        ax.plot(sub["period"], sub["observed_survival"], "o", ms=3, color=colour, label=t("{cohort} observed", cohort=cohort))
        ax.plot(cal["period"], cal["projected_survival"], "-", color=colour, lw=1.6, label=t("{cohort} sBG fit", cohort=cohort))
        hold = sub[sub["period"] >= cal["period"].max()]
        ax.plot(hold["period"], hold["projected_survival"], "--", color=colour, lw=1.6)
    if "km_survival" in projection:
        km = projection.drop_duplicates("period").sort_values("period")
        ax.step(km["period"], km["km_survival"], where="post", color="black", lw=1.2, label=_("Kaplan-Meier (all)"))
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    finish(ax, title=title, xlabel=t("Tenure ({period}); solid = fitted, dashed = projected", period=period_label),
           ylabel=_("Still customers (%)"), legend=False)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.figure.tight_layout()
    return ax
