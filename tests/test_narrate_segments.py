"""Tests of the section sentences of 40_segments (churn_research.narrate.segments) and of the
report helpers they read (churn_research.segments.report): hand-built result tables and stand-ins
for the fitted models, with the numbers each sentence must carry — a prospective contractual
dataset (synthetic), one snapshot (telco, cross-sectional) and a purchase log (cdnow,
non-contractual)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from churn_research import segments as S
from churn_research.narrate import segments as say

CUT = pd.Timestamp("2024-09-30")
END = pd.Timestamp("2024-12-29")


def _data(kind="contractual", transactions=True):
    return SimpleNamespace(kind=kind, observation_end=END,
                           has=lambda table: transactions and table == "transactions")


def _churned(n=200, rate=0.1):
    k = int(n * rate)
    return pd.Series([1] * k + [0] * (n - k), index=[f"c{i}" for i in range(n)], name="churned")


def _model(gain_ci_low=0.02, n_fit=200):
    summary = pd.DataFrame({
        "cv_auc": [0.81, 0.78, 0.62], "ci_low": [0.78, 0.75, 0.58], "ci_high": [0.84, 0.81, 0.66],
        "ece": [0.021, 0.03, 0.01], "max_calibration_gap": [0.082, 0.09, 0.02],
        "top_decile_capture": [0.35, 0.31, 0.2], "top_decile_lift": [3.5, 3.1, 2.0],
        "auc_gain": [0.19, 0.16, 0.0], "gain_ci_low": [gain_ci_low, 0.01, 0.0],
        "gain_ci_high": [0.25, 0.2, 0.0]},
        index=pd.Index(["gradient_boosting", "logistic", "baseline"], name="model"))
    return SimpleNamespace(summary_=summary, best_name_="gradient_boosting", n_splits=5,
                           baseline_feature="tenure_days", numeric_=["a", "b", "c"],
                           categorical_=["d"], n_fit_=n_fit, random_state=0)


def _tiers(empty=("lost",), at_risk_rate=0.3):
    t = pd.DataFrame({
        "customers": [100, 300, 50, 400, 100, 0], "share": [0.1, 0.3, 0.05, 0.4, 0.1, 0.0],
        "churn_rate": [0.05, 0.08, 0.2, 0.1, at_risk_rate, np.nan],
        "churn_ci_low": [0.02, 0.05, 0.11, 0.07, 0.22, np.nan],
        "churn_ci_high": [0.11, 0.12, 0.33, 0.13, 0.4, np.nan],
        "revenue_share": [0.45, 0.25, 0.02, 0.2, 0.08, 0.0]},
        index=pd.Index(["high value", "loyal", "new", "regular", "at risk", "lost"], name="tier"))
    t.loc[list(empty), "customers"] = 0
    return t


# Data and design
# ---------------------------------------------------------------------------------------------
def test_data_text_prospective_contractual():
    text = say.data_text(_data(), dataset="synthetic", design="prospective", cutoff=CUT,
                         horizon_days=90, churned=_churned())
    assert text.startswith("**Data:** `synthetic` (contractual), observation end 2024-12-29.")
    assert "cutoff **2024-09-30**" in text and "*churned within 90 days after it*" in text
    assert "(a cancellation in that window)" in text
    assert "**200** customers active at the cutoff, of whom **10.0%** churned." in text


def test_data_text_non_contractual_says_churn_is_a_lapse():        # cdnow
    text = say.data_text(_data("non-contractual"), dataset="cdnow", design="prospective",
                         cutoff=CUT, horizon_days=180, churned=_churned(400, 0.25))
    assert "(no purchase in that window: churn is not observed in a purchase log)" in text
    assert "**400** customers" in text and "**25.0%** churned" in text


def test_data_text_cross_sectional_is_not_a_forecast():            # telco
    text = say.data_text(_data(transactions=False), dataset="telco", design="cross-sectional",
                         cutoff=CUT, horizon_days=90, churned=_churned(1000, 0.265))
    assert "**Cross-sectional design.** This dataset is one snapshot (2024-09-30)" in text
    assert "(26.5% of 1,000 customers)" in text and "not a forecast accuracy" in text
    assert "cutoff **" not in text


# RFM
# ---------------------------------------------------------------------------------------------
def test_rfm_codes_text_by_kind_and_design():
    contractual = say.rfm_codes_text(_data(), design="prospective", horizon_days=90)
    assert "with their churn rate in the 90 days after the cutoff." in contractual
    assert "subscription business" in contractual
    cdnow = say.rfm_codes_text(_data("non-contractual"), design="prospective", horizon_days=180)
    assert "In a purchase log recency is the strongest single sign of lapsing." in cdnow
    telco = say.rfm_codes_text(_data(transactions=False), design="cross-sectional",
                               horizon_days=90)
    assert "churn rate (the dataset's churn flag)" in telco and "(R = 'x')" in telco


def test_rfm_grid_text_names_the_hottest_and_coldest_cells():
    feats = pd.DataFrame({"r_score": [1, 1, 5, 5, 3, 3], "f_score": [1, 1, 5, 5, 2, 2]},
                         index=list("abcdef"))
    churned = pd.Series([1, 1, 0, 0, 1, 0], index=list("abcdef"))
    assert S.grid_rows(feats) == "r_score"
    assert S.grid_rows(feats.assign(r_score=1)) == "m_score"
    grid = S.rfm_grid(feats, churned, rows="r_score", cols="f_score")
    assert say.score_label(grid.index.name) == "R score"
    assert say.rfm_grid_text(grid) == (
        "Churn rate by R score and F score: the highest churn (100%) is at R = 1, F = 1; "
        "the lowest (0%) at R = 5, F = 5.")


# Tiers
# ---------------------------------------------------------------------------------------------
def test_tier_churn_text_with_interval_and_empty_tiers():
    text = say.tier_churn_text(_tiers(), has_transactions=True)
    assert text == ("Churn is highest in the **at risk** tier (30.0%, 95% CI 22.0%–40.0%) and "
                    "lowest in the **high value** tier (5.0%). Empty tiers: lost.")
    snapshot = say.tier_churn_text(_tiers(empty=("at risk", "lost")), has_transactions=False)
    assert "highest in the **new** tier (20.0%" in snapshot
    assert "Empty tiers: at risk, lost — a snapshot has no purchase history" in snapshot


def test_tier_revenue_text_and_the_at_risk_check():
    assert say.tier_revenue_text(_tiers()) == (
        "The high-value tier is 10% of customers but holds **45%** of the trailing revenue; "
        "the at-risk tier holds 8% of it.")
    weak = say.tier_revenue_text(_tiers(at_risk_rate=0.15))
    assert "its tier churns 15%, the new tier 20%" in weak
    assert say.tier_revenue_text(_tiers(empty=("at risk", "lost"))).endswith("trailing revenue.")


def test_tier_check_sentence_only_when_at_risk_is_not_the_riskiest():
    tiers = pd.DataFrame({"customers": [10, 20, 5], "churn_rate": [0.48, 0.58, 0.9]},
                         index=["at risk", "regular", "lost"])
    assert "its tier churns 48%, the regular tier 58%" in say.tier_check_sentence(tiers)
    assert say.tier_check_sentence(tiers.assign(churn_rate=[0.7, 0.58, 0.9])) == ""
    assert say.tier_check_sentence(tiers.drop(columns="churn_rate")) == ""


def test_tier_rules_table_shows_the_thresholds_in_force():
    t = S.tier_rules_table({"new_days": 90, "high_value_min_m": 4}).set_index("tier")
    # the rule in words with the values in force; the parameter names in their own column
    assert t.loc["new", "rule"] == "a customer for less than 90 days"
    assert t.loc["new", "parameters"] == "new_days = 90"
    assert t.loc["high value", "rule"].startswith("M score at least 4 ")
    assert t.loc["high value", "parameters"] == "high_value_min_m = 4"
    # unset thresholds read their defaults
    assert "no purchase for 60 days" in t.loc["at risk", "rule"]
    assert "at_risk_activity_ratio = 0.5" in t.loc["at risk", "parameters"]
    assert t.loc["regular", "parameters"] == ""
    assert not t["rule"].str.contains(r"[{}]|_").any()


def test_signal_definitions_in_words_with_the_parameters_beside():
    d = S.signal_definitions({"complaint_min": 2, "frequency_trend": -0.25},
                             {"complaint_days": 30}).set_index("signal")
    assert d.loc["recent_complaint", "definition"] == (
        "at least 2 complaint(s) (tickets of kind 'complaint') in the last 30 days")
    assert d.loc["recent_complaint", "parameters"] == "complaint_min = 2, complaint_days = 30"
    assert "fall by at least 25% of their average month" in d.loc["falling_frequency",
                                                                    "definition"]
    assert not d["definition"].str.contains(r"[{}]|_").any()


def test_rule_parameters_and_cluster_features_read_in_chinese():
    """review s5, item 5: in a Chinese report the parameter column says what each parameter sets
    (the key stays, it is what a researcher types) and the cluster figure's features are words."""
    from churn_research.i18n import label, set_language

    set_language("zh")
    try:
        t = S.tier_rules_table({"new_days": 90}).set_index("tier")
        d = S.signal_definitions({"complaint_min": 1}, {"complaint_days": 90}).set_index("signal")
        features = [label(c) for c in ["tenure_days", "monetary", "activity_ratio", "freq_trend",
                                       "complaints_365", "csat_mean"]]
        campaign = label("retention_offer")
    finally:
        set_language("en")
    assert t.loc["new", "parameters"] == "新客户的在网天数上限（new_days） = 90"
    assert t.loc["at risk", "parameters"].startswith("风险客户的无购买天数（at_risk_recency_days） = 60，"
                                                     "风险客户的最低 F 或 M 分（at_risk_min_fm） = 3，")
    assert d.loc["recent_complaint", "parameters"] == "最少投诉次数（complaint_min） = 1，投诉统计天数（complaint_days） = 90"
    assert features == ["在网时长（天）", "消费金额", "近期活跃度", "购买趋势", "近 365 天投诉次数", "平均满意度评分"]
    assert campaign == "挽留优惠"


