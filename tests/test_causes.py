"""Tests of churn_research.causes: numbers against known answers.

* the synthetic generator's truth (log hazard ratios, top exit reason, the reason-mix shift at the
  business change, the four claims);
* the published IBM Telco churn rates by contract (42.7% / 11.3% / 2.8%);
* closed forms (Wilson interval, Cochran–Armitage vs the linear-by-linear statistic, VIF) and
  hand-built fixtures (person-period rows, claims that are true, false and untestable).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churn_research import ChurnData, ChurnDataError, causes, load
from churn_research.causes.drivers import vif_table
from churn_research.causes.frame import MONTH_DAYS

REFERENCE = {"gender": "female", "channel": "online", "customer_type": "consumer",
             "plan": "basic", "contract": "monthly"}


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth() -> ChurnData:
    """The default synthetic data (n = 5,000, seed 0), with the hidden satisfaction exposed."""
    return load("synthetic", n_customers=5000, random_state=0, include_latent=True)


@pytest.fixture(scope="module")
def telco() -> ChurnData:
    return load("telco")


def _snapshot(n: int = 4000, *, seed: int = 0, tenure_effect: float = 1.0,
              old_effect: float = 1.0, male_effect: float = 1.0, partner_effect: float = 1.0,
              columns=("age", "gender", "channel")) -> ChurnData:
    """One-snapshot data (every churner left in the last month), churn risks multiplied by the
    given effects: long tenure (12+ months), age 65+, male, partner channel."""
    rng = np.random.default_rng(seed)
    obs = pd.Timestamp("2024-12-31")
    tenure = rng.integers(0, 73, n)
    age = rng.integers(18, 90, n)
    male = rng.random(n) < 0.5
    partner = rng.random(n) < 0.3
    risk = np.full(n, 0.25)
    risk *= np.where(tenure >= 12, tenure_effect, 1.0)
    risk *= np.where(age >= 65, old_effect, 1.0)
    risk *= np.where(male, male_effect, 1.0)
    risk *= np.where(partner, partner_effect, 1.0)
    churn = rng.random(n) < np.clip(risk, 0, 0.95)
    c = pd.DataFrame({
        "customer_id": [f"S{i:05d}" for i in range(n)],
        "start_date": [obs - pd.DateOffset(months=int(m)) for m in tenure],
        "end_date": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]").where(~churn, obs),
    })
    if "age" in columns:
        c["age"] = age
    if "senior_citizen" in columns:
        c["senior_citizen"] = age >= 65
    if "gender" in columns:
        c["gender"] = np.where(male, "male", "female")
    if "channel" in columns:
        c["channel"] = np.where(partner, "partner", "online")
    return ChurnData(customers=c, observation_end=obs, kind="contractual")


# ------------------------------------------------------------------------------------------
# small statistics
# ------------------------------------------------------------------------------------------
def test_vif_equals_statsmodels_variance_inflation_factor():
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    rng = np.random.default_rng(1)
    x = pd.DataFrame({"const": 1.0, "a": rng.normal(size=500), "b": rng.normal(size=500)})
    x["c"] = x["a"] + 0.5 * x["b"] + rng.normal(scale=0.3, size=500)
    ours = vif_table(x).set_index("term")["vif"]
    for i, col in enumerate(x.columns):
        if col != "const":
            assert math.isclose(ours[col], variance_inflation_factor(x.to_numpy(), i),
                                rel_tol=1e-8)
    assert ours["c"] > 5 > ours["b"]


# ------------------------------------------------------------------------------------------
# person-period expansion
# ------------------------------------------------------------------------------------------
def test_person_period_rows_by_hand():
    customers = pd.DataFrame({
        "customer_id": ["A", "B"],
        "start_date": pd.to_datetime(["2024-01-15", "2023-11-20"]),
        "end_date": pd.to_datetime(["2024-03-10", None]),
        "plan": ["basic", "premium"],
    })
    tickets = pd.DataFrame({"customer_id": ["A"], "date": pd.to_datetime(["2024-02-10"]),
                            "kind": ["complaint"]})
    events = pd.DataFrame({"date": pd.to_datetime(["2024-03-01"]), "name": ["rename"]})
    data = ChurnData(customers=customers, tickets=tickets, events=events,
                     observation_end=pd.Timestamp("2024-04-01"),
                     records_start="2024-01-01")
    pp = causes.person_period(data)
    a = pp[pp["customer_id"] == "A"]
    # A: Jan 15 - Feb 1, Feb 1 - Feb 10, Feb 10 (complaint) - Mar 1, Mar 1 - Apr 1 (churn row
    # runs to the end of its month; at risk until Mar 10)
    assert a["period_start"].dt.strftime("%m-%d").tolist() == ["01-15", "02-01", "02-10", "03-01"]
    assert a["complaint_90d"].tolist() == [0, 0, 1, 1]
    assert a["change"].tolist() == [0, 0, 0, 1]
    assert a["event"].tolist() == [0, 0, 0, 1]
    assert math.isclose(a["exposure"].iloc[-1], 31 / MONTH_DAYS)
    assert math.isclose(a["time_at_risk"].iloc[-1], 9 / MONTH_DAYS)
    # B: left-truncated at the study start, censored at the observation end (Apr 1)
    b = pp[pp["customer_id"] == "B"]
    assert b["period_start"].min() == pd.Timestamp("2024-01-01") and b["event"].sum() == 0
    assert math.isclose(b["time_at_risk"].sum(), 91 / MONTH_DAYS)
    assert math.isclose(b["tenure_start"].iloc[0], 42 / MONTH_DAYS)


def test_person_period_totals_on_synthetic(synth):
    pp = causes.person_period(synth)
    frame = causes.customer_frame(synth)
    at_risk = frame[frame["exit_date"] > frame["entry_date"]]
    assert pp["event"].sum() == at_risk["churned"].sum()
    days = (at_risk["exit_date"] - at_risk["entry_date"]).dt.days.sum()
    assert math.isclose(pp["time_at_risk"].sum(), days / MONTH_DAYS, rel_tol=1e-9)
    assert (pp["exposure"] >= pp["time_at_risk"]).all() and (pp["exposure"] > 0).all()


# ------------------------------------------------------------------------------------------
# exit reasons
# ------------------------------------------------------------------------------------------
def test_reason_pareto_top_reason_is_the_truth(synth):
    pareto = causes.reason_pareto(synth)
    assert pareto["reason"].iloc[0] == synth.meta["truth"]["top_reason"] == "price"
    assert math.isclose(pareto["share"].sum(), 1.0)
    assert pareto["cumulative_share"].is_monotonic_increasing
    assert math.isclose(pareto["cumulative_share"].iloc[-1], 1.0)
    # base weight 0.25, doubled for the ~25% with a price rise: about 0.29 of churners
    assert 0.22 < pareto["share"].iloc[0] < 0.32
    by = causes.reason_pareto(synth, by="plan")
    assert np.allclose(by.groupby("plan")["share"].sum(), 1.0)


def test_reason_shift_detects_the_competitor_rise(synth):
    shift = causes.reason_shift(synth)
    assert shift.p_value < 1e-3
    assert shift.most_increased == "competitor"
    comp = shift.table.set_index("reason").loc["competitor"]
    assert comp["ci_low"] > 0  # the rise's 95% interval excludes zero
    assert shift.n_before + shift.n_after == synth.customers["end_date"].notna().sum()


def test_reason_shift_null_when_the_mix_does_not_change():
    data = load("synthetic", n_customers=3000, random_state=2,
                reason_multipliers={"competitor": {"after_change": 1.0}})
    assert causes.reason_shift(data).p_value > 0.01


def test_reasons_absent_raise_a_clear_error(telco):
    assert not causes.has_reasons(telco)
    with pytest.raises(ChurnDataError, match="churn_reason"):
        causes.reason_pareto(telco)


# ------------------------------------------------------------------------------------------
# driver-by-driver rates, dose-response
# ------------------------------------------------------------------------------------------
def test_telco_churn_by_contract_matches_published_rates(telco):
    rates = causes.driver_rates(telco, ["contract", "tenure_months"])
    by = rates[rates["driver"] == "contract"].set_index("level")["churn_rate"]
    assert by["Month-to-month"] == pytest.approx(0.427, abs=0.001)
    assert by["One year"] == pytest.approx(0.113, abs=0.001)
    assert by["Two year"] == pytest.approx(0.028, abs=0.001)
    tests = causes.driver_tests(rates).set_index("driver")
    assert tests.loc["contract", "p_value"] < 1e-100
    assert tests.loc["tenure_months", "trend_z"] < -20  # churn falls with tenure


def test_driver_tests_holm_adjusts_the_family_of_drivers():
    """Three drivers, hand-built counts: p_holm is Holm's step-down adjustment of the raw
    chi-square p-values (smallest x3, next x2, largest x1, kept monotone), and the significant
    set of the report uses the adjusted values."""
    rows = []
    for driver, churned in {"a": (30, 60), "b": (40, 52), "c": (45, 47)}.items():
        for order, c in enumerate(churned):
            rows.append({"driver": driver, "level": str(order), "order": order, "n": 200,
                         "churned": c, "ordered": False})
    tests = causes.driver_tests(pd.DataFrame(rows))
    p = tests["p_value"].to_numpy()
    assert list(tests.columns[:6]) == ["driver", "levels", "chi2", "dof", "p_value", "p_holm"]
    expected = np.minimum(1, np.maximum.accumulate(p * np.array([3, 2, 1])))
    np.testing.assert_allclose(tests["p_holm"].to_numpy(), expected)
    # b's raw p is about 0.2, c's about 0.8: only a survives either way; a p of 0.03 would not
    assert causes.significant_drivers(tests)["driver"].tolist() == ["a"]
    borderline = tests.assign(p_value=[0.01, 0.03, 0.5], p_holm=[0.03, 0.06, 0.5])
    assert causes.significant_drivers(borderline)["driver"].tolist() == ["a"]


def test_dose_response_complaints_and_satisfaction(synth):
    pp = causes.person_period(synth)
    comp = causes.dose_response(synth, "complaints", pp=pp)
    assert comp["level"].tolist() == ["0", "1", "2", "3+"]
    # any complaint in 90 days doubles the hazard (plus the satisfaction it signals)
    assert 1.7 < comp["rate_ratio"].iloc[1] < 3.0 and comp.attrs["trend_p_value"] < 1e-10
    sat = causes.dose_response(synth, "satisfaction", pp=pp)
    answered = sat[sat["level"] != "no answer yet"]
    assert answered["churn_rate"].iloc[0] > 2 * answered["churn_rate"].iloc[-1]
    assert sat.attrs["trend_z"] < -5


# ------------------------------------------------------------------------------------------
# the driver model against the generator's truth
# ------------------------------------------------------------------------------------------
def test_driver_model_recovers_every_true_effect_when_satisfaction_is_observed(synth):
    """With the hidden satisfaction as a driver the hazard model is correctly specified: every
    true log hazard ratio lies within 3 standard errors, at least 10 of the 12 95% intervals
    cover it, and log(tenure)'s coefficient estimates the Weibull shape minus one."""
    drivers = ["contract", "plan", "price_rise", "channel", "customer_type", "gender", "age",
               "complaint_90d", "change", "satisfaction_latent"]
    model = causes.DriverModel(drivers=drivers, reference=REFERENCE).fit(synth)
    assert model.design_ == "person-period" and model.link_ == "cloglog"
    cmp = causes.compare_with_truth(model.effects_, synth.meta["truth"]["log_hr"])
    assert len(cmp) == 12
    se = (cmp["coef_high"] - cmp["coef_low"]) / (2 * 1.959964)
    assert ((cmp["coef"] - cmp["true_log_hr"]).abs() < 3 * se).all(), cmp
    assert cmp["covered"].sum() >= 10, cmp
    shape = model.effects_.set_index("term").loc["log_tenure"]
    assert abs(shape["coef"] - (synth.meta["truth"]["weibull_shape"] - 1)) < 3 * shape["se"]


