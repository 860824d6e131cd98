"""Growth and acquisition per period (seed 002): customers at the start and end, joins
(acquisition), returns, losses, net adds and the customer growth rate.

From a :func:`~churn_research.indicators.churn_table` without segments:

``joins`` = ``new`` (customers whose start date falls in the period); ``returns`` = ``returned``
(non-contractual data: customers who bought again after a lapse; 0 otherwise); ``losses`` =
``churned``; ``net_adds`` = ``joins + returns - losses``; ``customers_start`` = ``at_risk`` and
``customers_end`` = ``at_end``, so that ``customers_start + net_adds = customers_end`` in every
period and ``customers_end`` of one period is ``customers_start`` of the next; ``growth_rate`` =
``net_adds / customers_start`` (the relative change of the customer count over the period).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["growth_table", "growth_figures", "mean_growth", "yearly_churn", "GROWTH_COLUMNS"]

#: The growth columns :func:`growth_table` adds (also indicators of the target table).
GROWTH_COLUMNS = ("customers_end", "joins", "net_adds", "growth_rate")


def growth_table(table: pd.DataFrame) -> pd.DataFrame:
    """Growth and acquisition per period from a one-segment churn table (see the module
    docstring).

    Examples
    --------
    >>> t = pd.DataFrame({"period": ["2024Q1"], "at_risk": [100], "new": [30], "returned": [0],
    ...                   "churned": [10], "at_end": [120], "partial": [False]})
    >>> growth_table(t)[["joins", "losses", "net_adds", "growth_rate"]].values.tolist()
    [[30, 10, 20, 0.2]]
    """
    if table.attrs.get("by"):
        raise ValueError("growth_table needs a churn table without segments (`by`).")
    out = table[[c for c in ("period", "period_start", "period_end", "partial") if c in table]].copy()
    start = table["at_risk"].to_numpy()
    out["customers_start"] = start
    out["joins"] = table["new"].to_numpy()
    out["returns"] = table["returned"].to_numpy() if "returned" in table else 0
    out["losses"] = table["churned"].to_numpy()
    out["net_adds"] = out["joins"] + out["returns"] - out["losses"]
    out["customers_end"] = table["at_end"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["growth_rate"] = np.where(start > 0, out["net_adds"] / np.where(start > 0, start, 1),
                                      np.nan)
    out.attrs.update(table.attrs)
    return out


def mean_growth(growth: pd.DataFrame) -> tuple[pd.Series, float]:
    """The first complete period with customers at its start and the compound mean growth rate
    per period from its start to the end of the last complete period
    (``(end / start) ** (1 / periods) - 1``)."""
    full = growth[~growth["partial"].astype(bool)]
    have = full[full["customers_start"] > 0]
    first, last = have.iloc[0], full.iloc[-1]
    n = len(full.loc[first.name:])
    return first, float((last["customers_end"] / first["customers_start"]) ** (1 / n) - 1)


def growth_figures(table: pd.DataFrame) -> dict:
    """Key figures (``growth.*``) of the latest complete period and the mean growth rate; empty
    for one snapshot (fewer than two complete periods)."""
    if int((~table["partial"].astype(bool)).sum()) < 2:
        return {}
    g = growth_table(table)
    full = g[~g["partial"].astype(bool)]
    lt = full.iloc[-1]
    return {"growth": {"period": lt["period"], "joins": int(lt["joins"]),
                       "returns": int(lt["returns"]), "losses": int(lt["losses"]),
                       "net_adds": int(lt["net_adds"]), "customers_end": int(lt["customers_end"]),
                       "growth_rate": float(lt["growth_rate"]),
                       "mean_growth_rate": mean_growth(g)[1],
                       "mean_joins": float(full["joins"].mean())}}


def yearly_churn(data, *, inactivity_days: int | None = None) -> pd.DataFrame:
    """Annual churn per calendar year: of the customers on the books on 1 January, the share
    lost within the year (:func:`~churn_research.indicators.churn_table` with ``freq="Y"`` and
    ``denominator="start"``), the definition of the dataset's annual churn applied to each year."""
    from churn_research.indicators.churn import churn_table

    return churn_table(data, freq="Y", denominator="start", inactivity_days=inactivity_days)