def test_methods_text_branches_on_the_design():
    prospective = say.methods_text("prospective")
    snapshot = say.methods_text("cross-sectional")
    assert "as known at a cutoff date" in prospective and "no cutoff" not in prospective
    assert "one snapshot, so there is no cutoff" in snapshot
    assert "truncated" not in snapshot and "*has* churned" in snapshot


def test_model_table_reads_aucs_with_intervals_and_models_in_words():
    summ = pd.DataFrame({
        "cv_auc": [0.7321, 0.5771], "ci_low": [0.6942, 0.5401], "ci_high": [0.7688, 0.6139],
        "auc_gain": [0.1551, 0.0], "gain_ci_low": [0.1062, 0.0], "gain_ci_high": [0.2041, 0.0],
        "ece": [0.0221, 0.0153], "max_calibration_gap": [0.1021, 0.037],
        "brier": [0.0721, 0.0733], "top_decile_capture": [0.212, 0.167],
        "top_decile_lift": [2.112, 1.664]}, index=pd.Index(["logistic", "baseline"], name="model"))
    t = say.model_table(SimpleNamespace(summary_=summ)).data
    assert list(t["model"]) == ["logistic regression", "naive baseline"]
    assert t.loc[0, "cross-validated AUC (95% CI)"] == "0.73 (0.69–0.77)"
    assert t.loc[0, "AUC gain over baseline (95% CI)"] == "+0.16 (+0.11 to +0.20)"
    assert t.loc[1, "AUC gain over baseline (95% CI)"] == "–"
    assert t.loc[0, "calibration error (points)"] == "2.2"
    assert t.loc[0, "lift of riskiest 10%"] == "2.11×"
    assert not any("_" in str(c) for c in t.columns)


