"""Lifetime value, residual lifetime, the cost of churn and retention scenarios: known answers.

* the textbook worked examples, exactly;
* discounting on closed forms (annuity; geometric retention);
* DERL: Table 3 of Fader & Hardie (2010), the series it sums, and its homogeneous limit;
* the sBG fit recovers simulated parameters (with left truncation);
* on synthetic data, CLV from the survival curve against the generator's true expected
  lifetime value (computed from ``meta["truth"]`` and the latent satisfaction).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churn_research import clv
from churn_research.clv.analysis import churn_cost_analysis
from churn_research.model import ChurnData, ChurnDataError
from churn_research.sources import load
from churn_research.sources.synthetic import generate


# ---- textbook formulas ----------------------------------------------------------------------
def test_simple_clv_worked_example_is_exact():
    res = clv.simple_clv(100, 50, 10, 0.10)
    assert res.annual_revenue == 5000  # 100 per week x 50 weeks
    assert res.lifetime_revenue == 50000  # x 10 years
    assert res.clv == 5000  # at a 10% margin


def test_simple_clv_discounting_is_an_ordinary_annuity():
    res = clv.simple_clv(100, 50, 10, 0.10, discount_rate=0.08)
    explicit = sum(5000 / 1.08 ** t for t in range(1, 11))
    assert res.lifetime_revenue == pytest.approx(explicit, rel=1e-12)
    assert res.clv == pytest.approx(0.1 * explicit, rel=1e-12)
    # vector inputs
    many = clv.simple_clv(np.array([100, 200]), 50, 10, 0.1)
    np.testing.assert_array_equal(many.clv, [5000, 10000])


def test_churn_cost_worked_example_is_exact():
    c = clv.churn_cost(5000, 0.05, 8000, 0.10)
    assert c.lost_customers == 250
    assert c.lost_revenue == 2_000_000
    assert c.lost_profit == 200_000
    assert math.isnan(c.replacement_cost)  # no retention cost given: only the ratio is known
    c = clv.churn_cost(5000, 0.05, 8000, 0.10, retention_cost_per_customer=100)
    assert c.acquisition_cost_per_customer == 500  # "five times retaining one"
    assert c.replacement_cost == 125_000 and c.retention_cost == 25_000
    with pytest.raises(ValueError, match="churn_rate"):
        clv.churn_cost(5000, 5, 8000, 0.1)


def test_period_discount_rate():
    assert clv.period_discount_rate(0.10, 365.25) == pytest.approx(0.10)
    assert (1 + clv.period_discount_rate(0.10, clv.DAYS_PER_MONTH)) ** 12 == pytest.approx(1.10)


# ---- discounting on closed forms --------------------------------------------------------------
def _curve(survival: np.ndarray, period_days: float) -> pd.DataFrame:
    t = np.arange(len(survival))
    out = pd.DataFrame({"t": t, "survival": survival, "source": "kaplan_meier", "at_risk": 0})
    out.attrs.update({"by": None, "period_days": period_days})
    return out


def test_geometric_retention_has_the_closed_form_clv_and_derl():
    r, d = 0.8, 0.10  # retention per year, discount per year
    curve = _curve(r ** np.arange(401), 365.25)
    customers = pd.DataFrame({"monthly_revenue": [100.0, 300.0]})
    tab = clv.contractual_clv(customers, curve=curve, margin=0.5, discount_rate=d)
    row = tab.loc["all"]
    assert row["discounted_lifetime"] == pytest.approx((1 + d) / (1 + d - r), rel=1e-12)
    assert row["expected_lifetime"] == pytest.approx(1 / (1 - r), rel=1e-12)
    assert row["clv"] == pytest.approx(0.5 * 200 * (1 + d) / (1 + d - r), rel=1e-12)
    # memoryless: the residual lifetime is the same at every tenure, (1 - theta)(1 + d)/(d + theta)
    theta = 1 - r
    derl = clv.curve_derl(curve, [0, 1, 5, 20], discount_rate=d)["all"]
    np.testing.assert_allclose(derl, (1 - theta) * (1 + d) / (d + theta), rtol=1e-12)


def test_exponential_lifetimes_end_to_end():
    """KM + exponential tail on simulated exponential lifetimes: DEL near its closed form."""
    rng = np.random.default_rng(7)
    n, rate = 20000, 0.03  # per month
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")
    life = rng.exponential(1 / rate, n) * clv.DAYS_PER_MONTH
    end = start + pd.to_timedelta(life, unit="D")
    obs = pd.Timestamp("2025-01-01")
    customers = pd.DataFrame({"customer_id": np.arange(n), "start_date": start,
                              "end_date": end.where(end <= obs), "monthly_revenue": 10.0})
    curve = clv.survival_curve(customers, observation_end=obs, tail="exponential")
    v = 1 / (1 + clv.period_discount_rate(0.1, clv.DAYS_PER_MONTH))
    r = math.exp(-rate)
    truth = 1 / (1 - r * v)  # sum_t exp(-rate t) v^t
    got = clv.contractual_clv(customers, curve=curve, discount_rate=0.1).loc["all"]
    assert got["discounted_lifetime"] == pytest.approx(truth, rel=0.03)
    assert curve.attrs["tail_params"]["all"]["rate"] == pytest.approx(rate, rel=0.05)


def test_residual_clv_is_conditional_on_tenure():
    r = 0.97
    curve = _curve(np.r_[1.0, 0.5 * r ** np.arange(600)], clv.DAYS_PER_MONTH)  # big early loss
    obs = pd.Timestamp("2024-12-31")
    customers = pd.DataFrame({
        "customer_id": ["new", "old", "gone"],
        "start_date": pd.to_datetime(["2024-12-20", "2020-12-31", "2020-01-01"]),
        "end_date": pd.to_datetime([None, None, "2021-01-01"]),
        "monthly_revenue": [10.0, 10.0, 10.0],
    })
    res = clv.residual_clv(customers, curve=curve, observation_end=obs, margin=1.0, discount_rate=0.1)
    assert list(res.index) == ["new", "old"]  # only active customers
    v = 1 / (1 + clv.period_discount_rate(0.1, clv.DAYS_PER_MONTH))
    assert res.loc["old", "residual_lifetime"] == pytest.approx(r / (1 - r * v), rel=1e-9)
    # the new customer still faces the early loss
    assert res.loc["new", "residual_lifetime"] < res.loc["old", "residual_lifetime"]
    assert res.loc["old", "p_alive_12"] == pytest.approx(r ** 12)


# ---- DERL (Fader & Hardie 2010) -------------------------------------------------------------
# Table 3 of Fader & Hardie (2010), as transcribed in PyMC-Marketing's test suite
# (tests/clv/models/test_shifted_beta_geo.py): DERL at d = 10% for a customer who has made
# 0..4 renewals, for two segments with the same mean churn probability 0.2: case 1
# (gamma, delta) = (3.80, 15.20) (polarisation 0.05) and case 2 = (0.067, 0.267) (polarisation
# 0.75, i.e. exactly 1/15 and 4/15; the rounded values give 7.67 and 9.85 for two cells).
TABLE3 = {
    (3.80, 15.20): [3.31, 3.45, 3.59, 3.72, 3.84],
    (1 / 15, 4 / 15): [7.68, 9.46, 9.86, 10.06, 10.19],
}


@pytest.mark.parametrize("params", list(TABLE3), ids=["case1", "case2"])
def test_derl_reproduces_fader_hardie_2010_table_3(params):
    got = [round(float(clv.derl(*params, 0.10, n)), 2) for n in range(5)]
    assert got == TABLE3[params]


@pytest.mark.parametrize("gamma, delta, d", [(3.8, 15.2, 0.1), (1 / 15, 4 / 15, 0.1),
                                             (0.668, 3.806, 0.1), (0.704, 1.182, 0.05)])
def test_derl_equals_its_series(gamma, delta, d):
    t = np.arange(0, 20000)
    S = clv.sbg_survival(gamma, delta, t)
    for n in (1, 2, 5, 8):  # n - 1 renewals: sum_{t>=n} S(t)/S(n-1) (1+d)^-(t-n)
        series = np.sum(S[n:] / S[n - 1] * (1 + d) ** -(t[n:] - n))
        assert clv.derl(gamma, delta, d, n - 1) == pytest.approx(series, rel=1e-9)
    assert clv.sbg_del(gamma, delta, d) == pytest.approx(np.sum(S * (1 + d) ** -t), rel=1e-9)
    # DEL = 1 + DERL(0 renewals) / (1 + d)
    assert clv.sbg_del(gamma, delta, d) == pytest.approx(1 + clv.derl(gamma, delta, d, 0) / (1 + d))


def test_derl_homogeneous_limit_and_curve_counterpart():
    theta, d = 0.2, 0.1
    big = 1e7
    assert clv.derl(theta * big, (1 - theta) * big, d, 3) == pytest.approx(
        (1 - theta) * (1 + d) / (d + theta), rel=1e-5)
    # the model-free DERL of an sBG-shaped curve is the closed form
    curve = _curve(clv.sbg_survival(0.668, 3.806, np.arange(5001)), 365.25)
    got = clv.curve_derl(curve, [0, 3, 7], discount_rate=d)["all"].to_numpy()
    np.testing.assert_allclose(got, clv.derl(0.668, 3.806, d, np.array([0, 3, 7])), rtol=1e-9)


def test_fit_sbg_recovers_parameters_with_left_truncation():
    rng = np.random.default_rng(3)
    n, gamma, delta = 30000, 0.7, 2.5
    theta = rng.beta(gamma, delta, n)
    T = rng.geometric(theta)  # period of churn, 1, 2, ...
    join = rng.integers(-20, 12, n)  # in periods (days here) relative to the records' start
    obs = 12
    keep = join + T > 0  # customers who left before the records began are never seen
    join, T = join[keep], T[keep]
    base = pd.Timestamp("2020-01-01")
    start = base + pd.to_timedelta(join, unit="D")
    end_p = np.minimum(join + T - 0.5, obs + 1)  # churn during period T (capped: unseen)
    end = (base + pd.to_timedelta(end_p, unit="D")).where(end_p <= obs)
    customers = pd.DataFrame({"customer_id": np.arange(len(T)), "start_date": start,
                              "end_date": end})
    fit = clv.fit_sbg(customers, observation_end=base + pd.Timedelta(days=obs), period_days=1.0,
                      observed_from=base).loc["all"]
    assert fit["gamma"] == pytest.approx(gamma, rel=0.1)
    assert fit["delta"] == pytest.approx(delta, rel=0.1)
    naive = clv.fit_sbg(customers, observation_end=base + pd.Timedelta(days=obs),
                        period_days=1.0).loc["all"]
    assert abs(naive["mean_churn"] - gamma / (gamma + delta)) > abs(
        fit["mean_churn"] - gamma / (gamma + delta))


# ---- synthetic data: estimate vs the generator's truth -------------------------------------------
def _true_curves(data, t, extra_log_hr=0.0):
    """True survival of every customer (Weibull baseline x covariates x latent satisfaction)."""
    tr, c = data.meta["truth"], data.customers
    b, k, s = tr["log_hr"], tr["weibull_shape"], tr["weibull_scale_months"]

    def level(col, name):
        return (c[col] == name).to_numpy(float)

    eta = (b["gender[male]"] * level("gender", "male")
           + b["age_per_10y"] * (c["age"].to_numpy() - tr["age_centre"]) / 10
           + b["channel[partner]"] * level("channel", "partner")
           + b["channel[store]"] * level("channel", "store")
           + b["customer_type[business]"] * level("customer_type", "business")
           + b["plan[standard]"] * level("plan", "standard")
           + b["plan[premium]"] * level("plan", "premium")
           + b["contract[annual]"] * level("contract", "annual")
           + b["price_rise"] * c["price_rise"].to_numpy(float)
           + b["satisfaction_per_sd"] * c["satisfaction_latent"].to_numpy()
           + extra_log_hr)
    return np.exp(eta), k, s


@pytest.fixture(scope="module")
def long_window():
    """25 years of a business without existing customers, complaint and change effects off, so
    that the truth is a plain Weibull PH model per customer and the Kaplan-Meier range covers
    almost all of the discounted lifetime."""
    return generate(8000, random_state=11, start="2001-01-01", change_hazard_ratio=1.0,
                    complaint_hazard_ratio=1.0, share_existing=0.0, include_latent=True)


def test_survival_clv_matches_the_generators_true_lifetime_value(long_window):
    data = long_window
    c = data.customers
    t = np.arange(601)
    v = 1 / (1 + clv.period_discount_rate(0.10, clv.DAYS_PER_MONTH))
    risk, k, s = _true_curves(data, t)
    true_del = (np.exp(-np.outer(risk, (t / s) ** k)) * v ** t).sum(axis=1)
    true_clv = 0.3 * c["monthly_revenue"].to_numpy() * true_del  # expected value of a new customer

    curve = clv.survival_curve(c, observation_end=data.observation_end, by="plan")
    tab = clv.contractual_clv(c, curve=curve, margin=0.3, discount_rate=0.10)
    assert (tab["tail_share"] < 0.05).all()  # the KM range covers the value
    overall = (tab["clv"] * tab["customers"]).sum() / tab["customers"].sum()
    assert overall == pytest.approx(true_clv.mean(), rel=0.05)
    for plan, row in tab.iterrows():
        assert row["clv"] == pytest.approx(true_clv[c["plan"].to_numpy() == plan].mean(), rel=0.08)

    # residual value of the active customers (customer equity) against the truth
    obs = data.observation_end
    active = c["end_date"].isna().to_numpy()
    tau = np.floor(((obs - c["start_date"]).dt.days / clv.DAYS_PER_MONTH).to_numpy()[active])
    kk = np.arange(1, 601)
    cond = np.exp(-risk[active, None] * (((tau[:, None] + kk) / s) ** k - (tau[:, None] / s) ** k))
    true_equity = 0.3 * np.sum(c["monthly_revenue"].to_numpy()[active]
                               * (cond * v ** (kk - 1)).sum(axis=1))
    res = clv.residual_clv(c, curve=curve, observation_end=obs, margin=0.3, discount_rate=0.10)
    assert len(res) == active.sum()
    assert res["residual_clv"].sum() == pytest.approx(true_equity, rel=0.07)


def test_curve_after_a_business_change_describes_the_new_regime():
    data = generate(8000, random_state=12, start="2001-01-01", change_date="2020-01-01",
                    complaint_hazard_ratio=1.0, share_existing=0.0, include_latent=True)
    c = data.customers
    t = np.arange(601)
    v = 1 / (1 + clv.period_discount_rate(0.10, clv.DAYS_PER_MONTH))
    hr = data.meta["truth"]["change_hazard_ratio"]
    assert hr == 1.5
    risk, k, s = _true_curves(data, t, math.log(hr))  # the hazard a customer faces from now on
    true_clv = c["monthly_revenue"].to_numpy() * (np.exp(-np.outer(risk, (t / s) ** k)) * v ** t).sum(1)
    since = clv.default_observed_from(data, after_event=True)
    assert since == pd.Timestamp("2020-01-01")
    curve = clv.survival_curve(c, observation_end=data.observation_end, by="plan", observed_from=since)
    tab = clv.contractual_clv(c, curve=curve, discount_rate=0.10)
    overall = (tab["clv"] * tab["customers"]).sum() / tab["customers"].sum()
    assert overall == pytest.approx(true_clv.mean(), rel=0.05)
    # ignoring the change overstates the value
    pooled = clv.contractual_clv(c, curve=clv.survival_curve(c, observation_end=data.observation_end,
                                                             by="plan"), discount_rate=0.10)
    assert (pooled["clv"] * pooled["customers"]).sum() / pooled["customers"].sum() > overall * 1.05


def test_survival_curve_on_default_synthetic_data_uses_left_truncation():
    data = generate(3000, random_state=0)
    since = clv.default_observed_from(data)
    assert since == pd.Timestamp(data.meta["truth"]["left_truncated_at"]) == data.records_start
    curve = clv.survival_curve(data.customers, observation_end=data.observation_end,
                               observed_from=since, by="contract")
    assert set(curve["segment"]) == {"annual", "monthly"}
    for _, g in curve.groupby("segment"):
        s = g["survival"].to_numpy()
        assert s[0] == 1.0 and np.all(np.diff(s) <= 1e-12) and s[-1] >= 0
        assert (g["source"] == "kaplan_meier").sum() > 60  # left truncation extends the KM range
    tab = clv.contractual_clv(data.customers, curve=curve)
    assert tab.loc["annual", "clv"] > tab.loc["monthly", "clv"]  # annual contracts churn less


# ---- rfm_summary ------------------------------------------------------------------------------
def test_rfm_summary_counts_repeat_purchase_days():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-03-01",
                                "2024-01-08", "2024-04-10", "2024-02-01"]),
        "amount": [10.0, 5.0, 20.0, 7.0, 3.0, 9.0, 4.0],
    })
    s = clv.rfm_summary(tx, calibration_end="2024-02-26", observation_end="2024-04-22", freq="W")
    a = s.loc["a"]
    assert a["frequency"] == 1 and a["recency"] == 2 and a["T"] == 8
    assert a["monetary_value"] == 20.0  # the same-day 10 + 5 is the first purchase
    assert a["frequency_holdout"] == 1 and a["duration_holdout"] == 8
    assert s.loc["b", "frequency"] == 0 and s.loc["b", "monetary_value"] == 0
    assert s.loc["c", "frequency_holdout"] == 1
    assert s.attrs["units_per_year"] == pytest.approx(365.25 / 7)
    shuffled = clv.rfm_summary(tx.sample(frac=1, random_state=0), calibration_end="2024-02-26",
                               observation_end="2024-04-22", freq="W")
    pd.testing.assert_frame_equal(shuffled.sort_index(), s.sort_index(), check_like=True)
    days = clv.rfm_summary(tx, calibration_end="2024-02-26", freq="D")
    assert days.loc["a", "T"] == 56 and "frequency_holdout" not in days
    with pytest.raises(ChurnDataError, match="amount"):
        clv.rfm_summary(tx.assign(amount=-1.0), calibration_end="2024-02-26")
    with pytest.raises(ChurnDataError, match="missing column"):
        clv.rfm_summary(tx.drop(columns="amount"), calibration_end="2024-02-26")


# ---- the cost of churn and scenarios ------------------------------------------------------------
def test_retention_scenarios_are_consistent_with_churn_cost():
    tab = clv.retention_scenarios(5000, 0.05, 8000, 0.10, reductions=[0.05], horizon=1)
    assert tab.loc["baseline", "revenue"] == pytest.approx(5000 * 0.95 * 8000)
    assert tab.loc["churn -5 pts", "extra_revenue"] == pytest.approx(
        clv.churn_cost(5000, 0.05, 8000, 0.10).lost_revenue)
    tab = clv.retention_scenarios(1000, 0.2, 100, 0.3, reductions=[0.05], horizon=3,
                                  discount_rate=0.1)
    expect = sum(1000 * 0.85 ** t * 100 / 1.1 ** t for t in (1, 2, 3)) - sum(
        1000 * 0.8 ** t * 100 / 1.1 ** t for t in (1, 2, 3))
    assert tab.loc["churn -5 pts", "extra_revenue"] == pytest.approx(expect)
    assert tab.loc["churn -5 pts", "extra_profit"] == pytest.approx(0.3 * expect)


def test_churn_window_and_inputs():
    obs = pd.Timestamp("2024-12-31")
    customers = pd.DataFrame({
        "customer_id": list("abcde"),
        "start_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2023-06-01", "2024-06-01",
                                      "2022-01-01"]),
        "end_date": pd.to_datetime([None, "2024-05-01", None, "2024-09-01", "2023-05-01"]),
        "monthly_revenue": [10.0, 20.0, 30.0, 40.0, 50.0],
    })
    data = ChurnData(customers=customers, observation_end=obs)
    inputs = clv.churn_cost_inputs(data, months=12)
    win = inputs["annual"]
    assert (win.at_risk, win.lost) == (3, 1)  # a, b, c at risk; b lost; d joined later
    assert win.rate == pytest.approx(1 / 3) and win.method == "window"
    assert inputs["annual_revenue_per_customer"] == pytest.approx(12 * 20.0)
    assert inputs["revenue_source"] == "monthly_revenue"
    assert inputs["active"] == 2   # a and c are still customers at the observation end


def test_curve_churn_probability_geometric_and_conditional_on_tenure():
    """Issue 13 #7: P(churn within 12 months) = 1 - S(t + 12) / S(t) for the customer's tenure:
    constant for a geometric curve, falling with tenure for a decreasing hazard."""
    t = np.arange(601)
    geo = _curve(0.97 ** t, clv.DAYS_PER_MONTH)
    res = pd.DataFrame({"segment": "all", "tenure": [0.0, 5.5, 40.2]}, index=["a", "b", "c"])
    p = clv.curve_churn_probability(res, geo, horizon=12)
    assert p.to_numpy() == pytest.approx(np.full(3, 1 - 0.97 ** 12))
    weib = _curve(np.exp(-((t / 30.0) ** 0.5)), clv.DAYS_PER_MONTH)
    p = clv.curve_churn_probability(res, weib, horizon=12).to_numpy()
    H = lambda x: (x / 30.0) ** 0.5  # noqa: E731
    assert p == pytest.approx(1 - np.exp(-(H(np.array([12, 17, 52])) - H(np.array([0, 5, 40])))))
    assert p[0] > p[1] > p[2]


def test_money_at_risk_matches_the_generators_truth(long_window):
    """Expected loss within 12 months = sum over active customers of P(churn within 12 months
    | tenure) x residual value, against the same sum under the generator's true Weibull PH
    lifetimes (the expected number of leavers within 5%); the bootstrap interval covers the
    estimate and is reproducible."""
    from churn_research.clv import analysis

    data = long_window
    c = data.customers
    value = analysis.contractual_value(data, value_col="monthly_revenue", segment_by="plan",
                                       after_event=False, tail="weibull", min_at_risk=30,
                                       margin=0.3, discount_rate=0.10)
    risk = analysis.money_at_risk(data, value=value, n_boot=8, random_state=1)
    obs = data.observation_end
    active = c["end_date"].isna().to_numpy()
    hr, k, s = _true_curves(data, None)
    tau = np.floor(((obs - c["start_date"]).dt.days / clv.DAYS_PER_MONTH).to_numpy()[active])
    H = lambda x: hr[active] * (x / s) ** k  # noqa: E731
    true_p = 1 - np.exp(-(H(tau + 12) - H(tau)))
    v = 1 / (1 + clv.period_discount_rate(0.10, clv.DAYS_PER_MONTH))
    kk = np.arange(1, 601)
    cond = np.exp(-hr[active, None] * (((tau[:, None] + kk) / s) ** k - (tau[:, None] / s) ** k))
    true_value = 0.3 * c["monthly_revenue"].to_numpy()[active] * (cond * v ** (kk - 1)).sum(axis=1)
    pc = risk.per_customer
    assert len(pc) == active.sum()
    assert pc["p_churn"].sum() == pytest.approx(true_p.sum(), rel=0.05)       # expected leavers
    # the curve knows plan and tenure only: within a plan the riskier customers are also worth
    # less, so the product of plan-level probability and value overstates the true sum of
    # products (here by about 15%)
    truth = np.sum(true_p * true_value)
    assert truth < risk.expected_loss < 1.2 * truth
    lo, hi = risk.ci
    assert lo < risk.expected_loss < hi and hi - lo < 0.2 * risk.expected_loss
    again = analysis.money_at_risk(data, value=value, n_boot=8, random_state=1)
    assert again.ci == risk.ci
    figs = risk.key_figures()["money_at_risk"]
    assert figs["expected_loss"] == pytest.approx((pc["p_churn"] * pc["value"]).sum())
    assert figs["horizon_months"] == 12 and figs["customers"] == active.sum()
    assert "flagged_expected_loss" not in figs


def test_money_at_risk_flagged_share_and_table():
    from churn_research.clv.analysis import MoneyAtRisk, flagged_customers

    ids = ["a", "b", "c", "d"]
    flags = flagged_customers(active=pd.Series([True, True, True, False], index=ids),
                              tiers=pd.Series(["at risk", "loyal", "new", "at risk"], index=ids),
                              n_signals=pd.Series([0, 2, 0, 1], index=ids))
    assert flags.tolist() == [True, True, False, False]
    per = pd.DataFrame({"segment": ["x", "x", "y", "y"], "p_churn": [0.5, 0.1, 0.2, 0.4],
                        "value": [100.0, 200.0, 50.0, 10.0]}, index=ids)
    per["expected_loss"] = per["p_churn"] * per["value"]
    per["flagged"] = flags.astype("boolean")
    reps = pd.DataFrame({"all": [80.0, 84.0, 76.0], "flagged": [70.0, 72.0, 68.0]})
    r = MoneyAtRisk(per, 12, "retention curve", reps, snapshot=False)
    assert r.expected_loss == pytest.approx(84.0) and r.flagged_expected_loss == pytest.approx(70.0)
    z = 1.959963984540054
    assert r.ci == pytest.approx((84.0 - z * 4.0, 84.0 + z * 4.0))
    assert r.flagged_ci == pytest.approx((70.0 - z * 2.0, 70.0 + z * 2.0))
    tab = r.table()
    assert tab.index.tolist() == ["x", "y", "flagged at risk", "not flagged", "all active customers"]
    assert tab.loc["flagged at risk", "expected loss within 12 months"] == pytest.approx(70.0)
    assert tab.loc["all active customers", "share of the expected loss, %"] == pytest.approx(100.0)
    assert tab.loc["x", "mean P(churn within 12 months), %"] == pytest.approx(30.0)
    figs = r.key_figures()["money_at_risk"]
    assert (figs["flagged_customers"], figs["customers"]) == (2, 4)
    assert set(figs) >= {"expected_loss", "ci_low", "ci_high", "horizon_months",
                         "flagged_expected_loss", "flagged_ci_low", "flagged_ci_high"}


def test_derl_is_not_available_for_a_snapshot_and_says_why():
    """Issue 13 #8: 50_clv applies the sBG eligibility rule of 30_survival: no sBG figure for a
    snapshot such as IBM Telco, one line with the reason."""
    from churn_research.clv import analysis
    from churn_research.models.shifted_beta_geo import sbg_eligibility

    data = load("telco")
    value = analysis.contractual_value(data, value_col="monthly_charges", segment_by="contract",
                                       after_event=False, tail="weibull", min_at_risk=30,
                                       margin=0.3, discount_rate=0.10)
    out = analysis.derl_analysis(data, value, renewals=[0, 12], discount_rate=0.10)
    assert not out.available and out.sbg is None
    assert out.reason == sbg_eligibility(data)[1] and "one snapshot" in out.reason
    figs = out.key_figures()
    assert figs == {"sbg_not_available": out.reason}


def test_scenarios_project_the_customers_active_at_the_observation_end():
    """Issue 13 #1: the scenario base is the current customers, not everyone at risk at the start
    of the churn window (telco: 5,174 active, not 7,032)."""
    data = load("telco")
    inputs = clv.churn_cost_inputs(data, months=1, value_col="monthly_charges")
    assert inputs["active"] == 5174
    assert inputs["active"] == int(data.customers["end_date"].isna().sum())


def test_snapshot_annual_churn_comes_from_the_survival_curve_not_the_churn_flag():
    """Issue 13 #4: telco's churn flag (26.5% in the snapshot month) is not a yearly rate; the
    cost of churn uses the annual churn read off the survival curve, the same in 10 and 50."""
    data = load("telco")
    cost = churn_cost_analysis(data, months=12, value_col="monthly_charges", margin=0.3,
                                            acquisition_cost_multiple=5.0, retention_cost_months=1.0)
    assert cost.annual.method == "survival curve"
    assert 0.05 < cost.annual_churn < 0.15          # not the snapshot's 26.5%
    assert cost.cost.lost_customers == pytest.approx(5174 * cost.annual_churn)
    figures = cost.key_figures()
    assert figures["annual_churn"]["rate"] == figures["cost_of_churn"]["annual_churn_rate"]
    assert (cost.table().dtypes == "int64").all()
    # the cost's interval is the annual churn's: the same customers, revenue and margin
    low, high = cost.lost_profit_interval
    assert low == pytest.approx(5174 * cost.annual.ci_low * cost.revenue * 0.3, rel=1e-12)
    assert high == pytest.approx(5174 * cost.annual.ci_high * cost.revenue * 0.3, rel=1e-12)
    assert low < cost.cost.lost_profit < high
    assert cost.cost.lost_profit == pytest.approx(5174 * cost.annual_churn * cost.revenue * 0.3)
    assert (figures["cost_of_churn"]["lost_profit_ci_low"],
            figures["cost_of_churn"]["lost_profit_ci_high"]) == (low, high)


def test_money_at_risk_says_why_it_differs_from_the_yearly_cost_of_churn():
    """Review s5 (cdnow): the page shows the yearly cost of churn (inferred churn x one year's
    profit) and the BG/NBD money at risk; the money-at-risk sentence says why they differ, with
    the cost's own numbers."""
    from churn_research.clv import analysis
    from churn_research.narrate import clv as nc

    data = load("cdnow", sample=True, inactivity_days=180)
    btyd = analysis.btyd_value(data, freq="W", horizon_years=3, margin=0.3, discount_rate=0.15)
    risk = analysis.money_at_risk(data, btyd=btyd, n_boot=4, random_state=1)
    cost = churn_cost_analysis(data, months=9, value_col=None, margin=0.3,
                               acquisition_cost_multiple=5.0, retention_cost_months=1.0)
    text = nc.money_at_risk(risk, design="prospective", annual=cost, currency="USD")
    lost = f"{cost.cost.lost_profit:,.0f} USD"
    assert (f"It is not the yearly cost of churn ({lost} of profit a year): that figure counts the "
            f"customers the inactivity rule takes as lost ({cost.annual_churn:.1%} of the base a year)"
            ) in text
    assert risk.expected_loss < cost.cost.lost_profit  # cdnow: the two bases differ this way
    # review s8: 60_retention's risk x value ranks a purchase log's customers; it is not the
    # money at risk the summary quotes, the expected loss is this page's
    assert "The money at risk that the summary uses comes from 60_retention" not in text
    assert text.endswith("for a purchase log that total ranks customers and is not an expected "
                         "loss, so the expected loss to churn is the figure above.")


