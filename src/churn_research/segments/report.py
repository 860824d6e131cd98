"""What the 40_segments report shows, computed: the tables a section displays, the rules that
decide how a result reads (silhouette bands, a weak signal, risks consistent with the observed
churn) and the flat key figures (:func:`key_figures`). Sentences are built from these in
:mod:`churn_research.narrate.segments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from churn_research.i18n import _
from churn_research.lookup import reindexed
from churn_research.segments.rules import (
    DEFAULT_SIGNAL_THRESHOLDS,
    DEFAULT_TIER_RULES,
    DEFAULT_WINDOWS,
    SIGNALS,
    TIER_RULES,
    fill_rule,
    parameter_values,
)
from churn_research.segments.signals import (
    SIGNAL_INPUTS,
    available_signals,
    signal_eligibility,
    signal_flags,
    signal_validation,
)

#: Mean silhouette from which clusters read as clearly / moderately separated.
SILHOUETTE_CLEAR = 0.5
SILHOUETTE_MODERATE = 0.25
#: A signal whose churn-rate ratio (fired vs could-have-fired) is below this is weak.
WEAK_SIGNAL_LIFT = 1.2
#: Mean predicted risk of today's customers within this of the churn observed after the training
#: cutoff reads as consistent; a larger gap means: read the risks as a ranking.
RISK_AGREEMENT = 0.03
#: Columns of the RFM overview table.
RFM_COLUMNS = ["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"]


def label_horizon(design: str, horizon_days: int) -> int | None:
    """The label's horizon in days (None for a cross-sectional design: the label is a flag)."""
    return horizon_days if design == "prospective" else None


# RFM and tiers
# ---------------------------------------------------------------------------------------------
def rfm_overview(features: pd.DataFrame) -> pd.DataFrame:
    """Distribution of recency, frequency, monetary value and their scores (one row each)."""
    return (features[RFM_COLUMNS].describe().T[["count", "mean", "25%", "50%", "75%", "max"]]
            .astype({"count": int}).rename(columns={"count": "customers"}))


def rfm_codes(features: pd.DataFrame, churned: pd.Series, *, top: int = 10) -> pd.DataFrame:
    """The ``top`` most common RFM codes among the labelled customers, with their churn rate."""
    labelled = pd.DataFrame({"rfm_code": reindexed(features["rfm_code"], churned.index)})  # .loc
    return (labelled.assign(churned=churned).groupby("rfm_code")
            .agg(customers=("churned", "size"), churn_rate=("churned", "mean"))
            .sort_values("customers", ascending=False).head(top))


def grid_rows(features: pd.DataFrame) -> str:
    """Row score of the RFM grid: R when it takes at least 3 values, else M (no recency)."""
    return "r_score" if features["r_score"].nunique() >= 3 else "m_score"


def tier_rules_table(tier_rules: dict) -> pd.DataFrame:
    """:data:`TIER_RULES` in words (in the report's language) with the thresholds in force, and
    the parameters that set them (``new_days = 180``) in a column of their own."""
    values = {**DEFAULT_TIER_RULES, **tier_rules}
    return pd.DataFrame({
        "tier": TIER_RULES["tier"],
        "rule": [fill_rule(_(r), values) for r in TIER_RULES["rule"]],
        "parameters": [parameter_values(_(p) if p else p, values)
                       for p in TIER_RULES["parameters"]]})


def signal_definitions(thresholds: dict | None = None, windows: dict | None = None) -> pd.DataFrame:
    """:data:`SIGNALS` in words with the thresholds and windows in force, and the parameters
    that set them (``complaint_days = 90``) in a column of their own."""
    values = {**DEFAULT_SIGNAL_THRESHOLDS, **DEFAULT_WINDOWS, **(thresholds or {}),
              **(windows or {})}
    return SIGNALS.assign(
        definition=[fill_rule(_(d), values) for d in SIGNALS["definition"]],
        parameters=[parameter_values(p, values) for p in SIGNALS["parameters"]])


# Clusters
# ---------------------------------------------------------------------------------------------
def cluster_separation(silhouette: float) -> str:
    """``"clear"``, ``"moderate"`` or ``"weak"`` by the mean silhouette."""
    if silhouette >= SILHOUETTE_CLEAR:
        return "clear"
    return "moderate" if silhouette >= SILHOUETTE_MODERATE else "weak"


def cluster_silhouette(clusters) -> float:
    """Mean silhouette of the chosen k of a fitted :class:`CustomerClusters`."""
    return clusters.selection_.loc[clusters.k_, "silhouette"]


