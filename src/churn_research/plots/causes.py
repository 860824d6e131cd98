"""Figures of the causes stage: exit-reason Pareto, reason mix before/after the change, churn
rate by driver, dose-response curves, the driver model's forest plot, the importance comparison
and high-churn profiles.

Every function draws on ``ax`` (or a new figure), titles and labels it through
:func:`churn_research.plots.finish` and returns the axis (or the figure, for grids).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FixedLocator, NullFormatter, PercentFormatter

from churn_research.i18n import _, is_chinese, label, label_msg, t
from churn_research.plots import finish, percent_axis
from churn_research.wording.drivers import (
    driver_label,
    level_label,
    outcome_text,
    ratio_label,
    rule_label,
    term_label,
)

__all__ = [
    "plot_cumulative_incidence",
    "plot_dose_response",
    "plot_dose_responses",
    "plot_driver_rates",
    "plot_forest",
    "plot_importance",
    "plot_pareto",
    "plot_profiles",
    "plot_reason_shift",
    "plot_reasons_by_segment",
]


def _label(text: str) -> str:
    """A coded value (exit reason, segment) in words: underscores as spaces; in Chinese its
    label (churners without a recorded reason: ``unknown``)."""
    return label(text) if is_chinese() else str(text).replace("_", " ")


def _driver(driver: str) -> str:
    """A driver (column) name in words."""
    return driver_label(driver) if is_chinese() else str(driver).replace("_", " ")


#: What a reason recorded as missing reads as (data label).
_UNKNOWN = label_msg("unknown")


def _p(p: float) -> str:
    """``p < 0.001`` or ``p = 0.012`` (as the report's sentences read)."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def plot_pareto(pareto: pd.DataFrame, *, ax=None, title: str | None = None):
    """Bars of reason counts, largest first, with the cumulative share on a second axis.

    Parameters
    ----------
    pareto : DataFrame
        :func:`churn_research.causes.reason_pareto` (without ``by``).
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(len(pareto))
    ax.bar(x, pareto["count"], color="C0", label=_("churners"))
    ax.set_xticks(x, [_label(r) for r in pareto["reason"]], rotation=30, ha="right")
    for xi, (c, sh) in enumerate(zip(pareto["count"], pareto["share"], strict=True)):
        ax.annotate(f"{sh:.0%}", (xi, c), ha="center", va="bottom", fontsize=9)
    ax2 = ax.twinx()
    ax2.plot(x, pareto["cumulative_share"], color="C3", marker="o", label=_("cumulative share"))
    ax2.axhline(0.8, color="C3", ls=":", lw=1)
    ax2.set_ylim(0, 1.05)
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax2.set_ylabel(_("Cumulative share of churners (%)"))
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, frameon=False, loc="center right")
    return finish(ax, title=title or _("Exit reasons (Pareto)"), xlabel=_("Exit reason"),
                  ylabel=_("Churners (count)"), legend=False)


def plot_reason_shift(shift, *, ax=None, title: str | None = None):
    """Share of each exit reason before vs after the business change, with simultaneous 95%
    intervals across the reasons (Goodman's multinomial intervals of ``shift.table``).

    Parameters
    ----------
    shift : ReasonShift
        :func:`churn_research.causes.reason_shift`.
    """
    tb = shift.table
    if ax is None:
        _fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(len(tb))
    w = 0.38
    date = shift.change_date.date()
    for i, (col, lab) in enumerate([
            ("before", t("before {date} (n = {n})", date=date, n=f"{shift.n_before:,}")),
            ("after", t("after {date} (n = {n})", date=date, n=f"{shift.n_after:,}"))]):
        share = tb[f"share_{col}"].to_numpy()
        lo, hi = tb[f"share_{col}_low"].to_numpy(), tb[f"share_{col}_high"].to_numpy()
        ax.bar(x + (i - 0.5) * w, share, width=w, color=f"C{i}", label=lab)
        ax.errorbar(x + (i - 0.5) * w, share, yerr=[share - lo, hi - share], fmt="none",
                    ecolor="0.3", capsize=2, lw=1)
    ax.set_xticks(x, [_label(r) for r in tb["reason"]], rotation=30, ha="right")
    percent_axis(ax)
    title = title or t("Exit-reason mix before vs after the change (chi-square {p}; simultaneous "
                       "95% intervals)", p=_p(shift.p_value))
    return finish(ax, title=title, xlabel=_("Exit reason"), ylabel=_("Share of churners (%)"))


def plot_reasons_by_segment(pareto_by: pd.DataFrame, *, by: str, ax=None,
                            title: str | None = None):
    """Heatmap of exit-reason shares (rows: segments; columns: reasons).

    Parameters
    ----------
    pareto_by : DataFrame
        :func:`churn_research.causes.reason_pareto` with ``by=``.
    by : str
        The segment column.
    """
    table = pareto_by.pivot_table(index=by, columns="reason", values="share", fill_value=0)
    order = pareto_by.groupby("reason")["count"].sum().sort_values(ascending=False).index
    table = table[order]
    if ax is None:
        _fig, ax = plt.subplots(figsize=(9, 0.6 * len(table) + 2.2))
    sns.heatmap(table, annot=True, fmt=".0%", cmap="Blues", cbar_kws={"label": _("share (%)")},
                ax=ax)
    ax.set_xticklabels([_label(c) for c in table.columns], rotation=30, ha="right")
    if is_chinese():
        ax.set_yticklabels([label(v) for v in table.index], rotation=0)
    return finish(ax, title=title or t("Exit reasons by {segment} (share of each row)",
                                       segment=_driver(by)),
                  xlabel=_("Exit reason"), ylabel=_driver(by), legend=False)


def plot_driver_rates(rates: pd.DataFrame, *, drivers: Sequence[str] | None = None,
                      ncols: int = 3, base_rate: float | None = None,
                      outcome: str | None = None):
    """A grid of churn rate (with 95% intervals) by level of each driver.

    Parameters
    ----------
    rates : DataFrame
        :func:`churn_research.causes.driver_rates`.
    drivers : sequence of str, optional
        Which drivers, in order (default: all).
    ncols : int
    base_rate : float, optional
        Drawn as a dashed line (default ``rates.attrs["base_rate"]``).
    outcome : str
        What the rate is (e.g. "12-month churn rate"), for the axis labels.

    Returns
    -------
    Figure
    """
    outcome = outcome_text(outcome) if outcome else _("Churn rate")
    drivers = list(drivers) if drivers is not None else list(dict.fromkeys(rates["driver"]))
    base_rate = rates.attrs.get("base_rate") if base_rate is None else base_rate
    nrows = math.ceil(len(drivers) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
    top = float(rates["ci_high"].max()) * 1.1
    for ax, d in zip(axes.flat, drivers, strict=False):
        g = rates[rates["driver"] == d].sort_values("order")
        x = np.arange(len(g))
        r = g["churn_rate"].to_numpy()
        ax.errorbar(x, r, yerr=[r - g["ci_low"], g["ci_high"] - r], fmt="o", capsize=3,
                    color="C0", lw=1.5)
        if bool(g["ordered"].iloc[0]):
            ax.plot(x, r, color="C0", alpha=0.5)
        if base_rate is not None:
            ax.axhline(base_rate, color="0.4", ls="--", lw=1, label=label("all customers"))
        labels = [level_label(v) for v in g["level"]]
        ax.set_xticks(x, labels, rotation=25 if max(map(len, labels)) > 6 else 0,
                      ha="right" if max(map(len, labels)) > 6 else "center")
        ax.set_xlim(-0.5, len(g) - 0.5)
        ax.set_ylim(0, top)
        percent_axis(ax)
        finish(ax, title=_driver(d), xlabel=_driver(d), ylabel=f"{outcome}（%）" if is_chinese() else f"{outcome} (%)",
               legend=False)
    for ax in list(axes.flat)[len(drivers):]:
        ax.set_visible(False)
    fig.suptitle(t("{outcome} by driver (95% Wilson intervals; dashed: all customers)",
                   outcome=outcome), fontweight="bold")
    fig.tight_layout()
    return fig


def plot_dose_response(dose: pd.DataFrame, *, ax=None, xlabel: str | None = None,
                       title: str | None = None):
    """Monthly churn rate by level (points with 95% intervals joined by a line).

    Parameters
    ----------
    dose : DataFrame
        :func:`churn_research.causes.dose_response`.
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 4.2))
    x = np.arange(len(dose))
    r = dose["churn_rate"].to_numpy()
    ax.errorbar(x, r, yerr=[r - dose["ci_low"], dose["ci_high"] - r], fmt="o-", capsize=3)
    for xi, (ri, cm) in enumerate(zip(r, dose["customer_months"], strict=True)):
        ax.annotate(t("{n} cm", n=f"{cm:,.0f}"), (xi, ri), textcoords="offset points",
                    xytext=(6, -12), fontsize=8, color="0.35")
    ax.set_xticks(x, [level_label(v) for v in dose["level"]])
    ax.set_ylim(bottom=0)
    percent_axis(ax, decimals=1)
    driver = str(dose["driver"].iloc[0])
    default_x = {"complaints": _("Complaints in the previous 90 days (count)"),
                 "satisfaction": _("Last CSAT answer (1 = very dissatisfied, 5 = very satisfied)")}
    p = dose.attrs.get("trend_p_value")
    default_title = ({"complaints": _("Churn by complaints"),
                      "satisfaction": _("Churn by satisfaction")}.get(driver)
                     or t("Churn by {driver}", driver=driver))
    default_title += t(" (trend {p})", p=_p(p)) if p == p else ""
    ax.text(0.99, 0.98, _("labels: customer-months at risk (cm)"), transform=ax.transAxes,
            ha="right", va="top", fontsize=8, color="0.35")
    return finish(ax, title=title or default_title, xlabel=xlabel or default_x.get(driver, driver),
                  ylabel=_("Monthly churn rate (% per customer-month)"))


