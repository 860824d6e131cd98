"""Compatibility alias of :mod:`churn_research.indicators.impact`."""

from churn_research.indicators.impact import *  # noqa: F403
from churn_research.indicators.impact import __all__  # noqa: F401
