"""Tests of churn_research.causes.competing (competing exit reasons) with numbers:

* a hand-computed Aalen–Johansen example with tied times;
* the cumulative incidences add up to 1 − Kaplan–Meier at every time (ties and delayed entry,
  against lifelines' Kaplan–Meier and the project's product-limit curve), and match lifelines'
  AalenJohansenFitter (estimate and interval) where there are no ties for it to jitter;
* the synthetic generator's reason shares and its price-rise effect on the price reason;
* the avoidable / unavoidable / other parts add up to the project's annual churn;
* the section's sentences, the one line without reasons, and Chinese.

The tests on the synthetic data share one module fixture (about 6 s) and are marked slow.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter

from churn_research import ChurnData, ChurnDataError, causes, load
from churn_research.annual import annual_churn, product_limit
from churn_research.causes.competing import (
    aalen_johansen,
    annual_split,
    cause_specific_cox,
    cumulative_incidence,
    reason_frame,
    reason_group,
    reason_heterogeneity,
    reason_truth,
)
from churn_research.i18n import set_language
from churn_research.narrate import causes as say

REFERENCE = {"gender": "female", "channel": "online", "customer_type": "consumer",
             "plan": "basic", "contract": "monthly", "region": "north"}
STATIC = ["gender", "age", "region", "channel", "customer_type", "plan", "contract", "price_rise"]


@pytest.fixture(scope="module")
def synth() -> ChurnData:
    return load("synthetic", n_customers=5000, random_state=0)


@pytest.fixture(scope="module")
def competing(synth):
    return causes.competing_reasons(synth, drivers=STATIC, reference=REFERENCE,
                                    horizons=[12, 24, 36], main=4)


# -- the estimator -----------------------------------------------------------------------------
def test_aalen_johansen_by_hand_with_tied_times():
    # t=1: 5 at risk, one exit for a and one for b -> F_a = F_b = 1/5, S = 3/5
    # t=2: one censored; t=3: 2 at risk, one a and one b -> each + 3/5 * 1/2 = 0.3, S = 0
    aj = aalen_johansen([1, 1, 2, 3, 3], ["a", "b", None, "a", "b"])
    assert aj[("time", "")].tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(aj[("cif", "a")], [0.2, 0.2, 0.5], atol=1e-15)
    np.testing.assert_allclose(aj[("cif", "b")], [0.2, 0.2, 0.5], atol=1e-15)
    np.testing.assert_allclose(aj[("survival", "")], [0.6, 0.6, 0.0], atol=1e-15)
    np.testing.assert_allclose(aj[("at_risk", "")], [5, 3, 2])


def test_cumulative_incidences_sum_to_one_minus_kaplan_meier_with_ties_and_entry():
    rng = np.random.default_rng(7)
    n = 2000
    d = rng.integers(1, 40, n).astype(float)          # whole months: many ties across causes
    cause = np.where(rng.random(n) < 0.6, rng.choice(["x", "y", "z"], n), None)
    entry = np.where(rng.random(n) < 0.3, np.floor(d * rng.random(n)), 0.0)
    for en in (None, entry):
        aj = aalen_johansen(d, cause, en)
        times = aj[("time", "")].to_numpy()
        total = sum(aj[("cif", k)].to_numpy() for k in aj.attrs["causes"])
        km = KaplanMeierFitter().fit(d, cause != None, entry=en)  # noqa: E711
        s_lifelines = km.survival_function_at_times(times).to_numpy()
        assert np.abs(total - (1 - s_lifelines)).max() < 1e-12
        t_pl, s_pl = product_limit(d, cause != None, en)  # noqa: E711
        np.testing.assert_allclose(t_pl, times)
        assert np.abs(total - (1 - s_pl)).max() < 1e-12
        assert np.abs(aj[("survival", "")].to_numpy() - s_pl).max() < 1e-12


def test_matches_lifelines_aalen_johansen_where_it_need_not_jitter():
    rng = np.random.default_rng(1)
    n = 300
    d = rng.exponential(10, n)                        # continuous: no ties, no jitter
    ev = rng.integers(0, 4, n)
    entry = np.where(rng.random(n) < 0.3, d * rng.random(n), 0.0)
    cause = np.where(ev > 0, ev.astype(str), None)
    for en in (None, entry):
        aj = aalen_johansen(d, cause, en)
        mine_t = aj[("time", "")].to_numpy()
        for k in (1, 2, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("error")         # a jitter warning would fail the test
                fit = AalenJohansenFitter().fit(d, ev, event_of_interest=k, entry=en)
            theirs = fit.cumulative_density_.iloc[:, 0].reindex(mine_t).to_numpy()
            assert np.nanmax(np.abs(theirs - aj[("cif", str(k))].to_numpy())) < 1e-12
            ci = np.sort(fit.confidence_interval_.reindex(mine_t).to_numpy(), axis=1)
            ours = np.c_[aj[("low", str(k))], aj[("high", str(k))]]
            ok = ~np.isnan(ci).any(axis=1)
            assert ok.sum() > 200
            assert np.abs(ci[ok] - ours[ok]).max() < 1e-10


def test_lifelines_jitters_tied_times_and_is_then_only_approximately_additive():
    d = np.array([1, 1, 2, 3, 3, 4, 5, 5], dtype=float)
    ev = np.array([1, 2, 0, 1, 2, 1, 1, 2])
    with pytest.warns(Warning, match="Tied event times"):
        fit = AalenJohansenFitter(seed=0).fit(d, ev, event_of_interest=1)
    # jittered: the event times are no longer the data's
    assert not set(fit.cumulative_density_.index) <= set(d) | {0.0}


# -- on the synthetic data -------------------------------------------------------------------
@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_synthetic_curves_use_delayed_entry_and_add_up(synth, competing):
    inc = competing.incidence
    assert inc.entry and inc.n == 5000
    frame = reason_frame(synth)
    assert inc.n_events == int(frame["event"].sum()) == int(synth.customers["end_date"].notna().sum())
    at = inc.at([12, 24, 36])
    for h in (12, 24, 36):
        parts = at[(at["horizon"] == h) & (at["reason"] != "all reasons")]["cif"].sum()
        total = at[(at["horizon"] == h) & (at["reason"] == "all reasons")]["cif"].iloc[0]
        assert abs(parts - total) < 1e-12
    kmf = KaplanMeierFitter().fit(frame["duration"], frame["event"], entry=frame["entry"])
    s36 = float(kmf.survival_function_at_times([36.0]).iloc[0])
    assert abs(1 - s36 - at.query("reason == 'all reasons' and horizon == 36")["cif"].iloc[0]) < 1e-12
    # every reason's interval holds its estimate; beyond the last tenure: NaN
    assert ((at["ci_low"] <= at["cif"]) & (at["cif"] <= at["ci_high"]))[at["reason"] != "all reasons"].all()
    assert inc.at([1e4])["cif"].isna().all()


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_generator_reason_shares_are_recovered(synth):
    check = reason_truth(synth)
    assert check is not None and len(check) == 7
    assert check["covered"].all()
    assert check.attrs["p_value"] > 0.01
    assert abs(check["expected"].sum() - 1) < 1e-12
    # the expected shares move away from the base weights where the flags raise a reason
    price = check.set_index("reason").loc["price"]
    assert price["expected"] > 0.25 and abs(price["observed"] - price["expected"]) < 0.02


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_cause_specific_hazards_find_the_price_rise_effect_on_the_price_reason(competing):
    hz = competing.hazards.set_index(["reason", "term"])
    assert competing.hazards.attrs["reasons"] == ["price", "competitor", "service_quality",
                                                  "product_quality"]
    price = hz.loc[("price", "price_rise")]
    # truth: exp(0.4) * 2 * 1 / (1 + 0.25) = 2.39 for price; exp(0.4) / 1.25 = 1.19 otherwise
    assert price["ci_low"] < 2.387 < price["ci_high"]
    for other in ("competitor", "service_quality", "product_quality"):
        assert hz.loc[(other, "price_rise"), "hr"] < price["ci_low"]
    truth = competing.hazard_truth.set_index(["reason", "term"])
    assert abs(truth.loc[("price", "price_rise"), "true_hr"] - np.exp(0.4) * 2 / 1.25) < 1e-9
    assert abs(truth.loc[("competitor", "price_rise"), "true_hr"] - np.exp(0.4) / 1.25) < 1e-9
    assert abs(truth.loc[("price", "contract[annual]"), "true_hr"] - np.exp(-0.8)) < 1e-9
    assert competing.hazard_truth["covered"].mean() >= 0.8
    # annual contracts lower every reason's hazard
    assert all(hz.loc[(r, "contract[annual]"), "ci_high"] < 1 for r in hz.index.levels[0])
    # only the price rise changes the reason (the generator's only static reason multiplier)
    het = reason_heterogeneity(competing.hazards)
    assert het.loc[het["differs"], ["term", "reason"]].values.tolist() == [["price_rise", "price"]]
    assert het.loc[0, "p_holm"] < 1e-6 and het.loc[0, "dof"] == 3
    assert "a price rise, strongest for price (2.47 vs 1.14–1.23 for the others, p < 0.001)" in \
        say.cause_specific(competing)


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_cause_specific_cox_leaves_out_time_varying_drivers(synth):
    hz = cause_specific_cox(synth, drivers=["contract", "complaint_90d"], reasons=["price"])
    assert hz.attrs["left_out"] == ["complaint_90d"]
    assert hz["term"].tolist() == ["contract[annual]"]
    with pytest.raises(ChurnDataError, match="no customer-level driver"):
        cause_specific_cox(synth, drivers=["complaint_90d"], reasons=["price"])


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_avoidable_unavoidable_other_add_up_to_the_annual_churn(synth, competing):
    annual = annual_churn(synth)
    split = competing.split
    assert split.annual.rate == annual.rate
    assert abs(split.table["rate"].sum() - annual.rate) < 1e-12
    assert split.table["lost"].sum() == annual.lost
    # by hand: the window's lost customers by reason group
    cust = synth.customers
    lost = cust["end_date"].between(annual.window_start, annual.window_end, inclusive="right")
    lost &= cust["start_date"] <= annual.window_start
    groups = cust.loc[lost, "churn_reason"].map(lambda r: reason_group(r))
    assert split.table.set_index("group")["lost"].to_dict() == groups.value_counts().reindex(
        ["avoidable", "unavoidable", "other"], fill_value=0).to_dict()
    assert split.rate("avoidable") > split.rate("unavoidable") > split.rate("other")


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_grouping_is_a_parameter_and_annualised_windows_scale(synth):
    annual = annual_churn(synth, months=6)
    split = annual_split(synth, annual, groups={"price": "avoidable"})
    assert abs(split.table["rate"].sum() - annual.rate) < 1e-12
    price_share = split.table.set_index("group").loc["avoidable", "share"]
    assert abs(split.rate("avoidable") - annual.rate * price_share) < 1e-12
    with pytest.raises(ChurnDataError, match="reason groups must be one of"):
        annual_split(synth, annual, groups={"price": "fixable"})


# -- the report section -------------------------------------------------------------------------
@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_no_reasons_gives_one_line(synth):
    data = ChurnData(customers=synth.customers.drop(columns="churn_reason"),
                     observation_end=synth.observation_end, kind="contractual")
    assert causes.competing_reasons(data, drivers=STATIC, reference=None, horizons=[12]) is None
    assert say.competing_heading(None, has_reasons=False, dataset="telco") == (
        "Not available for this dataset: cumulative incidence per exit reason, cause-specific "
        "hazards and avoidable vs unavoidable churn, because the telco data record no exit "
        "reasons (no churn_reason column).")
    with pytest.raises(ChurnDataError, match="no exit-reason column"):
        cumulative_incidence(data)


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_sentences_and_tables(competing):
    split = competing.split
    text = say.avoidable(competing)
    # review s5, 3: the parts of a rate are percentage points, not percentages
    assert text.startswith(f"Of the annual churn of {100 * split.annual.rate:.1f}%, "
                           f"**{100 * split.rate('avoidable'):.1f} percentage points** are avoidable, "
                           f"{100 * split.rate('unavoidable'):.1f} unavoidable and "
                           f"{100 * split.rate('other'):.1f} other (")
    floor = split.annual.rate - split.rate("avoidable")
    assert f"would leave annual churn at {100 * floor:.1f}%" in text
    inc = say.incidence(competing)
    assert inc.startswith("By 36 months of tenure, ")
    assert "for 7 of 7 reasons" in inc
    table = say.incidence_table(competing).data
    assert list(table.columns) == ["exit reason", "12 months", "24 months", "36 months"]
    assert table["exit reason"].iloc[-1] == "all reasons (1 − Kaplan–Meier)"
    hr = say.cause_hr_table(competing).data
    assert hr.columns[1] == f"price ({int((reason_frame_counts(competing))['price']):,} exits)"
    assert "a price rise" in hr["term"].tolist()
    assert "- **price**, strongest associations: a price rise: HR 2." in say.cause_specific(competing)
    figures = competing.key_figures()
    assert figures["annual_split"]["avoidable_reasons"] == ["price", "service_quality",
                                                            "product_quality", "competitor"]


def reason_frame_counts(competing) -> pd.Series:
    hz = competing.hazards
    return hz.groupby("reason")["events"].first()


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_section_reads_in_chinese(competing):
    set_language("zh")
    try:
        assert say.avoidable(competing).startswith("在 ")
        assert "可避免（主观原因）" in say.avoidable_table(competing).data.iloc[:, 0].tolist()
        assert say.incidence_table(competing).data.columns[1] == "12 个月"
        assert "价格" in say.cause_specific(competing)
    finally:
        set_language("en")


@pytest.mark.slow  # the synthetic data and four Cox fits: about 6 s for the module
def test_reasons_outside_the_grouping_are_said_so(synth, competing):
    import dataclasses
    other = dataclasses.replace(competing, split=annual_split(synth, competing.split.annual,
                                                               groups={"价格": "avoidable"}))
    assert say.avoidable(other).startswith(
        "None of the data's exit reasons (price, competitor, service quality, product quality, "
        "needs changed, other, relocation) is listed in the parameter `reason_groups`")