# Signals
# ---------------------------------------------------------------------------------------------
@dataclass
class SignalCheck:
    """Early-warning signals at the cutoff, checked against who churned.

    Attributes
    ----------
    available : dict
        Signal -> whether the data can compute it (:func:`available_signals`).
    definitions : DataFrame
        :data:`SIGNALS` with an ``available`` column.
    validation : DataFrame or None
        :func:`signal_validation` (None when no signal can be computed).
    """

    available: dict
    definitions: pd.DataFrame
    validation: pd.DataFrame | None

    @property
    def missing(self) -> pd.Series:
        """The table each unavailable signal needs (index: signal)."""
        miss = [s for s, ok in self.available.items() if not ok]
        return SIGNALS.set_index("signal").loc[miss, "needs"]

    @property
    def validated(self) -> pd.DataFrame:
        """Validation rows of the available signals (empty when none)."""
        if self.validation is None:
            return pd.DataFrame()
        return self.validation.loc[self.validation["available"]]

    @property
    def tables(self) -> tuple[pd.DataFrame, ...]:
        """The validation table to display, if any."""
        return () if self.validation is None else (self.validation,)

    def strongest(self) -> str | None:
        """The available signal with the highest lift (None when there is none)."""
        v = self.validated
        return None if v.empty else v["lift"].idxmax()

    def weak(self) -> list[str]:
        """Available signals whose lift is below :data:`WEAK_SIGNAL_LIFT`."""
        v = self.validated
        return [] if v.empty else list(v.index[v["lift"] < WEAK_SIGNAL_LIFT])


def check_signals(features: pd.DataFrame, churned: pd.Series, *, windows: dict | None = None,
                  **thresholds) -> SignalCheck:
    """Compute the signals at the cutoff for the labelled customers and validate them
    (``windows``: the feature windows, for the definitions in words)."""
    available = available_signals(features)
    definitions = signal_definitions(thresholds, windows).assign(
        available=[available[s] for s in SIGNALS["signal"]])
    validation = None
    if any(available.values()):
        # the signals' inputs of the labelled customers (not a copy of every feature of theirs)
        labelled = features[[c for c in SIGNAL_INPUTS if c in features]]
        if not labelled.index.equals(churned.index):
            labelled = labelled.loc[churned.index]
        validation = signal_validation(signal_flags(labelled, **thresholds), churned,
                                       signal_eligibility(labelled, **thresholds), available)
    return SignalCheck(available, definitions, validation)


# Watchlist
# ---------------------------------------------------------------------------------------------
def risk_consistent(mean_risk: float, observed: float) -> bool:
    """Whether today's mean predicted risk is within :data:`RISK_AGREEMENT` of observed churn."""
    return abs(mean_risk - observed) <= RISK_AGREEMENT


# Key figures
# ---------------------------------------------------------------------------------------------
def key_figures(*, dataset: str, data, design: str, cutoff, horizon_days: int,
                features: pd.DataFrame, churned: pd.Series, tiers: pd.DataFrame, clusters,
                profiles: pd.DataFrame, model, signals: SignalCheck, watchlist: dict) -> dict:
    """The stage's key figures (nested; the runner flattens them)."""
    best = model.summary_.loc[model.best_name_]
    base = model.summary_.loc["baseline"]
    figures = {"dataset": dataset, "kind": data.kind, "design": design,
               "observation_end": data.observation_end, "cutoff": cutoff,
               "horizon_days": horizon_days, "customers_at_cutoff": int(features["active"].sum()),
               "churn_rate_in_horizon": float(churned.mean())}
    figures["tiers"] = {str(t): {"customers": int(r["customers"]), "share": r["share"],
                                 "churn_rate": r.get("churn_rate"),
                                 "revenue_share": r["revenue_share"]}
                        for t, r in tiers.iterrows()}
    figures["clusters"] = {"k": clusters.k_, "method": clusters.method,
                           "silhouette": cluster_silhouette(clusters),
                           "churn_rate_max": profiles["churn_rate"].max(),
                           "churn_rate_min": profiles["churn_rate"].min()}
    figures.update({
        "best_model": model.best_name_, "cv_auc": best["cv_auc"], "cv_auc_ci_low": best["ci_low"],
        "cv_auc_ci_high": best["ci_high"],
        "cv_auc_interval": f"95% t-interval over {model.n_splits} stratified folds",
        "baseline_feature": model.baseline_feature, "baseline_cv_auc": base["cv_auc"],
        "auc_gain_vs_baseline": best["auc_gain"], "auc_gain_ci_low": best["gain_ci_low"],
        "auc_gain_ci_high": best["gain_ci_high"],
        "ece": best["ece"], "max_calibration_gap": best["max_calibration_gap"],
        "top_decile_capture": best["top_decile_capture"],
        "top_decile_lift": best["top_decile_lift"],
        "models": {m: {k: r[k] for k in ["cv_auc", "ci_low", "ci_high", "ece",
                                         "top_decile_capture"]}
                   for m, r in model.summary_.iterrows()},
    })
    if signals.validation is not None:
        figures["signals"] = {s: {"share_fired": r["share_fired"], "lift": r["lift"]}
                              for s, r in signals.validated.iterrows()}
    figures["watchlist"] = {k: watchlist[k] for k in ["size", "annual_value", "value_at_risk",
                                                      "mean_risk", "with_any_signal",
                                                      "share_of_active_value", "active_mean_risk"]
                            if k in watchlist}
    figures["watchlist"]["dominant_signals"] = watchlist["dominant_signal_counts"]
    figures["watchlist"]["tiers"] = watchlist["tier_counts"]
    return figures
