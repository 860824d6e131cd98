"""Figures of the 00_data profile."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from churn_research.plots import finish, percent_axis


def customer_flows(flows: pd.DataFrame, *, title: str = "Customers over time"):
    """Active customers at each month end (line) with joins and losses per month (bars)."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1]})
    ax1.plot(flows["month"], flows["active_at_month_end"], color="C0")
    finish(ax1, title=title, xlabel="month", ylabel="active customers (count)")
    width = 20
    ax2.bar(flows["month"], flows["joined"], width=width, color="C2", label="joined")
    ax2.bar(flows["month"], -flows["left"], width=width, color="C3", label="left")
    finish(ax2, title="Joins (up) and losses (down) per month", xlabel="month",
           ylabel="customers per month", legend=True)
    return fig


def tenure_histogram(tenure: pd.Series, churned: pd.Series, *, title: str = "Observed tenure"):
    """Histogram of observed tenure for churned and still-active customers."""
    fig, ax = plt.subplots()
    frame = pd.DataFrame({"tenure": tenure, "status": churned.map({True: "churned", False: "active"})})
    for status, colour in (("active", "C0"), ("churned", "C3")):
        ax.hist(frame.loc[frame.status == status, "tenure"], bins=40, alpha=0.6, color=colour,
                label=status)
    finish(ax, title=title, xlabel="tenure (months)", ylabel="customers (count)", legend=True)
    return fig


def missingness_bar(miss: pd.DataFrame, *, title: str = "Missing values by column"):
    """Horizontal bars of the share of missing values (only columns with any)."""
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.3 * len(miss) + 1)))
    labels = miss["table"] + "." + miss["column"]
    ax.barh(labels, miss["missing share"], color="C1")
    ax.invert_yaxis()
    percent_axis(ax, "x")
    finish(ax, title=title, xlabel="share of rows missing (%)", ylabel="table.column")
    return fig
