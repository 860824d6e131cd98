"""Value tiers (high value, loyal, new, regular, at risk, lost; the rules are in
:data:`churn_research.segments.rules.TIER_RULES`), their summary with churn rates and the RFM
grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.lookup import reindexed
from churn_research.model import DEFAULT_INACTIVITY_DAYS
from churn_research.segments.rules import TIER_ORDER
from churn_research.stats import wilson_ci


# Value tiers
# ---------------------------------------------------------------------------------------------
def value_tiers(features: pd.DataFrame, *, new_days: int = 180,
                at_risk_recency_days: int = 60, at_risk_min_fm: int = 3,
                at_risk_activity_ratio: float = 0.5, at_risk_min_baseline_tx: int = 3,
                high_value_min_m: int = 5, loyal_min_f: int = 4,
                loyal_min_tenure_days: int = 365,
                inactivity_days: int = DEFAULT_INACTIVITY_DAYS) -> pd.Series:
    """Assign each customer a value tier (rules in :data:`TIER_RULES`, first match wins).

    Parameters
    ----------
    features : DataFrame
        Output of :func:`rfm` or :func:`features_at` (needs ``active``, ``tenure_days``,
        ``recency_days``, ``f_score``, ``m_score``; ``activity_ratio`` and ``tx_baseline`` are
        used when present).
    new_days, at_risk_recency_days, at_risk_min_fm, at_risk_activity_ratio,
    at_risk_min_baseline_tx, high_value_min_m, loyal_min_f, loyal_min_tenure_days
        Thresholds, see :data:`DEFAULT_TIER_RULES`. "Lost" is the ``active`` flag of
        :func:`rfm` / :func:`features_at` (without it: no purchase for ``inactivity_days``,
        pass ``data.inactivity_days``).

    Returns
    -------
    Series of str (categorical in :data:`TIER_ORDER`) indexed like ``features``.
    """
    f = features
    if "active" in f:
        lost = ~f["active"].astype(bool).to_numpy()
    else:
        lost = (f["recency_days"] > inactivity_days).to_numpy()
    tenure = f["tenure_days"].to_numpy(dtype=float) if "tenure_days" in f else np.full(len(f), np.inf)
    rec = f["recency_days"].to_numpy(dtype=float)
    fs = f["f_score"].astype("float64").fillna(0).to_numpy()
    ms = f["m_score"].astype("float64").fillna(0).to_numpy()
    new = tenure < new_days
    quiet = (rec >= at_risk_recency_days) & ((fs >= at_risk_min_fm) | (ms >= at_risk_min_fm))
    if "activity_ratio" in f:
        ratio = f["activity_ratio"].to_numpy(dtype=float)
        enough = f["tx_baseline"].to_numpy(dtype=float) >= at_risk_min_baseline_tx \
            if "tx_baseline" in f else np.ones(len(f), bool)
        dropping = (ratio <= at_risk_activity_ratio) & enough
    else:
        dropping = np.zeros(len(f), bool)
    at_risk = quiet | dropping
    high = ms >= high_value_min_m
    loyal = (fs >= loyal_min_f) & (tenure >= loyal_min_tenure_days)
    # the categories' codes (not a string per customer: 10^7 of them at scale)
    code = np.select([lost, new, at_risk, high, loyal],
                     [TIER_ORDER.index(t) for t in ("lost", "new", "at risk", "high value", "loyal")],
                     default=TIER_ORDER.index("regular")).astype(np.int8)
    return pd.Series(pd.Categorical.from_codes(code, categories=TIER_ORDER), index=f.index,
                     name="tier")


def tier_summary(features: pd.DataFrame, tiers: pd.Series, churned: pd.Series | None = None,
                 *, value: str = "value") -> pd.DataFrame:
    """Size, churn rate and revenue share per tier.

    Parameters
    ----------
    features : DataFrame
        Needs the ``value`` column (trailing revenue).
    tiers : Series
        From :func:`value_tiers`.
    churned : Series of 0/1, optional
        The churn label (defined for customers active at the cutoff); the lost tier has no
        churn rate (already lost).

    Returns
    -------
    DataFrame indexed by tier: ``customers``, ``share``, ``churned``, ``churn_rate`` (with a
    Wilson 95% interval ``churn_ci_low`` / ``churn_ci_high``), ``revenue``, ``revenue_share``,
    ``mean_value``.
    """
    df = pd.DataFrame({"tier": tiers, "value": reindexed(features[value], tiers.index)})
    if churned is not None:
        df["churned"] = reindexed(churned, tiers.index).astype("float64")
    g = df.groupby("tier", observed=False)
    out = pd.DataFrame({"customers": g.size()})
    out["share"] = out["customers"] / out["customers"].sum()
    if churned is not None:
        known = g["churned"].count()
        k = g["churned"].sum(min_count=1)
        out["churned"] = k.fillna(0).astype("int64")
        out["churn_rate"] = k / known.replace(0, np.nan)
        lo, hi = wilson_ci(k.fillna(0).to_numpy(), known.to_numpy())
        out["churn_ci_low"], out["churn_ci_high"] = lo, hi
    out["revenue"] = g["value"].sum()
    out["revenue_share"] = out["revenue"] / out["revenue"].sum() if out["revenue"].sum() else np.nan
    out["mean_value"] = g["value"].mean()
    out.index.name = "tier"
    return out


def rfm_grid(features: pd.DataFrame, churned: pd.Series, *, rows: str = "r_score",
             cols: str = "f_score") -> pd.DataFrame:
    """Churn rate by two RFM scores (rows x columns), among customers with a label."""
    df = features[[rows, cols]].copy()
    df["churned"] = reindexed(churned, features.index)
    df = df.dropna()
    return df.pivot_table(index=rows, columns=cols, values="churned", aggfunc="mean",
                          observed=False).sort_index(ascending=False)