def plot_dose_responses(doses: Mapping[str, pd.DataFrame | None]):
    """Complaints and satisfaction side by side; a missing curve leaves its panel empty.

    Parameters
    ----------
    doses : mapping
        :func:`churn_research.causes.dose_curves` (``complaints``, ``satisfaction``).

    Returns
    -------
    Figure or None
        None when both curves are missing (nothing is drawn).
    """
    curves = [doses.get("complaints"), doses.get("satisfaction")]
    if all(d is None for d in curves):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    for ax, dose in zip(axes, curves, strict=True):
        if dose is None:
            ax.set_visible(False)
        else:
            plot_dose_response(dose, ax=ax)
    fig.tight_layout()
    return fig


def plot_forest(effects: pd.DataFrame, *, ratio_name: str = "hazard ratio",
                truth: Mapping[str, float] | None = None, ax=None, title: str | None = None,
                include_duration: bool = False):
    """Forest plot of the driver model's ratios with 95% intervals on a log axis.

    Parameters
    ----------
    effects : DataFrame
        ``DriverModel.effects_``.
    ratio_name : str
        "hazard ratio" or "odds ratio" (``DriverModel.ratio_name``).
    truth : mapping, optional
        True log hazard ratios (synthetic data) drawn as red crosses.
    include_duration : bool
        Also show the duration-control terms.
    """
    e = effects if include_duration else effects[effects["kind"] != "duration"]
    e = e.sort_values("ratio").reset_index(drop=True)
    if is_chinese():
        labels = [t("{term}  (vs {reference})", term=term_label(term), reference=level_label(r))
                  if isinstance(r, str) and r not in ("no", "observed") else term_label(term)
                  for term, r in zip(e["term"], e["reference"], strict=True)]
    else:  # the term in words (review s5, 4a: not the raw complaint_90d, age_per_10y)
        labels = [f"{term_label(term)}  (vs {label(r)})" if isinstance(r, str) and r not in ("no", "observed")
                  else term_label(term) for term, r in zip(e["term"], e["reference"], strict=True)]
    if ax is None:
        width = max(8.5, 5.5 + 0.085 * max(map(len, labels), default=0))
        _fig, ax = plt.subplots(figsize=(width, 0.36 * len(e) + 1.6))
    y = np.arange(len(e))
    sig = e["p_value"] < 0.05
    ax.errorbar(e["ratio"], y, xerr=[e["ratio"] - e["ci_low"], e["ci_high"] - e["ratio"]],
                fmt="none", ecolor="0.4", capsize=2, lw=1)
    ax.scatter(e.loc[sig, "ratio"], y[sig], color="C0", zorder=3, label="p < 0.05")
    ax.scatter(e.loc[~sig, "ratio"], y[~sig], color="white", edgecolor="C0", zorder=3,
               label="p ≥ 0.05")
    if truth:
        tv = np.array([math.exp(truth[term]) if term in truth else np.nan for term in e["term"]])
        ok = ~np.isnan(tv)
        ax.scatter(tv[ok], y[ok], marker="x", color="C3", zorder=4, label=_("true value"))
    ax.axvline(1, color="0.3", lw=1)
    ax.set_xscale("log")
    lo = float(np.nanmin(e["ci_low"].clip(lower=1e-3)))
    hi = float(np.nanmax(e["ci_high"].clip(upper=1e3)))
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50)
             if lo * 0.8 <= v <= hi * 1.25] or [1]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, labels)
    ratio = ratio_label(ratio_name)
    return finish(ax, title=title or t("Drivers of churn: {ratio}s with 95% CIs", ratio=ratio),
                  xlabel=t("{ratio} (log scale; 1 = no effect)", ratio=ratio.capitalize()),
                  ylabel=_("Driver"))


