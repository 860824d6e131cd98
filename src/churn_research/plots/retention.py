"""Plots of 60_retention: the reliability curve before and after calibration."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from churn_research.i18n import _
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
