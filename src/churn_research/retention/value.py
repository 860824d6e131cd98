"""Money at risk: per active customer, the calibrated probability of churning within the
horizon times the customer's residual value, summed for the watchlist and the whole active
base, with a bootstrap interval.

The probability comes from :mod:`churn_research.retention.calibration` (the risk model's
scores, recalibrated); the residual value from the value model of 50_clv for the data kind
(contractual: the survival-based residual lifetime value; non-contractual: the BG/NBD x
Gamma-Gamma value). Both are passed in as Series: this package never imports another stage.

The interval is a seeded nonparametric bootstrap over customers: the active base is resampled
with replacement ``n_boot`` times and the sum recomputed; the percentile interval describes how
much the total depends on which customers happen to be on the books (sampling variation of a
sum of per-customer expectations). It does not include the value models' own parameter
uncertainty (50_clv's money-at-risk interval does that for its own probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MoneyAtRisk", "money_at_risk", "bootstrap_sum"]


def bootstrap_sum(values, *, n_boot: int = 500, level: float = 0.95,
                  random_state: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``sum(values)``, resampling the values (customers)."""
    v = np.asarray(values, float)
    if len(v) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(random_state)
    sums = np.array([v[rng.integers(0, len(v), len(v))].sum() for _ in range(int(n_boot))])
    a = (1 - level) / 2
    return float(np.quantile(sums, a)), float(np.quantile(sums, 1 - a))


@dataclass
class MoneyAtRisk:
    """Expected value lost to churn within the horizon, per customer and summed.

    ``per_customer`` (index ``customer_id``): ``p_churn`` (calibrated), ``value`` (residual),
    ``expected_loss`` (= p_churn x value) and ``on_watchlist`` (bool).
    """

    per_customer: pd.DataFrame
    horizon_days: int
    value_model: str                  # "retention curve" or "BG/NBD x Gamma-Gamma"
    n_boot: int
    level: float
    random_state: int

    def _group(self, name: str) -> pd.DataFrame:
        pc = self.per_customer
        return pc[pc["on_watchlist"]] if name == "watchlist" else pc

    def total(self, group: str = "all") -> float:
        return float(self._group(group)["expected_loss"].sum())

    def interval(self, group: str = "all") -> tuple[float, float]:
        # the bootstrap of each group once (the table, the text and the key figures ask again;
        # at 10^6 customers one is 500 resamples of the whole base)
        cache = self.__dict__.setdefault("_intervals", {})
        if group not in cache:
            cache[group] = bootstrap_sum(self._group(group)["expected_loss"], n_boot=self.n_boot,
                                         level=self.level, random_state=self.random_state)
        return cache[group]

    def table(self) -> pd.DataFrame:
        """One row per group (``watchlist``, ``all``): customers, residual value, mean P(churn),
        expected loss with its interval and its share of the base's expected loss."""
        rows = {}
        for g in ("watchlist", "all"):
            d = self._group(g)
            lo, hi = self.interval(g)
            rows[g] = {"customers": len(d), "value": float(d["value"].sum()),
                       "mean_p_churn": float(d["p_churn"].mean()) if len(d) else np.nan,
                       "expected_loss": self.total(g), "ci_low": lo, "ci_high": hi,
                       "share": self.total(g) / self.total("all") if self.total("all") else np.nan}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")

    def on_list(self, watchlist: pd.DataFrame) -> pd.DataFrame:
        """``watchlist`` (with ``customer_id``) with each customer's ``residual_value`` and
        ``risk_x_residual_value`` (= p_churn x value, the money section's quantity: their sum
        over the list is :meth:`total` of the watchlist); empty where a customer has no value."""
        pc = self.per_customer.reindex(watchlist["customer_id"].to_numpy())
        return watchlist.assign(residual_value=pc["value"].to_numpy(),
                                risk_x_residual_value=pc["expected_loss"].to_numpy())

    def key_figures(self) -> dict:
        t = self.table()
        return {"money_at_risk": {"horizon_days": self.horizon_days, "value_model": self.value_model,
                                  "bootstrap_replicates": self.n_boot,
                                  **{g: t.loc[g].to_dict() for g in t.index}}}


def money_at_risk(p_churn: pd.Series, value: pd.Series, *, watchlist_ids=(), horizon_days: int,
                  value_model: str, n_boot: int = 500, level: float = 0.95,
                  random_state: int = 0) -> MoneyAtRisk:
    """``p_churn x value`` per active customer (the customers that have both), summed.

    Parameters
    ----------
    p_churn : Series
        Calibrated probability of churning within the horizon, per active customer.
    value : Series
        Residual value per customer (customers without a probability are left out).
    watchlist_ids : iterable
        The watchlist's customer ids (their sum is reported separately).
    """
    per = pd.DataFrame({"p_churn": p_churn.astype(float)}).join(value.astype(float).rename("value"),
                                                                how="inner")
    per = per.dropna()
    per["expected_loss"] = per["p_churn"] * per["value"]
    per["on_watchlist"] = per.index.isin(list(watchlist_ids))
    per.index.name = "customer_id"
    return MoneyAtRisk(per, int(horizon_days), value_model, int(n_boot), level, random_state)
