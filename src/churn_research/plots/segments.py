"""Figures of the 40_segments stage: tiers, RFM grid, clusters, model checks, watchlist.

Every function takes the tables produced by :mod:`churn_research.segments`, draws one figure
(titled, axes labelled with units) and returns the matplotlib ``Axes`` (or the ``Figure`` for
multi-panel plots).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from churn_research.i18n import _, label, t
from churn_research.plots import finish, percent_axis, reliability

__all__ = ["tier_churn", "tier_shares", "rfm_heatmap", "k_selection", "cluster_centers",
           "roc_curves", "calibration", "gains", "signal_lift", "watchlist_signals"]


def _model_name(name: str) -> str:
    """A risk model's name in a legend (in the report's language)."""
    names = {"logistic": _("Logistic regression"), "gradient_boosting": _("Gradient boosting"),
             "baseline": _("Naive baseline")}
    return names.get(name, name)


def _ax(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def tier_churn(summary: pd.DataFrame, *, horizon_days: int | None = None, ax=None):
    """Churn rate per value tier with 95% Wilson intervals (tiers without a rate are skipped)."""
    ax = _ax(ax)
    s = summary.dropna(subset=["churn_rate"])
    s = s.loc[s["customers"] > 0]
    x = np.arange(len(s))
    err = np.vstack([s["churn_rate"] - s["churn_ci_low"], s["churn_ci_high"] - s["churn_rate"]])
    ax.bar(x, s["churn_rate"], yerr=err, capsize=4, color=sns.color_palette()[0])
    ax.set_xticks(x, [label(tier) for tier in s.index])
    for xi, (rate, n) in enumerate(zip(s["churn_rate"], s["customers"], strict=True)):
        ax.annotate(f"{rate:.0%}\nn={n:,}", (xi, rate), textcoords="offset points",
                    xytext=(12, 2), fontsize=9)
    percent_axis(ax)
    title = (t("Churn rate within {days} days by value tier (95% CI)", days=horizon_days)
             if horizon_days else _("Churn rate by value tier (95% CI)"))
    return finish(ax, title=title, xlabel=_("Value tier at the cutoff"),
                  ylabel=_("Churn rate (% of tier)"))


def tier_shares(summary: pd.DataFrame, *, ax=None):
    """Share of customers vs share of trailing revenue per tier (side-by-side bars)."""
    ax = _ax(ax)
    s = summary.loc[summary["customers"] > 0, ["share", "revenue_share"]]
    s = s.rename(columns={"share": _("customers"),
                          "revenue_share": _("revenue (trailing 12 months)")})
    s.index = [label(tier) for tier in s.index]
    s.plot.bar(ax=ax, rot=0, width=0.75)
    _legend_above_bars(ax, float(s.max().max()))
    percent_axis(ax)
    return finish(ax, title=_("Who holds the revenue: customers vs revenue by tier"),
                  xlabel=_("Value tier"), ylabel=_("Share of total (%)"), legend=False)


def _legend_above_bars(ax, top: float) -> None:
    """Headroom above the tallest bar and the legend in it, in one row: placed inside by
    "best", it sat on the tallest bars."""
    ax.set_ylim(0, top * 1.3)
    ax.legend(frameon=False, loc="upper center", ncol=2, fontsize=9)


def _score_meaning(score: str) -> str:
    """What a score of 5 means (``"R score"`` -> ``"most recent"``)."""
    meaning = {"R": _("most recent"), "F": _("most frequent"), "M": _("highest spend")}
    return meaning.get(score[:1], _("best"))


def rfm_heatmap(grid: pd.DataFrame, *, rows: str | None = None, cols: str | None = None, ax=None):
    """Churn rate by two RFM scores (a :func:`~churn_research.segments.rfm_grid` table);
    ``rows`` and ``cols`` name the scores (default: R score and F score)."""
    rows = rows or t("{letter} score", letter="R")
    cols = cols or t("{letter} score", letter="F")
    ax = _ax(ax, figsize=(7, 5))
    sns.heatmap(grid.astype(float), annot=True, fmt=".0%", cmap="Reds", ax=ax,
                cbar_kws={"label": _("Churn rate")})
    return finish(ax, title=t("Churn rate by {rows} and {cols}", rows=rows, cols=cols),
                  xlabel=t("{score} (5 = {meaning})", score=cols, meaning=_score_meaning(cols)),
                  ylabel=t("{score} (5 = {meaning})", score=rows, meaning=_score_meaning(rows)))


def k_selection(selection: pd.DataFrame, k: int, *, method: str = "kmeans", ax=None):
    """The k-selection curve: silhouette (k-means) or BIC (Gaussian mixture) per k."""
    ax = _ax(ax)
    col, ylabel = ("bic", _("BIC (lower is better)")) if method == "gmm" \
        else ("silhouette", _("Mean silhouette (higher is better)"))
    ax.plot(selection.index, selection[col], marker="o")
    ax.axvline(k, color="grey", ls="--", lw=1)
    ax.annotate(t("chosen k = {k}", k=k), (k, selection.loc[k, col]), textcoords="offset points",
                xytext=(8, 8))
    ax.set_xticks(list(selection.index))
    return finish(ax, title=_("Choosing the number of clusters"),
                  xlabel=_("Number of clusters k"), ylabel=ylabel)


def cluster_centers(centers: pd.DataFrame, *, labels: dict | None = None, ax=None):
    """Cluster means in standard deviations from the average customer (heatmap)."""
    ax = _ax(ax, figsize=(9, 0.55 * len(centers) + 2))
    c = centers.rename(columns=labels or label)   # default: the column names as data labels
    sns.heatmap(c, annot=True, fmt="+.1f", cmap="RdBu_r", center=0, ax=ax,
                cbar_kws={"label": _("Mean (standard deviations)")})
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    return finish(ax, title=_("Cluster profiles: how each cluster differs from the average"),
                  xlabel=_("Behavioural feature"), ylabel=_("Cluster"))


def roc_curves(curves: pd.DataFrame, summary: pd.DataFrame, *, ax=None):
    """Out-of-fold ROC curves of each model with its CV AUC in the legend."""
    ax = _ax(ax, figsize=(6.5, 6))
    for name, g in curves.groupby("model", sort=False):
        r = summary.loc[name]
        ax.plot(g["fpr"], g["tpr"], lw=2 if name != "baseline" else 1.2,
                ls="-" if name != "baseline" else "--",
                label=f"{_model_name(name)}: AUC {r['cv_auc']:.3f} "
                      f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls=":", label=_("No skill (AUC 0.5)"))
    ax.set_aspect("equal")
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    return finish(ax, title=_("ROC curves (out-of-fold)"),
                  xlabel=_("False-positive rate (% of stayers flagged)"),
                  ylabel=_("True-positive rate (% of churners flagged)"))


def calibration(table: pd.DataFrame, *, model: str = "", ax=None):
    """Reliability diagram: observed vs predicted churn per decile of risk, with 95% CIs."""
    return reliability(_ax(ax, figsize=(6.5, 6)), [(_model_name(model) or _("model"), table, "o")],
                       title=_("Calibration by decile of predicted risk (out-of-fold)"))


def gains(tables: dict[str, pd.DataFrame], *, ax=None):
    """Cumulative-gains curves: share of churners reached when contacting the riskiest x%."""
    ax = _ax(ax, figsize=(6.5, 6))
    for name, table in tables.items():
        x = np.r_[0, table["cum_share"]]
        y = np.r_[0, table["cum_capture"]]
        ax.plot(x, y, marker="o", ms=3, label=_model_name(name),
                ls="-" if name != "baseline" else "--")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label=_("Random targeting"))
    ax.axvline(0.1, color="grey", lw=0.8)
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    return finish(ax, title=_("Cumulative gains (out-of-fold)"),
                  xlabel=_("Customers contacted, riskiest first (%)"),
                  ylabel=_("Churners reached (% of all churners)"))


def signal_lift(table: pd.DataFrame | None, *, ax=None):
    """Churn rate of customers with vs without each early-warning signal (draws nothing and
    returns None when no signal is available)."""
    if table is None or not table["available"].any():
        return None
    ax = _ax(ax)
    rates = table.loc[table["available"], ["churn_rate_fired", "churn_rate_not_fired"]]
    rates = rates.rename(columns={"churn_rate_fired": _("signal fired"),
                                  "churn_rate_not_fired": _("not fired (customers it could fire for)")})
    rates.index = [label(s) for s in rates.index]
    rates.plot.bar(ax=ax, rot=0, width=0.75)
    _legend_above_bars(ax, float(rates.max().max()))
    percent_axis(ax)
    return finish(ax, title=_("Do the early-warning signals pick out churners?"),
                  xlabel=_("Signal (at the cutoff)"), ylabel=_("Churn rate within the horizon (%)"),
                  legend=False)


def watchlist_signals(watchlist: pd.DataFrame, *, ax=None):
    """How often each signal fired among watchlisted customers (and how many had none); draws
    nothing and returns None when no watchlisted customer has a signal."""
    if not (watchlist["n_signals"] > 0).any():
        return None
    ax = _ax(ax)
    sig = watchlist["signals"].fillna("").str.split(", ").explode()
    counts = sig[sig != ""].value_counts()
    counts.index = [label(s) for s in counts.index]
    counts[_("(no signal: model risk only)")] = int((watchlist["n_signals"] == 0).sum())
    counts.sort_values().plot.barh(ax=ax, color=sns.color_palette()[1], legend=False)
    return finish(ax, title=t("Signals behind the watchlist ({n} customers)", n=len(watchlist)),
                  xlabel=_("Watchlisted customers (count)"), ylabel=_("Signal"), legend=False)