def test_driver_model_with_observable_drivers(synth):
    """Default drivers (what a researcher has: attributes, complaints, the last survey answer,
    the change). Every true effect has the right sign, and every effect except the complaint lies
    within 3 standard errors of the truth with at least 8 of those 10 95% intervals covering it
    (seed 0: all 10). The complaint effect also carries part of the hidden satisfaction
    (complainers are the dissatisfied) and is biased upwards; the hidden satisfaction also
    attenuates the annual-contract effect by about one standard error (12 seeds checked)."""
    model = causes.DriverModel(reference=REFERENCE).fit(synth)
    assert "satisfaction_latent" not in model.drivers_ and "last_csat" in model.drivers_
    cmp = causes.compare_with_truth(model.effects_, synth.meta["truth"]["log_hr"]).set_index("term")
    assert len(cmp) == 11 and cmp["sign_ok"].all(), cmp
    rest = cmp.drop(index="complaint_90d")
    se = (rest["coef_high"] - rest["coef_low"]) / (2 * 1.959964)
    assert ((rest["coef"] - rest["true_log_hr"]).abs() < 3 * se).all(), rest
    assert rest["covered"].sum() >= 8, rest
    complaint_hr = math.exp(cmp.loc["complaint_90d", "coef"])
    assert 1.5 < complaint_hr < 3.5 and cmp.loc["complaint_90d", "coef_low"] > 0
    assert model.vif_["vif"].max() < 5 and not model.warnings_