def plot_importance(comparison: pd.DataFrame, *, ax=None, title: str | None = None):
    """The GLM's Wald chi-square and the GBM's permutation importance, side by side.

    Both are scaled to their maximum so that the two rankings can be compared at a glance.

    Parameters
    ----------
    comparison : DataFrame
        :func:`churn_research.causes.compare_importance`.
    """
    c = comparison.sort_values("glm_rank", ascending=False).reset_index(drop=True)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(c) + 1.6))
    y = np.arange(len(c))
    glm = c["wald_chi2"] / c["wald_chi2"].max()
    imp = c["importance"].clip(lower=0) / max(c["importance"].max(), 1e-12)
    ax.barh(y + 0.2, glm, height=0.4, color="C0", label=_("GLM Wald chi-square"))
    ax.barh(y - 0.2, imp, height=0.4, color="C1",
            label=_("GBM permutation importance (AUC drop)"))
    ax.set_yticks(y, [_driver(d) for d in c["driver"]])
    rho = comparison.attrs.get("spearman", float("nan"))
    return finish(ax, title=title or t("Do the two models agree? (rank correlation {rho})",
                                       rho=f"{rho:.2f}"),
                  xlabel=_("Importance (share of the largest)"), ylabel=_("Driver"))


def plot_profiles(profiles: pd.DataFrame, *, top: int = 8, ax=None, title: str | None = None):
    """Churn rate of the decision-tree profiles (highest lift first) against the base rate.

    Parameters
    ----------
    profiles : DataFrame
        :func:`churn_research.causes.churn_profiles`.
    top : int
        How many profiles to show.
    """
    p = profiles.head(top).iloc[::-1].reset_index(drop=True)
    base = profiles.attrs.get("base_rate")
    if ax is None:
        _fig, ax = plt.subplots(figsize=(10, 0.5 * len(p) + 1.6))
    y = np.arange(len(p))
    colors = ["C3" if h else "C0" for h in p["high_churn"]]
    r = p["churn_rate"].to_numpy()
    ax.barh(y, r, color=colors)
    ax.errorbar(r, y, xerr=[r - p["ci_low"].to_numpy(), p["ci_high"].to_numpy() - r], fmt="none", ecolor="0.3",
                capsize=2, lw=1)
    for yi, (ri, lift, sup) in enumerate(zip(r, p["lift"], p["support"], strict=True)):
        ax.annotate(t("{lift}× base, {share} of customers", lift=f"{lift:.1f}",
                      share=f"{sup:.0%}"), (ri, yi),
                    textcoords="offset points", xytext=(22, -3), fontsize=8)
    if base is not None:
        ax.axvline(base, color="0.3", ls="--", lw=1, label=t("base rate {rate}", rate=f"{base:.0%}"))
    # the columns in words, as the findings name them (review s7: "tenure_months ≤ 15")
    rules = [_wrap_rule(rule_label(s), width=28 if is_chinese() else 48, sep=t(" & "))
             for s in p["rule"]]
    ax.set_yticks(y, rules, fontsize=8)
    ax.set_xlim(0, min(1.0, float(p["ci_high"].max()) * 1.45))
    percent_axis(ax, axis="x")
    return finish(ax, title=title or _("High-churn profiles (decision-tree rules)"),
                  xlabel=_("Churn rate of the profile (%)"), ylabel=_("Profile"))