# Clusters
# ---------------------------------------------------------------------------------------------
def _clusters(k, sil, k_range=(2, 3, 4), n_fit=500):
    sel = pd.DataFrame({"silhouette": [sil] * len(k_range)}, index=list(k_range))
    return SimpleNamespace(k_=k, selection_=sel, columns_=["frequency", "monetary"],
                           k_range=list(k_range), n_fit_=n_fit, random_state=7, method="kmeans")


def test_clusters_text_by_separation():
    assert [S.cluster_separation(s) for s in (0.6, 0.5, 0.3, 0.1)] == \
        ["clear", "clear", "moderate", "weak"]
    clear = say.clusters_text(_clusters(3, 0.55), n_customers=500)
    assert clear == ("Chosen: **k = 3** on frequency, monetary. Mean silhouette 0.55: clearly "
                     "separated groups.")
    weak = say.clusters_text(_clusters(4, 0.2), n_customers=2000)
    assert "0.20: weak structure" in weak and "still rising at the largest k" in weak
    assert "random sample of 500 of the 2,000 customers (seed 7)" in weak
    assert "still rising" not in say.clusters_text(_clusters(3, 0.2), n_customers=500)


def test_cluster_profiles_text():
    profiles = pd.DataFrame({"churn_rate": [0.1, 0.4, 0.05],
                             "distinguishing": ["high spend (+1.2 sd)", "low tenure (-0.8 sd)",
                                                "high tenure (+1.0 sd)"]}, index=[1, 2, 3])
    assert say.cluster_profiles_text(profiles) == (
        "Cluster 2 churns most (40.0%; low tenure (-0.8 sd)); cluster 3 least "
        "(5.0%; high tenure (+1.0 sd)).")


