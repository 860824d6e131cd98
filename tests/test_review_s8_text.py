"""Review s8 (rendered reports): the money of 60_retention is an expected loss only for calibrated
probabilities of leaving a contract, and points to 50_clv's otherwise; the call lists' CSV columns
say what they hold and carry the report's quantity; signals read as words."""

from __future__ import annotations

import pandas as pd
import pytest

from churn_research import i18n
from churn_research import segments as S
from churn_research.narrate import actions as todo
from churn_research.narrate import definitions
from churn_research.narrate import retention as say
from churn_research.retention.value import money_at_risk

#: cdnow's key figures as the reviewer read them (main at f032d8f): uncalibrated scores of a
#: purchase log's 180-day lapse, against 50_clv's 74,894 within 12 months
CDNOW = {"design": "prospective", "horizon_days": 180, "calibration.used": False,
         "calibration.ece_before": 0.08, "calibration.ece_after": 0.09,
         "calibration.brier_before": 0.2, "calibration.brier_after": 0.21,
         "money_at_risk.value_model": "non-contractual",
         "money_at_risk.all.expected_loss": 140313.0, "money_at_risk.all.ci_low": 137000.0,
         "money_at_risk.all.ci_high": 143000.0, "money_at_risk.all.customers": 5374,
         "money_at_risk.watchlist.expected_loss": 9000.0, "money_at_risk.watchlist.customers": 100,
         "clv_value_lost.expected_loss": 74894.0, "clv_value_lost.horizon_months": 12}


@pytest.fixture
def zh():
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def _mar():
    ids = pd.Index(["A", "B", "C", "D"], name="customer_id")
    p = pd.Series([0.5, 0.1, 0.2, 0.2], index=ids)
    v = pd.Series([1000.0, 1000.0, 500.0, 100.0], index=ids)
    return money_at_risk(p, v, watchlist_ids=["A"], horizon_days=180, value_model="non-contractual",
                         n_boot=50, random_state=0)


def test_cdnow_headline_is_a_ranking_and_points_to_50_clv():
    head = say.findings(CDNOW, dataset="cdnow", context={"kind": "non-contractual"}).headline
    assert "expected to take" not in head
    assert head.startswith("Weighted by their churn-risk score over 180 days, the residual value of the "
                           "customers active now sums to 140,313 (95% interval 137,000–143,000); the "
                           "100 top-ranked customers of the watchlist hold 9,000 of it. This ranks where "
                           "the value at stake sits; it is not the value expected to be lost: ")
    assert "recalibration did not improve them" in head
    assert "churn within 180 days is a lapse under the inactivity rule, which also counts customers " \
           "who will buy again" in head
    assert head.endswith("The expected loss is 50_clv's: 74,894 of future profit within 12 months.")


def test_cdnow_headline_in_chinese(zh):
    head = say.findings(CDNOW, dataset="cdnow", context={"kind": "non-contractual"}).headline
    assert head.startswith("按 180 天内的流失风险得分加权，现有活跃客户的剩余价值合计 140,313 元")
    assert "并不是预计会损失的价值" in head
    assert "因此无法证明它们作为概率是准确的；180 天内的流失是按不活跃规则判定的一次沉寂" in head  # full-width ；
    assert head.endswith("预期损失以《客户终身价值与流失成本》为准：12 个月内 74,894 元的未来利润。")


def test_calibrated_contract_churn_stays_an_expected_loss():
    figs = dict(CDNOW, **{"calibration.used": True, "money_at_risk.value_model": "contractual"})
    head = say.findings(figs, dataset="x", context={}).headline
    assert head.startswith("Customers active now are expected to take 140,313 of residual value with "
                           "them within 180 days")
    assert say.is_expected_loss(kind="contractual", design="prospective", calibrated=True)
    assert not say.is_expected_loss(kind="contractual", design="prospective", calibrated=False)
    assert not say.is_expected_loss(kind="non-contractual", design="prospective", calibrated=True)


