"""Results -> findings: each stage's headline, key findings and what was not available, built
from its key figures in the package (never in a notebook), for the reports, the index and the
one-page summary. One module per stage; :func:`build` dispatches by stage name.

Sentences read the same way everywhere through :mod:`churn_research.narrate.format`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churn_research.narrate import causes, clv, data, indicators, segments, survival
from churn_research.narrate.findings import Finding, StageFindings

__all__ = ["BUILDERS", "Finding", "StageFindings", "build"]

#: The findings builder of each stage.
BUILDERS = {
    "00_data": data.findings,
    "10_indicators": indicators.findings,
    "20_causes": causes.findings,
    "30_survival": survival.findings,
    "40_segments": segments.findings,
    "50_clv": clv.findings,
}


def build(stage: str, figures: Mapping[str, Any], *, dataset: str,
          context: Mapping[str, Any] | None = None) -> StageFindings | None:
    """The findings of ``stage`` from its flat key figures (None for a stage without a builder).

    ``context`` holds data-level facts from the processed data's ``meta.json`` (``kind``,
    ``snapshot``, ``records_start``, ``inactivity_days``) and the dataset's ``currency``.
    """
    builder = BUILDERS.get(stage)
    if builder is None:
        return None
    return builder(figures, dataset=dataset, context=dict(context or {}))
