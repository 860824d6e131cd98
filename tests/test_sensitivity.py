"""Sensitivity to the churn definition (40_segments): churn re-derived under other inactivity
windows, checked on a purchase log small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research.annual import annual_churn
from churn_research.durations import durations
from churn_research.model import ChurnData, ChurnDataError, infer_churn, redefine_churn
from churn_research.narrate import segments as say
from churn_research.segments import features_at, value_tiers
from churn_research.segments.sensitivity import (
    definition_sensitivity,
    median_lifetime,
    top_drivers,
    window_months,
)
from churn_research.survival.km import km_summary

OBS = pd.Timestamp("2021-12-31")
#: Every customer starts on 2020-01-01; last purchases 30, 152, 274, 578 and 730 days before OBS.
LAST = {"a": "2021-12-01", "b": "2021-08-01", "c": "2021-04-01", "d": "2020-06-01", "e": "2020-01-01"}
#: Tier rules under which "at risk" = still active and no purchase for 60+ days.
RULES = {"new_days": 0, "at_risk_recency_days": 60, "at_risk_min_fm": 1,
         "at_risk_activity_ratio": 0.0, "at_risk_min_baseline_tx": 100}


def toy(inactivity_days: int = 180) -> ChurnData:
    start = pd.Timestamp("2020-01-01")
    tx = pd.DataFrame([(c, start, 10.0) for c in LAST] + [(c, pd.Timestamp(d), 10.0)
                                                         for c, d in LAST.items() if c != "e"],
                      columns=["customer_id", "date", "amount"])
    cust = pd.DataFrame({"customer_id": list(LAST), "start_date": start})
    cust = infer_churn(cust, tx, observation_end=OBS, inactivity_days=inactivity_days)
    return ChurnData(cust, transactions=tx, observation_end=OBS, kind="non-contractual",
                     inactivity_days=inactivity_days)


def test_redefine_churn_flags_by_hand():
    data = toy(180)
    churned = {w: set(redefine_churn(data, w).customers.query("status == 'churned'")["customer_id"])
               for w in (90, 180, 365)}
    assert churned == {90: {"b", "c", "d", "e"}, 180: {"c", "d", "e"}, 365: {"d", "e"}}
    # the end date is the last purchase; the copy carries its window; the input is untouched
    again = redefine_churn(data, 90)
    assert again.inactivity_days == 90 and data.inactivity_days == 180
    assert again.customers.set_index("customer_id").loc["b", "end_date"] == pd.Timestamp("2021-08-01")
    assert data.customers.set_index("customer_id")["end_date"].isna().sum() == 2
    # the own window reproduces the processed end dates
    same = redefine_churn(data, 180).customers.set_index("customer_id")["end_date"]
    assert same.equals(data.customers.set_index("customer_id")["end_date"])


def test_redefine_churn_refuses_contractual_data():
    data = toy().replace(kind="contractual")
    with pytest.raises(ChurnDataError, match="churn is recorded \\(contractual data\\): there is "
                                             "no inactivity window to change"):
        redefine_churn(data, 90)


def test_window_months_keeps_the_own_start():
    # own window: 12 months ending 2021-07-04 (OBS - 180 days), i.e. from 2020-07-04
    assert window_months(OBS, 180, own_days=180, months=12) == 12
    assert window_months(OBS, 90, own_days=180, months=12) == 12
    # 365 days: the window ends 2020-12-31; 2020-07-31 is the earliest whole-month start >= 2020-07-04
    assert window_months(OBS, 365, own_days=180, months=12) == 5
    assert window_months(OBS, 720, own_days=180, months=12) == 0


def test_table_by_hand():
    data = toy(180)
    result = definition_sensitivity(data, [90, 365], months=12, tier_rules=RULES)
    tab = result.table.set_index("inactivity_days")
    assert list(tab.index) == [90, 180, 365] and tab["own"].tolist() == [False, True, False]
    # annual churn: on the books at the window start / lost by its end
    #  90: 2020-10-02..2021-10-02: a, b, c at risk; b, c lost -> 2/3
    # 180: 2020-07-04..2021-07-04: a, b, c at risk; c lost -> 1/3
    # 365: 2020-07-31..2020-12-31 (5 months): a, b, c at risk; none lost -> 0
    assert tab["annual_churn"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert tab["months"].tolist() == [12, 12, 5]
    assert tab.loc[365, "window_start"] == pd.Timestamp("2020-07-31")
    # Kaplan-Meier: e at 0 (S 0.8), d at 152 days (0.6), c at 456 days (0.4); with 365 days c
    # is censored and the median is not reached
    m = 456 / (365.25 / 12)
    assert tab["median_lifetime"].tolist()[:2] == pytest.approx([m, m])
    assert tab.loc[365, "median_lifetime"] == np.inf
    # at risk now: active (a purchase within the window) and quiet for 60+ days
    assert tab["at_risk_now"].tolist() == [0, 1, 2]
    assert tab["active_now"].tolist() == [1, 2, 3]
    flat = result.key_figures()["definition_sensitivity"]
    assert flat["own_days"] == 180 and flat["90"]["at_risk_now"] == 0


def test_own_row_repeats_the_figures_of_the_other_reports():
    data = toy(180)
    row = definition_sensitivity(data, [90], months=12, tier_rules=RULES).row(180)
    a = annual_churn(data, months=12)
    assert (row["annual_churn"], row["ci_low"], row["ci_high"]) == (a.rate, a.ci_low, a.ci_high)
    frame = durations(data, unit="months")
    assert row["median_lifetime"] == pytest.approx(km_summary(frame).iloc[0]["median"])
    tiers = value_tiers(features_at(data, design="prospective"), **RULES)
    assert row["at_risk_now"] == int((tiers == "at risk").sum())
    assert row["active_now"] == a.active


def test_median_lifetime_matches_lifelines_with_late_entry():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"duration": rng.exponential(10, n).round(1),
                          "event": rng.random(n) < 0.7})
    frame["entry"] = np.where(rng.random(n) < 0.3, frame["duration"] * rng.random(n), 0.0)
    assert median_lifetime(frame) == pytest.approx(km_summary(frame).iloc[0]["median"])


def test_top_drivers_finds_the_strong_one_with_its_sign():
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame({"x_strong": rng.normal(size=n), "x_weak": rng.normal(size=n),
                      "x_noise": rng.normal(size=n)},
                     index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))
    logit = -2.0 * X["x_strong"] + 0.5 * X["x_weak"]
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), index=X.index)
    drivers = top_drivers(X, y, n=2)
    assert [d for d, _ in drivers] == ["x_strong", "x_weak"]
    assert drivers[0][1] < 0 < drivers[1][1]
    assert top_drivers(X, pd.Series(0, index=X.index)) == []


def test_contractual_data_get_one_line():
    result = definition_sensitivity(toy().replace(kind="contractual"))
    assert not result.available
    assert say.sensitivity_table(result) is None
    assert say.sensitivity_text(result).startswith("The churn date is recorded in these data")
    assert result.key_figures() == {"definition_sensitivity": {"available": False}}


def test_sentence_says_what_depends_on_the_choice():
    result = definition_sensitivity(toy(180), [90, 365], months=12, tier_rules=RULES)
    text = say.sensitivity_text(result)
    assert text.startswith("**What depends on the choice:** the annual churn runs from 66.7% (90 "
                           "days) to 0.0% (365 days) and the customers at risk now from 0 to 2; "
                           "the median lifetime goes from 15.0 months (90 days) to not reached (365 "
                           "days)")
    view = say.sensitivity_table(result).data
    assert view.iloc[1, 0] == "180 (this dataset's)"
    assert view.iloc[2, 2] == "2020-07-31 to 2020-12-31 (5 months, annualised)"
    assert view.iloc[2, 3] == "not reached"
