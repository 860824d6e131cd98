"""Probability models of customer lifetimes and purchases, one file per model (like
PyMC-Marketing's ``clv/models``), shared by every stage that needs them:

``shifted_beta_geo``  the sBG model of contractual retention (cohort and individual fits, DERL)
``beta_geo``          the BG/NBD model of repeat purchasing
``gamma_gamma``       the gamma-gamma model of spend per purchase
``base``              the maximum-likelihood machinery the BTYD models share
``coxfit``            lifelines' Cox fitters with a fast partial likelihood under delayed entry
"""

from churn_research.models.beta_geo import BetaGeo
from churn_research.models.gamma_gamma import GammaGamma
from churn_research.models.shifted_beta_geo import (
    ShiftedBetaGeometric,
    derl,
    fit_sbg_durations,
    sbg_del,
    sbg_survival,
)

__all__ = ["BetaGeo", "GammaGamma", "ShiftedBetaGeometric", "derl", "fit_sbg_durations",
           "sbg_del", "sbg_survival"]
