"""BG/NBD and gamma-gamma: the published CDNOW results, the formulas, and the speed claim.

References reproduced here
--------------------------
* Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
  Pareto/NBD Model", Marketing Science 24(2): the 2,357-customer CDNOW sample, 39-week
  calibration period (1997-01-01 .. 1997-09-30), weekly units: r = 0.243, alpha = 4.414,
  a = 0.793, b = 2.426, log-likelihood -9582.4; calibration histogram chi-square 4.82 (3 df);
  zero-class holdout purchases 334 by 1,411 customers (actual 0.24, BG/NBD 0.23); and
  Hardie's spreadsheet value E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226.
* Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": the 946 repeat buyers of
  the same calibration period, monetary value = mean value of the repeat transactions (same
  day merged): p = 6.25, q = 3.74, gamma = 15.44 (published to two decimals) and the
  conditional expectations 24.65 / 18.91 / 35.17 / 71.46 quoted in lifetimes' tests from
  Hardie's spreadsheet.

The CDNOW log is read through ``churn_research.data.load("cdnow")``; if that is unavailable a
small local reader takes the raw file from the lifetimes wheel (found without importing
lifetimes, which would import ``pkg_resources``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from churn_research import clv

CAL_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"


def _lifetimes_file(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes wheel (which ships the CDNOW files) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / name


def _read_cdnow(sample: bool) -> pd.DataFrame:
    try:
        from churn_research import load

        return load("cdnow", sample=sample).transactions
    except Exception:  # noqa: BLE001 - fall back to the raw file
        if sample:
            raw = pd.read_csv(_lifetimes_file("CDNOW_sample.txt"), sep=r"\s+", header=None,
                              names=["customer_id", "sample_id", "date", "quantity", "amount"],
                              dtype={"date": str})
        else:
            raw = pd.read_csv(_lifetimes_file("CDNOW_master.txt"), sep=r"\s+", header=0,
                              names=["customer_id", "date", "quantity", "amount"],
                              dtype={"date": str})
        raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
        return raw[["customer_id", "date", "amount", "quantity"]]


@pytest.fixture(scope="module")
def sample_summary() -> pd.DataFrame:
    return clv.rfm_summary(_read_cdnow(sample=True), calibration_end=CAL_END,
                           observation_end=HOLDOUT_END)


@pytest.fixture(scope="module")
def bg(sample_summary) -> clv.BetaGeo:
    s = sample_summary
    return clv.BetaGeo().fit(s["frequency"], s["recency"], s["T"])


@pytest.fixture(scope="module")
def gg(sample_summary) -> clv.GammaGamma:
    s = sample_summary
    return clv.GammaGamma().fit(s["frequency"], s["monetary_value"])


# ---- the data -----------------------------------------------------------------------------
def test_cdnow_sample_summary_matches_the_paper(sample_summary):
    s = sample_summary
    assert len(s) == 2357
    assert (s["frequency"] > 0).sum() == 946
    assert s["T"].max() == pytest.approx(272 / 7)  # 1997-01-01 .. 1997-09-30 = 38.86 weeks
    assert s["frequency"].sum() == 2457  # repeat purchase days in the calibration period
    # customer 0001 of the sample: purchases on 01-01, 01-18 and 08-02 of 1997
    first = s.loc[s["first_purchase"] == "1997-01-01"].iloc[0]
    assert first["frequency"] == 2 and first["recency"] == pytest.approx(213 / 7)
    assert first["monetary_value"] == pytest.approx((29.73 + 14.96) / 2)


# ---- BG/NBD: FHL (2005) -------------------------------------------------------------------
def test_bgnbd_reproduces_fader_hardie_lee_2005(bg):
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert round(bg.params_[name], 3) == value, name
    assert bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert bg.converged_
    assert bg.n_customers_ == 2357


def test_bgnbd_conditional_expectation_matches_hardie_spreadsheet(bg):
    assert bg.conditional_expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_calibration_histogram_chi_square_matches_the_paper(sample_summary, bg):
    fit = clv.frequency_fit(sample_summary, bg, max_frequency=7)
    assert fit.attrs["dof"] == 3
    assert round(fit.attrs["chi2"], 2) == 4.82
    assert fit["expected"].sum() == pytest.approx(2357)


def test_bgnbd_zero_class_holdout_matches_the_paper(sample_summary, bg):
    table = clv.holdout_comparison(sample_summary, bg)
    zero = table.loc["0"]
    assert zero["customers"] == 1411 and zero["actual_total"] == 334
    assert round(zero["actual"], 2) == 0.24 and round(zero["predicted"], 2) == 0.23
    # FHL: correlation of predicted and actual holdout purchases 0.626; the forecast of
    # cumulative repeat purchases to week 78 is 4% short
    assert round(table.attrs["correlation"], 3) == 0.626
    assert round(table.attrs["cumulative_forecast_error"], 2) == -0.04
    assert table.attrs["actual_total"] == table["actual_total"].sum() == 1882


# ---- gamma-gamma: Fader & Hardie (2013) -----------------------------------------------------
def test_gamma_gamma_reproduces_fader_hardie_2013(gg):
    assert gg.n_customers_ == 946
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert round(gg.params_[name], 2) == value, name
    assert gg.mean_spend_ == pytest.approx(gg.p_ * gg.v_ / (gg.q_ - 1))
    assert gg.converged_


def test_gamma_gamma_conditional_spend_matches_hardie_spreadsheet(gg):
    x = np.array([2, 1, 0, 7])
    m = np.array([22.345, 11.77, 0.0, 516.19 / 7])
    got = gg.conditional_expected_spend(x, m)
    np.testing.assert_allclose(np.round(got, 2), [24.65, 18.91, 35.17, 71.46])


def test_gamma_gamma_uses_repeat_spend_only(sample_summary):
    # The published values need the mean of the *repeat* purchases; counting the first
    # purchase too gives visibly different estimates.
    s = sample_summary
    tx = _read_cdnow(sample=True)
    tx = tx[tx["date"] <= CAL_END].groupby(["customer_id", "date"])["amount"].sum()
    all_mean = tx.groupby(level=0).mean().reindex(s.index)
    other = clv.GammaGamma().fit(s["frequency"] + 1, all_mean)
    assert abs(other.params_["q"] - 3.74) > 0.05


# ---- formulas ------------------------------------------------------------------------------
def _finite_diff_grad(f, theta, h=1e-6):
    g = np.zeros_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h * max(abs(theta[i]), 1.0)
        g[i] = (f(theta + e) - f(theta - e)) / (2 * e[i])
    return g


def test_bgnbd_analytic_gradient_matches_finite_differences(sample_summary):
    s = sample_summary
    x, tx, T = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    data = clv.BetaGeo._prepare(x, tx, T, np.ones_like(x))
    theta = np.array([0.3, 5.0, 0.9, 2.0])
    _, grad = clv.BetaGeo._loglik_terms(theta, data)
    num = _finite_diff_grad(lambda th: clv.BetaGeo._loglik_terms(th, data, grad=False)[0], theta)
    np.testing.assert_allclose(grad, num, rtol=1e-6)
    # the compressed likelihood equals the plain per-customer sum
    bg_fixed = clv.BetaGeo()
    bg_fixed.params_ = pd.Series(theta, index=["r", "alpha", "a", "b"])
    assert bg_fixed.log_likelihood(x, tx, T).sum() == pytest.approx(
        clv.BetaGeo._loglik_terms(theta, data, grad=False)[0], rel=1e-12)


def test_standard_errors_match_a_second_difference_hessian(bg, sample_summary):
    s = sample_summary
    x, tx, T = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    theta = bg.params_.to_numpy()

    def ll(th):
        m = clv.BetaGeo()
        m.params_ = pd.Series(th, index=["r", "alpha", "a", "b"])
        return m.log_likelihood(x, tx, T).sum()

    k = len(theta)
    H = np.zeros((k, k))
    h = 1e-4 * theta
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            H[i, j] = (ll(theta + ei + ej) - ll(theta + ei - ej) - ll(theta - ei + ej)
                       + ll(theta - ei - ej)) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose(bg.se_.to_numpy(), se, rtol=1e-3)


def test_gamma_gamma_analytic_gradient(sample_summary):
    s = sample_summary[sample_summary["frequency"] > 0]
    x, m = s["frequency"].to_numpy(float), s["monetary_value"].to_numpy(float)

    def ll(th):
        p, q, v = th
        return np.sum(special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
                      + q * np.log(v) + (p * x - 1) * np.log(m) + p * x * np.log(x)
                      - (p * x + q) * np.log(v + m * x))

    model = clv.GammaGamma().fit(x, m)
    assert model.log_likelihood_ == pytest.approx(ll(model.params_.to_numpy()), rel=1e-12)
    grad = _finite_diff_grad(ll, model.params_.to_numpy())
    assert np.max(np.abs(grad * model.params_.to_numpy())) < 1e-3  # at the optimum


def test_euler_transformed_expectations_equal_the_direct_formulas(bg):
    r, al, a, b = bg.params_.to_numpy()
    t = np.array([1.0, 10.0, 39.0, 78.0])
    direct = (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r
                                      * special.hyp2f1(r, b, a + b - 1, t / (al + t)))
    np.testing.assert_allclose(bg.expected_purchases(t), direct, rtol=1e-10)
    x, tx, T, tt = 3.0, 20.0, 35.0, 39.0
    z = tt / (al + T + tt)
    num = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + tt)) ** (r + x)
                                       * special.hyp2f1(r + x, b + x, a + b + x - 1, z))
    den = 1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
    assert bg.conditional_expected_purchases(tt, x, tx, T) == pytest.approx(num / den, rel=1e-10)


def test_purchase_distribution_is_consistent(bg):
    n = np.arange(0, 400)
    for t in (5.0, 39.0, 78.0):
        p = bg.probability_of_purchases(t, n)
        assert p.sum() == pytest.approx(1.0, abs=1e-8)
        assert (n * p).sum() == pytest.approx(bg.expected_purchases(t), rel=1e-6)


def test_p_alive_properties(bg):
    assert bg.p_alive(0, 0, 38.86) == 1.0  # no repeat purchase: never seen dropping out
    # a recent buyer is more likely alive than one who went quiet long ago
    assert bg.p_alive(5, 38, 39) > bg.p_alive(5, 10, 39)
    # conditional expectations of many-purchase customers stay finite and positive
    big = bg.conditional_expected_purchases(52, np.array([50, 150, 300]), 38.0, 38.86)
    assert np.all(np.isfinite(big)) and np.all(np.diff(big) > 0)


def test_btyd_clv_is_discounted_purchases_times_spend(sample_summary, bg, gg):
    out = clv.btyd_clv(sample_summary, bg=bg, gg=gg, horizon_years=1, margin=0.3,
                       discount_rate=0.0)
    weeks = 365.25 / 7
    expected = bg.conditional_expected_purchases(weeks, sample_summary["frequency"],
                                                 sample_summary["recency"], sample_summary["T"])
    np.testing.assert_allclose(out["expected_purchases"], expected, rtol=1e-10)
    np.testing.assert_allclose(out["discounted_purchases"], expected, rtol=1e-10)
    np.testing.assert_allclose(out["clv"], 0.3 * out["expected_spend"] * expected, rtol=1e-10)
    disc = clv.btyd_clv(sample_summary, bg=bg, gg=gg, horizon_years=1, discount_rate=0.15)
    assert (disc["clv"] <= out["clv"] / 0.3 + 1e-9).all()


# ---- the full log (its speed is measured by `make bench`: bgnbd_speedup_vs_lifetimes), and the
# optional cross-check -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def master_summary() -> pd.DataFrame:
    return clv.rfm_summary(_read_cdnow(sample=False), calibration_end=CAL_END)


def test_full_cdnow_fit_reproduces_the_published_parameters(master_summary):
    s = master_summary
    assert len(s) == 23570
    model = clv.BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    assert model.converged_
    np.testing.assert_allclose(model.params_, [0.2516, 4.7889, 0.7234, 2.1611], atol=2e-4)


_LIFETIMES_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
df = pd.DataFrame(json.load(sys.stdin))
bg = BetaGeoFitter().fit(df.frequency, df.recency, df["T"])
rep = df[(df.frequency > 0) & (df.monetary_value > 0)]
gg = GammaGammaFitter().fit(rep.frequency, rep.monetary_value)
print(json.dumps({"bg": bg.params_.to_dict(), "se": bg.standard_errors_.to_dict(),
                  "gg": gg.params_.to_dict()}))
"""


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CHURN_RESEARCH_CROSSCHECK") != "1",
                    reason="opt-in benchmark: set CHURN_RESEARCH_CROSSCHECK=1")
@pytest.mark.parametrize("sample", [True, False], ids=["sample", "master"])
def test_cross_check_against_lifetimes(sample):
    """Same estimates as lifetimes 0.11.3 (run in a subprocess: it imports pkg_resources)."""
    s = clv.rfm_summary(_read_cdnow(sample=sample), calibration_end=CAL_END)
    payload = json.dumps(s[["frequency", "recency", "T", "monetary_value"]].to_dict(orient="list"))
    run = subprocess.run([sys.executable, "-W", "ignore", "-c", _LIFETIMES_SCRIPT], input=payload,
                         capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        pytest.skip(f"lifetimes could not run: {run.stderr[-300:]}")
    ref = json.loads(run.stdout)
    bg = clv.BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    gg = clv.GammaGamma().fit(s["frequency"], s["monetary_value"])
    np.testing.assert_allclose(bg.params_, pd.Series(ref["bg"])[bg.params_.index], rtol=1e-4)
    np.testing.assert_allclose(bg.se_, pd.Series(ref["se"])[bg.se_.index], rtol=1e-3)
    np.testing.assert_allclose(gg.params_, pd.Series(ref["gg"])[gg.params_.index], rtol=1e-4)
