"""Stage 60_retention's package: calibration, money at risk, state-aware actions, the
likely-reason check and win-back (numbers on small frames and simulated data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research.i18n import set_language
from churn_research.model import ChurnDataError
from churn_research.retention import actions, calibration, value, winback


def true_risks(n=20000, seed=1):
    """True churn probabilities and outcomes drawn from them (a perfectly calibrated score)."""
    rng = np.random.default_rng(seed)
    p_true = rng.beta(1.2, 8.0, n)
    y = (rng.random(n) < p_true).astype(int)
    ids = pd.Index([f"C{i}" for i in range(n)], name="customer_id")
    return pd.Series(p_true, index=ids), pd.Series(y, index=ids)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_fixes_a_known_miscalibration(method):
    p_true, y = true_risks()
    scores = p_true ** 0.5                    # too high everywhere, same ranking
    cal = calibration.calibrate(scores, y, method=method, n_splits=5, random_state=0)
    m = cal.metrics()
    assert m.loc["before", "ece"] > 0.15
    assert m.loc["after", "ece"] < 0.02       # held-out ECE (the issue's acceptance level)
    assert m.loc["after", "brier"] <= m.loc["before", "brier"]
    assert abs(m.loc["after", "mean_predicted"] - y.mean()) < 0.01
    # new scores go through the calibrator fitted on every pair; in-sample ones are held out
    new = cal.apply(scores.iloc[:5])
    assert (new.between(0, 1)).all() and list(new.index) == list(scores.index[:5])
    assert cal.apply(scores.iloc[:5], in_sample=True).equals(cal.after.iloc[:5].rename("p_churn"))


def test_ece_of_calibrated_predictions_is_near_zero_and_deciles_run_from_the_riskiest():
    p_true, y = true_risks(n=50000, seed=2)
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
                          "within 180 days (95% interval 900–1,100); the watchlist holds 100 of it.")
    texts = [k.text for k in f.key_findings]
    assert "Historically 20.0% (95% CI 10.0–30.0%) of lost customers came back within 6 months." in texts
    assert not any("coming back" in u for u in f.unavailable)
    assert any("exit reasons" in u for u in f.unavailable)


# ---------------------------------------------------------------------------------------------
# win-back ranked by how likely the lost customer is to come back (issue 16)
# ---------------------------------------------------------------------------------------------
def _purchase_log(n=3000, seed=0):
    """A purchase log whose lapses come back far more often for frequent buyers: customers buy
    every 10 days for 1-12 purchases, lapse for 200 days (inactivity 90 days) and come back with
    probability 0.1 (one purchase) or 0.7 (8+ purchases); returns happen 120-150 days after the
    loss is known."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2020-01-01")
    for i in range(n):
        k = int(rng.integers(1, 13))
        day0 = start + pd.Timedelta(days=int(rng.integers(0, 400)))
        dates = [day0 + pd.Timedelta(days=10 * j) for j in range(k)]
        p = 0.1 + 0.6 * min(k - 1, 7) / 7
        if rng.random() < p:
            dates.append(dates[-1] + pd.Timedelta(days=90 + int(rng.integers(120, 150))))
        rows += [(f"C{i:05d}", d, float(10 + 5 * k)) for d in dates]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_return_model_learns_who_comes_back_from_past_lapses():
    tx = _purchase_log()
    losses = winback.lapses(tx, inactivity_days=90)
    end = pd.Timestamp("2022-06-30")
    r6 = winback.return_model(tx, losses, observation_end=end, months=6, max_days_since_loss=60,
                              random_state=0)
    assert r6 is not None and r6.months == 6 and r6.chosen == "logistic"
    assert r6.cases > 2000 and 0.2 < r6.returned / r6.cases < 0.6
    # frequency (and the long gap after a return, read from the tenure) drive returns: the
    # logistic model on the state separates them much better than the frequency bands alone
    assert r6.scores.loc["logistic", "auc"] > 0.75 > r6.scores.loc["band rate", "auc"] > 0.55
    assert r6.scores.loc["logistic", "brier"] < r6.scores.loc["band rate", "brier"]
    assert r6.scores.loc[r6.chosen, "ece"] < 0.06            # held-out calibration error
    assert r6.capture["by_expected"] > r6.capture["by_lost_value"] >= r6.capture["at_random"] == 0.2
    kf = r6.key_figures()
    assert kf["model"] == "logistic" and kf["auc"] == r6.scores.loc["logistic", "auc"]
    # the same seed gives the same model; the states read the purchases up to the last one
    again = winback.return_model(tx, losses, observation_end=end, months=6, max_days_since_loss=60,
                                 random_state=0)
    assert again.scores.equals(r6.scores)
    st = winback.lapse_states(tx, losses.head(1), days_since_loss=7)
    first = tx[tx["customer_id"] == losses.loc[0, "customer_id"]]
    upto = first[first["date"] <= losses.loc[0, "last_purchase"]]
    assert st.iloc[0].tolist() == [len(upto), upto["amount"].sum(),
                                   (upto["date"].max() - upto["date"].min()).days, 7.0]
    # too few old-enough lapses, or no purchase log: not estimable (None), never 0
    assert winback.return_model(tx, losses, observation_end="2020-06-01", months=6) is None
    assert winback.return_model(None, losses, observation_end=end) is None


