"""Retention: from the watchlist to decisions (issue 16). Part B's modules: measuring a
campaign (:mod:`~churn_research.retention.campaign`) and uplift targeting
(:mod:`~churn_research.retention.uplift`)."""

from churn_research.retention import campaign, uplift

__all__ = ["campaign", "uplift"]
