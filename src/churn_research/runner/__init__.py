"""Running the pipeline: the stage registry, the papermill runner with HTML rendering and
provenance, key-figure JSON and the reports index.

``python -m churn_research.runner run --dataset synthetic --stage 10_indicators`` runs one stage
(the Makefile does this); ``... index`` rebuilds ``reports/index.html``; ``... stages`` prints the
table of stages; ``... check --dataset D`` checks ``params/D.yaml`` against its schema.

The names below are imported when first used: make runs ``python -m
churn_research.runner.stamps`` on every run, which must not pay for papermill and nbconvert.
"""

import sys
from importlib import import_module
from typing import Any

#: nbformat imports jsonschema, whose format checkers import ``rfc3987_syntax`` when installed
#: (jupyter-events pulls it in): it compiles an IRI grammar at import, about 1.8 s at every runner
#: start, for the "iri" formats that no notebook schema uses. jsonschema skips that checker when
#: the import fails, which a ``None`` entry in ``sys.modules`` makes it do.
sys.modules.setdefault("rfc3987_syntax", None)

_WHERE = {
    "MissingParamsError": "params", "ParamsError": "params",
    "build_index": "pipeline", "check": "pipeline", "git_commit": "pipeline",
    "render_html": "pipeline", "run_stage": "pipeline", "stage_parameters": "pipeline",
    "versions": "pipeline",
    "STAGES": "registry", "Stage": "registry", "readme_table": "registry", "stage": "registry",
    "stage_names": "registry",
    "flatten": "report", "render_index": "report", "save_key_figures": "report",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