def test_win_back_list_ranked_by_expected_recovered_value_and_written_without_personal_data(tmp_path):
    tx = _purchase_log()
    end = pd.Timestamp("2021-06-30")
    losses = winback.lapses(tx, inactivity_days=90)
    customers = (tx.groupby("customer_id")["date"].agg(start_date="min", end_date="max").reset_index())
    lost_on = winback.loss_known_dates(customers, kind="non-contractual", inactivity_days=90)
    lv = winback.lost_value(customers, tx)
    wb = winback.recently_lost(lost_on, lv, observation_end=end, days=60)
    models = {6: winback.return_model(tx, losses, observation_end=end, months=6,
                                      max_days_since_loss=60), 12: None}
    ranked = winback.rank_by_recovery(wb, models, tx, losses)
    assert list(ranked.columns) == winback.WINBACK_COLUMNS + ["p_return_6m", "expected_recovered_value"]
    assert ranked["expected_recovered_value"].tolist() == pytest.approx(
        (ranked["p_return_6m"] * ranked["lost_value"]).tolist())
    assert ranked["expected_recovered_value"].is_monotonic_decreasing
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert sorted(ranked["customer_id"]) == sorted(wb["customer_id"])
    assert ranked["p_return_6m"].between(0, 1).all() and ranked["p_return_6m"].gt(0).all()
    path = winback.write_winback(ranked, tmp_path / "winback.csv")
    head = path.read_text().splitlines()[0]
    assert head == "rank,customer_id,lost_on,days_since_loss,lost_value,p_return_6m,expected_recovered_value"
    # no estimable window: the list is unchanged (ranked by lost value), no 0 shown anywhere
    assert winback.rank_by_recovery(wb, {6: None, 12: None}, tx, losses).equals(wb)
    set_language("zh")
    try:
        zh = winback.write_winback(ranked, tmp_path / "winback_zh.csv").read_text(encoding="utf-8-sig")
    finally:
        set_language("en")
    assert zh.splitlines()[0].split(",")[-2:] == ["6 个月内回流概率", "预期可挽回价值"]
    with pytest.raises(ChurnDataError, match="unexpected win-back columns"):
        winback.write_winback(ranked.assign(phone="123"), tmp_path / "x.csv")


def test_win_back_mix_reconciles_the_list_with_the_historical_rate():
    """Review s8 (cdnow): the list's mean chance of returning (31%) stood beside a historical
    win-back rate of 17.4% with nothing to reconcile them. The historical rate per band of
    purchase days, weighted by the list's mix, says how much of the gap the mix explains; its
    base is the historical rate's own (the same lapses and returns)."""
    from churn_research.narrate import retention as say

    tx = _purchase_log()
    end = pd.Timestamp("2021-06-30")
    losses = winback.lapses(tx, inactivity_days=90)
    customers = (tx.groupby("customer_id")["date"].agg(start_date="min", end_date="max").reset_index())
    lost_on = winback.loss_known_dates(customers, kind="non-contractual", inactivity_days=90)
    wb = winback.recently_lost(lost_on, winback.lost_value(customers, tx), observation_end=end, days=60)
    model = winback.return_model(tx, losses, observation_end=end, months=6, max_days_since_loss=60)
    states = winback.listed_states(wb, tx, losses)
    p = model.predict(states)
    # the states are the ones the ranking reads: the same P(return) per customer
    ranked = winback.rank_by_recovery(wb, {6: model}, tx, losses).set_index("customer_id")
    assert ranked.loc[wb["customer_id"], "p_return_6m"].to_numpy() == pytest.approx(p)
    mix = winback.mix_by_frequency(tx, losses, states, p, observation_end=end, months=6)
    assert list(mix.index) == ["1", "2", "3–4", "5–9", "10+"]
    rate = winback.winback_rate(losses, observation_end=end, months=(6,)).iloc[0]
    assert mix["lapses"].sum() == rate["losses"] and mix["returned"].sum() == rate["returned"]
    # band by band, by hand: purchase days up to the lapse's last purchase, cut at 1 | 2 | 3-4 | 5-9 | 10+
    window = pd.Timedelta(days=6 * 30.4375)
    old = losses[losses["lost_on"] + window <= end]
    days_before = [int(((tx["customer_id"] == c) & (tx["date"] <= d)).sum())
                   for c, d in zip(old["customer_id"], old["last_purchase"], strict=True)]
    band = pd.cut(days_before, [0, 1, 2, 4, 9, np.inf], labels=list(mix.index))
    back = (old["returned_on"].notna() & (old["returned_on"] <= old["lost_on"] + window)).to_numpy()
    by_hand = pd.Series(back).groupby(band, observed=False).agg(["size", "sum"])
    assert mix["lapses"].tolist() == by_hand["size"].tolist()
    assert mix["returned"].tolist() == by_hand["sum"].tolist()
    listed_band = pd.cut(states["frequency"], [0, 1, 2, 4, 9, np.inf], labels=list(mix.index))
    assert mix["listed"].tolist() == listed_band.value_counts().reindex(mix.index).tolist()
    f = winback.mix_figures(mix, months=6)
    assert f["historical_rate"] == pytest.approx(rate["rate"])
    share = listed_band.value_counts(normalize=True).reindex(mix.index)
    assert f["rate_for_list_mix"] == pytest.approx(float((share * by_hand["sum"] / by_hand["size"]).sum()))
    assert f["list_mean_p_return"] == pytest.approx(p.mean())
    # frequent buyers come back far more often (the generator: 0.1 for one purchase, 0.7 for 8+)
    assert mix["rate"].iloc[0] < 0.2 < 0.5 < mix["rate"].iloc[3]
    text = say.mix_text(f)
    assert text.startswith(f"The customers on the list have a mean chance of {100 * p.mean():.1f}% of "
                           "coming back within 6 months, against the historical "
                           f"{100 * rate['rate']:.1f}%")
    assert f"weighted by the list's mix, {100 * f['rate_for_list_mix']:.1f}% would come back" in text
    assert say.mix_text(None) == ""
    # the reading: "most" only when the mix closes at least half of the gap
    base = {"months": 6, "historical_rate": 0.174, "list_mean_p_return": 0.307,
            "one_purchase_day_share_lapses": 0.75, "one_purchase_day_share_listed": 0.0,
            "one_purchase_day_rate": 0.132}
    assert "most of the difference" in say.mix_text({**base, "rate_for_list_mix": 0.335})
    assert "no one on the list bought on one day only" in say.mix_text({**base, "rate_for_list_mix": 0.335})
    assert "2.0% of the list bought on one day only" in say.mix_text(
        {**base, "rate_for_list_mix": 0.335, "one_purchase_day_share_listed": 0.02})
    assert "part of the difference" in say.mix_text({**base, "rate_for_list_mix": 0.2})
    table = say.mix_table(mix)
    assert table.index.name == "purchase days before the loss" and len(table) == 5


