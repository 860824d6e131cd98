"""Review of 60_retention and the summary (issue 16): each money figure matches its base, a
snapshot's value at risk is not called an expected loss within a period, calibration is used only
when it helps, the win-back wording fills in its days, and one active base everywhere."""

from __future__ import annotations

import pandas as pd
from test_retention import true_risks

from churn_research import ChurnData
from churn_research.i18n import set_language
from churn_research.model import infer_churn, on_books
from churn_research.narrate import actions as todo
from churn_research.narrate import retention as say
from churn_research.narrate.definitions import money_definitions
from churn_research.retention import actions, calibration
from churn_research.segments.design import active_at

CDNOW_CLV = {"clv.mean": 22.526, "money_at_risk.base_value": 415802.4, "money_at_risk.customers": 5374,
             "cost_of_churn.customers_active": 5374, "clv.definition": "3-year BG/NBD x Gamma-Gamma value",
             "scenarios.churn_minus_5_pts.extra_profit": 1000.0, "money_at_risk.expected_loss": 74894.5,
             "money_at_risk.horizon_months": 12}


def test_value_of_a_customer_kept_is_the_mean_of_the_active_customers():
    # cdnow: clv.mean averages all 23,570 customers ever seen; the 5,374 active ones hold 415,802
    assert round(todo.value_per_active_customer(CDNOW_CLV), 2) == 77.37
    assert todo.value_per_active_customer({"clv.mean": 522.9}) == 522.9
    row = next(r for r in money_definitions({"50_clv": CDNOW_CLV}) if r.name == "Value of a customer kept")
    assert row.value == "77.37" and row.measures.startswith("mean residual value of the 5,374 customers")
    assert "worth about 77.37 of future profit" in todo.action("50_clv", {"50_clv": CDNOW_CLV})


TELCO_RET = {"design": "cross-sectional", "horizon_days": 30, "money_at_risk.all.expected_loss": 784440.0,
             "money_at_risk.all.ci_low": 760000.0, "money_at_risk.all.ci_high": 800000.0,
             "money_at_risk.all.customers": 5174, "money_at_risk.watchlist.expected_loss": 90000.0}


def test_a_snapshot_value_at_risk_is_not_an_expected_loss_within_days():
    f = say.findings(TELCO_RET, dataset="telco", context={})
    assert f.headline.startswith("Resemblance-weighted value at risk of the customers active now: "
                                 "784,440 (95% interval 760,000–800,000;")
    assert "within 30 days" not in f.headline
    telco_clv = {**CDNOW_CLV, "money_at_risk.expected_loss": 480744.3}
    line = todo.action("50_clv", {"50_clv": telco_clv, "60_retention": TELCO_RET})
    assert "expected to take 480,744 with them within 12 months (50_clv)" in line
    assert "784,440" not in line
    # a forecast keeps its horizon
    fore = say.findings({**TELCO_RET, "design": "prospective"}, dataset="x", context={})
    assert "expected to take 784,440 of residual value with them within 30 days" in fore.headline


def test_the_most_frequent_reason_names_the_recorded_reasons_mapped_onto_it():
    ids = [f"C{i}" for i in range(10)]
    recorded = pd.Series(["price"] * 3 + ["competitor"] * 2 + ["service_quality"] * 5, index=ids)
    heur = pd.Series(["price"] * 10, index=ids)
    v = actions.reason_validation(heur, recorded, mapping={"price": "price", "competitor": "price",
                                                           "service_quality": "service quality"})
    assert v["base_reason"] == "price" and v["base_sources"] == ["competitor", "price"]
    assert v["base_rate"] == 0.5 and v["accuracy"] == 0.5
    text = say.reason_text(v)
    assert "always naming the most frequent reason, 'price' (competitor + price under reason_map), " \
           "would match 50.0%" in text
    # a reason nobody else is folded into is named alone
    single = actions.reason_validation(heur, pd.Series(["price"] * 10, index=ids), mapping={"price": "price"})
    assert "most frequent reason, 'price', would match 100.0%" in say.reason_text(single)


