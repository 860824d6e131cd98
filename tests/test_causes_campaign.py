"""A retention campaign's contact in 20_causes' driver model (issue 17).

The report's synthetic data run a randomised retention campaign after the business change. The
contact is a time-varying exposure -- 1 from a customer's first contact on, one rule
(:func:`churn_research.durations.first_contact`) shared with 30_survival's Cox model -- that the
driver model holds fixed as an adjustment. Without it, customers the campaign kept after the
change read as a smaller change effect (1.32, 95% CI 1.23-1.43, against the generator's 1.50);
with it, the change term reads 1.46 (1.34-1.58), as 30_survival's Cox model does.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churn_research import ChurnData, causes, load
from churn_research import survival as sv
from churn_research.durations import CAMPAIGN_CONTACT, first_contact
from churn_research.narrate import causes as say
from churn_research.narrate import definitions

#: The 20_causes parameters' reference levels (params/synthetic.yaml's common ``reference``).
REFERENCE = {"gender": "female", "channel": "online", "customer_type": "consumer", "plan": "basic",
             "contract": "monthly", "region": "north"}


def _tiny() -> ChurnData:
    """Two customers: A contacted on 2024-03-15 (a control row for A on an earlier campaign does
    not count), churns 2024-05-10; B held out as a control, censored."""
    customers = pd.DataFrame({"customer_id": ["A", "B"],
                              "start_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
                              "end_date": pd.to_datetime(["2024-05-10", None])})
    campaigns = pd.DataFrame({"customer_id": ["A", "A", "B"],
                              "date": pd.to_datetime(["2024-02-01", "2024-03-15", "2024-03-15"]),
                              "campaign": ["first", "second", "second"], "treated": [0, 1, 0]})
    return ChurnData(customers=customers, campaigns=campaigns, observation_end=pd.Timestamp("2024-06-01"))


def test_first_contact_is_the_earliest_treated_date():
    campaigns = pd.DataFrame({"customer_id": ["A", "A", "B", "C"],
                              "date": pd.to_datetime(["2024-05-01", "2024-03-15", "2024-03-15", "2024-01-01"]),
                              "treated": [1, 1, 0, 1]})
    first = first_contact(campaigns)
    assert first.to_dict() == {"A": pd.Timestamp("2024-03-15"), "C": pd.Timestamp("2024-01-01")}
    assert first_contact(None).empty and first_contact(campaigns.iloc[:0]).empty


def test_person_months_split_at_the_first_contact():
    pp = causes.person_period(_tiny())
    a, b = pp[pp["customer_id"] == "A"], pp[pp["customer_id"] == "B"]
    # A: Jan, Feb, Mar 1-15, Mar 15-Apr 1 (contacted), Apr, May (the churn row)
    assert a["period_start"].dt.strftime("%m-%d").tolist() == ["01-01", "02-01", "03-01", "03-15", "04-01",
                                                               "05-01"]
    assert a[CAMPAIGN_CONTACT].tolist() == [0, 0, 0, 1, 1, 1]
    assert math.isclose(a["exposure"].iloc[2], 14 / causes.frame.MONTH_DAYS)
    assert b[CAMPAIGN_CONTACT].sum() == 0 and len(b) == 5  # the control: never contacted, months only
    # the same rule as 30_survival's Cox episodes: A's contact on day 74 of tenure
    df = sv.durations(_tiny(), unit="days")
    ep = sv.change_episodes(df, change_date="2024-07-01", campaigns=_tiny().campaigns)
    assert ep.loc[ep["customer_id"] == "A", ["start", "stop"]].to_numpy().tolist() == [[0, 74], [74, 130]]
    # without a campaigns table: no column, the rows of today
    plain = causes.person_period(_tiny().replace(campaigns=None))
    assert CAMPAIGN_CONTACT not in plain and len(plain) == len(pp) - 1


def test_the_contact_is_an_adjustment_only_with_a_campaigns_table():
    data = _tiny()
    assert causes.default_drivers(data)[-1] == CAMPAIGN_CONTACT
    assert CAMPAIGN_CONTACT not in causes.default_drivers(data.replace(campaigns=None))
    assert CAMPAIGN_CONTACT in causes.TIME_VARYING and causes.static_drivers([CAMPAIGN_CONTACT]) == []


@pytest.fixture(scope="module")
def report_data() -> ChurnData:
    """The report's synthetic data (params/synthetic.yaml's source_options)."""
    return load("synthetic", n_customers=5000, random_state=0, complaint_resolution=True,
                campaign={"date": "2024-12-01", "horizon_days": 365})


@pytest.mark.slow
def test_change_term_covers_the_truth_with_the_campaign_contact_held_fixed(report_data):
    truth = report_data.meta["truth"]
    true_hr = math.exp(truth["log_hr"]["change"])
    model = causes.DriverModel(reference=REFERENCE).fit(report_data)
    e = model.effects_.set_index("term")
    change, contact = e.loc["change"], e.loc[CAMPAIGN_CONTACT]
    assert change["ratio"] == pytest.approx(1.459, abs=0.001)
    assert (change["ci_low"], change["ci_high"]) == pytest.approx((1.344, 1.583), abs=0.001)
    assert true_hr == pytest.approx(1.5) and change["ci_low"] < true_hr < change["ci_high"]
    assert contact["kind"] == "adjustment" and contact["ratio"] == pytest.approx(0.666, abs=0.001)
    assert contact["ci_high"] < 1
    # the check against the truth: the change is now covered (7 of 11, was 6 of 11)
    cmp = causes.truth_check(model, causes.true_log_hr(report_data))
    assert int(cmp["covered"].sum()) == 7 and len(cmp) == 11 and CAMPAIGN_CONTACT not in set(cmp["term"])
    assert sorted(cmp.loc[~cmp["covered"], "term"]) == ["channel[store]", "complaint_90d", "contract[annual]",
                                                        "customer_type[business]"]
    # an adjustment is neither among the strongest associations nor ranked
    assert CAMPAIGN_CONTACT not in set(causes.strongest_effects(model)["term"])
    # the campaign's truth is a change in one-year churn, not a hazard ratio: its constant-hazard
    # equivalent log(1 - (p0 + ate)) / log(1 - p0) lies inside the contact term's interval
    camp = causes.campaign_truth(report_data, model)
    p0, ate = truth["campaign"]["churn_untreated"], truth["campaign"]["ate"]
    assert camp["implied_hr"] == pytest.approx(np.log(1 - p0 - ate) / np.log(1 - p0))
    assert camp["implied_hr"] == pytest.approx(0.684, abs=0.001)
    assert camp["covered"]
    text = say.truth_check(cmp, camp)
    assert "7 of 11 95% intervals cover the true value" in text, text
    missed = text.split("Not covered: ")[1].split(". Two known limits")[0]
    assert sorted(missed.split(", ")) == ["a complaint in the last 90 days", "channel = store", "contract = annual",
                                          "customer type = business"]
    assert ("−7.9 percentage points on average among the eligible customers, whose churn without the campaign "
            "would have been 27.9%; −19.6 points with a price rise and −5.1 without") in text
    assert "about 0.68, inside the contact term's interval (0.67 (95% CI 0.57–0.77))" in text
    assert "The term **retention campaign contact** (hazard ratio 0.67 (95% CI 0.57–0.77)) is an adjustment" \
        in say.driver_model(model)


@pytest.mark.slow
def test_change_term_without_a_campaigns_table_is_unchanged(report_data):
    """Without the campaigns table nothing changes: no contact term, and the change reads 1.32
    (1.23-1.43), below the truth (the campaign's saves after the change are read as a smaller
    change effect)."""
    data = report_data.replace(campaigns=None)
    model = causes.DriverModel(reference=REFERENCE).fit(data)
    assert CAMPAIGN_CONTACT not in model.drivers_ and "adjustment" not in set(model.effects_["kind"])
    change = model.effects_.set_index("term").loc["change"]
    assert change["ratio"] == pytest.approx(1.324, abs=0.001)
    assert (change["ci_low"], change["ci_high"]) == pytest.approx((1.227, 1.428), abs=0.001)
    assert change["ci_high"] < math.exp(report_data.meta["truth"]["log_hr"]["change"])
    assert causes.campaign_truth(data, model) is None
    assert "adjustment" not in say.driver_model(model)


def test_summary_says_the_contact_is_held_fixed_and_why_the_models_differ():
    figs = {"30_survival": {"change_hr": 1.44, "change_hr_lower": 1.33, "change_hr_upper": 1.56,
                            "campaign_contact_hr": 0.67},
            "20_causes": {"driver_model.change.ratio": 1.459, "driver_model.change.ci_low": 1.344,
                          "driver_model.change.ci_high": 1.583, "driver_model.ratio": "hazard ratio",
                          "driver_model.campaign_contact.ratio": 0.666}}
    rows = {r.stage: r for r in definitions.change_definitions(figs)}
    assert rows["30_survival"].measures == ("hazard after / before the change, covariates held equal; a "
                                            "retention campaign's contact held fixed too")
    assert rows["20_causes"].value == "1.46 (95% CI 1.34–1.58)"
    assert rows["20_causes"].measures.endswith("other drivers held equal; a retention campaign's contact held "
                                               "fixed too")
    del figs["20_causes"]["driver_model.campaign_contact.ratio"]
    assert definitions.change_definitions(figs)[1].measures == "monthly hazard after / before, other drivers held equal"
    assert definitions.CHANGE_NOTE.endswith("so its point value differs a little from the Cox model's.")
