"""Compatibility alias of :mod:`churn_research.sources.profile`."""

from churn_research.sources.profile import *  # noqa: F403