def test_snapshot_model_on_telco_warns_about_collinearity(telco):
    model = causes.DriverModel(
        drivers=["contract", "internet_service", "tech_support", "monthly_charges",
                 "total_charges", "tenure_months"],
        reference={"contract": "Month-to-month", "internet_service": "DSL"}).fit(telco)
    assert model.design_ == "snapshot" and model.ratio_name == "odds ratio"
    e = model.effects_.set_index("term")
    assert e.loc["contract[Two year]", "ci_high"] < e.loc["contract[One year]", "ci_low"] < 1
    text = " ".join(model.warnings_)
    # the warnings name terms in words, as the driver table does
    assert "tech support = No internet service" in text  # aliased with internet_service[No]
    assert "VIF" in text and "total charges (per 1000)" in text
    assert "_" not in text and "[" not in text
    assert "tech_support[No internet service]" not in e.index


# ------------------------------------------------------------------------------------------
# importance comparison and profiles
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_importance_agrees_with_the_glm_on_telco(telco):
    model = causes.DriverModel(
        drivers=["contract", "tenure_months", "internet_service", "payment_method", "gender",
                 "partner"]).fit(telco)
    comp = causes.compare_importance(model, n_repeats=3, random_state=0)
    assert set(comp["driver"]) == {"contract", "tenure", "internet_service", "payment_method",
                                   "gender", "partner"}
    top_glm = set(comp.nsmallest(3, "glm_rank")["driver"])
    top_imp = set(comp.nsmallest(3, "importance_rank")["driver"])
    assert {"contract", "tenure"} <= top_glm & top_imp
    assert comp.attrs["spearman"] > 0.5 and comp.attrs["test_score"] > 0.8