def test_inferred_churn_window_ends_where_lapses_are_still_visible():
    """Issue 13 #2: with churn inferred after 180 days without a purchase, no exit after
    observation_end - 180 days can be seen, so the churn window ends there."""
    data = load("cdnow", sample=True, inactivity_days=180)
    annual = clv.churn_cost_inputs(data, months=9)["annual"]
    assert annual.window_end == data.observation_end - pd.Timedelta(days=180)
    assert annual.window_start == pd.Timestamp("1997-04-01")
    ends = pd.to_datetime(data.customers["end_date"])
    assert ends.max() <= annual.window_end  # the rule dates no lapse later than that
    assert 0.3 < annual.window_rate < 0.6 and annual.rate > annual.window_rate
    assert annual.method == "window, annualised"


def test_money_at_risk_sentence_relates_its_probability_to_the_annual_churn():
    """Telco: the average 12-month probability of the valuation and the annual churn are the
    same quantity read off two versions of the curve; the report says so with both numbers."""
    from churn_research.clv import analysis
    from churn_research.narrate import clv as nc

    data = load("telco")
    value = analysis.contractual_value(data, value_col="monthly_charges", segment_by="contract",
                                       after_event=False, tail="weibull", min_at_risk=30,
                                       margin=0.3, discount_rate=0.10)
    risk = analysis.money_at_risk(data, value=value, n_boot=4, random_state=1)
    cost = churn_cost_analysis(data, months=12, by="contract", value_col="monthly_charges",
                               margin=0.3, acquisition_cost_multiple=5.0, retention_cost_months=1.0)
    assert abs(risk.mean_p_churn - cost.annual_churn) < 0.02
    text = nc.money_at_risk(risk, design="cross-sectional", annual=cost)
    assert f"({risk.mean_p_churn:.1%} on average; the annual churn, {cost.annual_churn:.1%}, is the same" in text
    # review s5, 2b: 60_retention keeps the model's own scores unless calibration improves them
    assert text.endswith("The money at risk that the summary uses comes from 60_retention: the risk "
                         "model's probability of churning within its horizon (recalibrated only where "
                         "recalibration improves it; 60_retention says whether it did) times this "
                         "residual value, per active customer.")