def test_money_text_and_table_relate_the_sum_to_50_clv():
    mar = _mar()   # 0.5*1000 + 0.1*1000 + 0.2*500 + 0.2*100 = 720; watchlist (A) 500
    clv = {"expected_loss": 400.0, "horizon_months": 12}
    text = say.money_text(mar, kind="non-contractual", calibrated=False, clv=clv)
    assert text.startswith("Risk-weighted value = the churn-risk model's own score for churn within 180 "
                           "days (calibration did not improve it) × residual value")
    assert "sums to 720" in text and "top-ranked watchlist customers hold 500 (69.4% of it)" in text
    assert ("The expected loss is 50_clv's value lost to churn within 12 months, 400 of future "
            "profit; this sum (720 over 180 days) is not a second estimate of it") in text
    tab = say.money_table(mar, calibrated=False, kind="non-contractual")
    assert "risk-weighted value" in tab.columns and "money at risk" not in tab.columns
    assert tab.loc["watchlist", "risk-weighted value"] == "500"
    # one snapshot: the table names the sum and the score as the text does (review s8: telco
    # named one figure three ways), never money at risk or P(churn)
    snap = say.money_table(mar, calibrated=False, kind="contractual", design="cross-sectional")
    assert list(snap.columns) == ["customers", "residual value", "mean resemblance score",
                                  "resemblance-weighted value at risk", "95% interval",
                                  "share of the base's resemblance-weighted value at risk"]
    assert snap.loc["all active customers", "resemblance-weighted value at risk"] == "720"


def test_summary_quotes_50_clv_when_60_is_a_ranking():
    figs = {"50_clv": {"money_at_risk.expected_loss": 74894.0, "money_at_risk.horizon_months": 12,
                       "money_at_risk.base_value": 1e6, "money_at_risk.customers": 5374,
                       "scenarios.churn_minus_5_pts.extra_profit": 1000.0, "kind": "non-contractual"},
            "60_retention": CDNOW}
    line = todo.action("50_clv", figs)
    assert "expected to take 74,894 with them within 12 months (50_clv)" in line
    assert "140,313" not in line
    rows = {r.name: r for r in definitions.money_definitions(figs)}
    assert "Risk-weighted value within 180 days (a ranking, not an expected loss)" in rows


def _watchlist():
    return pd.DataFrame([{"rank": 1, "customer_id": "A", "tier": "at risk", "high_value": True,
                          "risk": 0.5, "value": 1200.0, "expected_loss": 600.0, "priority": 600.0,
                          "signals": "low_satisfaction, activity_drop", "n_signals": 2,
                          "dominant_signal": "low_satisfaction", "likely_reason": "dissatisfaction",
                          "action": "Satisfaction follow-up: ask what went wrong, fix it, re-survey"}]
                        )[S.WATCHLIST_COLUMNS]


def test_call_list_csv_carries_the_reports_quantity_under_headers_that_say_what_they_are(tmp_path):
    mar = _mar()
    listed = mar.on_list(_watchlist())
    path = S.write_watchlist(listed, tmp_path / "retention_watchlist.csv")
    csv = pd.read_csv(path)
    assert list(csv.columns) == ["rank", "customer_id", "tier", "high_value", "risk", "annual_revenue",
                                 "risk_x_annual_revenue", "priority", "signals", "n_signals",
                                 "dominant_signal", "likely_reason", "action", "residual_value",
                                 "risk_x_residual_value"]
    # the column sums to the report's "watchlist holds" figure (risk x residual value)
    assert csv["risk_x_residual_value"].sum() == pytest.approx(mar.total("watchlist")) == 500.0
    assert csv.loc[0, "risk_x_annual_revenue"] == 600.0 and csv.loc[0, "residual_value"] == 1000.0
    # signals in words, as the report shows them
    assert csv.loc[0, "signals"] == "low satisfaction, activity drop"
    assert csv.loc[0, "dominant_signal"] == "low satisfaction"


def test_call_list_csv_in_chinese(tmp_path, zh):
    path = S.write_watchlist(_mar().on_list(_watchlist()), tmp_path / "zh.csv")
    csv = pd.read_csv(path, encoding="utf-8-sig")
    assert {"年收入", "风险 × 年收入", "剩余价值", "风险 × 剩余价值"} <= set(csv.columns)
    assert csv.loc[0, "风险 × 剩余价值"] == 500.0 and csv.loc[0, "预警信号"] == "满意度低、活跃度下降"