def test_win_back_finding_says_why_the_list_returns_more_often_than_history():
    from churn_research.narrate.retention import findings

    figs = {"horizon_days": 180, "winback.recently_lost": 2910, "winback.days": 180,
            "winback.rate_6m": 0.174, "winback.rate_6m_ci_low": 0.168, "winback.rate_6m_ci_high": 0.179,
            "winback.losses_6m": 19642, "winback.mix.months": 6, "winback.mix.rate_for_list_mix": 0.335,
            "winback.mix.list_mean_p_return": 0.307, "winback.mix.one_purchase_day_share_lapses": 0.751,
            "winback.mix.one_purchase_day_share_listed": 0.0}
    texts = [k.text for k in findings(figs, dataset="cdnow", context={}).key_findings]
    assert ("Historically 17.4% (95% CI 16.8–17.9%) of lost customers came back within 6 months. The "
            "customers lost recently bought more often than the typical past lapse (none with one "
            "purchase day, against 75.1%): at the historical rates of their mix of purchase days 33.5% "
            "would come back, and the return model gives them 30.7% on average.") in texts
    set_language("zh")
    try:
        zh = [k.text for k in findings(figs, dataset="cdnow", context={}).key_findings]
    finally:
        set_language("en")
    assert any("33.5%" in z and "30.7%" in z and "购买天数" in z for z in zh)


def test_contractual_win_back_says_return_likelihood_cannot_be_estimated():
    from churn_research.narrate import retention as say

    text = say.return_model_text({}, kind="contractual", has_returns=False)
    assert text.startswith("How likely a lost customer is to come back cannot be estimated for these "
                           "data: each customer appears once in the data")
    assert "unknown, not zero" in text and "0%" not in text
    assert say.return_model_table({}) is None
    # without a campaigns table the planning tool says so plainly (one line, no figures)
    [line] = say.plan_outputs(None, None)
    assert line.data == ("The planning tool needs a campaign measured against a control group (a "
                         "campaigns table): it is not available for these data.")
    assert say.no_campaign_text().startswith("The data record no campaign with a control group (no "
                                             "campaigns table), so no retention action's effect can "
                                             "be estimated")


