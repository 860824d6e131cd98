"""Results -> findings: each stage's headline, key findings and what was not available, built
from its key figures in the package (never in a notebook), for the reports, the index and the
one-page summary. One module per stage; :func:`build` dispatches by stage name.

Sentences read the same way everywhere through :mod:`churn_research.narrate.format`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from churn_research.narrate.findings import Finding, StageFindings

__all__ = ["BUILDERS", "Finding", "StageFindings", "build"]

#: The narrate module of each stage; its ``findings(figures, *, dataset, context)`` is the
#: stage's findings builder. Imported on demand by :func:`build`: the modules import their stage
#: packages (statsmodels, lifelines, scikit-learn), and the runner, which builds one stage's
#: findings per process, would otherwise start every stage's libraries each time (measured:
#: ``import churn_research.runner`` 6.5 s eagerly, under 1 s on demand).
BUILDERS = {
    "00_data": "data",
    "10_indicators": "indicators",
    "20_causes": "causes",
    "30_survival": "survival",
    "40_segments": "segments",
    "50_clv": "clv",
    "60_retention": "retention",
}


def build(stage: str, figures: Mapping[str, Any], *, dataset: str,
          context: Mapping[str, Any] | None = None) -> StageFindings | None:
    """The findings of ``stage`` from its flat key figures (None for a stage without a builder).

    ``context`` holds data-level facts from the processed data's ``meta.json`` (``kind``,
    ``snapshot``, ``records_start``, ``inactivity_days``) and the dataset's ``currency``.
    """
    name = BUILDERS.get(stage)
    if name is None:
        return None
    module = importlib.import_module(f"churn_research.narrate.{name}")
    return module.findings(figures, dataset=dataset, context=dict(context or {}))
