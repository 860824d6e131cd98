"""Figures of the 50_clv stage: lifetime value, residual lifetime, BTYD validation, scenarios."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from churn_research.i18n import _, _p, is_chinese, label, money_unit, t
from churn_research.plots import finish, percent_axis
from churn_research.wording import scenario_name


def _axes(ax, figsize=None):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def survival_curves(curve: pd.DataFrame, *, max_t: int | None = None, ax=None,
                    title: str | None = None, time_label: str | None = None):
    """S(t) per segment; the Kaplan-Meier range solid, the extrapolated tail dashed."""
    title = title or _("Retention curve: Kaplan-Meier, then the parametric tail")
    time_label = time_label or _("tenure (months)")
    fig, ax = _axes(ax)
    groups = ({s: g for s, g in curve.groupby("segment", sort=True)} if "segment" in curve
              else {_("all customers"): curve})
    stars = curve.attrs.get("t_star", {})
    if max_t is None:
        max_t = int(min(curve["t"].max(), max(2 * max(stars.values(), default=60), 60)))
    for i, (seg, g) in enumerate(groups.items()):
        g = g[g["t"] <= max_t]
        km = g["source"] == "kaplan_meier"
        colour = f"C{i % 10}"
        ax.plot(g.loc[km, "t"], g.loc[km, "survival"], color=colour, label=label(seg))
        tail = g[~km | (g["t"] == g.loc[km, "t"].max())]
        ax.plot(tail["t"], tail["survival"], color=colour, linestyle="--")
    ax.plot([], [], color="grey", linestyle="--", label=_("parametric tail"))
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    finish(ax, title=title, xlabel=time_label, ylabel=_("still a customer (%)"), legend=True)
    return fig


def clv_distribution(values: pd.Series, *, ax=None, bins: int = 50,
                     title: str | None = None, xlabel: str | None = None, currency: str | None = ""):
    """Histogram of per-customer values with the mean and median marked."""
    title = title or _("Distribution of customer lifetime value")
    xlabel = xlabel or t("lifetime value per customer ({unit})", unit=money_unit(currency))
    fig, ax = _axes(ax)
    v = pd.Series(values).dropna().astype(float)
    upper = v.quantile(0.99) if len(v) > 100 else v.max()
    ax.hist(v.clip(upper=upper), bins=bins, color="C0", alpha=0.8)
    ax.axvline(v.mean(), color="C3", linestyle="-", label=t("mean {value}", value=f"{v.mean():,.0f}"))
    ax.axvline(v.median(), color="C2", linestyle="--",
               label=t("median {value}", value=f"{v.median():,.0f}"))
    finish(ax, title=title, xlabel=xlabel + (_(" (top 1% clipped)") if len(v) > 100 else ""),
           ylabel=_("customers (count)"), legend=True)
    return fig


def clv_by_segment(table: pd.DataFrame, *, column: str = "clv", ax=None,
                   title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
                   currency: str | None = ""):
    """Horizontal bars of a value column per segment (index)."""
    title = title or _("Lifetime value of a new customer by segment")
    xlabel = xlabel or t("expected lifetime value ({unit})", unit=money_unit(currency))
    ylabel = ylabel or _p("clv", "segment")
    fig, ax = _axes(ax, figsize=(9, max(2.5, 0.45 * len(table) + 1.2)))
    values = table[column].sort_values()
    ax.barh([label(i) for i in values.index], values.to_numpy(), color="C0")
    for y, v in enumerate(values.to_numpy()):
        ax.text(v, y, f" {v:,.0f}", va="center")
    ax.margins(x=0.15)
    finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def derl_by_renewals(table: pd.DataFrame, *, curve_table: pd.DataFrame | None = None, ax=None,
                     title: str | None = None, xlabel: str | None = None,
                     ylabel: str | None = None):
    """DERL against renewals, one line per column of ``table`` (index = renewals).

    ``curve_table`` (same layout, e.g. :func:`churn_research.clv.curve_derl`) is drawn dashed
    in the same colours: the model-free reading next to the sBG.
    """
    title = title or _("Discounted expected residual lifetime by tenure")
    xlabel = xlabel or _("renewals made so far (months of tenure)")
    ylabel = ylabel or _("discounted expected residual lifetime (months)")
    fig, ax = _axes(ax)
    for i, col in enumerate(table.columns):
        ax.plot(table.index, table[col], marker="o", color=f"C{i % 10}",
                label=t("{segment} (sBG)", segment=label(col)))
        if curve_table is not None and col in curve_table.columns:
            ax.plot(curve_table.index, curve_table[col], marker="x", linestyle="--",
                    color=f"C{i % 10}", label=t("{segment} (retention curve)", segment=label(col)))
    finish(ax, title=title, xlabel=xlabel, ylabel=ylabel, legend=True)
    return fig


def calibration_holdout(table: pd.DataFrame, *, ax=None,
                        title: str | None = None, time_label: str | None = None):
    """Mean holdout purchases by calibration-period frequency: actual vs predicted (FHL Fig. 4)."""
    title = title or _("Holdout purchases: BG/NBD prediction vs actual")
    time_label = time_label or _("holdout period")
    fig, ax = _axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual"], marker="o", color="C0", label=_("actual"))
    ax.plot(x, table["predicted"], marker="s", linestyle="--", color="C1", label="BG/NBD")
    ax.set_xticks(x, [str(i) for i in table.index])
    finish(ax, title=(f"{title}（{time_label}）" if is_chinese() else f"{title} ({time_label})"),
           xlabel=_("repeat purchases in the calibration period"),
           ylabel=_("holdout purchases per customer (mean count)"), legend=True)
    return fig


def tracking_plot(tracking: pd.DataFrame, *, unit: str | None = None, title: str | None = None):
    """Repeat transactions: actual vs BG/NBD expected, cumulative and per period, with a line at
    the calibration end (FHL 2005, Fig. 3 and 5)."""
    title = title or _("Tracking plot: repeat transactions, actual vs BG/NBD")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    x = tracking["period"]
    cal = tracking.loc[~tracking["holdout"], "period"].max()
    xlabel = t("{unit} since the first purchase", unit=unit or label("weeks"))
    for ax, (act, exp, sub, ylab) in zip(axes, [
            ("actual_cumulative", "expected_cumulative", _("Cumulative"),
             _("cumulative repeat transactions")),
            ("actual", "expected", _("Per period"), _("repeat transactions per period"))],
            strict=True):
        ax.plot(x, tracking[act], color="C0", label=_("actual"))
        ax.plot(x, tracking[exp], color="C1", linestyle="--", label="BG/NBD")
        ax.axvline(cal, color="grey", linestyle=":", label=_("end of calibration"))
        finish(ax, title=sub, xlabel=xlabel, ylabel=ylab, legend=True)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def frequency_histogram(table: pd.DataFrame, *, ax=None,
                        title: str | None = None):
    """Customers by number of repeat purchases: actual vs BG/NBD expected (FHL Fig. 2)."""
    title = title or _("Repeat purchases in the calibration period: fit")
    fig, ax = _axes(ax)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["actual"], width=0.4, color="C0", label=_("actual"))
    ax.bar(x + 0.2, table["expected"], width=0.4, color="C1", label="BG/NBD")
    ax.set_xticks(x, [str(i) for i in table.index])
    chi2 = table.attrs.get("chi2")
    if chi2 is not None:
        title = t("{title} (chi2 = {chi2}, df = {dof})", title=title, chi2=f"{chi2:.1f}",
                  dof=table.attrs.get("dof"))
    finish(ax, title=title, xlabel=_("repeat purchases in the calibration period"),
           ylabel=_("customers (count)"), legend=True)
    return fig


def p_alive_matrix(model, *, T: float, max_frequency: int = 20, n_recency: int = 40, ax=None,
                   time_label: str = "weeks", title: str | None = None):
    """Heat map of P(alive) for a customer of age ``T`` (the classic BG/NBD picture);
    ``time_label`` is a time unit (a data label: ``weeks``, ``days``, ``months``)."""
    title = title or _("P(alive) by frequency and recency")
    time_label = label(time_label)
    fig, ax = _axes(ax)
    freq = np.arange(max_frequency + 1)
    rec = np.linspace(0, T, n_recency)
    F, R = np.meshgrid(freq, rec, indexing="ij")
    P = np.where((F == 0) & (R > 0), np.nan, model.p_alive(F, np.where(F == 0, 0, R), T))
    im = ax.imshow(P, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   extent=(0, T, -0.5, max_frequency + 0.5))
    fig.colorbar(im, ax=ax, label=_("P(alive)"))
    ax.grid(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    finish(ax, title=t("{title} (customer age {age} {unit})", title=title, age=f"{T:.0f}",
                       unit=time_label),
           xlabel=t("recency: time of the last purchase ({unit})", unit=time_label),
           ylabel=_("repeat purchases (count)"))
    return fig


def scenario_bars(table: pd.DataFrame, *, ax=None, column: str = "extra_profit",
                  title: str | None = None, xlabel: str | None = None, currency: str | None = ""):
    """Horizontal bars of the extra profit of each retention scenario (baseline excluded)."""
    title = title or _("What lower churn is worth")
    xlabel = xlabel or t("extra profit over the horizon ({unit})", unit=money_unit(currency))
    values = table.drop(index="baseline", errors="ignore")[column]
    fig, ax = _axes(ax, figsize=(9, max(2.5, 0.5 * len(values) + 1.2)))
    ax.barh([scenario_name(i) for i in values.index], values.to_numpy(), color="C2")
    for y, v in enumerate(values.to_numpy()):
        ax.text(v, y, f" {v:,.0f}", va="center")
    ax.margins(x=0.15)
    finish(ax, title=title, xlabel=xlabel, ylabel=_("scenario"))
    return fig
