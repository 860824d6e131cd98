"""Stage 60_retention's package: calibration, money at risk, state-aware actions, the
likely-reason check and win-back (numbers on small frames and simulated data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research.model import ChurnDataError
from churn_research.retention import actions, calibration, value, winback


def _miscalibrated(n=20000, seed=1):
    rng = np.random.default_rng(seed)
    p_true = rng.beta(1.2, 8.0, n)
    y = (rng.random(n) < p_true).astype(int)
    ids = pd.Index([f"C{i}" for i in range(n)], name="customer_id")
    return pd.Series(p_true, index=ids), pd.Series(y, index=ids)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_fixes_a_known_miscalibration(method):
    p_true, y = _miscalibrated()
    scores = p_true ** 0.5                    # too high everywhere, same ranking
    cal = calibration.calibrate(scores, y, method=method, n_splits=5, random_state=0)
    m = cal.metrics()
    assert m.loc["before", "ece"] > 0.15
    assert m.loc["after", "ece"] < 0.02       # held-out ECE (the acceptance level)
    assert m.loc["after", "brier"] <= m.loc["before", "brier"]
    assert abs(m.loc["after", "mean_predicted"] - y.mean()) < 0.01
    # new scores go through the calibrator fitted on every pair; in-sample ones are held out
    new = cal.apply(scores.iloc[:5])
    assert (new.between(0, 1)).all() and list(new.index) == list(scores.index[:5])
    assert cal.apply(scores.iloc[:5], in_sample=True).equals(cal.after.iloc[:5].rename("p_churn"))


def test_ece_of_calibrated_predictions_is_near_zero_and_deciles_run_from_the_riskiest():
    p_true, y = _miscalibrated(n=50000, seed=2)
    assert calibration.expected_calibration_error(y, p_true) < 0.006
    table = calibration.reliability_table(y, p_true)
    assert list(table["decile"]) == list(range(1, 11))
    assert table["predicted"].is_monotonic_decreasing
    assert calibration.risk_deciles([0.9, 0.1, 0.5, 0.3], n_bins=2).tolist() == [1, 2, 1, 2]
    assert calibration.brier_score([1, 0], [0.5, 0.5]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="unknown calibration method 'beta'"):
        calibration.Calibrator("beta")


def test_money_at_risk_sums_per_customer_and_its_interval_covers_the_point():
    ids = [f"C{i}" for i in range(200)]
    rng = np.random.default_rng(0)
    p = pd.Series(rng.uniform(0, 0.5, 200), index=ids)
    v = pd.Series(rng.gamma(2.0, 300.0, 200), index=ids)
    mar = value.money_at_risk(p, v, watchlist_ids=ids[:10], horizon_days=90, value_model="x",
                              n_boot=300, random_state=0)
    assert mar.total() == pytest.approx(float((p * v).sum()))
    assert mar.total("watchlist") == pytest.approx(float((p * v).iloc[:10].sum()))
    tab = mar.table()
    for g in ("watchlist", "all"):
        assert tab.loc[g, "ci_low"] < tab.loc[g, "expected_loss"] < tab.loc[g, "ci_high"]
    assert tab.loc["all", "share"] == pytest.approx(1.0)
    ones = value.money_at_risk(pd.Series(1.0, index=ids), v, horizon_days=90, value_model="x")
    assert ones.total() == pytest.approx(float(v.sum()))        # p = 1: the residual value
    # a customer without a value (or a probability) is left out, not counted as 0
    part = value.money_at_risk(p, v.iloc[:50], horizon_days=90, value_model="x")
    assert len(part.per_customer) == 50
    assert value.bootstrap_sum([], n_boot=10) == (0.0, 0.0)


def _state(**cols):
    base = {"high_value": False, "tier": "regular", "price_sensitive": False,
            "likely_reason": "unknown (model risk only)", "contract": "monthly", "open_complaints": 0}
    base.update(cols)
    return pd.DataFrame([base])


@pytest.mark.parametrize("cols, rule, action", [
    ({"price_sensitive": True, "likely_reason": "price", "contract": "annual"},
     "price-sensitive, already on a long contract",
     "Price offer: loyalty discount at renewal (already on an annual or longer contract)"),
    ({"price_sensitive": True, "likely_reason": "price", "contract": "Two year"},
     "price-sensitive, already on a long contract",
     "Price offer: loyalty discount at renewal (already on an annual or longer contract)"),
    ({"price_sensitive": True, "likely_reason": "price", "contract": "Month-to-month"},
     "price-sensitive, month-to-month", "Price offer: move to an annual plan at a discount"),
    ({"price_sensitive": True, "likely_reason": "price", "high_value": True},
     "price-sensitive, month-to-month",
     "Account-manager call with a retention price offer (annual plan at a discount)"),
    ({"high_value": True}, "high value", "Account-manager call: review needs, tailor the service"),
    ({"tier": "new", "price_sensitive": True, "likely_reason": "price"}, "new customer",
     "Onboarding check-in: help the customer get value from the product"),
    ({"open_complaints": 1, "tier": "new", "price_sensitive": True}, "unresolved complaint",
     "Service recovery: call back, resolve the open complaint, follow up in 2 weeks"),
    ({"likely_reason": "service quality", "price_sensitive": True}, "service quality",
     "Service follow-up: check that the complaint's fix held"),
    ({"likely_reason": "dissatisfaction"}, "dissatisfaction",
     "Satisfaction follow-up: ask what went wrong, fix it, re-survey"),
    ({"likely_reason": "disengagement"}, "disengagement",
     "Re-engagement: usage tips and a personalised offer (no discount)"),
    ({}, "no specific signal", "Proactive check-in; monitor next month"),
])
def test_state_actions(cols, rule, action):
    out = actions.state_actions(_state(**cols))
    assert (out["rule"].iloc[0], out["action"].iloc[0]) == (rule, action)


def test_no_price_offer_without_price_sensitivity_and_no_annual_move_for_annual_customers():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"high_value": rng.random(n) < 0.3,
                          "tier": rng.choice(["new", "regular", "at risk"], n),
                          "price_sensitive": rng.random(n) < 0.4,
                          "likely_reason": rng.choice(["price", "dissatisfaction", "disengagement",
                                                       "service quality", "onboarding"], n),
                          "contract": rng.choice(["monthly", "annual", None], n)})
    out = actions.state_actions(frame)
    price_offer = out["action"].str.contains("price offer|loyalty discount", case=False)
    assert price_offer.any() and frame.loc[price_offer, "price_sensitive"].all()
    annual_move = out["action"].str.contains("annual plan", case=False)
    assert annual_move.any() and not actions.long_contract(frame.loc[annual_move, "contract"]).any()
    # without a contract or open-complaint column the rules still apply
    assert len(actions.state_actions(frame.drop(columns="contract"))) == n


def test_open_complaints_counts_unresolved_complaints_in_the_window():
    tk = pd.DataFrame({"customer_id": ["A", "A", "B", "C", "D"],
                       "date": pd.to_datetime(["2025-12-01", "2025-12-20", "2025-12-10",
                                               "2025-06-01", "2025-12-15"]),
                       "kind": ["complaint", "complaint", "complaint", "complaint", "inquiry"],
                       "resolved": [False, False, True, False, False]})
    out = actions.open_complaints(tk, "2025-12-31", days=90)
    assert out.to_dict() == {"A": 2}
    assert actions.open_complaints(None, "2025-12-31").empty


def test_reason_validation_confusion_accuracy_and_base_rate():
    ids = list("abcdefgh")
    heuristic = pd.Series(["price", "price", "service quality", "disengagement", "price",
                           "onboarding", "price", "service quality"], index=ids)
    recorded = pd.Series(["price", "competitor", "service_quality", "relocation", "service_quality",
                          "price", None, "price"], index=ids)
    v = actions.reason_validation(heuristic, recorded)
    assert v["customers"] == 7                    # h has no recorded reason
    # mapped truth: price, price, service quality, other, service quality, price, price
    assert v["accuracy"] == pytest.approx(3 / 7)
    assert v["base_reason"] == "price" and v["base_rate"] == pytest.approx(4 / 7)
    assert v["confusion"].loc["price", "price"] == 2
    assert v["confusion"].loc["other", "disengagement"] == 1
    assert actions.reason_validation(heuristic, pd.Series(None, index=ids, dtype=object)) is None


def test_recently_lost_and_lost_value():
    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                              "start_date": pd.to_datetime(["2024-01-01"] * 4),
                              "end_date": pd.to_datetime(["2025-12-01", "2025-11-15", "2025-06-01", None]),
                              "monthly_revenue": [10.0, 50.0, 99.0, 5.0]})
    lv = winback.lost_value(customers, None)
    assert lv.to_dict() == {"A": 120.0, "B": 600.0, "C": 1188.0}
    tx = pd.DataFrame({"customer_id": ["A", "A", "B"], "amount": [5.0, 7.0, 3.0],
                       "date": pd.to_datetime(["2024-11-01", "2025-11-30", "2025-11-01"])})
    assert winback.lost_value(customers, tx).to_dict() == {"A": 7.0, "B": 3.0, "C": 0.0}
    lost_on = winback.loss_known_dates(customers, kind="contractual", inactivity_days=None)
    wb = winback.recently_lost(lost_on, lv, observation_end="2025-12-31", days=90)
    assert list(wb.columns) == winback.WINBACK_COLUMNS
    assert wb["customer_id"].tolist() == ["B", "A"] and wb["rank"].tolist() == [1, 2]
    assert wb["days_since_loss"].tolist() == [46, 30]
    nc = winback.loss_known_dates(customers, kind="non-contractual", inactivity_days=30)
    assert nc["A"] == pd.Timestamp("2025-12-31")


def test_winback_rate_from_a_purchase_log():
    # inactivity 30 days; A: gap 60 days (a loss, back 30 days after it was known), B: gap
    # 400 days (back after 13 months), C: never back, D: gap of 20 days (no loss)
    tx = pd.DataFrame({"customer_id": ["A", "A", "B", "B", "C", "D", "D"],
                       "date": pd.to_datetime(["2023-01-01", "2023-03-02", "2023-01-01", "2024-02-05",
                                               "2023-01-01", "2023-01-01", "2023-01-21"]),
                       "amount": 1.0})
    losses = winback.lapses(tx, inactivity_days=30)
    # the last purchase of every customer also opens a loss (no later purchase seen)
    assert sorted(losses["customer_id"]) == ["A", "A", "B", "B", "C", "D"]
    rate = winback.winback_rate(losses, observation_end="2025-12-31").set_index("months")
    assert rate.loc[6, "returned"] == 1 and rate.loc[12, "returned"] == 1
    assert rate.loc[12, "losses"] == 6
    assert rate.loc[12, "rate"] == pytest.approx(1 / 6)
    assert rate.loc[12, "ci_low"] < 1 / 6 < rate.loc[12, "ci_high"]
    # losses whose window is not over yet do not count
    assert winback.winback_rate(losses, observation_end="2023-06-01").set_index("months").loc[12, "losses"] == 0


def test_contractual_returns_need_a_new_start_of_the_same_customer():
    one_row = pd.DataFrame({"customer_id": ["A", "B"], "start_date": pd.to_datetime(["2024-01-01"] * 2),
                            "end_date": pd.to_datetime(["2024-06-01", None])})
    assert winback.contractual_returns(one_row) is None
    assert winback.winback_rate(None, observation_end="2025-12-31") is None
    again = pd.DataFrame({"customer_id": ["A", "A", "B"],
                          "start_date": pd.to_datetime(["2023-01-01", "2023-09-01", "2023-01-01"]),
                          "end_date": pd.to_datetime(["2023-06-01", None, "2023-03-01"])})
    r = winback.winback_rate(winback.contractual_returns(again), observation_end="2025-12-31")
    assert r.set_index("months").loc[6, "returned"] == 1 and r.set_index("months").loc[6, "losses"] == 2


def test_winback_csv_has_customer_id_only(tmp_path):
    wb = pd.DataFrame({"rank": [1], "customer_id": ["C1"], "lost_on": ["2025-12-01"],
                       "days_since_loss": [30], "lost_value": [12.5]})
    path = winback.write_winback(wb, tmp_path / "winback.csv")
    assert path.read_text().splitlines() == ["rank,customer_id,lost_on,days_since_loss,lost_value",
                                             "1,C1,2025-12-01,30,12.50"]
    with pytest.raises(ChurnDataError, match="unexpected win-back columns"):
        winback.write_winback(wb.assign(email="a@b.com"), tmp_path / "x.csv")
    with pytest.raises(ChurnDataError, match="personal data must never reach a report"):
        winback.write_winback(wb.assign(customer_id="someone@example.com"), tmp_path / "x.csv")


def test_findings_name_the_win_back_window_the_data_can_show():
    from churn_research.narrate.retention import findings

    figs = {"horizon_days": 180, "money_at_risk.all.expected_loss": 1000.0,
            "money_at_risk.all.ci_low": 900.0, "money_at_risk.all.ci_high": 1100.0,
            "money_at_risk.watchlist.expected_loss": 100.0, "calibration.ece_before": 0.05,
            "calibration.ece_after": 0.01, "winback.recently_lost": 12, "winback.days": 180,
            "winback.rate_6m": 0.2, "winback.rate_6m_ci_low": 0.1, "winback.rate_6m_ci_high": 0.3,
            "winback.losses_6m": 50, "winback.rate_12m": None, "winback.losses_12m": 0}
    f = findings(figs, dataset="x", context={})
    assert f.headline == ("Customers active now are expected to take 1,000 of residual value with them "
                          "within 180 days (95% interval 900 – 1,100); the watchlist holds 100 of it.")
    texts = [k.text for k in f.key_findings]
    assert "Historically 20.0% (95% CI 10.0–30.0%) of lost customers came back within 6 months." in texts
    assert not any("coming back" in u for u in f.unavailable)
    assert any("exit reasons" in u for u in f.unavailable)
