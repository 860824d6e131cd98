"""The stage registry: the one list of pipeline stages.

Each :class:`Stage` names its notebook, its title and research question, the package that holds
its own code (what Make rebuilds it for) and the extra files it writes beside its report (such as
``watchlist.csv``). The runner checks stage names against it, the index takes titles and extra
outputs from it, and ``python -m churn_research.runner stages`` prints the README's table from it
(a test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from churn_research.i18n import label, label_msg

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

    ``title`` and ``question`` are English (the README's table); a reader sees them in the report
    language through :attr:`shown_title` and :attr:`shown_question` (marked with ``label_msg``,
    translated at display time: this module is imported before the language is set).
    """

    name: str
    title: str
    question: str
    package: str | None = None
    outputs: tuple[str, ...] = ()

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.name}.ipynb"

    @property
    def shown_title(self) -> str:
        """The title in the current report language."""
        return label(self.title)

    @property
    def shown_question(self) -> str:
        """The research question in the current report language."""
        return label(self.question)


STAGES: tuple[Stage, ...] = (
    Stage("00_data", label_msg("Data: sources, validation and profile"),
          label_msg("What data do we have, is it valid, how is churn defined?")),
    Stage("10_indicators", label_msg("Indicators and change impact"),
          label_msg("Churn and retention rates by period and segment, complaints, CSAT, NPS, revenue "
                    "retention, targets; did churn change after the business change?"), "indicators"),
    Stage("20_causes", label_msg("Causes of churn"),
          label_msg("Why do customers leave: exit reasons, drivers, common claims tested"), "causes"),
    Stage("30_survival", label_msg("Survival and retention projection"),
          label_msg("When do customers leave: survival curves, Cox model, sBG projection"), "survival"),
    Stage("40_segments", label_msg("Segments, risk model and watchlist"),
          label_msg("Who is at risk now: RFM tiers, clusters, risk model, watchlist"), "segments",
          outputs=("watchlist.csv",)),
    Stage("50_clv", label_msg("Customer lifetime value and the cost of churn"),
          label_msg("What are customers worth and what does churn cost?"), "clv"),
    Stage("60_retention", label_msg("From watchlist to decision"),
          label_msg("Calibrated risk, money at risk, actions that fit the customer, win-back"),
          "retention", outputs=("retention_watchlist.csv", "winback.csv")),
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