def test_churn_profiles_on_telco(telco):
    prof = causes.churn_profiles(telco, ["contract", "internet_service", "payment_method",
                                         "tenure_months"], random_state=0)
    assert prof["n"].sum() == len(telco.customers)
    base = prof.attrs["base_rate"]
    assert np.allclose(prof["lift"], prof["churn_rate"] / base)
    top = prof.iloc[0]
    assert "contract = Month-to-month" in top["rule"] and "Fiber optic" in top["rule"]
    assert top["lift"] > 2 and top["high_churn"]


# ------------------------------------------------------------------------------------------
# common claims
# ------------------------------------------------------------------------------------------
CLAIM_COLUMNS = ["claim", "supported", "effect", "ci_low", "ci_high", "p_value", "n", "method",
                 "note"]


def test_claims_on_synthetic_match_the_truth(synth):
    claims = causes.test_claims(synth).set_index("claim")
    assert set(CLAIM_COLUMNS) - {"claim"} <= set(claims.columns)
    assert claims.loc["tenure", "supported"]          # decreasing Weibull hazard (k = 0.8)
    assert claims.loc["age", "supported"]             # -0.15 per 10 years
    assert not claims.loc["gender", "supported"]      # no effect
    assert claims.loc["channel", "supported"]         # partner -0.30, business -0.25
    assert claims.loc["gender", "ci_low"] < 1 < claims.loc["gender", "ci_high"]
    assert "rates" in claims.loc["tenure", "method"]