def test_summary_shows_the_money_figures_with_their_bases_and_offers_the_call_list(tmp_path):
    """The summary's money figures each name their base (customers, horizon, model, stage), in
    both languages, and its download link is the state-aware call list of 60_retention."""
    import json

    from churn_research.narrate.definitions import money_definitions
    from churn_research.narrate.findings import StageFindings
    from churn_research.runner.findings_html import render_summary

    clv = {"annual_cost_of_churn": 112351.6, "cost_of_churn.customers_active": 1930,
           "cost_of_churn.annual_churn_rate": 0.248, "cost_of_churn.annual_revenue_per_customer": 781.9,
           "margin": 0.3, "money_at_risk.expected_loss": 248777.7, "money_at_risk.customers": 1930,
           "money_at_risk.horizon_months": 12, "clv.mean": 522.9,
           "clv.definition": "residual lifetime value of active customers (survival curve)"}
    ret = {"money_at_risk.all.expected_loss": 74020.2, "money_at_risk.all.customers": 1930.0,
           "horizon_days": 90, "campaign.value_per_customer": 514.8, "campaign.date": "2024-12-01"}
    rows = money_definitions({"50_clv": clv, "60_retention": ret})
    assert [(r.name, r.value, r.stage) for r in rows] == [
        ("Annual cost of churn (profit lost in a year)", "112,352", "50_clv"),
        ("Value lost to churn within 12 months", "248,778", "50_clv"),
        ("Money at risk within 90 days", "74,020", "60_retention"),
        ("Value of a customer kept", "523", "50_clv"),
        ("Value of a customer kept by the campaign", "515", "60_retention")]
    assert rows[2].measures.startswith("the 1,930 customers active now: calibrated P(churn within 90 "
                                       "days) from the churn-risk model of 40_segments")
    assert money_definitions({}) == []
    snap = money_definitions({"50_clv": clv, "60_retention": {**ret, "design": "cross-sectional"}})
    assert snap[2].name == "Money at risk (one snapshot)" and "not comparable" in snap[2].measures
    # review s5, 2b: the snapshot's score is called calibrated only when calibration was used
    assert snap[2].measures.startswith("the 1,930 customers active now: the churn-risk model's "
                                       "calibrated score × residual value from 50_clv")
    kept = money_definitions({"50_clv": clv, "60_retention": {**ret, "design": "cross-sectional",
                                                              "calibration.used": False}})
    assert kept[2].measures.startswith("the 1,930 customers active now: the churn-risk model's own "
                                       "score (calibration did not improve it) × residual value")
    log = money_definitions({"50_clv": {**clv, "kind": "non-contractual"}, "60_retention": ret})
    assert "BG/NBD probability of having stopped for good" in log[2].measures
    # review s8: the win-back list's money sits beside the others with its base (lost customers,
    # revenue): cdnow's three figures near 141k read side by side
    wb = {**ret, "winback.days": 180, "winback.recently_lost": 2910, "winback.lost_value": 394217.6,
          "winback.expected_recovered_value": 141679.9, "winback.return_6m.auc": 0.63}
    rows_wb = money_definitions({"50_clv": clv, "60_retention": wb}, currency="USD")
    [row] = [r for r in rows_wb if r.name == "Expected recovered value of the win-back list"]
    assert row.value == "141,680 USD" and row.stage == "60_retention"
    assert row.measures.startswith("the 2,910 customers lost in the last 180 days (already lost, not "
                                   "active): P(return within 6 months) from the return model")
    assert "revenue, not profit" in row.measures
    plain = money_definitions({"50_clv": clv, "60_retention": {**wb, "winback.expected_recovered_value": None,
                                                               "winback.return_6m.auc": None}})
    assert [r.value for r in plain if r.name == "Revenue taken by the lost customers of the win-back list"] == ["394,218"]
    snap = money_definitions({"50_clv": clv, "60_retention": {**ret, "winback.snapshot_date": "2024-01-31",
                                                              "winback.lost_by_snapshot": 1869,
                                                              "winback.lost_value": 2.5e6}})
    assert any(r.measures.startswith("the 1,869 customers who had left by the snapshot of 2024-01-31")
               for r in snap)
    set_language("zh")
    try:
        zh = money_definitions({"50_clv": clv, "60_retention": ret}, currency="元")
    finally:
        set_language("en")
    assert zh[2].name == "90 天内的风险金额" and zh[2].value == "74,020 元"

    ds = tmp_path / "synthetic"
    ds.mkdir()
    for stage, figs in (("40_segments", {"watchlist.size": 100, "design": "prospective"}),
                        ("50_clv", clv), ("60_retention", {**ret, "action_counts.new customer": 3})):
        (ds / f"{stage}.html").write_text("<html><body><h1>x</h1></body></html>")
        StageFindings(stage, "synthetic", f"{stage} headline.", [], []).write(ds / f"{stage}.findings.json")
        (ds / f"{stage}.json").write_text(json.dumps(figs))
    (ds / "watchlist.csv").write_text("customer_id\nC1\n")
    (ds / "retention_watchlist.csv").write_text("customer_id\nC1\n")
    page = render_summary(tmp_path, "synthetic").read_text()
    assert "<a href='retention_watchlist.csv'>Download the retention watchlist (retention_watchlist.csv)</a>" in page
    assert "href='watchlist.csv'" not in page
    assert "<h2>Money figures and their bases</h2>" in page
    assert page.index("Money at risk within 90 days") > page.index("Money figures and their bases")