def test_playbook_triggers_name_signals_in_words():
    assert "dominant signal: low satisfaction" in set(S.PLAYBOOK["trigger"])
    assert not any("_" in x for x in S.PLAYBOOK["trigger"])


# --- 10_indicators (cdnow): the headline and the new-customer rate ------------------------------
CDNOW_10 = {"freq": "month", "latest_period": "1997-12", "churn_rate": 0.19776,
            "churn_rate_ci_low": 0.18454, "churn_rate_ci_high": 0.21169,
            "mean_churn_rate_per_period": 0.16720, "mean_churn_rate_first_period": "1997-04",
            "mean_churn_rate_last_period": "1997-12", "window_end": "1997-12-31", "lapses": "episodes",
            "returned": 523, "churned_new": 317, "churn_rate_on_books": 0.1210,
            "churn_rate_new": 0.30, "churn_rate_existing": 0.17285, "new_tenure_months": 3}


def test_cdnow_latest_churn_says_what_returners_add():
    from churn_research.narrate import indicators as ni

    found = ni.findings(CDNOW_10, dataset="cdnow",
                        context={"kind": "non-contractual", "inactivity_days": 180})
    assert found.headline.startswith(
        "Churn was 19.8% (95% CI 18.5–21.2%) in the latest complete month (1997-12), against 16.7% per "
        "month on average from 1997-04 to 1997-12 (after the months of heavy acquisition). That rate "
        "includes 317 customers who started or came back during 1997-12 and made no purchase in the "
        "180 days after it; among the customers on the books at its start, churn was 12.1%.")
    # review s8: new vs existing pools the whole window (no customer joined after the months of
    # heavy acquisition, so leaving them out would compare the survivors of one cohort)
    new = [k.text for k in found.key_findings if k.text.startswith("New customers")]
    assert new == ["New customers (under 3 months) churn 30.0% per month, existing customers 17.3%."]


# --- win-back: the value base says what it is ----------------------------------------------------
def test_expected_recovered_value_states_its_base():
    wb = pd.DataFrame({"rank": [1, 2], "customer_id": ["A", "B"], "lost_on": [None, None],
                       "days_since_loss": [10, 20], "lost_value": [1000.0, 500.0],
                       "p_return_6m": [0.2, 0.4], "expected_recovered_value": [200.0, 200.0]})
    text = say.winback_text(wb, None, days=180, kind="non-contractual", path="winback.csv", currency="USD")
    assert text.startswith("2 customers were lost in the last 180 days, taking 1,500 USD of revenue of "
                           "the year before their loss with them; weighted by each customer's chance "
                           "of returning within 6 months, that is 400 USD (expected recovered value). "
                           "Its base is stated, not forecast: a year's revenue at the customer's "
                           "pre-loss rate for each expected return")
    line = [k.text for k in say.findings({"winback.recently_lost": 2910, "winback.days": 180,
                                          "winback.expected_recovered_value": 141680.0,
                                          "winback.return_6m.auc": 0.63}, dataset="cdnow",
                                         context={"currency": "USD"}).key_findings]
    assert line[0].startswith("2,910 customers were lost in the last 180 days; each one's chance of "
                              "returning within 6 months × the revenue of their last year before the "
                              "loss sums to 141,680 USD (expected recovered value: a year's revenue at "
                              "the pre-loss rate per expected return")


def test_contract_lost_value_counts_only_the_months_on_the_books():
    from churn_research.retention import winback

    customers = pd.DataFrame({"customer_id": ["short", "long"],
                              "start_date": pd.to_datetime(["2017-10-31", "2015-01-31"]),
                              "end_date": pd.to_datetime(["2018-01-31", "2018-01-31"]),
                              "monthly_revenue": [100.0, 100.0]})
    # telco's shape: 3 months on the books -> 3 months of revenue, not 12
    assert winback.lost_value(customers, None).to_dict() == {"short": 300.0, "long": 1200.0}
