"""Measuring a retention campaign and targeting by uplift, checked against the generator's truth
(the opt-in randomised campaign of churn_research.sources.synthetic; issue 16)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research.i18n import set_language
from churn_research.model import ChurnDataError
from churn_research.retention import campaign as cp
from churn_research.retention import uplift as up
from churn_research.synthetic import generate

COVARIATES = ["age", "gender", "channel", "customer_type", "plan", "contract", "price_rise",
              "monthly_revenue"]


def _frame(data):
    f = cp.outcomes(data.customers, data.campaigns, observation_end=data.observation_end,
                    horizon_days=data.meta["truth"]["campaign"]["horizon_days"])
    c = data.customers.set_index("customer_id").loc[f["customer_id"]]
    cov = c[COVARIATES].reset_index(drop=True)
    cov["tenure_days"] = (f["date"].to_numpy() - c["start_date"].to_numpy()) / np.timedelta64(1, "D")
    return f, cov


@pytest.fixture(scope="module")
def randomised():
    data = generate(20000, random_state=3, campaign=True, include_latent=True)
    return (data, *_frame(data))


def test_outcomes_follow_the_campaign_table(randomised):
    data, f, _cov = randomised
    truth = data.meta["truth"]["campaign"]
    assert len(f) == truth["n_eligible"] == 8074
    assert int(f["treated"].sum()) == truth["n_treated"]
    # treated churners = the untreated world's churners among the treated minus those kept
    camp = data.campaigns.set_index("customer_id").loc[f["customer_id"]]
    treated = f["treated"].to_numpy() == 1
    assert f["churned"][treated].sum() == camp["churn_untreated"][treated].sum() - truth["saved"]
    assert (f["churned"][~treated].to_numpy() == camp["churn_untreated"][~treated].to_numpy()).all()


def test_randomised_effect_covers_the_truth_and_counts_money(randomised):
    data, f, _cov = randomised
    truth = data.meta["truth"]["campaign"]
    e = cp.randomised_effect(f, value_per_customer=600.0, cost_per_contact=10.0)
    assert truth["ate"] == pytest.approx(-0.04429, abs=1e-5)
    assert e.difference == pytest.approx(-0.04233, abs=1e-4)
    assert e.ci[0] < truth["ate"] < e.ci[1] < 0  # covers the truth, and excludes no effect
    assert e.saved == pytest.approx(-e.difference * e.n_treated)
    assert e.saved_ci[0] < truth["saved"] < e.saved_ci[1]  # 190 kept; estimate 172.9
    assert e.cost == 10.0 * e.n_treated
    assert e.net == pytest.approx(e.saved * 600.0 - e.cost)
    assert e.roi == pytest.approx(e.net / e.cost)
    assert len(e.assumptions) == 3


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339
    low, high = cp.newcombe_ci(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


@pytest.mark.slow
def test_randomised_interval_covers_the_truth_in_about_95_percent_of_50_seeds():
    covered = []
    for seed in range(50):
        data = generate(3000, random_state=100 + seed, campaign=True)
        f = cp.outcomes(data.customers, data.campaigns, observation_end=data.observation_end)
        e = cp.randomised_effect(f)
        covered.append(e.ci[0] <= data.meta["truth"]["campaign"]["ate"] <= e.ci[1])
    assert 0.86 <= np.mean(covered) <= 1.0  # 50 seeds: binomial spread around 0.95


def test_ipw_recovers_the_truth_where_the_naive_difference_does_not():
    data = generate(20000, random_state=3, campaign={"confounding": 1.5})
    truth = data.meta["truth"]["campaign"]
    assert truth["assignment"] == "by observed risk"
    f, cov = _frame(data)
    e = cp.adjusted_effect(f, cov, method="ipw", n_boot=60, random_state=0)
    assert e.ci[0] < truth["ate"] < e.ci[1]
    assert e.difference == pytest.approx(truth["ate"], abs=0.01)
    naive = cp.randomised_effect(f)
    assert not naive.ci[0] < truth["ate"] < naive.ci[1]  # the naive interval misses it
    assert abs(e.naive_difference - truth["ate"]) > 0.03
    assert e.trimmed == 0 and len(e.assumptions) == 4


def test_aipw_agrees_and_assumptions_are_translated():
    data = generate(8000, random_state=4, campaign={"confounding": 1.0})
    truth = data.meta["truth"]["campaign"]
    f, cov = _frame(data)
    e = cp.adjusted_effect(f, cov, method="aipw", n_boot=30, trim=(0.1, 0.9))
    assert e.ci[0] < truth["ate"] < e.ci[1]
    assert "doubly robust" in e.assumptions[2]
    assert f"{e.trimmed:,} customers with a propensity outside 0.10 to 0.90" in e.assumptions[1]
    try:
        set_language("zh")
        zh = cp.adjusted_effect(f, cov, method="aipw", n_boot=2).assumptions
    finally:
        set_language("en")
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in zh)


def test_outcomes_refuse_a_horizon_past_the_data_and_a_campaign_without_controls(randomised):
    data, _f, _cov = randomised
    with pytest.raises(ChurnDataError, match=r"table 'campaigns', column 'date'.*400 days after "
                       r"its last date \(2025-06-01\) reach past observation_end"):
        cp.outcomes(data.customers, data.campaigns, observation_end=data.observation_end,
                    horizon_days=400)
    only = data.campaigns.assign(treated=1)
    with pytest.raises(ChurnDataError, match="has no control customers"):
        cp.outcomes(data.customers, only, observation_end=data.observation_end)


def test_uplift_targeting_beats_risk_targeting_on_the_true_saved_value(randomised):
    data, f, cov = randomised
    camp = data.campaigns.set_index("customer_id").loc[f["customer_id"]]
    true_kept = (camp["churn_untreated"] * camp["save_prob"]).to_numpy()
    value = cov["monthly_revenue"].to_numpy() * 12
    r = up.t_learner(up.design_matrix(cov), f["treated"], f["churned"], model="logistic")
    qini = up.qini_coefficient(up.qini_curve(r["uplift"], f["treated"], f["churned"]))
    assert qini > 0
    table = up.compare_policies(r["uplift"], r["risk_control"], value, cost_per_contact=10.0,
                                budget=len(f) // 5, true_saved=true_kept, treated=f["treated"],
                                churned=f["churned"])
    assert list(table.index) == list(up.POLICIES) == ["uplift", "risk_value", "risk"]
    assert (table["contacted"] == len(f) // 5).all()
    assert table.loc["uplift", "value_true"] > 1.2 * table.loc["risk", "value_true"]
    # uplift x value - cost beats risk x value too, on the generator's true saved value
    assert table.loc["uplift", "value_true"] > table.loc["risk_value", "value_true"]
    # customers kept: the model's expectation, the campaign's groups among the chosen, the truth
    assert table.loc["uplift", "kept_true"] == pytest.approx(true_kept[_chosen(r, value, len(f) // 5)].sum())
    assert np.isfinite(table["kept_measured"]).all()
    # the true uplift ranking is the ceiling; a random pick of the same size the floor
    best = np.sort(true_kept * value)[::-1][: len(f) // 5].sum()
    assert table.loc["uplift", "value_true"] < best
    assert table.loc["risk", "value_true"] > (true_kept * value).mean() * (len(f) // 5)


def _chosen(r, value, budget):
    return up.target(r["uplift"].to_numpy() * value - 10.0, budget=budget)


def test_normalised_qini_is_one_for_the_perfect_ranking_and_random_covers_zero():
    rng = np.random.default_rng(7)
    n = 4000
    treated = rng.integers(0, 2, n)
    base = rng.random(n) < 0.3
    helped = rng.random(n) < 0.5          # the contact keeps half of the would-be churners
    churned = (base & ~(treated.astype(bool) & helped)).astype(int)
    kept = 1 - churned
    perfect = kept * treated - kept * (1 - treated)   # the kept contacted first, kept controls last
    assert up.qini_normalised(perfect, treated, churned) == pytest.approx(1.0)
    q, lo, hi = up.qini_normalised_ci(rng.random(n), treated, churned, n_boot=200, random_state=0)
    assert lo < 0 < hi and abs(q) < 0.1
    # worse than random: the reversed perfect ranking is negative
    assert up.qini_normalised(-perfect, treated, churned) < 0
    # the interval is seeded: the same customers and seed give the same interval
    u = rng.random(500)
    assert up.qini_normalised_ci(u, treated[:500], churned[:500], n_boot=50, random_state=3) == \
        up.qini_normalised_ci(u, treated[:500], churned[:500], n_boot=50, random_state=3)


def test_plan_carries_the_effect_interval_and_the_target_met_within_its_interval():
    from churn_research.retention import measure

    p = measure.plan(actual=0.10, target=0.08, customers=1000, effect=-0.05, cost_per_contact=10.0,
                     value_per_customer=500.0, effect_ci=(-0.08, -0.02))
    assert (p["to_save"], p["contacts"], p["contacts_low"], p["contacts_high"]) == (20, 400, 250, 1000)
    assert (p["cost_low"], p["cost_high"]) == (2500.0, 10000.0)
    assert (p["net_low"], p["net_high"]) == (0.0, 7500.0) and p["met"] is False
    # an interval reaching no effect: no upper bound on the contacts and cost, no lower net
    q = measure.plan(actual=0.10, target=0.08, customers=1000, effect=-0.05, cost_per_contact=10.0,
                     value_per_customer=500.0, effect_ci=(-0.08, 0.01))
    assert q["contacts_high"] is None and q["cost_high"] is None and q["net_low"] is None
    w = measure.plan(actual=0.10, target=0.08, customers=1000, effect=-0.05, cost_per_contact=10.0,
                     value_per_customer=500.0, effect_ci=(-0.08, -0.02), within_interval=True)
    assert w["met"] is True and w["met_how"] == "within interval" and w["to_save"] == 20
    m = measure.plan(actual=0.07, target=0.08, customers=1000, effect=-0.05, cost_per_contact=10.0,
                     value_per_customer=500.0)
    assert m["met_how"] == "met" and m["to_save"] == 0


def test_qini_curve_of_a_perfect_and_a_useless_ranking():
    treated = np.array([1, 0] * 50)
    churned = np.array([0, 1] * 25 + [0, 0] * 25)  # the contact prevents churn in the first half
    good = up.qini_curve(np.linspace(1, 0, 100), treated, churned)
    bad = up.qini_curve(np.linspace(0, 1, 100), treated, churned)
    assert good["kept"].iloc[-1] == bad["kept"].iloc[-1] == 25.0
    assert up.qini_coefficient(good) > 0 > up.qini_coefficient(bad)
    assert up.target([3.0, -1.0, 2.0]).tolist() == [True, False, True]
    assert up.target([3.0, -1.0, 2.0], budget=1).tolist() == [True, False, False]


@pytest.mark.slow
def test_x_learner_also_ranks_better_than_risk(randomised):
    data, f, cov = randomised
    camp = data.campaigns.set_index("customer_id").loc[f["customer_id"]]
    true_kept = (camp["churn_untreated"] * camp["save_prob"]).to_numpy()
    value = cov["monthly_revenue"].to_numpy() * 12
    r = up.x_learner(up.design_matrix(cov), f["treated"], f["churned"])
    table = up.compare_policies(r["uplift"], r["risk_control"], value, cost_per_contact=10.0,
                                budget=len(f) // 5, true_saved=true_kept)
    assert table.loc["uplift", "value_true"] > table.loc["risk", "value_true"]
    assert isinstance(table, pd.DataFrame)


@pytest.mark.slow
def test_study_of_the_synthetic_campaign_beside_its_truth_and_the_plan():
    """The campaign of params/synthetic.yaml measured as 60_retention does (attributes as the
    covariates, a year of revenue as the value): the effect's interval covers the truth, the
    uplift ranking beats chance and risk targeting on the true saved value; then the plan."""
    from churn_research.retention import measure

    data = generate(5000, random_state=0, campaign={"date": "2024-12-01", "horizon_days": 365})
    truth = data.meta["truth"]["campaign"]
    assert len(truth["kept_if_contacted"]) == int((np.array(list(truth["kept_if_contacted"].values())) > 0).sum())
    assert sum(truth["kept_if_contacted"].values()) == pytest.approx(-truth["ate"] * truth["n_eligible"])

    def covariates(day):
        c = data.customers.set_index("customer_id")
        out = c[COVARIATES].copy()
        out["tenure_days"] = (day - c["start_date"]).dt.days
        return out

    values = data.customers.set_index("customer_id")["monthly_revenue"] * 12
    s = measure.study(data, covariates, values=values, horizon_days=365)
    # a covariates function that takes the campaign's ids gets them (60_retention's: their rows
    # only, at 10^7 customers): the same study
    seen = []

    def campaign_covariates(day, ids):
        seen.append(len(ids))
        return covariates(day).loc[list(ids)]

    same = measure.study(data, campaign_covariates, values=values, horizon_days=365)
    assert seen == [len(s.frame)] and same.effect.difference == s.effect.difference
    assert same.qini_normalised == s.qini_normalised
    assert (s.effect.n_treated, s.effect.n_control) == (980, 1005)
    assert s.effect.difference == pytest.approx(-0.0898, abs=1e-4)
    assert truth["ate"] == pytest.approx(-0.0748, abs=1e-4)
    assert s.effect.ci[0] < truth["ate"] < s.effect.ci[1] < 0
    assert s.truth_table["covered"].all() and list(s.truth_table["term"]) == ["effect", "saved"]
    assert s.effect.cost == 10.0 * 980 and s.effect.net == pytest.approx(s.effect.money_saved - 9800)
    assert s.qini_coefficient > 0 and s.budget == 397
    assert s.policy.loc["uplift", "value_true"] > s.policy.loc["risk", "value_true"]
    figs = s.key_figures()
    assert figs["campaign"]["truth"]["covered"] is True and figs["uplift"]["budget"] == 397
    p = measure.plan(actual=0.10, target=0.08, customers=1000, effect=-0.05, cost_per_contact=10.0,
                     value_per_customer=500.0)
    assert (p["to_save"], p["contacts"], p["cost"], p["value"], p["net"]) == (20, 400, 4000.0, 10000.0, 6000.0)
    assert measure.plan(actual=0.07, target=0.08, customers=1000, effect=-0.05, cost_per_contact=10.0,
                        value_per_customer=None)["met"]
    assert measure.plan(actual=0.10, target=0.08, customers=1000, effect=0.01, cost_per_contact=10.0,
                        value_per_customer=None)["contacts"] is None


def test_design_matrix_equals_get_dummies_then_mean_fill():
    """design_matrix builds the matrix column by column (no whole-frame copies at 10^7
    customers): the same columns and values, to the last bit, as one-hot encoding the frame
    with get_dummies(drop_first=True) and filling each gap with its column's mean."""
    rng = np.random.default_rng(0)
    n = 20_000
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    f = pd.DataFrame({"tenure_days": rng.integers(0, 2000, n).astype(float),
                      "age": rng.integers(18, 90, n),
                      "plan": pd.array(rng.choice(["basic", "premium", None], n), dtype=text),
                      "region": rng.choice(["n", "s", "e"], n).astype(object),
                      "senior": rng.random(n) < 0.2,
                      "price_rise": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
                      "revenue": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2, 30, n))})
    x = f.copy()
    for col in ("senior", "price_rise"):
        x[col] = x[col].astype(float)
    x = pd.get_dummies(x, drop_first=True, dtype=float).astype(float)
    want = x.fillna(x.mean()).to_numpy()
    got = up.design_matrix(f)
    assert got.shape == want.shape == (n, 8)
    assert np.array_equal(got, want) and not np.isnan(got).any()
    assert f["senior"].dtype == bool and f["revenue"].isna().any()  # the input is not modified