def test_calibration_is_used_only_when_it_lowers_both_ece_and_brier():
    p, y = true_risks()
    bad = calibration.calibrate(p ** 0.5, y, n_splits=5, random_state=0)      # too high: fixed
    assert bad.improves and bad.key_figures()["calibration"]["used"] is True
    assert not bad.apply(p.iloc[:3] ** 0.5).equals((p.iloc[:3] ** 0.5).rename("p_churn"))
    good = calibration.calibrate(p, y, n_splits=5, random_state=0)            # already right
    m = good.metrics()
    assert not (m.loc["after", "ece"] < m.loc["before", "ece"] and m.loc["after", "brier"] < m.loc["before", "brier"])
    assert not good.improves and good.key_figures()["calibration"]["used"] is False
    # the model's own scores go on, for new scores and in-sample (snapshot) ones alike
    assert good.apply(p.iloc[:3]).equals(p.iloc[:3].rename("p_churn"))
    assert good.apply(p.iloc[:3], in_sample=True).equals(p.iloc[:3].rename("p_churn"))
    assert "they do not, so money at risk and the watchlist below keep the model's own scores" \
        in say.calibration_text(good)
    f = say.findings({"calibration.ece_before": 0.0057, "calibration.ece_after": 0.0096,
                      "calibration.brier_before": 0.1391, "calibration.brier_after": 0.1402,
                      "calibration.used": False}, dataset="telco", context={})
    assert f.key_findings[0].text == (
        "Recalibration is used only when it improves both held-out measures, and here it does not "
        "(expected calibration error 0.57 percentage points before, 0.96 after; Brier score 0.1391 "
        "before, 0.1402 after), so money at risk and the watchlist keep the model's own scores.")
    assert "mean P(churn) (model's own scores)" in say.money_table.__code__.co_consts


class _Camp:
    truth = {"ate": -0.079, "saved": 65, "saved_expected": 74.1}


def test_customers_saved_shows_the_expected_and_the_realised_truth():
    assert say._truth_cell(_Camp(), "saved", "65") == (
        "74 expected (the true effect × the contacted); 65 realised in this draw")
    assert say._truth_cell(_Camp(), "effect", "-7.9 percentage points") == "-7.9 percentage points"


def test_the_call_list_is_one_file_and_names_only_the_states_the_data_have():
    seg = {"watchlist.size": 100, "design": "cross-sectional"}
    line = todo.action("40_segments", {"40_segments": seg, "60_retention": TELCO_RET})
    assert "(retention_watchlist.csv of 60_retention)" in line and "(watchlist.csv)" not in line
    state = pd.DataFrame({"price_sensitive": [False, False]}, index=["C1", "C2"])
    assert actions.states_available(state, has_tickets=False) == ["value", "tenure"]
    full = pd.DataFrame({"contract": ["a", "b"], "price_sensitive": [True, False]})
    assert actions.states_available(full, has_tickets=True) == [
        "contract", "value", "tenure", "open complaints", "price sensitivity"]
    cd = todo.action("40_segments", {"40_segments": {**seg, "design": "prospective"},
                                     "60_retention": {"action_states": "value, tenure"}})
    assert cd.endswith("each with the action that fits their state (customer value, tenure).")
    acts = pd.DataFrame({"rule": ["high value"] * 3, "action": ["call"] * 3})
    assert say.actions_text(acts, acts, previous=None, long_contract=None) == (
        "Each of the 3 watchlist customers gets the action that fits their state.")
    set_language("zh")
    try:
        zh = todo.action("40_segments", {"40_segments": {**seg, "design": "prospective"},
                                         "60_retention": {"action_states": "value, tenure"}})
    finally:
        set_language("en")
    assert "每位采用与其状态（客户价值、在网时长）相符的措施。" in zh


