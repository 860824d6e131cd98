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
    # annual churn, every window over the same period: the one the longest (365 days) can see,
    # ending the day before OBS - 365 (2020-12-30), kept after the own window's start: 5 months
    # from 2020-07-30; a, b, c on the books, none lost under any window
    assert tab["annual_churn"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert tab["months"].tolist() == [5, 5, 5]
    assert set(tab["window_start"]) == {pd.Timestamp("2020-07-30")}
    assert set(tab["window_end"]) == {pd.Timestamp("2020-12-30")}
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


def test_every_window_is_measured_over_the_same_period():
    data = toy(180)
    result = definition_sensitivity(data, [90], months=12, tier_rules=RULES)
    tab = result.table.set_index("inactivity_days")
    # common period 2020-07-03..2021-07-03 (the day before OBS - 180, 12 months): a, b, c on the
    # books, c lost (last purchase 2021-04-01) under both windows -> 1/3; b's loss under 90 days
    # is dated 2021-08-01, after the period, as under every window that sees it
    assert tab["annual_churn"].tolist() == pytest.approx([1 / 3, 1 / 3])
    assert set(tab["window_start"]) == {pd.Timestamp("2020-07-03")}
    assert set(tab["window_end"]) == {pd.Timestamp("2021-07-03")}
    # measured up to its own latest date instead, the 90-day window reads 2/3 (b, c lost by
    # 2021-10-02): the difference was the period, not the definition
    assert annual_churn(redefine_churn(data, 90), months=12).rate == pytest.approx(2 / 3)
    assert result.extra["longest"] == 180
    caption = say.sensitivity_table(result).caption
    assert caption == ("Every row's annual churn is measured over the same period, 2020-07-03 to "
                       "2021-07-03: the latest one in which a lapse under the longest window (180 "
                       "days) is visible for every customer, so the rows differ by the definition "
                       "only.")
    flat = result.key_figures()["definition_sensitivity"]
    assert (flat["window_start"], flat["window_end"]) == ("2020-07-03", "2021-07-03")
    with pytest.raises(ValueError, match="is after the last date at which exits are visible"):
        annual_churn(data, months=12, window_end="2021-07-05")


def test_own_row_repeats_the_figures_of_the_other_reports():
    data = toy(180)
    result = definition_sensitivity(data, [90], months=12, tier_rules=RULES)
    row = result.row(180)
    a = annual_churn(data, months=12, window_end="2021-07-03")
    assert (row["annual_churn"], row["ci_low"], row["ci_high"]) == (a.rate, a.ci_low, a.ci_high)
    # the dataset's own annual churn (00_data, 10_indicators) is kept for the text
    a = annual_churn(data, months=12)
    assert result.extra["dataset"] == a
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
    assert text.startswith("**What depends on the choice:** the customers at risk now run from 0 "
                           "(90 days) to 2 (365 days); the median lifetime goes from 15.0 months (90 "
                           "days) to not reached (365 days); the strongest driver")
    assert ("The annual churn does not: over the same period it is 0.0% under every window, "
            "because the rule dates a loss to the last purchase") in text
    view = say.sensitivity_table(result).data
    assert view.iloc[1, 0] == "180 (this dataset's)"
    assert view.iloc[2, 2] == "not reached"
    assert "2020-07-30 to 2020-12-30 (5 months, annualised)" in say.sensitivity_table(result).caption


def test_a_median_lifetime_of_zero_says_what_it_is():
    data = toy(180)
    # four more customers who bought once on 2020-01-01: with e, 5 of 9 lost at month 0
    once = pd.DataFrame({"customer_id": list("fghi"), "start_date": pd.Timestamp("2020-01-01")})
    tx = pd.concat([data.transactions, once.assign(date=pd.Timestamp("2020-01-01"), amount=10.0)
                    .drop(columns="start_date")], ignore_index=True)
    cust = infer_churn(pd.concat([data.customers[["customer_id", "start_date"]], once]), tx,
                       observation_end=OBS, inactivity_days=180)
    data = ChurnData(cust, transactions=tx, observation_end=OBS, kind="non-contractual",
                     inactivity_days=180)
    result = definition_sensitivity(data, [90], months=12, tier_rules=RULES)
    assert result.table["median_lifetime"].tolist() == [0.0, 0.0]
    assert result.table["lost_at_start"].tolist() == pytest.approx([5 / 9, 5 / 9])
    assert say.sensitivity_table(result).data.iloc[0, 2] == "0 (55.6% never bought again)"
    assert ("A median lifetime of 0 is what the rule gives here, not a gap in the data: 55.6% of "
            "the customers never bought again after their first purchase") in say.sensitivity_text(result)
