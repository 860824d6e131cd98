"""The word-of-mouth scenario of 50_clv's cost of churn: the arithmetic by hand, and off by
default (parameter null) it changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from churn_research.clv import analysis as clv_analysis
from churn_research.clv.scenarios import recent_complainers, word_of_mouth
from churn_research.model import ChurnData
from churn_research.narrate import clv as say
from churn_research.sources.synthetic import generate

COST = {"months": 12, "value_col": "monthly_revenue", "margin": 0.3,
        "acquisition_cost_multiple": 5.0, "retention_cost_months": 1.0}


def test_referrals_by_hand():
    # 520 lost customers x 0.25 = 130 referrals; at 327 per customer 42,510
    wom = word_of_mouth(520, 327.0, referral_rate=0.25)
    assert wom["lost_referrals"] == pytest.approx(130.0)
    assert wom["forgone_referrals"] == 0.0 and wom["silent_dissatisfied"] == 0.0
    assert wom["cost"] == pytest.approx(42_510.0)


def test_complaint_multiplier_by_hand_and_capped():
    # 10 complainers x 20 = 200 silent dissatisfied customers, x 0.25 = 50 more referrals
    wom = word_of_mouth(520, 327.0, referral_rate=0.25, complaint_multiplier=20,
                        complainers=10, active=1000)
    assert (wom["silent_dissatisfied"], wom["forgone_referrals"]) == (200.0, 50.0)
    assert wom["referrals"] == pytest.approx(180.0)
    assert wom["cost"] == pytest.approx(180 * 327.0)
    assert not wom["capped"]
    # 100 x 20 = 2,000 > 1,000 active customers: capped at the active base
    capped = word_of_mouth(520, 327.0, referral_rate=0.25, complaint_multiplier=20,
                           complainers=100, active=1000)
    assert capped["capped"] and capped["silent_dissatisfied"] == 1000.0
    assert capped["forgone_referrals"] == 250.0
    with pytest.raises(ValueError, match="referral_rate must be a non-negative number, got -0.1"):
        word_of_mouth(520, 327.0, referral_rate=-0.1)


def test_recent_complainers_counts_active_customers_with_a_complaint_in_the_last_year():
    obs = pd.Timestamp("2021-12-31")
    cust = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                         "start_date": pd.Timestamp("2020-01-01"),
                         "end_date": [pd.NaT, pd.NaT, pd.Timestamp("2021-06-01"), pd.NaT]})
    tickets = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "d"],
        "date": pd.to_datetime(["2021-03-01", "2021-05-01", "2020-06-01", "2021-05-01",
                                "2021-07-01"]),
        "kind": ["complaint", "complaint", "complaint", "complaint", "inquiry"]})
    data = ChurnData(cust, tickets=tickets, observation_end=obs)
    # a: two complaints (counted once); b: too old; c: no longer a customer; d: an inquiry
    assert recent_complainers(data) == 1
    assert recent_complainers(data.replace(tickets=None)) == 0


@pytest.fixture(scope="module")
def small():
    return generate(1500, random_state=5)


def test_off_by_default_changes_nothing(small):
    off = clv_analysis.churn_cost_analysis(small, **COST)
    none = clv_analysis.churn_cost_analysis(small, **COST, referral_rate=None, complaint_multiplier=20)
    assert off.word_of_mouth is None and none.word_of_mouth is None
    assert off.table().equals(none.table())
    assert len(off.table()) == 7
    assert "word_of_mouth_scenario" not in off.key_figures()["cost_of_churn"]
    assert say.word_of_mouth(off) == ""


def test_on_adds_labelled_rows_and_a_sentence(small):
    off = clv_analysis.churn_cost_analysis(small, **COST)
    on = clv_analysis.churn_cost_analysis(small, **COST, referral_rate=0.25)
    # the measured lines are unchanged; the scenario rows come after them
    assert on.table().iloc[:7].equals(off.table())
    extra = on.table().iloc[7:]
    assert list(extra.index) == ["scenario: referrals a year the lost customers would have brought",
                                 "scenario: cost of winning as many customers otherwise"]
    lost = off.cost.lost_customers
    assert extra.iloc[0, 0] == round(lost * 0.25)
    assert extra.iloc[1, 0] == round(lost * 0.25 * off.cost.acquisition_cost_per_customer)
    wom = on.key_figures()["cost_of_churn"]["word_of_mouth_scenario"]
    assert wom["cost"] == pytest.approx(lost * 0.25 * off.cost.acquisition_cost_per_customer)
    text = say.word_of_mouth(on)
    assert text.startswith("**Scenario — an assumption, not measured in these data** (word of "
                           "mouth; `referral_rate` 0.25, after seed 001: \"100 satisfied "
                           "customers bring 25 new ones\")")
    assert "Set `referral_rate` to null to leave the scenario out." in text
    # with the complaint multiplier: a third row and the seed 003 sentence
    both = clv_analysis.churn_cost_analysis(small, **COST, referral_rate=0.25,
                                            complaint_multiplier=20)
    assert "scenario: referrals a year forgone by silent dissatisfied customers" in both.table().index
    assert "Each complaint speaks for 20 silent customers (`complaint_multiplier`, after seed 003)" \
        in say.word_of_mouth(both)
