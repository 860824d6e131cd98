"""Segmentation and early warning (stage 40_segments): *which customers are at risk, what are they
worth, and what should we do about them?* One topic per module:

``rules``      feature windows, tier rules, signals, the playbook (the thresholds in one place)
``design``     designs, cutoffs, the time-safe view (:func:`truncate`), the label
``scores``     :func:`rfm` scores
``features``   :func:`features_at`, time-safe features at a cutoff
``tiers``      :func:`value_tiers`, :func:`tier_summary`, :func:`rfm_grid`
``risk``       :class:`ChurnRiskModel`, calibration and gains tables, :func:`score_customers`
``clusters``   :class:`CustomerClusters`
``signals``    :func:`early_warning_signals` and their validation
``watchlist``  :func:`build_watchlist`, :func:`write_watchlist`
``sensitivity`` the main figures under other inactivity windows (the churn definition)
``report``     the tables a report section shows, its reading rules, :func:`key_figures`
"""

from churn_research.playbook import open_complaints
from churn_research.segments.clusters import (
    CustomerClusters,
    cluster_columns,
)
from churn_research.segments.design import (
    active_at,
    churn_label,
    resolve_cutoff,
    resolve_design,
    truncate,
)
from churn_research.segments.features import (
    BASE_TABLE_COLUMNS,
    attributes_at,
    covariates_at,
    customer_value,
    features_at,
    split_labelled,
)
from churn_research.segments.report import (
    RFM_COLUMNS,
    SignalCheck,
    check_signals,
    cluster_separation,
    cluster_silhouette,
    grid_rows,
    key_figures,
    label_horizon,
    rfm_codes,
    rfm_overview,
    risk_consistent,
    signal_definitions,
    tier_rules_table,
)
from churn_research.segments.risk import (
    LOG_FEATURES,
    ChurnRiskModel,
    calibration_table,
    expected_calibration_error,
    gains_table,
    make_model,
    model_columns,
    score_customers,
    top_decile_capture,
)
from churn_research.segments.rules import (
    ACTION_RULES,
    DEFAULT_SIGNAL_THRESHOLDS,
    DEFAULT_TIER_RULES,
    DEFAULT_WINDOWS,
    PLAYBOOK,
    SIGNALS,
    TIER_ORDER,
    TIER_RULES,
    WATCHLIST_COLUMNS,
)
from churn_research.segments.scores import (
    quantile_scores,
    rfm,
)
from churn_research.segments.sensitivity import (
    DefinitionSensitivity,
    definition_sensitivity,
)
from churn_research.segments.signals import (
    available_signals,
    early_warning_signals,
    signal_counts,
    signal_eligibility,
    signal_validation,
)
from churn_research.segments.tiers import (
    rfm_grid,
    tier_summary,
    value_tiers,
)
from churn_research.segments.watchlist import (
    assert_no_personal_data,
    build_watchlist,
    playbook_inputs,
    playbook_state,
    price_sensitive,
    suggest_actions,
    watchlist_summary,
    write_watchlist,
)

__all__ = [
    "DEFAULT_WINDOWS",
    "DEFAULT_TIER_RULES",
    "DEFAULT_SIGNAL_THRESHOLDS",
    "TIER_ORDER",
    "TIER_RULES",
    "SIGNALS",
    "PLAYBOOK",
    "ACTION_RULES",
    "open_complaints",
    "playbook_inputs",
    "playbook_state",
    "WATCHLIST_COLUMNS",
    "resolve_design",
    "resolve_cutoff",
    "truncate",
    "active_at",
    "rfm",
    "quantile_scores",
    "attributes_at",
    "covariates_at",
    "features_at",
    "customer_value",
    "split_labelled",
    "BASE_TABLE_COLUMNS",
    "value_tiers",
    "tier_summary",
    "rfm_grid",
    "churn_label",
    "model_columns",
    "make_model",
    "LOG_FEATURES",
    "ChurnRiskModel",
    "calibration_table",
    "expected_calibration_error",
    "gains_table",
    "score_customers",
    "top_decile_capture",
    "CustomerClusters",
    "cluster_columns",
    "available_signals",
    "early_warning_signals",
    "signal_counts",
    "signal_eligibility",
    "signal_validation",
    "price_sensitive",
    "suggest_actions",
    "build_watchlist",
    "watchlist_summary",
    "assert_no_personal_data",
    "write_watchlist",
    "RFM_COLUMNS",
    "SignalCheck",
    "check_signals",
    "cluster_separation",
    "cluster_silhouette",
    "grid_rows",
    "key_figures",
    "label_horizon",
    "rfm_codes",
    "rfm_overview",
    "risk_consistent",
    "signal_definitions",
    "tier_rules_table",
    "DefinitionSensitivity",
    "definition_sensitivity",
]
