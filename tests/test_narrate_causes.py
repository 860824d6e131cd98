"""The section sentences of 20_causes (``churn_research.narrate.causes``) from hand-built
results: the numbers they print and the branches for synthetic (person-months, exit reasons, a
business change), telco (one snapshot: odds ratios, no reasons) and cdnow (non-contractual: no
reasons, no tickets or surveys, no claims)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from churn_research import causes
from churn_research.narrate import causes as say


def _pareto() -> pd.DataFrame:
    count = np.array([50, 30, 15, 5])
    share = count / count.sum()
    return pd.DataFrame({"reason": ["price", "service_quality", "moved", "other"],
                         "count": count, "share": share, "cumulative_share": share.cumsum(),
                         "ci_low": share - 0.05, "ci_high": share + 0.05})


def test_not_available_is_one_line():
    line = say.not_available("exit reasons", "the data record none")
    assert line == "Not available for this dataset: exit reasons, because the data record none."


def test_reasons_sentence_and_the_missing_case():
    text = say.reasons(_pareto(), dataset="synthetic")
    assert ("**price**, given by 50.0% of churners (95% CI 45.0–55.0%, simultaneous across the "
            "4 reasons)") in text
    # churners without a recorded reason count in the shares: the sentence says how many
    unknown = _pareto().assign(reason=["price", "service_quality", "unknown", "other"])
    assert "50.0% of churners (15 with no reason recorded) (95% CI" in say.reasons(
        unknown, dataset="x")
    assert causes.no_reason_count(unknown) == 15 and causes.no_reason_count(_pareto()) == 0
    # 50% + 30% = 80% is not below 0.8, so the top 2 reasons cover 80%
    assert causes.reasons_covering(_pareto()) == 2
    assert "the top 2 reasons cover 80.0% of all exits" in text
    assert say.pareto_title(_pareto()) == "Exit reasons of 100 churners (Pareto)"
    for dataset in ("telco", "cdnow"):
        # the one line is the section heading; the section text is then empty (no second line)
        assert say.reasons(None, dataset=dataset) == ""
        missing = say.reasons_heading(None, dataset=dataset)
        assert missing.startswith("Not available for this dataset: exit reasons")
        assert f"the {dataset} data record no exit reasons" in missing and "\n" not in missing


def test_reasons_by_segment_branches():
    by = pd.DataFrame({"plan": ["basic", "premium"], "reason": ["price", "service_quality"],
                       "share": [0.4, 0.35], "rank": [1, 1]})
    text = say.reasons_by_segment(by, segment="plan", has_reasons=True)
    assert text.endswith("Top reason by plan: basic: price (40%); premium: service quality (35%).")
    assert say.reasons_by_segment(None, segment="plan", has_reasons=False) == ""
    assert say.reasons_by_segment(None, segment="plan", has_reasons=True) == (
        "The data have no `plan` column (parameter `reason_segment`), so reasons are shown "
        "overall only.")
    assert "No segment column chosen" in say.reasons_by_segment(None, segment=None,
                                                                has_reasons=True)


def test_reason_shift_sentence():
    table = pd.DataFrame({"reason": ["price", "moved"], "share_before": [0.2, 0.5],
                          "share_after": [0.35, 0.4], "diff": [0.15, -0.1],
                          "ci_low": [0.1, -0.15], "ci_high": [0.2, -0.05],
                          "p_value": [1e-5, 0.002], "p_holm": [2e-5, 0.002]})
    # Holm over 2 reasons: 1e-5 x 2 = 2e-5; 0.002 x 1 = 0.002 (kept >= the previous one)
    assert np.allclose(multipletests(table["p_value"], method="holm")[1], table["p_holm"])
    shift = causes.ReasonShift(table=table, chi2=42.04, dof=1, p_value=1e-6, cramers_v=0.21,
                               n_before=1200, n_after=800, change_date=pd.Timestamp("2022-07-01"))
    text = say.reason_shift(shift, has_reasons=True)
    assert "**changed** after 2022-07-01 (chi-square = 42.0, 1 df, p < 0.001" in text
    assert "1,200 churners before, 800 after" in text
    assert ("**price**, from 20.0% to 35.0% of exits (+15.0 percentage points, simultaneous 95% CI "
            "+10.0 to +20.0)") in text
    # both reasons moved (Holm p < 0.05), the larger change first
    assert "Reasons whose share moved (Holm-adjusted p < 0.05 over 2 reasons): price, moved." in text
    one = causes.ReasonShift(table=table.assign(p_holm=[2e-5, 0.06]), chi2=42.04, dof=1,
                             p_value=1e-6, cramers_v=0.21, n_before=1200, n_after=800,
                             change_date=pd.Timestamp("2022-07-01"))
    assert "(Holm-adjusted p < 0.05 over 2 reasons): price." in say.reason_shift(one, has_reasons=True)
    same = causes.ReasonShift(table=table, chi2=1.0, dof=1, p_value=0.3, cramers_v=0.02,
                              n_before=1200, n_after=800, change_date=pd.Timestamp("2022-07-01"))
    assert "**did not change significantly**" in say.reason_shift(same, has_reasons=True)
    # without a business change the heading is the one line; without reasons there is nothing
    # (reasons_heading said why)
    assert say.reason_shift(None, has_reasons=True) == ""
    assert say.reason_shift_heading(None, has_reasons=True) == (
        "Not available for this dataset: the reason mix before and after the business change, "
        "because there is no business change in the events table.")
    assert say.reason_shift_heading(None, has_reasons=False) == ""


def _tests() -> tuple[pd.DataFrame, pd.DataFrame]:
    rates = pd.DataFrame({"driver": ["contract"]}).assign()
    rates.attrs["base_rate"] = 0.2654
    tests = pd.DataFrame({
        "driver": ["contract", "tenure_months", "gender"], "levels": [3, 4, 2],
        "chi2": [1184.6, 886.7, 0.5], "dof": [2, 3, 1], "p_value": [1e-250, 0.02, 0.48],
        "p_holm": [3e-250, 0.04, 0.48], "trend_p_value": [np.nan, 1e-180, 0.48],
        "highest": ["Month-to-month", "0–9", "Female"], "lowest": ["Two year", "56–72", "Male"],
        "max_ratio": [15.08, 6.42, 1.02]})
    return rates, tests


def test_driver_tests_sentence_uses_holm_and_orders_by_gap():
    rates, tests = _tests()
    text = say.driver_tests(rates, tests, outcome="Churn rate in the snapshot month")
    assert text.startswith("Base rate: 26.5% (churn rate in the snapshot month). 2 of 3 drivers")
    assert "after Holm's adjustment for testing 3 drivers" in text
    assert ("**contract** (Month-to-month churns 15.1× as often as Two year); **tenure (months)** "
            "(0–9 churns 6.4× as often as 56–72).") in text
    none = tests.assign(p_holm=[0.2, 0.3, 0.5])
    assert "0 of 3 drivers" in say.driver_tests(rates, none, outcome="x")
    assert "widest gap" not in say.driver_tests(rates, none, outcome="x")
    assert "not the annual churn" not in text           # a snapshot month needs no such note
    dated = say.driver_tests(rates, tests, outcome="12-month churn rate")
    assert dated.startswith("Base rate: 26.5% (12-month churn rate). 2 of 3 drivers")
    assert ("The base rate is the share of the customers followed for 12 whole months from when "
            "they joined (or from the start of the records) who left within them, not the annual "
            "churn of the customer base") in dated
    html = say.driver_tests_table(tests).to_html()
    assert "p (Holm)" in html and "< 0.001" in html and "0.040" in html


def test_dose_response_sentences_and_cdnow_without_tickets():
    comp = pd.DataFrame({"level": ["0", "1"], "churn_rate": [0.01, 0.025], "rate_ratio": [1.0, 2.5]})
    comp.attrs["trend_p_value"] = 1e-12
    sat = pd.DataFrame({"level": ["no answer yet", "1", "5"], "churn_rate": [0.02, 0.04, 0.008]})
    sat.attrs["trend_p_value"] = 0.0004
    text = say.dose_response({"complaints": comp, "satisfaction": sat}, dataset="synthetic")
    assert "churn 2.5× as often as those without (2.5% vs 1.0% per month; trend p < 0.001)" in text
    assert "4.0% per month after a CSAT of 1 vs 0.8% after a 5 (trend p < 0.001)" in text
    only = say.dose_response({"complaints": comp, "satisfaction": None}, dataset="x")
    assert only.endswith("Not available for this dataset: churn by satisfaction, because there "
                         "is no surveys table.")
    neither = {"complaints": None, "satisfaction": None}
    assert say.dose_response(neither, dataset="cdnow") == ""
    assert say.dose_heading(neither, dataset="cdnow") == (
        "Not available for this dataset: churn by complaints and by satisfaction "
        "(dose-response), because the cdnow data have no tickets or surveys.")


def _model(link: str, vif: float = 2.0, warnings=()) -> SimpleNamespace:
    effects = pd.DataFrame({
        "term": ["contract[annual]", "plan[premium]", "age_per_10y", "log_tenure"],
        "kind": ["driver", "driver", "driver", "duration"],
        "coef": np.log([0.25, 1.3, 0.98, 0.5]), "ratio": [0.25, 1.3, 0.98, 0.5],
        "ci_low": [0.18, 1.1, 0.9, 0.4], "ci_high": [0.36, 1.5, 1.06, 0.6],
        "p_value": [1e-20, 0.002, 0.6, 1e-9]})
    vif_ = pd.DataFrame({"term": ["contract[annual]", "plan[premium]", "age_per_10y"],
                         "vif": [1.2, vif, 1.1]})
    return SimpleNamespace(effects_=effects, vif_=vif_, vif_threshold=5.0, warnings_=list(warnings),
                           n_rows_=7043, n_customers_=7043, n_events_=1869,
                           ratio_name="hazard ratio" if link == "cloglog" else "odds ratio",
                           design_="person-period" if link == "cloglog" else "snapshot")


def test_driver_model_sentence_person_months_and_snapshot():
    text = say.driver_model(_model("cloglog"))
    assert text == ("7,043 rows, 7,043 customers, 1,869 churn events. Strongest associations "
                    "(hazard ratios): **contract = annual** 0.25 (95% CI 0.18–0.36); "
                    "**plan = premium** 1.30 (95% CI 1.10–1.50). "
                    "No collinearity warnings (every VIF ≤ 5).")
    # telco: a snapshot gives odds ratios; a collinear term is left out and the warning shown
    snap = say.driver_model(_model("logit", vif=8.0, warnings=["plan is collinear."]))
    assert "(odds ratios, collinear terms left out): **contract = annual** 0.25" in snap
    assert "plan = premium" not in snap.split("**Warnings:**")[0]
    assert snap.endswith("**Warnings:** plan is collinear.")


def test_odds_vs_hazards_only_on_person_months():
    both = pd.DataFrame({"term": ["a"], "ratio_hr": [2.0], "ratio_or": [2.1]})
    both.attrs["max_gap"] = 0.05
    assert "differ from the hazard ratios by at most 5.0%" in say.odds_vs_hazards(both)
    assert say.odds_vs_hazards(None) == ""
    assert causes.odds_vs_hazards(_model("logit"), None) is None  # telco, cdnow: a snapshot


def test_truth_check_sentence():
    cmp = pd.DataFrame({"term": ["a", "b", "complaint_90d"], "covered": [True, True, False],
                        "sign_ok": [True, True, True]})
    text = say.truth_check(cmp)
    assert "2 of 3 95% intervals cover the true value, and 3 of 3 effects" in text
    assert "Not covered: a complaint in the last 90 days." in text
    assert say.truth_check(None) == ""


def test_importance_sentence_agree_and_disagree():
    comp = pd.DataFrame({"driver": ["contract", "tenure", "gender"], "rank_gap": [0.0, 4.0, -1.0]})
    comp.attrs.update({"spearman": 0.8123, "test_score": 0.8456})
    text = say.importance(comp)
    assert text.startswith("Rank correlation between the two rankings: **0.81** (held-out AUC "
                           "of the boosting model 0.846). They disagree most on tenure")
    agree = say.importance(comp.assign(rank_gap=[0.0, 3.0, -3.0]))
    assert agree.endswith("No driver moves by 4 or more places between the rankings.")


def test_profiles_sentence_with_and_without_high_churn_groups():
    profiles = pd.DataFrame({"rule": ["contract = Month-to-month & tenure ≤ 15.5", "rest"],
                             "churn_rate": [0.69, 0.2], "lift": [2.6, 0.75],
                             "support": [0.147, 0.853], "high_churn": [True, False]})
    profiles.attrs["base_rate"] = 0.2654
    text = say.profiles(profiles, min_lift=1.5)
    assert text == ("**contract = Month-to-month & tenure ≤ 15.5**: 69% churn, 2.6× the base rate "
                    "of 27%, 15% of customers. 1 profile reaches at least 1.5× the base rate.")
    flat = say.profiles(profiles.assign(high_churn=False), min_lift=1.5)
    assert flat.endswith("No profile reaches 1.5× the base rate: churn is spread rather than "
                         "concentrated in a few groups.")
    assert say.profiles_title("Share lapsed by the observation end") == (
        "High-churn profiles (share lapsed by the observation end)")


def test_claims_supported_contradicted_and_untestable():
    claims = pd.DataFrame({
        "claim": ["tenure", "age", "gender"],
        "statement": ["Long-standing customers churn less", "Older customers churn less",
                      "Men churn less than women"],
        "supported": [True, False, np.nan], "effect": [0.4, 1.77, np.nan],
        "ci_low": [0.35, 1.6, np.nan], "ci_high": [0.46, 1.95, np.nan],
        "p_value": [1e-40, 0.0123, np.nan], "n": [7043, 7043, 0],
        "group": ["12+ months", "65+", None], "reference_group": ["under 12 months", "under 65", None],
        "note": ["", "", "No gender column."], "method": ["ratio of churn proportions"] * 3})
    lines = say.claim_sentences(claims)
    assert lines[0] == ("**Long-standing customers churn less** — supported: 12+ months churn 60% "
                        "less than under 12 months (ratio 0.40, 95% CI 0.35–0.46, p < 0.001, "
                        "7,043 customers). ")
    assert "— not supported: 65+ churn 77% more than under 65 (ratio 1.77" in lines[1]
    assert "p = 0.012" in lines[1]
    assert lines[2] == ("**Men churn less than women** — cannot be tested on these data, because "
                        "the data have no gender column.")
    text = say.claims(claims)
    assert text.startswith("- **Long-standing") and text.endswith(
        "\n\nMethod: ratio of churn proportions.\n\nNot available for this dataset: the claim "
        "\"men churn less than women\", because the data have no gender column.")
    # the notes test_claims writes read as a clause after "because" too
    real = claims.assign(note=["", "", "Not testable: no 'gender' column."])
    assert say.claims(real).endswith("because the data have no 'gender' column.")
    assert "gender: the data have no 'gender' column" in say.claims_heading(
        real.assign(supported=np.nan))


@pytest.mark.parametrize("design, expected", [
    ("person-period", "customer-months at risk"),
    ("snapshot", "one row per customer; outcome: churn rate in the snapshot month"),
])
def test_data_note_by_design(design, expected):
    customers = pd.DataFrame({"end_date": [pd.Timestamp("2018-01-05"), pd.NaT, pd.NaT]})
    data = SimpleNamespace(customers=customers, observation_end=pd.Timestamp("2018-01-31"),
                           kind="contractual", meta={})
    text = say.data_note(data, data, dataset="telco", design=design,
                         outcome="Churn rate in the snapshot month", drivers=["contract", "gender"])
    assert text.startswith("**Data:** `telco`, 3 customers, 1 churned by 2018-01-31 (contractual).")
    assert expected in text and "**Drivers:** contract, gender." in text


@pytest.fixture()
def zh():
    from churn_research import i18n
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def test_sentences_tables_and_labels_read_in_chinese(zh):
    from churn_research.wording.drivers import driver_label, rule_label, term_label
    text = say.reasons(_pareto(), dataset="synthetic")
    assert text.startswith("最常见的流失原因是**价格**") and "Goodman" in text
    assert "churners" not in text
    assert say.pareto_title(_pareto()) == "100 位流失客户的流失原因（帕累托图）"
    assert say.reasons_heading(None, dataset="telco").startswith("本数据集无法提供：流失原因")
    # data labels: column names, levels and named terms through label()
    assert term_label("contract[Two year]") == "合同类型 = 两年合同"
    assert term_label("complaint_90d") == "过去 90 天内有投诉"
    assert term_label("first_amount_log2") == "首次购买金额（金额每翻一倍）"
    assert term_label("age_per_10y") == "年龄（每 10 岁）"
    assert driver_label("partner") == "有配偶/伴侣"          # Telco's column, not the channel
    assert rule_label("contract = monthly & age ≤ 26") == "合同类型 = 月付 且 年龄 ≤ 26"
    rates, tests = _tests()
    gap = say.driver_tests(rates, tests, outcome="Churn rate in the snapshot month")
    assert gap.startswith("基准流失率：26.5%（快照月份的流失率）")
    assert "“按月合同”的流失是“两年合同”的 15.1 倍" in gap
    html = say.driver_tests_table(tests).to_html()
    assert "p 值（Holm 校正）" in html and "按月合同" in html and "p (Holm)" not in html