def test_win_back_intro_fills_in_its_days_and_only_the_clause_that_applies():
    dated = say.winback_intro(days=90, kind="non-contractual", snapshot=False)
    assert dated.startswith("The list holds the customers lost in the last 90 days;")
    assert "snapshot" not in dated and "winback_days" not in dated and "P(return) × lost revenue" in dated
    snap = say.winback_intro(days=90, kind="contractual", snapshot=True)
    assert snap.startswith("The list holds everyone who had left by the snapshot")
    assert "90" not in snap and "revenue, not profit" in snap
    table = say.winback_table(pd.DataFrame({"rank": [1], "customer_id": ["C1"], "lost_on": [pd.NaT],
                                            "days_since_loss": [pd.NA], "lost_value": [1200.0]}))
    assert list(table.columns) == ["customer id", "lost revenue (not profit)"]


def test_active_now_is_the_projects_rule_so_every_stage_has_one_base():
    # last purchases exactly 180, 179 and 181 days before the observation end, inactivity 180:
    # the project's rule (churned once MORE than 180 days pass) keeps the first two active
    end = pd.Timestamp("1998-06-30")
    last = [end - pd.Timedelta(days=d) for d in (180, 179, 181)]
    cust = pd.DataFrame({"customer_id": ["A", "B", "C"], "start_date": pd.Timestamp("1997-01-01")})
    tx = pd.DataFrame({"customer_id": ["A", "B", "C", "A", "B", "C"],
                       "date": [pd.Timestamp("1997-01-01")] * 3 + last, "amount": 10.0})
    inferred = infer_churn(cust, tx, observation_end=end, inactivity_days=180)
    data = ChurnData(customers=inferred, transactions=tx, observation_end=end, kind="non-contractual",
                     inactivity_days=180)
    assert on_books(inferred, end).tolist() == [True, True, False]
    assert active_at(data, end).tolist() == [True, True, False]
    # the RFM base of 40_segments and 60_retention's "active now" follow the same rule
    from churn_research.segments.scores import rfm

    assert rfm(data, cutoff=end, window_days=None)["active"].tolist() == [True, True, False]


def test_snapshot_money_text_is_a_resemblance_weighted_value_at_risk():
    from churn_research.retention.value import money_at_risk

    ids = pd.Index(["A", "B", "C", "D"], name="customer_id")
    p = pd.Series([0.5, 0.1, 0.2, 0.2], index=ids)
    v = pd.Series([1000.0, 1000.0, 500.0, 100.0], index=ids)
    mar = money_at_risk(p, v, watchlist_ids=["A"], horizon_days=30, value_model="contractual", n_boot=50,
                        random_state=0)
    text = say.money_text(mar, kind="contractual", design="cross-sectional", calibrated=False)
    assert text.startswith("Resemblance-weighted value at risk = the churn-risk model's own resemblance "
                           "score (calibration did not improve it) × residual value")
    assert "not an expected loss within 30 days" in text
    assert "The whole active base (4 customers) holds 720 (95% interval" in text   # 500+100+100+20
    fore = say.money_text(mar, kind="contractual", calibrated=False)   # review s8: not a loss
    assert fore.startswith("Risk-weighted value = the churn-risk model's own score for churn within 30 "
                           "days (calibration did not improve it) × residual value")
    assert say.money_text(mar, kind="contractual").startswith("Money at risk = calibrated P(churn within 30")


def test_the_call_list_action_says_calibrated_only_when_calibration_was_used():
    seg = {"watchlist.size": 100, "design": "prospective"}
    raw = todo.action("40_segments", {"40_segments": seg, "60_retention": {
        "action_states": "contract, customer value", "calibration.used": False}})
    assert "highest risk × value first (the model's own scores: calibration did not improve them)" in raw
    cal = todo.action("40_segments", {"40_segments": seg, "60_retention": {
        "action_states": "value", "calibration.used": True}})
    assert "highest calibrated risk × value first" in cal


