"""The shared intervals and tests of churn_research.stats, against closed forms and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import Table

from churn_research import stats
from churn_research.model import ChurnDataError


def test_wilson_ci_closed_form_and_empty_groups():
    k, n = np.array([0, 5, 37, 100, 3]), np.array([10, 10, 120, 100, 0])
    lo, hi = stats.wilson_ci(k, n)
    z = sps.norm.ppf(0.975)
    p, m = k[:4] / n[:4], n[:4]
    centre = (p + z**2 / (2 * m)) / (1 + z**2 / m)
    half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / (1 + z**2 / m)
    np.testing.assert_allclose(lo[:4], centre - half, atol=1e-12)
    np.testing.assert_allclose(hi[:4], centre + half, atol=1e-12)
    assert lo[0] == pytest.approx(0, abs=1e-15) and math.isclose(hi[0], 0.2775, abs_tol=1e-4)
    assert np.isnan(lo[4]) and np.isnan(hi[4])
    assert (lo >= 0).sum() == 4 and (hi[:4] <= 1).all()


def test_cochran_armitage_equals_linear_by_linear():
    events, n = np.array([10, 25, 40, 60]), np.array([200, 210, 190, 205])
    z, p = stats.cochran_armitage(events, n)
    table = Table(np.column_stack([events, n - events]))
    lbl = table.test_ordinal_association(row_scores=np.arange(4), col_scores=np.array([0, 1]))
    # linear-by-linear (permutation variance, N - 1) vs Cochran-Armitage (binomial variance, N)
    assert math.isclose(z**2, lbl.zscore**2 * n.sum() / (n.sum() - 1), rel_tol=1e-9)
    assert z > 0 and p < 1e-10


def test_poisson_rate_ci_garwood():
    lo, hi = stats.poisson_rate_ci([0, 10], [100.0, 100.0])
    assert lo[0] == 0 and hi[0] == pytest.approx(3.689 / 100, abs=1e-5)   # -ln(0.025)
    assert lo[1] == pytest.approx(4.7954 / 100, abs=1e-5) and hi[1] == pytest.approx(18.390 / 100, abs=1e-4)


def test_ratio_test_rate_ratio():
    ratio, lo, hi, p = stats.ratio_test(40, 1000.0, 20, 1000.0, kind="rate")
    se = math.sqrt(1 / 40 + 1 / 20)
    assert ratio == pytest.approx(2.0)
    assert lo == pytest.approx(2 * math.exp(-1.959964 * se), rel=1e-6)
    assert hi == pytest.approx(2 * math.exp(1.959964 * se), rel=1e-6)
    assert p == pytest.approx(2 * sps.norm.sf(math.log(2) / se))


def test_compare_with_truth_log_and_ratio_scales():
    est = pd.DataFrame({"coef": [0.4, -0.1, 0.05], "lo": [0.3, -0.3, -0.05], "hi": [0.5, 0.1, 0.15]},
                       index=["a", "b", "c"])
    out = stats.compare_with_truth(est, {"a": 0.45, "b": 0.2, "z": 1.0}, estimate="coef",
                                   lower="lo", upper="hi").set_index("term")
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "covered"] and out.loc["a", "sign_ok"]
    assert not out.loc["b", "covered"] and not out.loc["b", "sign_ok"]
    hr = pd.DataFrame({"hr": [1.5], "lower": [1.3], "upper": [1.7]}, index=["change"])
    out = stats.compare_with_truth(hr, {"after": math.log(1.5)}, estimate="hr", lower="lower",
                                   upper="upper", aliases={"change": "after"}, exp=True)
    assert out.loc[0, "truth"] == pytest.approx(1.5) and out.loc[0, "covered"]


def test_wilson_ci_holds_its_estimate_at_zero_and_all_events():
    """A month without churn (0 of n) or with everyone lost (n of n): the bounds never cross
    the estimate, so error bars (p - low, high - p) are never negative (a zero-churn month once
    crashed 10_indicators' figure)."""
    count = np.array([0, 0, 7, 250, 1])
    nobs = np.array([1, 250, 250, 250, 3])
    lo, hi = stats.wilson_ci(count, nobs)
    p = count / nobs
    assert (p - lo >= 0).all() and (hi - p >= 0).all()
    assert lo[0] == 0.0 and lo[1] == 0.0 and hi[3] == 1.0
    z = sps.norm.ppf(0.975)
    assert hi[1] == pytest.approx(z ** 2 / (250 + z ** 2), rel=1e-9)   # Wilson at 0 events: z²/(n+z²)


# ---------------------------------------------------------------------------------------
# reference levels: one rule for 20_causes and 30_survival
# ---------------------------------------------------------------------------------------
def test_reference_level_is_the_requested_level_else_the_most_frequent():
    counts = pd.Series({"高级版": 40, "基础版": 120, "企业版": 40})
    assert stats.reference_level(counts, column="plan") == "基础版"
    assert stats.reference_level(counts, "高级版", column="plan") == "高级版"
    # ties: the first level in sorted order, whatever the order of the counts
    tie = {"b": 5, "a": 5, "c": 1}
    assert stats.reference_level(tie, column="x") == "a"
    assert stats.reference_level(pd.Series(tie).iloc[::-1], column="x") == "a"
    # levels compare as text: a YAML integer names the level "1"
    assert stats.reference_level(pd.Series({1: 3, 2: 9}), 1, column="n") == "1"


def test_reference_level_that_does_not_occur_names_the_parameter_and_the_levels():
    counts = pd.Series({"高级版": 40, "基础版": 120})
    with pytest.raises(ChurnDataError) as err:
        stats.reference_level(counts, "basic", column="plan")
    assert err.value.parameter == "reference.plan"
    assert str(err.value) == (
        "table 'customers', column 'plan': reference level 'basic' does not occur. Parameter "
        "`reference.plan`. Fix: set it to one of the levels that occur: 基础版, 高级版; or remove "
        "the entry, and the most frequent level ('基础版') is the reference.")


def test_causes_and_survival_take_the_same_reference_level_by_default():
    """A user's Chinese plan and gender levels need no parameter: both stages compare with the
    most frequent level (20_causes once preferred English names such as 'basic' and 'north')."""
    from churn_research import survival as sv
    from churn_research.causes.drivers import _design_matrix

    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame({
        "plan": rng.choice(["基础版", "高级版", "企业版"], n, p=[0.5, 0.3, 0.2]),
        "gender": rng.choice(["女", "男"], n, p=[0.45, 0.55]),
        "region": rng.choice(["north", "华南"], n, p=[0.3, 0.7]),
        "tenure_months": rng.uniform(1, 40, n)})
    _, terms, _ = _design_matrix(frame, ["plan", "gender", "region"], reference={}, scales={},
                                 min_level_count=5, duration=None, duration_knots=[])
    causes_refs = {tm.driver: tm.reference for tm in terms}
    design = sv.cox_design(frame, ["plan", "gender", "region"], reference={})
    assert causes_refs == design.attrs["reference"] == {"plan": "基础版", "gender": "男",
                                                        "region": "华南"}


def test_a_requested_reference_level_too_rare_to_keep_falls_back_to_the_most_frequent():
    """A small business: the reference level the parameters name (north) occurs, but in fewer
    rows than a level needs, so 20_causes merged it into 'other'; the most frequent level is the
    reference and a note says why (not an error that the level 'does not occur')."""
    from churn_research.causes.drivers import _design_matrix

    frame = pd.DataFrame({"region": ["south"] * 60 + ["east"] * 30 + ["north"] * 3,
                          "tenure_months": np.arange(93.0)})
    _, terms, notes = _design_matrix(frame, ["region"], reference={"region": "north"}, scales={},
                                     min_level_count=5, duration=None, duration_knots=[])
    assert {tm.reference for tm in terms} == {"south"}
    assert {tm.level for tm in terms} == {"east", "other"}
    assert notes[-1] == ("region: the reference level north has fewer than 5 rows, so the most "
                         "frequent level is the reference instead.")
