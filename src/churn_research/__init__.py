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

from churn_research.data import ChurnData, ChurnDataError, load

__all__ = ["ChurnData", "ChurnDataError", "load"]
__version__ = "0.1.0"