def test_the_summary_says_calibrated_only_where_calibration_was_used():
    ret = {"money_at_risk.all.expected_loss": 72650.0, "money_at_risk.all.customers": 1930,
           "horizon_days": 90, "calibration.used": False}
    clv = {"clv.mean": 522.9, "scenarios.churn_minus_5_pts.extra_profit": 1000.0}
    row = next(r for r in money_definitions({"50_clv": clv, "60_retention": ret})
               if r.name == "Risk-weighted value within 90 days (a ranking, not an expected loss)")
    assert row.value == "72,650" and row.measures.startswith(
        "the 1,930 customers active now: P(churn within 90 days) from the churn-risk model of "
        "40_segments (its own scores: calibration did not improve them)")
    line = todo.action("50_clv", {"50_clv": clv, "60_retention": ret})
    # review s8: uncalibrated scores give a ranking, not an expected loss: never "expected to take"
    assert "72,650" not in line and "cutting annual churn by 5 points" in line
    cal = todo.action("50_clv", {"50_clv": clv, "60_retention": {**ret, "calibration.used": True}})
    assert "(calibrated P(churn) × residual value, 60_retention)" in cal


def test_the_summary_quotes_the_cost_of_churn_with_its_interval():
    """Review s7: the cost of churn on the summary carries the annual churn's interval, as the
    headline of 50_clv does (the same figures)."""
    clv = {**CDNOW_CLV, "annual_cost_of_churn": 141563.2, "cost_of_churn.annual_churn_rate": 0.561,
           "cost_of_churn.lost_profit_ci_low": 137010.0, "cost_of_churn.lost_profit_ci_high": 146004.9,
           "cost_of_churn.annual_revenue_per_customer": 156.6, "margin": 0.3}
    row = next(r for r in money_definitions({"50_clv": clv}, currency="USD")
               if r.name == "Annual cost of churn (profit lost in a year)")
    assert row.value == "141,563 USD (95% CI 137,010–146,005 USD)"
    without = {k: v for k, v in clv.items() if "_ci_" not in k}
    row = next(r for r in money_definitions({"50_clv": without}, currency="USD")
               if r.name == "Annual cost of churn (profit lost in a year)")
    assert row.value == "141,563 USD"


def test_a_model_already_calibrated_gives_an_expected_loss_though_recalibration_is_not_used():
    """Review s8: recalibration not improving a model's scores does not make them a ranking; the
    model's own scores within the calibration tolerance are probabilities (synthetic: expected
    calibration error 1.6 points), so risk × value over a contract stays an expected loss.
    Scores far off that recalibration cannot fix stay a ranking."""
    from churn_research.narrate.definitions import reads_as_probabilities
    from churn_research.stats import CALIBRATION_TOLERANCE

    p, y = true_risks()
    good = calibration.calibrate(p, y, n_splits=5, random_state=0)            # already right
    assert not good.improves and good.reads_as_probabilities
    assert good.metrics().loc["before", "ece"] <= CALIBRATION_TOLERANCE
    assert good.key_figures()["calibration"]["probabilities"] is True
    assert say.scores_in_use(good) == (False, True)
    bad = calibration.calibrate(p ** 0.5, y, n_splits=5, random_state=0)      # fixed by isotonic
    assert say.scores_in_use(bad) == (True, True)
    # the findings: the model's own scores, already calibrated, read as an expected loss
    figs = {**TELCO_RET, "design": "prospective", "calibration.used": False,
            "calibration.probabilities": True}
    assert reads_as_probabilities(figs)
    f = say.findings(figs, dataset="synthetic", context={})
    assert "expected to take 784,440 of residual value with them within 30 days" in f.headline
    off = say.findings({**figs, "calibration.probabilities": False}, dataset="synthetic", context={})
    assert "it is not the value expected to be lost" in off.headline
    # figures written before the key existed read as before: recalibration not used → a ranking
    assert not reads_as_probabilities({"calibration.used": False})
    assert reads_as_probabilities({"calibration.used": True})