def test_claims_true_false_and_untestable_fixtures():
    true = causes.test_claims(_snapshot(tenure_effect=0.5, old_effect=0.6, male_effect=0.7,
                                        partner_effect=0.6, seed=1)).set_index("claim")
    assert true["supported"].tolist() == [True, True, True, True]
    assert (true["effect"] < 1).all() and (true["p_value"] < 0.05).all()
    assert "risk ratio" in true["method"].iloc[0]

    false = causes.test_claims(_snapshot(tenure_effect=1.6, old_effect=1.0, male_effect=1.0,
                                         partner_effect=1.5, seed=2)).set_index("claim")
    assert false["supported"].tolist() == [False, False, False, False]
    assert "opposite direction" in false.loc["tenure", "note"]
    assert false.loc["gender", "ci_low"] < 1 < false.loc["gender", "ci_high"]

    none = causes.test_claims(_snapshot(columns=(), seed=3)).set_index("claim")
    assert none["supported"].dtype == "boolean"
    assert none["supported"].isna().tolist() == [False, True, True, True]
    for claim, word in [("age", "age"), ("gender", "gender"), ("channel", "channel")]:
        assert "Not testable" in none.loc[claim, "note"] and word in none.loc[claim, "note"]
        assert np.isnan(none.loc[claim, "effect"])


def test_claims_age_from_a_senior_flag_only():
    data = _snapshot(old_effect=1.8, columns=("senior_citizen",), seed=4)
    row = causes.test_claims(data).set_index("claim").loc["age"]
    assert not pd.isna(row["supported"]) and not row["supported"]
    assert row["effect"] > 1 and "senior" in row["note"] and "65" in row["note"]


def test_claims_tenure_untestable_for_inferred_churn():
    data = load("cdnow", sample=True)
    claims = causes.test_claims(data).set_index("claim")
    assert pd.isna(claims.loc["tenure", "supported"]) and "inferred" in claims.loc["tenure", "note"]
    assert claims["supported"].isna().all()


def test_functions_do_not_mutate_their_input(synth):
    before = synth.customers.copy()
    causes.customer_frame(synth, horizon_months=12)
    causes.driver_rates(synth, ["plan", "age"], horizon_months=12)
    causes.test_claims(_snapshot(seed=5))
    pd.testing.assert_frame_equal(synth.customers, before)


# ------------------------------------------------------------------------------------------
# exit reasons: simultaneous intervals across the k reasons (issue 13 item 11)
# ------------------------------------------------------------------------------------------
def _reason_table(counts: dict[str, int], *, after: dict[str, int] | None = None) -> pd.DataFrame:
    """Churners with the given reasons (ended 2024-03-01), plus ``after`` ones (2024-09-01)."""
    rows = [(r, "2024-03-01") for r, n in counts.items() for _ in range(n)]
    rows += [(r, "2024-09-01") for r, n in (after or {}).items() for _ in range(n)]
    return pd.DataFrame({
        "customer_id": [f"R{i:04d}" for i in range(len(rows))],
        "start_date": pd.Timestamp("2023-01-01"),
        "end_date": pd.to_datetime([d for _, d in rows]),
        "churn_reason": [r for r, _ in rows]})


def test_reason_shares_have_goodman_simultaneous_intervals():
    from statsmodels.stats.proportion import multinomial_proportions_confint
    counts = {"price": 30, "competitor": 20, "relocation": 10}
    pareto = causes.reason_pareto(_reason_table(counts))
    lib = multinomial_proportions_confint([30, 20, 10], alpha=0.05, method="goodman")
    assert np.allclose(pareto[["ci_low", "ci_high"]].to_numpy(), lib)
    # hand-checked: Goodman = Wilson at the Bonferroni level 1 - 0.05/3
    lo, hi = causes.wilson_ci(np.array([30, 20, 10]), 60, alpha=0.05 / 3)
    assert np.allclose(pareto["ci_low"], lo) and np.allclose(pareto["ci_high"], hi)
    assert math.isclose(pareto["ci_low"].iloc[0], 0.3523597, abs_tol=1e-6)
    assert math.isclose(pareto["ci_high"].iloc[0], 0.6476403, abs_tol=1e-6)
    # wider than the unadjusted 95% Wilson intervals, for every reason
    lo95, hi95 = causes.wilson_ci(np.array([30, 20, 10]), 60)
    assert (pareto["ci_low"] < lo95).all() and (pareto["ci_high"] > hi95).all()
    assert pareto.attrs["n_reasons"] == 3
    # by segment: simultaneous within each level
    by = causes.reason_pareto(_reason_table(counts).assign(plan="basic"), by="plan")
    assert np.allclose(by[["ci_low", "ci_high"]].to_numpy(), lib)