@pytest.mark.slow
def test_synthetic_calibrated_ece_and_the_csvs_carry_no_personal_data(tmp_path):
    """The acceptance on the synthetic data of params/synthetic.yaml (names, phones and emails
    included by the generator): the recalibrated risk's held-out ECE is at most 2%, and the
    retention watchlist and the win-back list hold customer_id and no personal data."""
    from churn_research import segments
    from churn_research.synthetic import generate

    data = generate(5000, random_state=0, campaign={"date": "2024-12-01", "horizon_days": 365})
    assert {"name", "phone", "email"} <= set(data.customers.columns)
    opts = {"window_days": 365, "recent_days": 90, "baseline_days": 365, "trend_months": 6,
            "complaint_days": 90, "survey_days": 365, "static_columns": None}
    cutoff = segments.resolve_cutoff(data, None, horizon_days=90, design="prospective")
    feats = segments.features_at(data, cutoff, design="prospective", **opts)
    churned = segments.churn_label(data, cutoff, horizon_days=90, design="prospective")
    model = segments.ChurnRiskModel(baseline_feature="tenure_days", n_splits=5, random_state=0,
                                    max_fit_rows=30000).fit(feats.loc[churned.index], churned)
    cal = calibration.calibrate(model.oof_[model.best_name_], churned.loc[model.oof_.index],
                                method="isotonic", n_splits=5, random_state=0)
    m = cal.metrics()
    assert m.loc["after", "ece"] <= 0.02                 # held-out (cross-fitted) folds
    feats_now, risk_now = segments.score_customers(data, model, design="prospective", **opts)
    watch = segments.build_watchlist(feats_now, cal.apply(risk_now), tiers=segments.value_tiers(feats_now),
                                     signals=segments.early_warning_signals(feats_now), top_n=100)
    wpath = segments.write_watchlist(watch.assign(action="x"), tmp_path / "retention_watchlist.csv")
    result = winback.analyse(data, days=90)
    # contractual, one row per customer: no win-back rate, no return model, ranked by lost value
    assert result.rate is None and result.returns == {}
    wb = result.winback
    assert list(wb.columns) == winback.WINBACK_COLUMNS and wb["lost_value"].is_monotonic_decreasing
    bpath = winback.write_winback(wb, tmp_path / "winback.csv")
    personal = data.customers[["name", "phone", "email"]].astype(str).stack().tolist()
    for path in (wpath, bpath):
        text = path.read_text(encoding="utf-8")
        header = text.splitlines()[0].split(",")
        assert "customer_id" in header and not {"name", "phone", "email"} & set(header)
        assert not any(p in text for p in personal[:3000:7])
    assert pd.read_csv(bpath)["customer_id"].str.fullmatch(r"C\d{7}").all()


def test_what_to_do_targets_by_uplift_only_when_its_qini_interval_is_above_zero():
    from churn_research.narrate.actions import action

    weak = {"60_retention": {"plan.met": True, "plan.met_how": "met", "uplift.qini_normalised_ci_low": -0.03}}
    assert action("60_retention", weak) == (
        "Churn already meets its target, so no campaign is needed to "
        "reach it. Work through the retention watchlist (retention_watchlist.csv): the uplift model "
        "cannot yet tell whom a contact helps (its Qini interval includes 0), so do not target by "
        "it; keep a control group to measure the next campaign.")
    strong = {"60_retention": {"plan.met": False, "plan.contacts": 400, "plan.to_save": 20,
                               "plan.cost": 4000.0, "uplift.qini_normalised_ci_low": 0.05}}
    assert action("60_retention", strong) == (
        "Meeting the churn target takes keeping about 20 customers: at the campaign's measured "
        "effect about 400 contacts costing 4,000. Contact first the customers the uplift model "
        "ranks highest, and keep a control group to measure the next campaign.")


def test_decile_1_sentence_sets_each_prediction_beside_its_own_deciles_churn():
    """review s5, 2a: the model's decile 1 (C0-C9: 2 of 10 churn) and the calibrated
    probabilities' decile 1 (C10-C19: 5 of 10) are different customers; each prediction is
    read against its own decile's observed churn."""
    ids = pd.Index([f"C{i}" for i in range(100)], name="customer_id")
    y = pd.Series(0, index=ids)
    y.iloc[[0, 1, 10, 11, 12, 13, 14]] = 1
    before = pd.Series(np.linspace(0.40, 0.01, 100), index=ids)
    after = before.copy()
    after.iloc[10:20], after.iloc[0:10] = 0.5, 0.2
    cal = calibration.CalibrationResult(y, before, after, calibration.Calibrator("isotonic"),
                                        "isotonic", 5)
    from churn_research.narrate import retention as say

    said = say.calibration_text(cal)
    assert ("In the model's decile 1 it predicted 38.2% and 20.0% churned; in the calibrated "
            "probabilities' decile 1 they predict 50.0% and 50.0% churned.") in said
    # review s5, 3: the calibration error reads in percentage points in the text and the table
    assert "goes from 16.64 to 13.25 percentage points, and the Brier score from 0.0738 to 0.0696" in said
    assert say.calibration_table(cal)["expected calibration error (percentage points)"].tolist() == \
        ["16.64", "13.25"]
    f = say.findings({"calibration.ece_before": 0.1664, "calibration.ece_after": 0.1325,
                      "calibration.used": True}, dataset="x", context={})
    assert ("Recalibrated risks are off by 13.25 percentage points on average across risk deciles "
            "(expected calibration error, held out), against 16.64 before.") in [k.text for k in f.key_findings]


def test_texts_say_calibrated_probabilities_are_used_only_where_they_improve():
    """review s5, 2b: the rule keeps the model's own scores unless calibration improves both the
    calibration error and the Brier score, so no text says the calibrated ones are used."""
    from churn_research.narrate import retention as say

    assert say.setting_text(dataset="telco", design="prospective", horizon_days=90, method="isotonic",
                            n_splits=5).endswith(
        "The scores are recalibrated by isotonic regression, cross-fitted over 5 folds (each "
        "customer's calibrated probability comes from a calibrator that did not see them); the "
        "calibrated probabilities replace the model's own scores only where they improve them "
        "(next section).")