# The risk model
# ---------------------------------------------------------------------------------------------
def test_model_text_gain_clear_or_not_and_sample():
    text = say.model_text(_model(), n_customers=200)
    # AUCs to 2 decimals, as in the Findings box; the baseline feature in words
    assert "Best model: **gradient boosting**, cross-validated AUC **0.81** (95% t-interval over " \
           "5 folds 0.78–0.84) against 0.62 for the naive baseline (tenure (days) only; " \
           "parameter `baseline_feature`)" in text
    assert "gains **+0.19** AUC over the baseline (95% CI +0.02 to +0.25; the gain is clear)" \
        in text
    assert "Inputs: 3 numeric and 1 categorical features." in text and "sample" not in text
    unclear = say.model_text(_model(gain_ci_low=-0.01, n_fit=100), n_customers=200)
    assert "the interval includes zero" in unclear
    assert "random sample of 100 of the 200 customers (seed 0" in unclear


def test_calibration_and_gains_text():
    cal = pd.DataFrame({"decile": [1, 2], "predicted": [0.3, 0.1], "observed": [0.22, 0.1]})
    cal["gap"] = cal["observed"] - cal["predicted"]
    text = say.calibration_text(_model(), cal)
    assert text.startswith("Calibration of the gradient boosting model: expected calibration "
                           "error **2.1 percentage points**")
    assert "largest decile gap 8.2 points." in text and "30% against 22% observed" in text
    gains = pd.DataFrame({"cum_capture": [0.35, 0.5, 0.62]})
    assert say.gains_text(_model(), gains) == (
        "Contacting the riskiest 10% of customers reaches **35%** of the churners (lift 3.5×); "
        "the riskiest 30% reach 62%.")