# ---- the fast Weibull likelihood of the bootstrap refits ----------------------------------------
def test_fast_weibull_fit_equals_lifelines():
    """models.weibull.fit_weibull maximises lifelines' WeibullFitter likelihood (right censoring,
    left truncation, integer weights): the same parameters to 1e-5, a log-likelihood at least
    as high, on telco's contract segments (no entry) and on synthetic lifetimes with entries."""
    from lifelines import WeibullFitter

    from churn_research.clv.contractual import _lifetime_groups, compact_lifetimes
    from churn_research.models.weibull import _terms, fit_weibull

    data = load("synthetic", n_customers=4000, random_state=5)
    cases = []
    for d, by, start in [(load("telco"), "contract", None), (data, "plan", data.event_date)]:
        for seg, g in _lifetime_groups(d.customers, observation_end=d.observation_end,
                                       period_days=30.4375, observed_from=start, by=by,
                                       everyone=None):
            _, rows = compact_lifetimes(g)
            codes, _ = compact_lifetimes(g)
            w = np.bincount(codes, minlength=len(rows)).astype(float)
            cases.append((seg, rows, w))
    assert any((rows["entry"] > 0).any() for _, rows, _ in cases)
    for seg, rows, w in cases:
        t = np.maximum(rows["duration"].to_numpy(float), 1e-3)
        ev, e = rows["event"].to_numpy(float), np.minimum(rows["entry"].to_numpy(float), t)
        lf = WeibullFitter().fit(t, ev, entry=e, weights=w)
        shape, scale = fit_weibull(t, ev, e, weights=w, start=(1.0, float(np.average(t, weights=w))))
        assert shape == pytest.approx(lf.rho_, rel=1e-5), seg
        assert scale == pytest.approx(lf.lambda_, rel=1e-5), seg
        args = (np.log(t), np.log(np.where(e > 0, e, 1.0)), e > 0, ev, w, w.sum())
        ours = _terms(np.log([scale, shape]), *args)[0]
        theirs = _terms(np.log([lf.lambda_, lf.rho_]), *args)[0]
        assert ours <= theirs + 1e-12, seg
        # the gradient and Hessian are those of the likelihood (finite differences)
        x, h = np.log([scale * 1.1, shape * 0.9]), 1e-6
        f, g, hess = _terms(x, *args)
        for i in range(2):
            step = np.eye(2)[i] * h
            up, down = _terms(x + step, *args), _terms(x - step, *args)
            assert (up[0] - down[0]) / (2 * h) == pytest.approx(g[i], rel=1e-5, abs=1e-8)
            np.testing.assert_allclose((up[1] - down[1]) / (2 * h), hess[i], rtol=1e-4, atol=1e-7)


