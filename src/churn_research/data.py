"""Loading, validating and persisting customer data (work in progress: see issue 2)."""

from __future__ import annotations

from churn_research._model import PERSONAL_COLUMNS, TABLES, ChurnData, ChurnDataError

__all__ = ["ChurnData", "ChurnDataError", "PERSONAL_COLUMNS", "TABLES", "load"]


def load(source: str, **options) -> ChurnData:
    """Load a data source into a :class:`ChurnData`."""
    if source == "synthetic":
        from churn_research.synthetic import generate

        return generate(**options)
    raise ChurnDataError(f"unknown source {source!r}")