def test_calibration_sentence_names_the_worst_decile():
    cal = pd.DataFrame({"decile": [1, 2, 3], "predicted": [0.27, 0.10, 0.02],
                        "observed": [0.17, 0.11, 0.03]})
    cal["gap"] = cal["observed"] - cal["predicted"]
    assert "recalibrated" in say.calibration_sentence(cal, ece=0.08)
    text = say.calibration_sentence(cal, ece=0.02)
    assert "risk decile 1 of 3 (1 = highest risk)" in text and "27% against 17%" in text
    assert "overstated" in text
    ok = cal.assign(observed=cal["predicted"] + 0.01, gap=0.01)
    assert "in every risk decile" in say.calibration_sentence(ok, ece=0.01)


# Signals
# ---------------------------------------------------------------------------------------------
def _signal_features():
    n = 10
    return pd.DataFrame({"activity_ratio": [0.1] * 4 + [1.0] * 6, "tx_baseline": [5] * n,
                         "freq_trend": [-0.5] * 5 + [0.0] * 5, "tx_trend_window": [6] * n},
                        index=[f"c{i}" for i in range(n)])


def test_signals_in_a_purchase_log_without_tickets_or_surveys():     # cdnow
    churned = pd.Series([1, 1, 1, 0, 0, 0, 0, 0, 0, 1], index=[f"c{i}" for i in range(10)])
    check = S.check_signals(_signal_features(), churned, **S.DEFAULT_SIGNAL_THRESHOLDS)
    assert check.missing.to_dict() == {"recent_complaint": "tickets", "low_satisfaction": "surveys"}
    assert say.signals_unavailable_text(check) == (
        "Not available for this dataset: the signals recent complaint (it needs the tickets "
        "table) and low satisfaction (it needs the surveys table), because this dataset does "
        "not have those tables.")
    # activity_drop: 3 of 4 fired churned vs 1 of 6 -> x4.5; falling_frequency: 3/5 vs 1/5 -> x3
    assert check.strongest() == "activity_drop" and check.weak() == []
    text = say.signals_text(check)
    assert text.startswith("The strongest single signal is **activity drop**: customers with it "
                           "churned at 75.0% vs 16.7% for comparable customers without it (×4.5);"
                           " it fired for 40.0% of the customers it could fire for.")
    assert len(check.tables) == 1 and set(check.validated.index) == {"activity_drop",
                                                                     "falling_frequency"}


def test_signals_weak_and_a_single_missing_table():
    feats = _signal_features().assign(complaints_recent=0)
    churned = pd.Series([1, 0] * 5, index=feats.index)
    check = S.check_signals(feats, churned, **S.DEFAULT_SIGNAL_THRESHOLDS)
    assert say.signals_unavailable_text(check) == (
        "Not available for this dataset: the signal low satisfaction (it needs the surveys "
        "table), because this dataset does not have that table.")
    assert "Weak signals here (lift below 1.2): " in say.signals_text(check)


def test_signals_unavailable_in_a_snapshot():                       # telco
    feats = pd.DataFrame({"tenure_days": [10, 400]}, index=["a", "b"])
    check = S.check_signals(feats, pd.Series([1, 0], index=["a", "b"]),
                            **S.DEFAULT_SIGNAL_THRESHOLDS)
    assert check.validation is None and check.tables == () and check.strongest() is None
    # the section heading is the one line; the per-signal line and the text are then empty
    assert say.signals_heading(check) == (
        "Not available for this dataset: early-warning signals, because the data have no "
        "transactions, tickets or surveys to compute them from (one snapshot of attributes).")
    assert say.signals_unavailable_text(check) == ""
    assert say.signals_text(check) == ""
    assert say.signal_definitions(check) is None and say.signal_table(check) is None
    assert not check.definitions["available"].any()


# Watchlist and key figures
# ---------------------------------------------------------------------------------------------
def _summary(dom=None):
    return {"size": 100, "annual_value": 123456.0, "value_at_risk": 23456.0, "mean_risk": 0.31,
            "with_any_signal": 40, "share_of_active_value": 0.052,
            "dominant_signal_counts": dom if dom is not None else {"none": 60, "activity_drop": 40},
            "action_counts": {"Re-engagement": 55, "Price offer": 45},
            "tier_counts": {"high value": 70, "at risk": 30}}


