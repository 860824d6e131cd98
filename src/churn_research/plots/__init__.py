"""Shared plotting style and helpers.

Every figure in a report has a title, labelled axes with units, and uses this style.
Stage-specific figures live in sub-modules (``plots.indicators``, ``plots.causes``, ...).
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from importlib import resources

import matplotlib.pyplot as plt
import seaborn as sns
from IPython import get_ipython
from matplotlib import font_manager
from matplotlib.ticker import PercentFormatter

from churn_research.i18n import _, set_language
from churn_research.narrate import tables

PALETTE = "colorblind"

#: The CJK font of every figure: Noto Sans CJK SC (SIL Open Font License), shipped by the
#: ``mplfonts`` package so that a fresh environment needs no system fonts.
CJK_FONT_FILE = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")


#: The Latin font of every figure (matplotlib's own, so the look is the same on every machine).
LATIN_FONT = "DejaVu Sans"


@cache
def cjk_font() -> str | None:
    """Register the CJK font with matplotlib once and return its family name (None if the
    font package is missing: figures then fall back to the default fonts)."""
    package, name = CJK_FONT_FILE
    try:
        path = resources.files(package).joinpath(name)
    except ModuleNotFoundError:
        return None
    if not path.is_file():
        return None
    font_manager.fontManager.addfont(str(path))
    # the font has one weight: bold titles use it as it is, without a log line per figure
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    return font_manager.FontProperties(fname=str(path)).get_name()


def set_style(language: str | None = None) -> None:
    """Set the report language (:func:`churn_research.i18n.set_language`: ``language``, the
    notebook's parameter, unless ``REPORT_LANG`` overrides it), apply the house style (seaborn
    whitegrid, colour-blind palette, readable sizes) and, in a notebook, render every displayed
    DataFrame readably (:mod:`churn_research.narrate.tables`).

    Chinese text renders with the CJK font (:func:`cjk_font`), placed after the Latin fonts in
    the fallback list: Latin text keeps its look, and matplotlib takes each glyph a Latin font
    lacks from the CJK font. In a notebook, figures are shown as 2× PNGs at their usual size
    (:func:`sharp_figures`).
    """
    set_language(language)
    tables.register()
    sharp_figures()
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    # matplotlib falls back glyph by glyph only along an explicit list of families
    cjk = cjk_font()
    family = [LATIN_FONT, cjk] if cjk else plt.rcParams["font.family"]
    plt.rcParams.update(
        {
            "figure.figsize": (9, 4.8),
            "figure.dpi": 96,
            "axes.titleweight": "bold",
            "axes.titlesize": 13,
            "savefig.bbox": "tight",
            "font.family": family,
        }
    )


#: How a notebook shows figures: PNGs with twice the pixels, displayed at the size of a plain
#: PNG (``retina``): sharp when a reviewer zooms in or reads on a high-density screen.
FIGURE_FORMATS = {"retina"}


def sharp_figures() -> bool:
    """Show the figures of a notebook as 2× PNGs (:data:`FIGURE_FORMATS`; the inline backend's
    ``figure_formats``) at the CSS size of a plain PNG; True when running in IPython."""
    ip = get_ipython()
    if ip is None:
        return False
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib_inline.backend_inline import InlineBackend

    cfg = InlineBackend.instance()
    with warnings.catch_warnings():             # matplotlib_inline's old-style trait observer
        warnings.simplefilter("ignore", DeprecationWarning)
        cfg.figure_formats = set(FIGURE_FORMATS)    # kept if the inline backend is set up again
    select_figure_formats(ip, FIGURE_FORMATS, **cfg.print_figure_kwargs)
    return True


def finish(ax, *, title: str, xlabel: str, ylabel: str, legend: bool | str | None = None):
    """Title and label an axis (every report figure goes through this) and return it.

    ``legend``: None = a legend when there are labelled artists, True / False, ``"below"``:
    one row under the axes, for figures whose data fill the plot area, or ``"right"``: a column
    beside the axes, for long legends (neither is drawn without labelled artists).
    """
    if not title or not xlabel or not ylabel:
        raise ValueError("every report figure needs a title and labelled axes (with units)")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles = ax.get_legend_handles_labels()[0]
    if legend == "below" and handles:
        ax.legend(frameon=False, fontsize=9, ncol=min(len(handles), 5), loc="upper center",
                  bbox_to_anchor=(0.5, -0.15))
    elif legend == "right" and handles:
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    elif legend is True or (legend is None and handles):
        ax.legend(frameon=False)
    ax.figure.tight_layout()
    return ax


def percent_axis(ax, axis: str = "y", decimals: int | None = None):
    """Format an axis as percentages (values are fractions); decimals None: as many as the
    tick spacing needs (2.5% ticks are not rounded to 2%)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(1.0, decimals=decimals))
    return ax


def reliability(ax, curves, *, title: str):
    """Reliability diagram on ``ax``: observed vs mean predicted churn per decile of predicted
    risk with 95% intervals, one line per ``(legend label, table, marker)`` in ``curves`` (tables
    as :func:`churn_research.stats.reliability_table` returns them), and the diagonal of perfect
    calibration; percentage axes. The one drawing of 40_segments' and 60_retention's curves."""
    import numpy as np

    for name, table, marker in curves:
        err = np.vstack([table["observed"] - table["observed_ci_low"],
                         table["observed_ci_high"] - table["observed"]])
        ax.errorbar(table["predicted"], table["observed"], yerr=err, fmt=f"{marker}-", capsize=3,
                    label=name, alpha=0.85)
    hi = max(float(max(t["predicted"].max(), t["observed_ci_high"].max())) for _n, t, _m in curves) * 1.05
    ax.plot([0, hi], [0, hi], color="grey", ls=":", lw=1, label=_("Perfect calibration"))
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    return finish(ax, title=title, xlabel=_("Mean predicted churn probability (%)"),
                  ylabel=_("Observed churn rate (%)"))