def test_a_target_met_only_within_the_interval_is_not_called_met():
    """synthetic (review s5, 1a): churn per quarter 8.53% against a target of 7.63%, the interval
    covering the target: the estimate is 0.9 points above it, so "not shown to be met", not "no
    campaign needed"; the plan's figures are the gap's."""
    from types import SimpleNamespace

    from churn_research.narrate import retention as say
    from churn_research.narrate.actions import action
    from churn_research.retention import measure

    risk = {"plan.met": True, "plan.met_how": "within interval", "plan.period_actual": 0.08531,
            "plan.period_target": 0.07635, "plan.to_save": 70, "plan.contacts": 890,
            "plan.cost": 8900.0, "uplift.qini_normalised_ci_low": -0.03}
    said = action("60_retention", {"60_retention": risk})
    assert said.startswith(
        "Churn is not shown to meet its target: the estimate is 0.9 percentage points above it, "
        "though its interval still covers the target. Reaching the target takes keeping about 70 "
        "customers: at the campaign's measured effect about 890 contacts costing 8,900. Work through")
    assert "no campaign is needed" not in said
    p = measure.plan(actual=0.08531, target=0.07635, customers=1930, effect=-0.0787,
                     cost_per_contact=10.0, value_per_customer=500.0, effect_ci=(-0.1168, -0.0403),
                     within_interval=True)
    p.update(period="quarter", period_actual=0.08531, period_target=0.07635)
    assert say.plan_text(p, SimpleNamespace(horizon_days=90)) == (
        "Churn per quarter (8.5%) is not shown to meet the target of 10_indicators (7.6%): the "
        "estimate is 0.9 percentage points above it, though the interval of the actual rate still "
        "covers the target. Reaching the target would take keeping about 18 customers over 90 days: "
        "about 229 contacts at the campaign's measured effect (155 to 447 over its 95% interval), "
        "costing 2,290.")
    f = say.findings({**risk, "campaign.difference": -0.0787, "campaign.campaign": "retention_offer",
                      "campaign.horizon_days": 90, "campaign.ci_low": -0.1168,
                      "campaign.ci_high": -0.0403, "campaign.saved": 77.0, "plan.period": "quarter",
                      "uplift.qini_coefficient": 0.01},
                     dataset="synthetic", context={})
    # review s5, 3: the campaign's effect with its sign in words (zh "低 7.9 个百分点", not "-7.9")
    assert f.key_findings[0].text.startswith(
        "Campaign 'retention offer': churn within 90 days 7.9 percentage points lower for the "
        "contacted than for the control group (95% CI -11.7 percentage points to -4.0 percentage "
        "points), about 77 customers saved")
    from churn_research.runner.findings_html import in_language

    with in_language("zh"):
        zh = say.findings({**risk, "campaign.difference": -0.0787, "campaign.campaign": "retention_offer",
                           "campaign.horizon_days": 90, "campaign.ci_low": -0.1168,
                           "campaign.ci_high": -0.0403, "campaign.saved": 77.0, "plan.period": "quarter",
                           "uplift.qini_coefficient": 0.01}, dataset="synthetic_zh", context={})
    assert zh.key_findings[0].text.startswith("活动“挽留优惠”：被联系客户 90 天内的流失率比对照组低 7.9 个百分点（")
    assert zh.key_findings[-1].text.startswith("每季度流失率（8.5%）未被证明已达到《流失指标与业务变更影响》的目标（7.6%）："
                                               "估计值比目标高 0.9 个百分点")
    [plan_line] = [k.text for k in f.key_findings if k.section == "How many customers must we save?"]
    assert plan_line == ("Churn per quarter (8.5%) is not shown to meet the target of 10_indicators "
                         "(7.6%): the estimate is 0.9 percentage points above it, though its "
                         "interval still covers the target.")


# ---------------------------------------------------------------------------------------------
# win-back in one snapshot: when each customer left is not recorded (issue 16)
# ---------------------------------------------------------------------------------------------
def _snapshot_data():
    """Six customers of one snapshot taken 2018-01-31 (starts spread over four years): C1, C3, C4
    and C6 had left by it, and their end dates are all the snapshot date (Telco's shape)."""
    from churn_research import ChurnData

    snap = pd.Timestamp("2018-01-31")
    customers = pd.DataFrame({
        "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
        "start_date": pd.to_datetime(["2014-02-01", "2015-06-01", "2016-01-01", "2017-03-01",
                                      "2017-09-01", "2018-01-01"]),
        "end_date": [snap, pd.NaT, snap, snap, pd.NaT, snap],
        "monthly_revenue": [20.0, 90.0, 70.0, 20.0, 10.0, 55.5]})
    return ChurnData(customers=customers, observation_end=snap, kind="contractual")