def test_watchlist_text_prospective_consistent_or_not():
    feats = pd.DataFrame({"active": [True] * 1500 + [False] * 10})
    risk = pd.Series([0.11] * 1500)
    text = say.watchlist_text(_summary(), risk=risk, features=feats, churned=_churned(200, 0.1),
                              design="prospective", horizon_days=90, path="out/watchlist.csv")
    assert text.startswith("The watchlist holds **100** of 1,500 active customers with "
                           "**123,456** of annual revenue (5.2% of the active base's); "
                           "risk-weighted annual value (risk × value), the score the watchlist "
                           "ranks by: **23,456**.")
    assert ("Mean predicted risk 31.0% (all active customers: 11.0%, against 10.0% churn observed in the "
            "90 days after the training cutoff — within 3 points, consistent).") in text
    assert "40 have at least one warning signal; the dominant ones are activity drop (40)." in text
    assert "Most common action: *Re-engagement* (55). Written to `watchlist.csv`" in text
    gap = say.watchlist_text(_summary(), risk=risk * 2, features=feats, churned=_churned(200, 0.1),
                             design="prospective", horizon_days=90, path="watchlist.csv")
    assert "a gap of more than 3 points" in gap
    assert S.risk_consistent(0.13, 0.1) and not S.risk_consistent(0.1301, 0.1)
    # review s5 (cdnow): a watchlist riskier than the base on average needs no comment; one
    # below it is explained by its ranking (risk x value)
    below = "The watchlist's mean risk is below the base's because it ranks by risk × value"
    assert below not in text and below not in gap
    low = say.watchlist_text(_summary(), risk=risk * 4, features=feats, churned=_churned(200, 0.1),
                             design="prospective", horizon_days=90, path="watchlist.csv")
    assert "Mean predicted risk 31.0% (all active customers: 44.0%" in low and below in low


def test_watchlist_text_snapshot():                                 # telco
    feats = pd.DataFrame({"active": [True] * 50})
    # no signal can be computed (signals_heading says so in one line): the watchlist is silent
    # about signals, and its value is a ranking score, not a forecast
    none = {**_summary({"none": 100}), "with_any_signal": 0}
    text = say.watchlist_text(none, risk=pd.Series([0.2] * 50), features=feats,
                              churned=_churned(), design="cross-sectional", horizon_days=90,
                              path="watchlist.csv")
    assert "(all active customers: 20.0%; one snapshot, so there is no later period" in text
    assert ("risk-weighted annual value (risk × value), the score the watchlist ranks by (a "
            "descriptive score from one snapshot, not a forecast of revenue lost): **23,456**.") in text
    assert "Mean score 31.0%" in text and "signal" not in text


def test_key_figures_assembles_the_stage_figures():
    feats = pd.DataFrame({"active": [True, True, False]})
    profiles = pd.DataFrame({"churn_rate": [0.1, 0.4]})
    check = S.SignalCheck({"activity_drop": True}, pd.DataFrame(), pd.DataFrame(
        {"available": [True, False], "share_fired": [0.2, np.nan], "lift": [2.0, np.nan]},
        index=["activity_drop", "recent_complaint"]))
    figs = S.key_figures(dataset="x", data=SimpleNamespace(kind="contractual", observation_end=END),
                         design="prospective", cutoff=CUT, horizon_days=90, features=feats,
                         churned=_churned(10, 0.2), tiers=_tiers(), clusters=_clusters(3, 0.4),
                         profiles=profiles, model=_model(), signals=check, watchlist=_summary())
    assert figs["customers_at_cutoff"] == 2 and figs["churn_rate_in_horizon"] == 0.2
    assert figs["clusters"] == {"k": 3, "method": "kmeans", "silhouette": 0.4,
                                "churn_rate_max": 0.4, "churn_rate_min": 0.1}
    assert figs["cv_auc"] == 0.81 and figs["baseline_cv_auc"] == 0.62
    assert figs["cv_auc_interval"] == "95% t-interval over 5 stratified folds"
    assert figs["signals"] == {"activity_drop": {"share_fired": 0.2, "lift": 2.0}}
    assert figs["tiers"]["at risk"]["customers"] == 100
    assert figs["watchlist"]["size"] == 100 and figs["watchlist"]["tiers"]["at risk"] == 30
    no_signals = S.key_figures(**{**dict(dataset="x", data=SimpleNamespace(
        kind="contractual", observation_end=END), design="cross-sectional", cutoff=CUT,
        horizon_days=90, features=feats, churned=_churned(10, 0.2), tiers=_tiers(),
        clusters=_clusters(3, 0.4), profiles=profiles, model=_model(),
        watchlist=_summary()), "signals": S.SignalCheck({}, pd.DataFrame(), None)})
    assert "signals" not in no_signals


