"""Helpers on the lifetime frame of :func:`churn_research.durations.durations` shared by the
survival estimators: first-purchase features, entry times, the minimum episode length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Length given to zero-length intervals where a model needs stop > start.
_MIN_EPISODE = 1e-6


def add_first_purchase(df: pd.DataFrame, transactions: pd.DataFrame, *, tiers: int = 3) -> pd.DataFrame:
    """Add first-purchase covariates (what is known at acquisition) to a durations frame.

    Useful where customers have no attributes (the CDNOW log): ``first_purchase_amount`` and
    ``first_purchase_quantity`` (totals on the customer's first purchase day),
    ``log_first_purchase_amount`` (log(1 + amount)) and ``first_purchase_tier`` (quantile
    tiers "low", "mid", "high" for ``tiers=3``; ``tier 1..k`` otherwise) and
    ``acquisition_month``.
    """
    tx = transactions[["customer_id", "date", "amount"] + (["quantity"] if "quantity" in transactions else [])].copy()
    tx["date"] = pd.to_datetime(tx["date"]).dt.normalize()
    first_day = df.set_index("customer_id")["start_date"].dt.normalize()
    tx = tx.loc[tx["date"].to_numpy() == first_day.reindex(tx["customer_id"]).to_numpy()]
    agg = tx.groupby("customer_id").agg(first_purchase_amount=("amount", "sum"),
                                        **({"first_purchase_quantity": ("quantity", "sum")} if "quantity" in tx else {}))
    out = df.join(agg, on="customer_id")
    out["first_purchase_amount"] = out["first_purchase_amount"].fillna(0.0)
    out["log_first_purchase_amount"] = np.log1p(out["first_purchase_amount"])
    labels = ["low", "mid", "high"] if tiers == 3 else [f"tier {i + 1}" for i in range(tiers)]
    ranks = out["first_purchase_amount"].rank(method="first")
    out["first_purchase_tier"] = pd.qcut(ranks, q=tiers, labels=labels).astype(str)
    out["acquisition_month"] = out["start_date"].dt.to_period("M").astype(str)
    out.attrs.update(df.attrs)
    return out


def _entry(df: pd.DataFrame, use_entry: bool = True):
    if use_entry and "entry" in df and (df["entry"] > 0).any():
        return df["entry"].to_numpy(float)
    return None
