"""Section sentences of 30_survival (narrate.survival) and the section rules they rest on
(survival.sections), on small hand-built result tables."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from churn_research import survival as sv
from churn_research.narrate import survival as ns


def _hr(rows: dict) -> pd.DataFrame:
    """Hazard-ratio table from {term: (hr, lower, upper, p)}."""
    out = pd.DataFrame([{"covariate": k, "coef": np.log(v[0]), "hr": v[0], "lower": v[1], "upper": v[2],
                         "p": v[3]} for k, v in rows.items()]).set_index("covariate")
    return out


def _overall(median=np.inf, lower=np.nan, upper=np.nan):
    return pd.DataFrame([{"group": "all customers", "median": median, "median_lower": lower,
                          "median_upper": upper, "median_label": "not reached", "S(12)": 0.843,
                          "S(24)": 0.793, "S(12)_lower": 0.83, "S(12)_upper": 0.85, "S(24)_lower": 0.78,
                          "S(24)_upper": 0.80, "rmst": 38.6, "rmst_se": 0.4, "rmst_horizon": 48}])


def _frame(n=10, churned=4, truncated=0, zero=0):
    df = pd.DataFrame({"customer_id": range(n), "duration": [0.0] * zero + [5.0] * (n - zero - 1) + [72.0],
                       "event": [1] * churned + [0] * (n - churned), "entry": [2.0] * truncated + [0.0] * (n - truncated)})
    df.attrs.update(censor_date=pd.Timestamp("2018-01-31"), entry_date=pd.Timestamp("2015-01-01"), excluded=12)
    return df


# ---------------------------------------------------------------------------------------
# the data and Kaplan-Meier
# ---------------------------------------------------------------------------------------
def test_data_text_telco_snapshot():
    data = SimpleNamespace(kind="contractual", is_snapshot=True, inactivity_days=0)
    text = ns.data_text(data, _frame(), unit="months")
    assert text.startswith("**10 customers**, 4 churned and 6 censored (still customers when observation ends, "
                           "2018-01-31).")
    assert "Longest observed tenure: 72.0 months." in text and "**one snapshot**" in text
    assert "Churn is **inferred**" not in text and "delayed entry" not in text


def test_data_text_cdnow_inferred_churn_and_left_truncation():
    data = SimpleNamespace(kind="non-contractual", is_snapshot=False, inactivity_days=180)
    text = ns.data_text(data, _frame(truncated=3, zero=5))
    assert "no purchase for more than 180 days" in text and "censored on 2018-01-31" in text
    assert "12 customers who joined after that day are left out" in text
    assert "a lifetime of zero; 50% of customers did." in text
    assert "3 customers (30%) joined before the records begin (2015-01-01)" in text
    assert "one snapshot" not in text


def test_km_text_median_not_reached_and_reached():
    text = ns.km_text(_overall(), horizons=[12, 24], rmst_horizon=48)
    assert "The median lifetime is not reached" in text
    assert "Still customers: 84% after 12 months; 79% after 24 months." in text
    assert "Within the first 48 months a customer stays 38.6 months on average" in text
    text = ns.km_text(_overall(20.3, 19.0, 21.5), horizons=[12], rmst_horizon=36)
    assert "The median lifetime is 20.3 months (95% CI 19.0–21.5)." in text


# ---------------------------------------------------------------------------------------
# segments
# ---------------------------------------------------------------------------------------
def test_logrank_sentence_with_medians_and_holm():
    pairwise = pd.DataFrame({"significant": [True, True, False]})
    pairwise.attrs["correction"] = "holm"
    summary = pd.DataFrame({"group": ["a", "b", "c"], "median": [35.1, np.inf, 12.0]})
    text = ns.logrank_sentence({"test_statistic": 2352.94, "df": 2, "p": 1e-12}, by="contract",
                               summary=summary, pairwise=pairwise)
    assert text == ("Survival differs by **contract** (log-rank chi2 = 2352.9 on 2 df, p < 0.001). Median "
                    "lifetime (months) -- a: 35.1, b: not reached, c: 12.0. 2 of 3 pairs differ at 5% after "
                    "Holm correction.")
    text = ns.logrank_sentence({"test_statistic": 0.5, "df": 1, "p": 0.468}, by="gender",
                               summary=pd.DataFrame({"group": [False, True], "median": [1.0, 2.0]}))
    assert text.startswith("Survival does not differ significantly by **gender** (log-rank chi2 = 0.5 on 1 df, "
                           "p = 0.468).")
    assert "no: 1.0, yes: 2.0." in text


def test_segments_verdicts_and_missing():
    def comparison(seg, chi2, p):
        return sv.SegmentComparison(seg, {}, {"test_statistic": chi2, "df": 1, "p": p}, pd.DataFrame(),
                                    pd.DataFrame())
    verdicts = sv.segment_verdicts([comparison("gender", 2.1, 0.15), comparison("contract", 276.8, 1e-9)])
    assert list(verdicts.index) == ["contract", "gender"]
    text = ns.segments_text(verdicts)
    assert text.startswith("Across segments, the largest survival difference is by **contract**; 1 of 2 "
                           "segmentations differ at the 5% level.")
    assert ns.segments_text(sv.segment_verdicts([])) == ""
    assert ns.missing_segments_text([]) == ""
    assert ns.missing_segments_text(["region", "plan"]) == (
        "Not available for this dataset: survival by region, plan, because the data have no such column "
        "or only one level of it.")


# ---------------------------------------------------------------------------------------
# Cox: which model is headlined (issue 13, point 6)
# ---------------------------------------------------------------------------------------
PH_FAILS = pd.DataFrame({"covariate": ["contract[One year]", "contract[Two year]", "monthly_charges_per_10", "gender"],
                         "source": ["contract", "contract", "monthly_charges", "gender"],
                         "violates": [True, True, True, False],
                         "chi2_rank": [80.0, 120.0, 200.0, 0.1], "chi2_km": [70.0, 110.0, 150.0, 0.2]})
PH_HOLDS = PH_FAILS.assign(violates=False)


def _model(hr, **extra):
    fields = {"hazard_ratios_": hr, "n_": 7043, "events_": 1869, "concordance_": 0.8567,
              "training_frame_": pd.DataFrame(columns=["duration", "event"]),
              "design_info_": {"reference": {"contract": "Month-to-month"}}}
    return SimpleNamespace(**{**fields, **extra})


def test_cox_lead_headlines_the_stratified_model_when_ph_fails():
    stratified = _model(_hr({"monthly_charges_per_10": (1.10, 1.05, 1.15, 1e-5), "gender[male]": (0.98, 0.9, 1.07, 0.6)}),
                        strata=["contract"], kept_=["monthly_charges"], concordance_=0.685)
    lead = ns.cox_lead_text(None, stratified, PH_FAILS, threshold=0.01)
    # review s5, 4a: terms read in words in English too
    assert lead.startswith("Proportional hazards is rejected (p < 0.01) for **contract = One year, contract = Two year, "
                           "monthly charges (per 10)**, so the hazard ratios to read are those of the model "
                           "**stratified by contract**")
    assert "shown for reference only" in lead
    text = ns.stratified_text(stratified)
    assert "Stratified on **contract**" in text and "7,043 customers and 1,869 churn events" in text
    assert "Strongest significant drivers: monthly charges (per 10): HR 1.10 (1.05–1.15)." in text
    assert "Concordance 0.685." in text and "(monthly charges) stay in the model" in text
    unstratified = _model(_hr({"contract[Two year]": (0.03, 0.02, 0.05, 1e-30)}))
    data = SimpleNamespace(meta={})
    ref = ns.cox_text(unstratified, data=data, reference_only=True)
    assert ref.startswith("**For reference only** (proportional hazards fails, see above): the unstratified "
                          "model, fitted on 7,043 customers and 1,869 churn events.")
    assert "contract = Two year: HR 0.03 (0.02–0.05)" in ref and "Reference levels: contract = Month-to-month." in ref
    assert "Remedy following the advice: the model stratified on contract" in ns.ph_text(
        PH_FAILS, threshold=0.01, stratified=stratified)


def test_cox_text_when_ph_holds():
    cox = _model(_hr({"price_rise": (1.51, 1.39, 1.63, 1e-20), "gender[male]": (1.01, 0.9, 1.1, 0.8)}))
    assert ns.cox_lead_text(cox, None, PH_HOLDS, threshold=0.01) == ""
    text = ns.cox_text(cox, data=SimpleNamespace(meta={}))
    assert text.startswith("Fitted on 7,043 customers and 1,869 churn events. Concordance (how well the model "
                           "ranks who churns first): **0.857**. Strongest significant drivers: price rise: HR 1.51 "
                           "(1.39–1.63). Reference levels")
    assert ns.ph_text(PH_HOLDS, threshold=0.01).startswith("No covariate rejects proportional hazards at p < 0.01")
    assert "none at the 5% level" in ns.cox_text(_model(_hr({"x": (1.0, 0.9, 1.1, 0.9)})), data=SimpleNamespace(meta={}))


def test_ph_remedy_is_none_when_ph_holds_and_band_variables():
    assert sv.ph_remedy(object(), pd.DataFrame(), PH_HOLDS, threshold=0.01) is None
    assert sv.band_variables(PH_FAILS, ["contract", "monthly_charges"], ["contract"]) == (
        ["monthly_charges", "contract"], True)
    assert sv.band_variables(PH_HOLDS, ["contract"], ["contract"]) == (["contract"], False)
    bands = pd.DataFrame()
    bands.attrs.update(vary=["contract"], from_violations=False, cuts=[12, 24])
    assert ns.bands_text(bands).startswith(
        "Time interaction for contract: the lifetimes are split at tenures 12, 24 months")
    bands.attrs.update(vary=["monthly_charges", "contract"], from_violations=True)
    assert ns.bands_text(bands).startswith("Time interaction for monthly charges, contract (the strongest violations):")
    assert ns.bands_title(bands) == "Hazard ratio by tenure band: monthly charges, contract"


def test_truth_text_counts_covered_intervals():
    assert ns.truth_text(pd.DataFrame(columns=["covariate", "true_hr", "covered"])) == ""
    truth = pd.DataFrame({"covariate": ["a", "b", "c"], "true_hr": [1.5, 0.5, 2.0], "covered": [True, True, False]})
    assert ns.truth_text(truth).startswith("**Check against the generator's truth:** 2 of 3 95% intervals cover")


# ---------------------------------------------------------------------------------------
# parametric, AFT, the change, cohorts
# ---------------------------------------------------------------------------------------
def test_parametric_and_aft_text():
    comparison = pd.DataFrame({"model": ["weibull", "loglogistic"], "delta_aic": [0.0, 181.2]})
    ext = pd.DataFrame({"survival": [0.025], "lower": [0.021], "upper": [0.030]}, index=[180.0])
    text = ns.parametric_text(comparison, {"weibull": SimpleNamespace(rho_=0.781)}, ext, to=180, observed_until=120,
                              true_shape=0.8)
    assert text.startswith("Best fit by AIC: **weibull** (next: loglogistic, ΔAIC = 181). Extrapolated to 180 "
                           "months: 2.5% still customers (95% CI 2.1%–3.0%); the data end at 120 months.")
    assert "The Weibull shape is 0.78" in text and "baseline shape is 0.8;" in text
    text = ns.parametric_text(comparison.iloc[[1]], {}, ext, to=180, observed_until=120)
    assert "next:" not in text and "Weibull" not in text
    ratios = pd.DataFrame({"time_ratio": [0.2, 16.89, 1.0]}, index=["fiber", "two_year", "x"])
    assert ns.aft_text(pd.DataFrame({"model": ["lognormal"], "concordance": [0.856]}), ratios) == (
        "Best AFT model by AIC: **lognormal** (concordance 0.856). Shortest lifetimes: fiber (time ratio 0.20); "
        "longest: two year (time ratio 16.89).")


def test_change_text_without_and_with_a_change():
    assert ns.change_text(None) == ("Not available for this dataset: the business change as a time-varying "
                                    "exposure, because the data record no business change (no `events` table).")
    assert ns.acquired_text(None) == ""
    hr = _hr({"after_change": (1.42, 1.31, 1.53, 1.8e-19), "complaint_90d": (2.48, 2.27, 2.71, 1e-50)})
    change = sv.ChangeAnalysis("price rise", pd.Timestamp("2024-07-01"),
                               pd.DataFrame({"customer_id": [1, 1, 2]}), hr, 90)
    text = ns.change_text(change, true_log_hr={"change": np.log(1.5)})
    assert text.startswith("**price rise** (2024-07-01): 2 customers in 3 episodes.")
    assert "**1.42 times** the hazard before (95% CI 1.31–1.53, p < 0.001)" in text
    assert "previous 90 days multiplies the hazard by 2.48 (2.27–2.71)" in text
    assert text.endswith("The generator's true change hazard ratio is 1.50: inside the interval.")
    assert change.key_figures() == {"change_hr": 1.42, "change_hr_lower": 1.31, "change_hr_upper": 1.53,
                                    "change_p": 1.8e-19, "complaint_90d_hr": 2.48}


def test_cohort_texts_snapshot_off_and_holdout():
    skipped = sv.CohortAnalysis(skipped="not eligible", reason="the data are one snapshot: exits ...")
    assert ns.cohort_table_text(skipped) == ("Not available for this dataset: the cohort retention "
                                             "projection, because the data are one snapshot: exits ....")
    assert "`cohort_analysis: false`" in ns.cohort_table_text(sv.CohortAnalysis(skipped="switched off"))
    empty = sv.CohortAnalysis()
    assert ns.sbg_fit_text(empty) == "" and ns.sbg_holdout_text(empty) == ""
    acc = pd.DataFrame({"cohort": ["1997-01", "1997-02"], "mae_pp": [3.0, 4.2], "error_pp": [7.4, -6.3]})
    fitted = sv.CohortAnalysis(sbg_table=pd.DataFrame({"cohort": ["1997-01", "1997-02"]}), calibration_periods=6,
                               chosen=["1997-01", "1997-02"], accuracy=acc, change_in_holdout=1)
    assert ns.sbg_fit_text(fitted).startswith("sBG fitted to each of 2 cohorts with at least 6 observed periods.")
    text = ns.sbg_holdout_text(fitted)
    assert text.startswith("The 2 largest cohorts with at least 9 observed periods were fitted on their first 6")
    assert "Mean absolute hold-out error: 3.6 percentage points" in text
    assert "+7.4 pp (1997-01), -6.3 pp (1997-02)." in text and "business change" not in text
    assert "falls inside the hold-out of 1 of these cohorts" in ns.sbg_holdout_text(fitted, change_date="2024-07-01")
    fitted.chosen = []
    assert ns.sbg_holdout_text(fitted) == "No cohort has the 9 observed periods a hold-out check needs."
    assert ns.period_label(1.0) == "months" and ns.period_label(3, "weeks") == "periods of 3 weeks"


def test_holdout_cohorts_and_change_in_holdout():
    table = pd.DataFrame({0: [100, 300, 200, 50], 1: [90, 250, 150, 40], 2: [80, np.nan, 120, 30],
                          3: [70, np.nan, 110, np.nan]}, index=["2021Q1", "2021Q2", "2021Q3", "2021Q4"])
    assert sv.sections.holdout_cohorts(table, calibration_periods=1, n=2, margin=2) == ["2021Q3", "2021Q1"]
    assert sv.sections.change_in_holdout(["2021Q1", "2021Q3"], change_date=pd.Timestamp("2021-09-01"),
                                         calibration_periods=3, period=1.0, unit="months") == 1
    assert sv.sections.change_in_holdout(["2021Q1"], change_date=None, calibration_periods=3, period=1.0,
                                         unit="months") == 0


@pytest.mark.parametrize("p, expected", [(0.01, ["b"]), (0.5, ["c", "b", "a"])])
def test_strongest_drivers_orders_by_effect_size(p, expected):
    hr = _hr({"a": (1.2, 1.0, 1.4, 0.02), "b": (0.5, 0.4, 0.6, 0.001), "c": (3.0, 0.5, 9.0, 0.4)})
    assert list(sv.strongest_drivers(hr, alpha=p).index)[:len(expected)] == expected


# ---------------------------------------------------------------------------------------
# Chinese
# ---------------------------------------------------------------------------------------
@pytest.fixture()
def zh():
    from churn_research import i18n

    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def test_chinese_km_text_and_terms(zh):
    text = ns.km_text(_overall(20.3, 19.0, 21.5), horizons=[12], rmst_horizon=36)
    assert "中位生命周期为 20.3 个月（95% 置信区间 19.0–21.5）。" in text
    assert "12 个月后 84%" in text and "The" not in text
    assert ns.term_label("contract[annual] @ [24, inf)") == "合同类型[年付] @ [24, ∞)"
    assert ns.term_label("age_per_10") == "年龄（每 10）"


def test_chinese_logrank_sentence_and_table_headers(zh):
    summary = pd.DataFrame({"group": [True, False], "median": [35.1, np.inf]})
    text = ns.logrank_sentence({"test_statistic": 0.5, "df": 1, "p": 0.468}, by="gender", summary=summary)
    assert text.startswith("不同**性别**的生存情况没有显著差异") and "是：35.1、否：未达到" in text
    shown = ns.show(_hr({"gender[male]": (0.9, 0.8, 1.0, 0.04)}), terms=True)
    assert list(shown.index) == ["性别[男]"] and "风险比" in shown.columns and shown.index.name == "协变量"


def test_english_tables_keep_their_numbers_with_headers_in_words():
    hr = _hr({"gender[male]": (0.9, 0.8, 1.0, 0.04)})
    shown = ns.show(hr, terms=True)
    assert shown.to_numpy().tolist() == hr.to_numpy().tolist() and ns.term_label("age_per_10") == "age (per 10)"
    assert "hazard ratio" in shown.columns and list(shown.index) == ["gender[male]"]


def test_english_sbg_table_headers_are_words():
    """review s5, 4a: the sBG table of 30_survival read "periods_fitted, gamma_se" in English."""
    df = pd.DataFrame({"cohort": ["2021Q1"], "periods_fitted": [12], "gamma": [0.8], "gamma_se": [0.1],
                       "delta": [5.0], "delta_se": [0.6], "mean_churn": [0.14],
                       "log_likelihood": [-120.5]}).set_index("cohort")
    shown = ns.show_styled(df)
    assert list(shown.columns) == ["periods fitted", "gamma (γ)", "standard error of γ", "delta (δ)",
                                   "standard error of δ", "mean churn probability", "log-likelihood"]
    assert shown.index.name == "cohort" and shown.to_numpy().tolist() == df.to_numpy().tolist()
