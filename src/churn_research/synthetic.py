"""Compatibility alias of :mod:`churn_research.sources.synthetic`."""

from churn_research.sources.synthetic import *  # noqa: F403
