"""The stage registry: the one list of pipeline stages.

Each :class:`Stage` names its notebook, its title and research question, the package that holds
its own code (what Make rebuilds it for) and the extra files it writes beside its report (such as
``watchlist.csv``). The runner checks stage names against it, the index takes titles and extra
outputs from it, and ``python -m churn_research.runner stages`` prints the README's table from it
(a test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Stage", "STAGES", "stage", "stage_names", "readme_table"]


@dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    Attributes
    ----------
    name : str
        ``NN_name``: the notebook is ``notebooks/<name>.ipynb``.
    title : str
        Short title for the index.
    question : str
        The research question the report answers (the README's table).
    package : str or None
        The package under ``churn_research`` holding the stage's own code (``None``: the shared
        ``sources`` package, for 00_data).
    outputs : tuple of str
        Extra files the stage writes into ``reports/<dataset>/``, linked from the index.
    """

    name: str
    title: str
    question: str
    package: str | None = None
    outputs: tuple[str, ...] = ()

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.name}.ipynb"


STAGES: tuple[Stage, ...] = (
    Stage("00_data", "Data: sources, validation and profile",
          "What data do we have, is it valid, how is churn defined?"),
    Stage("10_indicators", "Indicators and change impact",
          "Churn and retention rates by period and segment, complaints, CSAT, NPS, revenue "
          "retention, targets; did churn change after the business change?", "indicators"),
    Stage("20_causes", "Causes of churn",
          "Why do customers leave: exit reasons, drivers, common claims tested", "causes"),
    Stage("30_survival", "Survival and retention projection",
          "When do customers leave: survival curves, Cox model, sBG projection", "survival"),
    Stage("40_segments", "Segments, risk model and watchlist",
          "Who is at risk now: RFM tiers, clusters, risk model, watchlist", "segments",
          outputs=("watchlist.csv",)),
    Stage("50_clv", "Customer lifetime value and the cost of churn",
          "What are customers worth and what does churn cost?", "clv"),
)


def stage_names() -> list[str]:
    """The names of every stage, in pipeline order."""
    return [s.name for s in STAGES]


def stage(name: str) -> Stage:
    """The stage called ``name``; an error listing the valid names otherwise."""
    for s in STAGES:
        if s.name == name:
            return s
    raise KeyError(f"unknown stage {name!r}: use one of {', '.join(stage_names())}.")


def readme_table() -> str:
    """The README's table of stages (markdown)."""
    rows = ["| stage | notebook | question |", "|---|---|---|"]
    rows += [f"| {s.name[:2]} | `{s.notebook}` | {s.question} |" for s in STAGES]
    return "\n".join(rows)
