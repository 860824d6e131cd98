"""churn-research: reproducible customer-churn research.

The package is organised by role, like lifelines' fitters / statistics / plotting split:

``data``         load, validate and persist a :class:`~churn_research.data.ChurnData`
``synthetic``    a generator with known ground truth (``meta["truth"]``)
``indicators``   churn / retention / complaint / satisfaction indicators
``impact``       before/after, interrupted time series, control charts
``causes``       exit reasons, driver models, tests of common claims
``survival``     Kaplan-Meier, Cox, parametric fits, the sBG model
``segments``     RFM, value tiers, clustering, churn-risk model, watchlist
``clv``          customer lifetime value, DERL, BG/NBD, Gamma-Gamma
``plots``        matplotlib/seaborn figures with titles and labelled axes
``report``       key-figure JSON, provenance, the reports index
``pipeline``     runs a notebook stage with papermill and renders it to HTML
"""

from importlib import import_module
from typing import Any

__all__ = ["ChurnData", "ChurnDataError", "load", "read_stage"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Imported when first used: every ``churn_research.*`` import runs this file, and the runner
    # and ``runner.stamps`` (run by make on every build) must not pay for the data layer (pandas,
    # pandera) they do not use.
    if name == "read_stage":  # a stage's processed data and its engine tables (sources.engine)
        return import_module("churn_research.sources.engine").read_stage
    if name in __all__:
        return getattr(import_module("churn_research.data"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
