"""Shared plotting style and helpers.

Every figure in a report has a title, labelled axes with units, and uses this style.
Stage-specific figures live in sub-modules (``plots.indicators``, ``plots.causes``, ...).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from churn_research.narrate import tables

PALETTE = "colorblind"


def set_style() -> None:
    """Apply the house style (seaborn whitegrid, colour-blind palette, readable sizes) and,
    in a notebook, render every displayed DataFrame readably (:mod:`churn_research.narrate.tables`)."""
    tables.register()
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update(
        {
            "figure.figsize": (9, 4.8),
            "figure.dpi": 96,
            "axes.titleweight": "bold",
            "axes.titlesize": 13,
            "savefig.bbox": "tight",
        }
    )


def finish(ax, *, title: str, xlabel: str, ylabel: str, legend: bool | str | None = None):
    """Title and label an axis (every report figure goes through this) and return it.

    ``legend``: None = a legend when there are labelled artists, True / False, or ``"below"``:
    one row under the axes, for figures whose data fill the plot area.
    """
    if not title or not xlabel or not ylabel:
        raise ValueError("every report figure needs a title and labelled axes (with units)")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend == "below":
        handles = ax.get_legend_handles_labels()[0]
        ax.legend(frameon=False, fontsize=9, ncol=min(len(handles), 5), loc="upper center",
                  bbox_to_anchor=(0.5, -0.15))
    elif legend is True or (legend is None and ax.get_legend_handles_labels()[0]):
        ax.legend(frameon=False)
    ax.figure.tight_layout()
    return ax


def percent_axis(ax, axis: str = "y", decimals: int | None = None):
    """Format an axis as percentages (values are fractions); decimals None: as many as the
    tick spacing needs (2.5% ticks are not rounded to 2%)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(1.0, decimals=decimals))
    return ax
