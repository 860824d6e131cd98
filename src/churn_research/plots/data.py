"""Figures of the 00_data profile."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from churn_research.i18n import _, label
from churn_research.plots import finish, percent_axis


def customer_flows(flows: pd.DataFrame, *, title: str | None = None):
    """Active customers at each month end (line) with joins and losses per month (bars)."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1]})
    ax1.plot(flows["month"], flows["active_at_month_end"], color="C0")
    finish(ax1, title=title or _("Customers over time"), xlabel=_("month"), ylabel=_("active customers (count)"))
    width = 20
    ax2.bar(flows["month"], flows["joined"], width=width, color="C2", label=_("joined"))
    ax2.bar(flows["month"], -flows["left"], width=width, color="C3", label=_("left"))
    finish(ax2, title=_("Joins (up) and losses (down) per month"), xlabel=_("month"),
           ylabel=_("customers per month"), legend=True)
    return fig


def tenure_histogram(tenure: pd.Series, churned: pd.Series, *, title: str | None = None):
    """Histogram of observed tenure for churned and still-active customers."""
    fig, ax = plt.subplots()
    frame = pd.DataFrame({"tenure": tenure, "status": churned.map({True: "churned", False: "active"})})
    names = {"active": _("active"), "churned": _("churned")}
    for status, colour in (("active", "C0"), ("churned", "C3")):
        ax.hist(frame.loc[frame.status == status, "tenure"], bins=40, alpha=0.6, color=colour,
                label=names[status])
    finish(ax, title=title or _("Observed tenure"), xlabel=_("tenure (months)"), ylabel=_("customers (count)"),
           legend=True)
    return fig


def missingness_bar(miss: pd.DataFrame, *, title: str | None = None):
    """Horizontal bars of the share of missing values (only columns with any)."""
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.3 * len(miss) + 1)))
    labels = miss["table"].map(label) + "." + miss["column"].map(label)
    ax.barh(labels, miss["missing share"], color="C1")
    ax.invert_yaxis()
    percent_axis(ax, "x")
    finish(ax, title=title or _("Missing values by column"), xlabel=_("share of rows missing (%)"), ylabel=_("table.column"))
    return fig