def test_snapshot_win_back_lists_everyone_who_had_left_with_unknown_loss_dates(tmp_path):
    from churn_research import retention
    from churn_research.narrate.retention import findings, winback_table, winback_text

    data = _snapshot_data()
    assert data.is_snapshot
    wb = winback.analyse(data, days=90)
    assert wb.snapshot and wb.snapshot_date == pd.Timestamp("2018-01-31")
    assert wb.rate is None and wb.returns == {}
    lst = wb.winback
    assert list(lst.columns) == winback.WINBACK_COLUMNS
    assert lst["customer_id"].tolist() == ["C3", "C1", "C4", "C6"]      # by lost value
    assert lst["rank"].tolist() == [1, 2, 3, 4]
    # monthly revenue x the months on the books in the year before (review s8: C4 stayed 11
    # months, C6 one: not 12 x their monthly revenue)
    assert lst["lost_value"].tolist() == [840.0, 240.0, 220.0, 55.5]
    assert lst["lost_on"].isna().all() and lst["days_since_loss"].isna().all()
    # the same list with days=1: the window does not apply to a snapshot
    assert winback.analyse(data, days=1).winback.equals(lst)
    # the CSV leaves both columns out (review s8: written empty on every row, they read as
    # missing data): unknown, never the snapshot date or 0
    path = winback.write_winback(lst, tmp_path / "winback.csv")
    assert path.read_text().splitlines() == ["rank,customer_id,lost_value", "1,C3,840.00",
                                             "2,C1,240.00", "3,C4,220.00", "4,C6,55.50"]
    # a dated list keeps them, also with a row whose date is missing
    dated = lst.assign(lost_on=["2018-01-02", None, "2018-01-05", "2018-01-09"],
                       days_since_loss=pd.array([29, pd.NA, 26, 22], dtype="Int64"))
    head = winback.write_winback(dated, tmp_path / "dated.csv").read_text().splitlines()[:3]
    assert head == ["rank,customer_id,lost_on,days_since_loss,lost_value",
                    "1,C3,2018-01-02,29,840.00", "2,C1,,,240.00"]
    # the report's table does not show them
    table = winback_table(lst, "EUR")
    assert list(table.columns) == ["customer id", "lost revenue (not profit)"]
    assert table["lost revenue (not profit)"].tolist() == ["840 EUR", "240 EUR", "220 EUR", "55.50 EUR"]
    text = winback_text(lst, wb.rate, days=90, kind=data.kind, path=path, currency="EUR",
                        snapshot_date=wb.snapshot_date)
    assert text.startswith(
        "The data are one snapshot, taken on 2018-01-31: they record who had left by then, not when "
        "each customer left. The list holds the 4 customers who had left by the snapshot, who took "
        "1,356 EUR of revenue of the year before their loss with them; it ranks them by that value "
        "and is written to `winback.csv` (customer_id only, no loss date).")
    assert "last 90 days" not in text
    # key figures: no "recently lost in the last N days" for a snapshot
    figs = retention.stage_figures(dataset="x", design="cross-sectional", horizon_days=90,
                                   calibration=_FakeCalibration(), winback=lst, winback_days=90,
                                   rate=wb.rate, winback_snapshot=wb.snapshot_date)["winback"]
    assert figs == {"snapshot_date": "2018-01-31", "lost_by_snapshot": 4, "lost_value": 1355.5,
                    "ranked_by": "lost value"}
    flat = {f"winback.{k}": v for k, v in figs.items()}
    f = findings(flat, dataset="x", context={"currency": "EUR"})
    lines = [k.text for k in f.key_findings if k.section == "Win-back"]
    assert lines == ["4 customers had left by the snapshot of 2018-01-31 (when each one left is not "
                     "recorded), taking 1,356 EUR of revenue of the year before their loss with them: "
                     "the win-back list ranks them by lost value."]
    assert "How likely a lost customer is to come back: the data record no returns it could be learnt from." \
        in f.unavailable


def test_snapshot_win_back_in_chinese():
    from churn_research.narrate.retention import findings, winback_table, winback_text

    data = _snapshot_data()
    wb = winback.analyse(data, days=90)
    set_language("zh")
    try:
        table = winback_table(wb.winback, "")
        text = winback_text(wb.winback, wb.rate, days=90, kind=data.kind, path="winback.csv",
                            snapshot_date=wb.snapshot_date)
        f = findings({"winback.snapshot_date": "2018-01-31", "winback.lost_by_snapshot": 4,
                      "winback.lost_value": 1986.0}, dataset="x", context={})
    finally:
        set_language("en")
    assert list(table.columns) == ["客户编号", "流失的收入（非利润）"]
    assert text.startswith("数据是 2018-01-31 的单一快照：只记录到那时谁已离开，不记录每位客户何时离开。"
                           "名单列出快照时已离开的 4 位客户，他们带走了流失前一年共 1,356 元的收入；")
    assert text.endswith("（只含 customer_id，不含流失日期）。历史赢回率无法衡量：每位客户在数据中只出现一次，"
                         "无法区分回流客户和新客户。")                    # no space after 。
    assert [k.text for k in f.key_findings] == [
        "到 2018-01-31 的快照时已有 4 位客户离开（每位客户何时离开未记录），带走了流失前一年共 1,986 "
        "元的收入：赢回名单按流失价值排序。"]


def test_dated_win_back_keeps_its_window_and_loss_dates():
    """Dated data (not a snapshot): unchanged, the last ``days`` days with loss dates."""
    from churn_research import ChurnData, retention

    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                              "start_date": pd.to_datetime(["2024-01-01"] * 4),
                              "end_date": pd.to_datetime(["2025-12-01", "2025-11-15", "2025-06-01", None]),
                              "monthly_revenue": [10.0, 50.0, 99.0, 5.0]})
    data = ChurnData(customers=customers, observation_end=pd.Timestamp("2025-12-31"), kind="contractual")
    assert not data.is_snapshot
    wb = winback.analyse(data, days=90)
    assert not wb.snapshot and wb.snapshot_date is None
    assert wb.winback["customer_id"].tolist() == ["B", "A"]
    assert wb.winback["lost_on"].astype(str).tolist() == ["2025-11-15", "2025-12-01"]
    assert wb.winback["days_since_loss"].tolist() == [46, 30]
    figs = retention.stage_figures(dataset="x", design="prospective", horizon_days=90,
                                   calibration=_FakeCalibration(), winback=wb.winback, winback_days=90,
                                   rate=wb.rate, winback_snapshot=wb.snapshot_date)["winback"]
    assert figs == {"days": 90, "recently_lost": 2, "lost_value": 720.0, "ranked_by": "lost value"}