def test_reason_share_intervals_cover_the_generators_reason_mix():
    """Without the reason multipliers the true mix is the normalised reason weights: the
    simultaneous intervals cover all seven shares at once (across seeds, most of the time)."""
    from churn_research.sources.synthetic import REASON_MULTIPLIERS, REASON_WEIGHTS
    truth = pd.Series(REASON_WEIGHTS) / sum(REASON_WEIGHTS.values())
    neutral = {r: {f: 1.0 for f in m} for r, m in REASON_MULTIPLIERS.items()}
    covered_all, covered_wilson = [], []
    for seed in range(4):
        data = load("synthetic", n_customers=3000, random_state=seed, reason_multipliers=neutral)
        p = causes.reason_pareto(data).set_index("reason")
        t = truth.reindex(p.index)
        covered_all.append(bool(((p["ci_low"] <= t) & (t <= p["ci_high"])).all()))
        lo, hi = causes.wilson_ci(p["count"], p["count"].sum())
        covered_wilson.append(bool(((lo <= t) & (t <= hi)).all()))
        assert ((p["ci_high"] - p["ci_low"]) > (hi - lo)).all()
    assert sum(covered_all) >= 3
    assert sum(covered_all) >= sum(covered_wilson)


def test_reason_shift_intervals_are_simultaneous_and_tests_holm_adjusted():
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import multinomial_proportions_confint
    before = {"price": 60, "competitor": 20, "relocation": 20}
    after = {"price": 40, "competitor": 45, "relocation": 15}
    shift = causes.reason_shift(_reason_table(before, after=after), change_date="2024-07-01")
    t = shift.table.set_index("reason").loc[["price", "competitor", "relocation"]]
    lib_a = multinomial_proportions_confint([40, 45, 15], alpha=0.05, method="goodman")
    assert np.allclose(t[["share_after_low", "share_after_high"]].to_numpy(), lib_a)
    # Newcombe's hybrid difference from the simultaneous intervals (hand formula)
    p1, p0 = 0.45, 0.20
    l1, u1 = lib_a[1]
    l0, u0 = multinomial_proportions_confint([60, 20, 20], method="goodman")[1]
    assert math.isclose(t.loc["competitor", "ci_low"], p1 - p0 - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2))
    assert math.isclose(t.loc["competitor", "ci_high"], p1 - p0 + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))
    # the per-reason test is the 2x2 chi-square of this reason vs the rest; Holm over 3
    from scipy.stats import chi2_contingency
    raw = [chi2_contingency([[n_b, 100 - n_b], [n_a, 100 - n_a]], correction=False)[1]
           for n_b, n_a in [(60, 40), (20, 45), (20, 15)]]
    assert np.allclose(t["p_value"], raw)
    assert np.allclose(t["p_holm"], multipletests(raw, method="holm")[1])
    assert causes.moved_reasons(shift) == ["competitor", "price"]
    # wider than an unadjusted Newcombe interval built from 95% Wilson intervals
    w1, v1 = causes.wilson_ci(45, 100)
    w0, v0 = causes.wilson_ci(20, 100)
    assert t.loc["competitor", "ci_low"] < p1 - p0 - math.sqrt((p1 - w1) ** 2 + (v0 - p0) ** 2)


def test_findings_state_the_simultaneous_reason_interval_and_the_one_line_skips():
    from churn_research import narrate
    figs = {"reasons.top1": "price", "reasons.top1_share": 0.2532, "reasons.top1_ci_low": 0.2327,
            "reasons.top1_ci_high": 0.2749, "reasons.n_reasons": 7,
            "reason_shift.p_value": 1e-6, "reason_shift.most_increased": "competitor",
            "reason_shift.largest_rise.diff": 0.089, "reason_shift.largest_rise.ci_low": 0.047,
            "reason_shift.largest_rise.ci_high": 0.132, "dose_complaints.0": 0.02}
    found = narrate.build("20_causes", figs, dataset="synthetic", context={})
    assert found.headline == ("The most common exit reason is price, given by 25.3% (95% CI "
                              "23.3–27.5%, simultaneous across the 7 reasons) of churners.")
    # the shares count churners without a recorded reason: the headline says how many
    some = narrate.build("20_causes", {**figs, "reasons.n_no_reason": 1234}, dataset="x",
                         context={})
    assert some.headline.endswith("reasons) of churners (1,234 with no reason recorded).")
    every = narrate.build("20_causes", {**figs, "reasons.n_no_reason": 0}, dataset="x",
                          context={})
    assert every.headline.endswith("reasons) of churners (every churner gave one).")
    assert any("competitor rose most, by +8.9 percentage points (simultaneous 95% CI +4.7 to "
               "+13.2)" in f.text for f in found.key_findings)
    assert not found.unavailable
    bare = narrate.build("20_causes", {}, dataset="cdnow", context={})
    assert all(u.startswith("Not available for this dataset: ") and ", because " in u
               for u in bare.unavailable)
    assert any("tickets or surveys" in u for u in bare.unavailable)