def test_bootstrap_refits_with_the_fast_likelihood_match_lifelines_refits():
    """The money-at-risk bootstrap (fast refits) gives lifelines' replicates to 1e-5."""
    from churn_research.clv import contractual
    from churn_research.clv.risk import bootstrap_contractual

    data = load("telco")
    curve = contractual.survival_curve(data.customers, observation_end=data.observation_end,
                                       by="contract", tail="weibull", min_at_risk=30)
    active = data.customers[data.customers["end_date"].isna()].head(500)
    residual = pd.DataFrame({"segment": active["contract"].to_numpy(),
                             "tenure": np.arange(len(active)) % 60,
                             "value_per_period": active["monthly_charges"].to_numpy()})
    kw = dict(observation_end=data.observation_end, observed_from=None, min_at_risk=30, margin=0.3,
              discount_rate=0.1, horizon=12, n_boot=3, random_state=2)
    fast = bootstrap_contractual(data.customers, residual, curve, **kw)
    slow_fit = contractual._fit_weibull

    def lifelines_only(*args, refit=False, **kwargs):
        return slow_fit(*args, refit=False, **kwargs)

    contractual._fit_weibull = lifelines_only
    try:
        slow = bootstrap_contractual(data.customers, residual, curve, **kw)
    finally:
        contractual._fit_weibull = slow_fit
    np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=1e-5)
    assert fast.shape == (500, 3)
