"""Compatibility alias of :mod:`churn_research.sources` (the loaders) and
:mod:`churn_research.model` (the data model): ``from churn_research.data import load`` keeps
working. New code imports from those modules."""

from churn_research.sources import *  # noqa: F403
from churn_research.sources import __all__  # noqa: F401