def test_skipped_sections_read_as_one_line(telco):
    from churn_research.narrate import causes as say
    assert say.reasons_heading(None, dataset="telco").startswith("Not available for this dataset:")
    assert say.reasons(None, dataset="telco") == ""
    assert say.reason_shift_heading(None, has_reasons=False) == ""
    assert say.dose_heading({"complaints": None, "satisfaction": None}, dataset="telco").startswith(
        "Not available for this dataset: churn by complaints")
    claims = causes.test_claims(telco)
    assert say.claims_heading(claims).startswith("## Common claims")
    shown = say.claims_table(claims).data
    assert len(shown) == 3 and not shown.isna().any().any()
    assert ('Not available for this dataset: the claim "intermediary/business customers churn '
            "less than end consumers\", because the data have no 'channel'") in say.claims(claims)
    untestable = claims.assign(supported=None)
    assert say.claims_table(untestable) is None and say.claims(untestable) == ""
    assert say.claims_heading(untestable).count("Not available") == 1


# ------------------------------------------------------------------------------------------
# names in words: integer thresholds, log2 amounts, terms in warnings
# ------------------------------------------------------------------------------------------
def test_profile_bounds_read_integer_counts_as_whole_values_and_log2_as_the_amount():
    from churn_research.causes.profiles import _bounds_text
    inf = np.inf
    # a count split at 0.5, 1.5, 2.5 (the tree's midpoints) reads in whole purchases
    assert _bounds_text("n", -inf, 0.5, "integer", (0, 32)) == "n = 0"
    assert _bounds_text("n", 0.5, 1.5, "integer", (0, 32)) == "n = 1"
    assert _bounds_text("n", 0.5, 3.5, "integer", (0, 32)) == "1 ≤ n ≤ 3"
    assert _bounds_text("n", 2.5, inf, "integer", (0, 32)) == "n ≥ 3"
    assert _bounds_text("q", -inf, 1.5, "integer", (1, 49)) == "q = 1"   # smallest value is 1
    assert _bounds_text("t", -inf, 15.5, "integer", (0, 72)) == "t ≤ 15"
    # log2(1 + amount) split at 5.5 is the amount split at 2**5.5 - 1 = 44.25
    assert _bounds_text("first_amount_log2", -inf, 5.5, "log2", None) == "first_amount ≤ 44.3"
    assert _bounds_text("first_amount_log2", 4.0, inf, "log2", None) == "first_amount > 15"
    assert _bounds_text("x", 0.25, 1.75, "numeric", None) == "0.25 < x ≤ 1.75"


def test_labels_give_words_for_drivers_terms_and_rules():
    from churn_research.wording.drivers import driver_label, rule_label, term_label
    assert term_label("contract[Two year]") == "contract = Two year"
    assert term_label("monthly_charges_per_10") == "monthly charges (per 10)"
    assert term_label("first_amount_log2") == "first purchase amount (per doubling of the amount)"
    assert driver_label("purchases_first_90d") == "repeat purchases in the first 90 days"
    assert rule_label("purchases_first_90d = 0 & 1 ≤ first_quantity ≤ 2 & contract ≠ Two year"
                      ) == ("repeat purchases in the first 90 days = 0 & 1 ≤ first purchase "
                            "quantity ≤ 2 & contract ≠ Two year")


def test_log2_driver_levels_read_as_amounts():
    from churn_research.causes.rates import _binned
    amount = pd.Series([0.0, 3, 7, 15, 31, 63, 127, 255], name="first_amount_log2")
    levels, ordered = _binned(np.log2(1 + amount).rename("first_amount_log2"), 2)
    # quartile-free check: two groups split at the median log2 value (4.5 -> 2**4.5 - 1 = 21.6)
    assert ordered and list(levels.cat.categories) == ["0–22", "22–255"]
