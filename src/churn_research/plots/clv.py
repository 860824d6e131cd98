"""Figures of the 50_clv stage: lifetime value, residual lifetime, BTYD validation, scenarios."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from churn_research.plots import finish, percent_axis


def _axes(ax, figsize=None):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def survival_curves(curve: pd.DataFrame, *, max_t: int | None = None, ax=None,
                    title: str = "Retention curve: Kaplan-Meier, then the parametric tail",
                    time_label: str = "tenure (months)"):
    """S(t) per segment; the Kaplan-Meier range solid, the extrapolated tail dashed."""
    fig, ax = _axes(ax)
    groups = ({s: g for s, g in curve.groupby("segment", sort=True)} if "segment" in curve
              else {"all customers": curve})
    stars = curve.attrs.get("t_star", {})
    if max_t is None:
        max_t = int(min(curve["t"].max(), max(2 * max(stars.values(), default=60), 60)))
    for i, (seg, g) in enumerate(groups.items()):
        g = g[g["t"] <= max_t]
        km = g["source"] == "kaplan_meier"
        colour = f"C{i % 10}"
        ax.plot(g.loc[km, "t"], g.loc[km, "survival"], color=colour, label=f"{seg}")
        tail = g[~km | (g["t"] == g.loc[km, "t"].max())]
        ax.plot(tail["t"], tail["survival"], color=colour, linestyle="--")
    ax.plot([], [], color="grey", linestyle="--", label="parametric tail")
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    finish(ax, title=title, xlabel=time_label, ylabel="still a customer (%)", legend=True)
    return fig


def clv_distribution(values: pd.Series, *, ax=None, bins: int = 50,
                     title: str = "Distribution of customer lifetime value",
                     xlabel: str = "lifetime value per customer (currency units)"):
    """Histogram of per-customer values with the mean and median marked."""
    fig, ax = _axes(ax)
    v = pd.Series(values).dropna().astype(float)
    upper = v.quantile(0.99) if len(v) > 100 else v.max()
    ax.hist(v.clip(upper=upper), bins=bins, color="C0", alpha=0.8)
    ax.axvline(v.mean(), color="C3", linestyle="-", label=f"mean {v.mean():,.0f}")
    ax.axvline(v.median(), color="C2", linestyle="--", label=f"median {v.median():,.0f}")
    finish(ax, title=title, xlabel=xlabel + (" (top 1% clipped)" if len(v) > 100 else ""),
           ylabel="customers (count)", legend=True)
    return fig


def clv_by_segment(table: pd.DataFrame, *, column: str = "clv", ax=None,
                   title: str = "Lifetime value of a new customer by segment",
                   xlabel: str = "expected lifetime value (currency units)", ylabel: str = "segment"):
    """Horizontal bars of a value column per segment (index)."""
    fig, ax = _axes(ax, figsize=(9, max(2.5, 0.45 * len(table) + 1.2)))
    t = table[column].sort_values()
    ax.barh([str(i) for i in t.index], t.to_numpy(), color="C0")
    for y, v in enumerate(t.to_numpy()):
        ax.text(v, y, f" {v:,.0f}", va="center")
    ax.margins(x=0.15)
    finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def derl_by_renewals(table: pd.DataFrame, *, curve_table: pd.DataFrame | None = None, ax=None,
                     title: str = "Discounted expected residual lifetime by tenure",
                     xlabel: str = "renewals made so far (months of tenure)",
                     ylabel: str = "discounted expected residual lifetime (months)"):
    """DERL against renewals, one line per column of ``table`` (index = renewals).

    ``curve_table`` (same layout, e.g. :func:`churn_research.clv.curve_derl`) is drawn dashed
    in the same colours: the model-free reading next to the sBG.
    """
    fig, ax = _axes(ax)
    for i, col in enumerate(table.columns):
        ax.plot(table.index, table[col], marker="o", color=f"C{i % 10}", label=f"{col} (sBG)")
        if curve_table is not None and col in curve_table.columns:
            ax.plot(curve_table.index, curve_table[col], marker="x", linestyle="--",
                    color=f"C{i % 10}", label=f"{col} (retention curve)")
    finish(ax, title=title, xlabel=xlabel, ylabel=ylabel, legend=True)
    return fig


def calibration_holdout(table: pd.DataFrame, *, ax=None,
                        title: str = "Holdout purchases: BG/NBD prediction vs actual",
                        time_label: str = "holdout period"):
    """Mean holdout purchases by calibration-period frequency: actual vs predicted (FHL Fig. 4)."""
    fig, ax = _axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual"], marker="o", color="C0", label="actual")
    ax.plot(x, table["predicted"], marker="s", linestyle="--", color="C1", label="BG/NBD")
    ax.set_xticks(x, [str(i) for i in table.index])
    finish(ax, title=f"{title} ({time_label})", xlabel="repeat purchases in the calibration period",
           ylabel="holdout purchases per customer (mean count)", legend=True)
    return fig


def frequency_histogram(table: pd.DataFrame, *, ax=None,
                        title: str = "Repeat purchases in the calibration period: fit"):
    """Customers by number of repeat purchases: actual vs BG/NBD expected (FHL Fig. 2)."""
    fig, ax = _axes(ax)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["actual"], width=0.4, color="C0", label="actual")
    ax.bar(x + 0.2, table["expected"], width=0.4, color="C1", label="BG/NBD")
    ax.set_xticks(x, [str(i) for i in table.index])
    chi2 = table.attrs.get("chi2")
    if chi2 is not None:
        title = f"{title} (chi2 = {chi2:.1f}, df = {table.attrs.get('dof')})"
    finish(ax, title=title, xlabel="repeat purchases in the calibration period",
           ylabel="customers (count)", legend=True)
    return fig


def p_alive_matrix(model, *, T: float, max_frequency: int = 20, n_recency: int = 40, ax=None,
                   time_label: str = "weeks",
                   title: str = "P(alive) by frequency and recency"):
    """Heat map of P(alive) for a customer of age ``T`` (the classic BG/NBD picture)."""
    fig, ax = _axes(ax)
    freq = np.arange(max_frequency + 1)
    rec = np.linspace(0, T, n_recency)
    F, R = np.meshgrid(freq, rec, indexing="ij")
    P = np.where((F == 0) & (R > 0), np.nan, model.p_alive(F, np.where(F == 0, 0, R), T))
    im = ax.imshow(P, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   extent=(0, T, -0.5, max_frequency + 0.5))
    fig.colorbar(im, ax=ax, label="P(alive)")
    ax.grid(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    finish(ax, title=f"{title} (customer age {T:.0f} {time_label})",
           xlabel=f"recency: time of the last purchase ({time_label})",
           ylabel="repeat purchases (count)")
    return fig


def scenario_bars(table: pd.DataFrame, *, ax=None, column: str = "extra_profit",
                  title: str = "What lower churn is worth",
                  xlabel: str = "extra profit over the horizon (currency units)"):
    """Horizontal bars of the extra profit of each retention scenario (baseline excluded)."""
    t = table.drop(index="baseline", errors="ignore")[column]
    fig, ax = _axes(ax, figsize=(9, max(2.5, 0.5 * len(t) + 1.2)))
    ax.barh([str(i) for i in t.index], t.to_numpy(), color="C2")
    for y, v in enumerate(t.to_numpy()):
        ax.text(v, y, f" {v:,.0f}", va="center")
    ax.margins(x=0.15)
    finish(ax, title=title, xlabel=xlabel, ylabel="scenario")
    return fig
