"""Plots of 60_retention: the reliability curve before and after calibration, the Qini curve."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from churn_research.i18n import _, t
from churn_research.plots import finish, percent_axis
from churn_research.plots import reliability as draw_reliability


def reliability(table: pd.DataFrame, *, ax=None):
    """Observed vs mean predicted churn per decile of risk, before and after calibration.

    ``table``: :meth:`CalibrationResult.reliability` (``scores`` = "before" / "after")."""
    if ax is None:
        _fig, ax = plt.subplots(figsize=(6.5, 6))
    names = {"before": _("Model scores (before calibration)"),
             "after": _("Calibrated (cross-fitted, held out)")}
    curves = [(names[key], table[table["scores"] == key], marker)
              for key, marker in (("before", "o"), ("after", "s"))]
    return draw_reliability(
        ax, curves, title=_("Reliability by decile of predicted risk, before and after calibration"))


def qini(curve: pd.DataFrame, *, coefficient: float | None = None, ax=None):
    """The Qini curve (``curve`` from :func:`churn_research.retention.uplift.qini_curve`):
    customers kept when contacting the top share ranked by uplift, and at random."""
    if ax is None:
        _fig, ax = plt.subplots(figsize=(6.5, 4.5))
    name = _("Ranked by the uplift model (held out)")
    if coefficient is not None:
        name += " — " + t("normalised Qini {q}", q=f"{coefficient:.3f}")
    ax.plot(curve["share"], curve["kept"], lw=2, label=name)
    ax.plot(curve["share"], curve["random"], color="grey", ls=":", lw=1.2,
            label=_("Contacted at random"))
    ax.axhline(0, color="black", lw=0.6)
    percent_axis(ax, "x")
    return finish(ax, title=_("Qini curve: customers kept by contacting the top share by uplift"),
                  xlabel=_("Share of the campaign's customers contacted (%)"),
                  ylabel=_("Customers kept (incremental)"))