class _FakeCalibration:
    def key_figures(self):
        return {}


def test_no_space_between_money_in_yuan_and_the_chinese_word_after_it():
    """A Chinese translation keeps "{value} 的…" (a space after a number), but money ends in 元:
    the space goes when the value's edge is Chinese, in t() and n_(); a value's own text is kept."""
    import re

    from churn_research.i18n import _fill, n_, t
    from churn_research.narrate.format import money
    from churn_research.narrate.retention import findings

    set_language("zh")
    try:
        assert _fill("带走 {v} 的剩余价值", {"v": money(74020.4, "")}) == "带走 74,020 元的剩余价值"
        assert _fill("带走 {v} 的剩余价值", {"v": "74,020"}) == "带走 74,020 的剩余价值"
        assert _fill("客户 {name} 流失", {"name": "北京 朝阳"}) == "客户北京 朝阳流失"
        assert _fill("{v:.1f} 元 {{x}}", {"v": 3.14159}) == "3.1 元 {x}"
        assert n_("{n} customer", "{n} customers", 3) == "3 位客户"
        figs = {"horizon_days": 90, "money_at_risk.all.expected_loss": 74020.0,
                "money_at_risk.all.ci_low": 70000.0, "money_at_risk.all.ci_high": 80000.0,
                "money_at_risk.watchlist.expected_loss": 9000.0, "winback.recently_lost": 12,
                "winback.days": 90, "winback.lost_value": 94502.0, "campaign.difference": -0.05,
                "campaign.ci_low": -0.08, "campaign.ci_high": -0.02, "campaign.campaign": "c",
                "campaign.horizon_days": 365, "campaign.saved": 40.0, "campaign.net": 28920.0,
                "uplift.policy.uplift.value_true": 28154.0, "uplift.policy.risk.value_true": 20000.0,
                "uplift.policy.risk_value.value_true": 25000.0, "uplift.qini_coefficient": 0.01}
        f = findings(figs, dataset="x", context={})
        said = [f.headline, *(k.text for k in f.key_findings), *f.unavailable,
                t("{value} of", value=money(5, ""))]
    finally:
        set_language("en")
    assert f.headline == ("现有活跃客户预计在 90 天内带走 74,020 元的剩余价值（95% 区间 70,000–80,000 元）；"
                          "其中预警名单占 9,000 元。")
    assert not [s for s in said if re.search(r"元 [\u4e00-\u9fff]", s)]
    assert _fill("{v} of", {"v": "3 元"}) == "3 元 of"                      # English: untouched


@pytest.mark.slow
def test_telco_win_back_is_everyone_who_had_left_by_the_snapshot():
    """IBM Telco is one snapshot (2018-01-31): its 1,869 churners had all left by it, when each
    left is not recorded; the list holds them all, by monthly charges x the months of their last
    year on the books (review s8: not 12 x for a tenure under a year), without loss dates."""
    from churn_research import load

    data = load("telco")
    assert data.is_snapshot and data.observation_end == pd.Timestamp("2018-01-31")
    wb = winback.analyse(data, days=90)
    assert wb.snapshot_date == pd.Timestamp("2018-01-31")
    lst = wb.winback
    assert len(lst) == 1869 == int(data.customers["end_date"].notna().sum())
    assert round(lst["lost_value"].sum(), 2) == 1141196.45   # 12 x monthly charges: 1,669,570.20
    assert lst.head(3)["customer_id"].tolist() == ["T5128", "T4611", "T4876"]
    assert lst.head(3)["lost_value"].round(2).tolist() == [1420.20, 1413.60, 1409.40]
    assert lst["lost_on"].isna().all() and lst["days_since_loss"].isna().all()


def test_no_chinese_sentence_puts_a_space_between_yuan_and_chinese_text():
    """Every Chinese translation with a placeholder, filled with money in 元 (the Chinese default
    currency, "1,234 元"), reads without "元 " before a Chinese character: the report sentences
    and Findings of every stage (and so the summary page built from them)."""
    import re
    from string import Formatter

    from churn_research.i18n import _fill, catalog

    set_language("zh")
    try:
        bad, filled = [], 0
        for (_ctx, _msgid), text in catalog("zh").items():
            for template in (text if isinstance(text, tuple) else (text,)):
                fields = [(f, spec) for _lit, f, spec, _conv in Formatter().parse(template) if f]
                if not fields or any(spec or not f.isidentifier() for f, spec in fields):
                    continue
                out = _fill(template, {f: "1,234 元" for f, _spec in fields})
                filled += 1
                if re.search(r"元 [\u4e00-\u9fff]", out):
                    bad.append(out)
    finally:
        set_language("en")
    assert filled > 500 and bad == []
