"""Running the pipeline: the stage registry, the papermill runner with HTML rendering and
provenance, key-figure JSON and the reports index.

``python -m churn_research.runner run --dataset synthetic --stage 10_indicators`` runs one stage
(the Makefile does this); ``... index`` rebuilds ``reports/index.html``; ``... stages`` prints the
table of stages; ``... check --dataset D`` checks ``params/D.yaml`` against its schema.
"""

from churn_research.runner.params import MissingParamsError, ParamsError
from churn_research.runner.pipeline import (
    build_index,
    check,
    git_commit,
    render_html,
    run_stage,
    stage_parameters,
    versions,
)
from churn_research.runner.registry import STAGES, Stage, readme_table, stage, stage_names
from churn_research.runner.report import flatten, render_index, save_key_figures

__all__ = ["STAGES", "MissingParamsError", "ParamsError", "Stage", "build_index", "check", "flatten", "git_commit", "readme_table",
           "render_html", "render_index", "run_stage", "save_key_figures", "stage",
           "stage_names", "stage_parameters", "versions"]