def _wrap_rule(rule: str, width: int = 48, sep: str = " & ") -> str:
    """Wrap a rule at its ``&`` separators (``sep``: how they read)."""
    parts, lines, cur = rule.split(sep), [], ""
    for part in parts:
        nxt = f"{cur}{sep}{part}" if cur else part
        if len(nxt) > width and cur:
            lines.append(cur + sep.rstrip())
            cur = part
        else:
            cur = nxt
    lines.append(cur)
    return "\n".join(lines)


def plot_cumulative_incidence(curves: pd.DataFrame, total: pd.DataFrame, *,
                              horizons: Sequence[float] = (), title: str | None = None):
    """Aalen–Johansen cumulative incidence of each exit reason over tenure, in two panels:
    stacked (the reasons add up to the overall churn 1 − Kaplan–Meier, dashed) and each reason
    on its own scale as a step with its pointwise 95% band.

    Parameters
    ----------
    curves : DataFrame
        ``time, reason, cif, ci_low, ci_high`` (``CumulativeIncidence.long()``), reasons in the
        order to draw (largest first); every reason on the same times.
    total : DataFrame
        ``time, cif``: 1 − the overall Kaplan–Meier curve.
    horizons : sequence of float
        Tenures marked with dotted vertical lines (the table's columns).

    Returns
    -------
    Figure
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))
    groups = list(curves.groupby("reason", sort=False))
    names = [_("no reason recorded") if r == "unknown" else _label(r) for r, _g in groups]
    colors = [f"C{i % 10}" for i in range(len(groups))]
    times = groups[0][1]["time"].to_numpy() if groups else np.array([])
    ax1.stackplot(times, *[g["cif"].to_numpy() for _r, g in groups], labels=names, colors=colors,
                  step="post", alpha=0.8)
    ax1.step(total["time"], total["cif"], where="post", color="0.1", ls="--", lw=1.3,
             label=_("all reasons (1 − Kaplan–Meier)"))
    for (_r, g), name, color in zip(groups, names, colors, strict=True):
        ax2.step(g["time"], g["cif"], where="post", color=color, lw=1.6, label=name)
        ax2.fill_between(g["time"], g["ci_low"], g["ci_high"], step="post", color=color,
                         alpha=0.15, lw=0)
    end = float(total["time"].max())
    for ax in (ax1, ax2):
        for h in horizons:
            ax.axvline(h, color="0.6", ls=":", lw=1)
        ax.set_xlim(0, end)
        ax.set_ylim(0, None)
        percent_axis(ax)
    ax1.legend(frameon=False, fontsize=9, loc="upper left")
    finish(ax1, title=_("Stacked: the reasons add up to the overall churn"),
           xlabel=_("Tenure (months)"), ylabel=_("Customers who have left (%)"), legend=False)
    finish(ax2, title=_("Each reason with its 95% pointwise band"), xlabel=_("Tenure (months)"),
           ylabel=_("Customers who left for the reason (%)"), legend=False)
    fig.suptitle(title or _("Cumulative incidence of each exit reason (Aalen–Johansen)"),
                 fontweight="bold")
    fig.tight_layout()
    return fig