# Chinese
# ---------------------------------------------------------------------------------------------
def test_chinese_sentences_tables_and_findings():
    from churn_research import i18n

    english = say.tier_churn_text(_tiers(), has_transactions=True)
    i18n.set_language("zh")
    try:
        text = say.tier_churn_text(_tiers(), has_transactions=True)
        assert text == ("**风险客户**层级的流失率最高（30.0%，95% 置信区间 22.0%–40.0%），"
                        "**高价值客户**层级最低（5.0%）。没有客户的层级：已流失客户。")
        data = say.data_text(_data(), dataset="synthetic", design="prospective", cutoff=CUT,
                             horizon_days=90, churned=_churned())
        assert data.startswith("**数据：** `synthetic`（合同制），观察期末 2024-12-29。")
        assert "**200** 位客户，其中 **10.0%** 流失" in data
        table = say.tier_table(_tiers()).data
        assert list(table.index[:2]) == ["高价值客户", "忠诚客户"] and "流失率" in table.columns
        found = say.findings({"design": "prospective", "cv_auc": 0.8, "cv_auc_ci_low": 0.7,
                              "cv_auc_ci_high": 0.9, "baseline_cv_auc": 0.6, "horizon_days": 90,
                              "top_decile_lift": 2.0}, dataset="synthetic", context={})
        assert found.headline.startswith("流失风险模型对未来 90 天内谁会流失进行排序")
        assert all(k.section == "流失风险模型" for k in found.key_findings)
        playbook = say.shown(S.PLAYBOOK, index=False).data
        assert list(playbook.columns) == ["可能原因", "触发条件"]
        assert playbook.iloc[0, 0] == "服务质量"
        rules = say.action_rules_table(S.ACTION_RULES)
        assert rules.iloc[0, 1].startswith("服务补救") and len(rules) == len(S.ACTION_RULES)
    finally:
        i18n.set_language("en")
    assert say.tier_churn_text(_tiers(), has_transactions=True) == english


def test_watchlist_finding_explains_a_mean_risk_below_the_active_base():
    """Review s6/s7 (cdnow): "mean predicted risk 44.0%" in the Findings box had no base; below
    the active customers' 54.1% it says why (the list ranks by risk x value)."""
    from churn_research import narrate

    figs = {"design": "prospective", "horizon_days": 180, "watchlist.size": 100,
            "watchlist.mean_risk": 0.4397, "watchlist.active_mean_risk": 0.5412}
    texts = [k.text for k in narrate.build("40_segments", figs, dataset="cdnow",
                                           context={}).key_findings]
    line = next(x for x in texts if x.startswith("The watchlist names"))
    assert line.endswith("Its mean risk is below the 54.1% of all active customers because it ranks "
                         "by risk × value: valuable customers with a moderate risk come before "
                         "low-value customers with a high one.")
    figs["watchlist.active_mean_risk"] = 0.30
    texts = [k.text for k in narrate.build("40_segments", figs, dataset="synthetic",
                                           context={}).key_findings]
    assert not any("below the" in x for x in texts)
