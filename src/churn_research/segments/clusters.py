"""Customer clusters: :class:`CustomerClusters` (k-means with k chosen by silhouette, or a
Gaussian mixture with k chosen by BIC) and a marketer-readable profile table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from churn_research.i18n import label, label_msg, t
from churn_research.lookup import reindexed
from churn_research.model import ChurnDataError, sample_positions
from churn_research.wording import join

# Clusters
# ---------------------------------------------------------------------------------------------
_BEHAVIOURAL = ["tenure_days", "recency_days", "activity_recency_days", "frequency", "monetary", "activity_ratio",
                "freq_trend", "complaints_365", "tickets_365", "csat_mean", "nps_last"]

_LABELS = {"tenure_days": label_msg("tenure"), "recency_days": label_msg("days since last purchase"),
           "activity_recency_days": label_msg("days since last add-on purchase"),
           "frequency": label_msg("purchases"), "monetary": label_msg("spend"),
           "activity_ratio": label_msg("recent activity"), "freq_trend": label_msg("purchase trend"),
           "complaints_365": label_msg("complaints"), "tickets_365": label_msg("tickets"),
           "csat_mean": label_msg("CSAT"), "nps_last": label_msg("NPS")}


def cluster_columns(features: pd.DataFrame, columns=None, *, max_missing: float = 0.6) -> list[str]:
    """Behavioural columns used for clustering: given ones, or those of :data:`_BEHAVIOURAL`
    present, non-constant and with at most ``max_missing`` missing."""
    if columns is not None:
        missing = [c for c in columns if c not in features]
        if missing:
            raise ChurnDataError(
                f"cluster features {missing} are not available for this dataset.",
                column=missing[0],
                fix=f"choose cluster_features among {[c for c in _BEHAVIOURAL if c in features]} "
                    "or the numeric customer attributes (or null for the default).")
        return list(columns)
    out = []
    for c in _BEHAVIOURAL:
        if c in features and features[c].isna().mean() <= max_missing \
                and features[c].nunique(dropna=True) > 2:
            out.append(c)
    return out


class CustomerClusters:
    """Cluster customers on standardised behavioural features.

    Skewed non-negative columns (counts, money, tenure) are log1p-transformed, missing values
    set to the median, then everything standardised (z-scores).

    Parameters
    ----------
    k : int, optional
        Number of clusters; default chosen over ``k_range``.
    k_range : sequence of int, default range(2, 9)
    method : {"kmeans", "gmm"}
        k-means (k = the best silhouette, computed on a sample of ``sample_size`` customers) or
        a Gaussian mixture with full covariances (k = the lowest BIC).
    sample_size : int, default 3000
        Customers on which the silhouette is computed.
    max_fit_rows : int or None, default 30000
        Larger inputs are clustered on a seeded random sample of this many rows (k-means with
        ten starts per k on 10^6 customers takes minutes; on 30,000 the centres are the same
        up to sampling noise); every row is then assigned to its nearest centre. ``None``:
        always use every row.
    random_state : int, default 0

    Attributes
    ----------
    columns_ : list of str
    selection_ : DataFrame
        Per k: ``silhouette`` and ``inertia`` (k-means) or ``bic`` (gmm).
    k_ : int
    labels_ : Series
        Cluster (1..k, by decreasing size) per customer.
    centers_ : DataFrame
        Cluster means in standard-deviation units (rows = clusters).
    """

    def __init__(self, *, k: int | None = None, k_range=range(2, 9), method: str = "kmeans",
                 sample_size: int = 3000, max_fit_rows: int | None = 30_000, random_state: int = 0):
        self.k = k
        self.max_fit_rows = max_fit_rows
        self.k_range = k_range
        self.method = method
        self.sample_size = sample_size
        self.random_state = random_state

    def _transform(self, X: pd.DataFrame) -> np.ndarray:
        Z = X[self.columns_].astype("float64").copy()
        for c in self.log_:
            Z[c] = np.log1p(Z[c].clip(lower=0))
        Z = Z.fillna(self.median_)
        return ((Z - self.mean_) / self.scale_).to_numpy()

    def fit(self, X: pd.DataFrame, columns=None):
        """Choose k (unless given) and cluster the rows of ``X``; returns ``self``."""
        with threadpool_limits(limits=1):
            return self._fit(X, columns)

    def _fit(self, X: pd.DataFrame, columns=None):
        self.columns_ = cluster_columns(X, columns)
        if len(self.columns_) < 2:
            raise ChurnDataError("fewer than two usable behavioural columns to cluster on.",
                                 fix="pass cluster_columns explicitly.")
        raw = X[self.columns_].astype("float64")
        self.log_ = [c for c in self.columns_
                     if raw[c].min() >= 0 and raw[c].skew() > 1.0]
        Z = raw.copy()
        for c in self.log_:
            Z[c] = np.log1p(Z[c])
        self.median_ = Z.median()
        Z = Z.fillna(self.median_)
        self.mean_, self.scale_ = Z.mean(), Z.std(ddof=0).replace(0, 1.0)
        Zn = self._transform(X)
        Zfit = Zn  # fit on a seeded random sample of large inputs; every row is labelled below
        if self.max_fit_rows is not None and len(Zn) > self.max_fit_rows:
            Zfit = Zn[sample_positions(len(Zn), int(self.max_fit_rows),
                                       random_state=self.random_state)]
        rng = np.random.default_rng(self.random_state)
        self.n_fit_ = len(Zfit)
        sample = rng.choice(len(Zfit), size=min(self.sample_size, len(Zfit)), replace=False)

        def model(k):
            if self.method == "gmm":
                return GaussianMixture(k, covariance_type="full", n_init=2,
                                       random_state=self.random_state)
            return KMeans(k, n_init=10, random_state=self.random_state)

        rows = []
        ks = [self.k] if self.k is not None else list(self.k_range)
        fits = {}
        for k in ks:
            m = model(k).fit(Zfit)
            fits[k] = m
            lab = m.predict(Zfit)
            row = {"k": k}
            if self.method == "gmm":
                row["bic"] = m.bic(Zfit)
            else:
                row["inertia"] = m.inertia_
            row["silhouette"] = (silhouette_score(Zfit[sample], lab[sample])
                                 if len(np.unique(lab[sample])) > 1 else np.nan)
            rows.append(row)
        self.selection_ = pd.DataFrame(rows).set_index("k")
        if self.k is not None:
            self.k_ = self.k
        elif self.method == "gmm":
            self.k_ = int(self.selection_["bic"].idxmin())
        else:
            self.k_ = int(self.selection_["silhouette"].idxmax())
        self.model_ = fits[self.k_]
        lab = self.model_.predict(Zn)
        order = pd.Series(lab).value_counts().index          # 1 = largest cluster
        self.relabel_ = {int(old): new + 1 for new, old in enumerate(order)}
        self.labels_ = pd.Series([self.relabel_[v] for v in lab], index=X.index, name="cluster")
        self.centers_ = pd.DataFrame(Zn, index=X.index, columns=self.columns_).groupby(
            self.labels_).mean()
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Cluster of new rows (same numbering as ``labels_``)."""
        with threadpool_limits(limits=1):
            lab = self.model_.predict(self._transform(X))
        return pd.Series([self.relabel_[v] for v in lab], index=X.index, name="cluster")

    def profiles(self, X: pd.DataFrame, *, churned: pd.Series | None = None,
                 value: pd.Series | None = None, top: int = 3) -> pd.DataFrame:
        """A profile table a marketer can read: one row per cluster.

        Columns: ``customers``, ``share``, ``churn_rate`` (if ``churned``), ``mean_value`` and
        ``value_share`` (if ``value``), the cluster's median of each feature, and
        ``distinguishing`` — the ``top`` features furthest from the average customer, in
        standard deviations (e.g. "high spend (+1.2 sd), low tenure (-0.8 sd)").
        """
        lab = self.labels_
        out = pd.DataFrame({"customers": lab.value_counts().sort_index()})
        out["share"] = out["customers"] / out["customers"].sum()
        if churned is not None:
            out["churn_rate"] = reindexed(churned, lab.index).groupby(lab).mean()
        if value is not None:
            v = reindexed(value, lab.index)
            out["mean_value"] = v.groupby(lab).mean()
            out["value_share"] = v.groupby(lab).sum() / v.sum()
        med = reindexed(X[self.columns_], lab.index).groupby(lab).median()
        out = out.join(med)
        desc = []
        for _cl, row in self.centers_.iterrows():
            top_cols = row.abs().sort_values(ascending=False).index[:top]
            desc.append(join(
                (t("high {feature} ({z} sd)", feature=feature, z=f"{row[c]:+.1f}") if row[c] > 0
                 else t("low {feature} ({z} sd)", feature=feature, z=f"{row[c]:+.1f}"))
                for c in top_cols
                for feature in [label(_LABELS.get(c, str(c).replace("_", " ")))]))
        out["distinguishing"] = desc
        out.index.name = "cluster"
        return out


# ---------------------------------------------------------------------------------------------
