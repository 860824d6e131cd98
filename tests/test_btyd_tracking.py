"""BG/NBD tracking plot and P(alive) vs holdout activity (issue 17, 50_clv): the closed forms
against a Monte Carlo simulation of the model, the tracking totals against the per-customer
expectations, and the CDNOW sample of Fader, Hardie & Lee (2005)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churn_research import clv, i18n
from churn_research.clv import tracking as tr
from churn_research.narrate import clv as say

PUBLISHED = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, CDNOW sample, weeks


def _model(r, alpha, a, b) -> clv.BetaGeo:
    m = clv.BetaGeo()
    m.params_ = pd.Series({"r": r, "alpha": alpha, "a": a, "b": b})
    return m


def _simulate(n, t, *, r, alpha, a, b, seed=0):
    """BG/NBD customers over (0, t]: purchases X(t) = min(N(t), J), N ~ Poisson(lambda t), J ~
    Geometric(p) the purchase after which they drop out; last purchase time and alive flag."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    N = rng.poisson(lam * t)
    J = rng.geometric(p)
    x = np.minimum(N, J)
    tx = np.where(x > 0, t * rng.beta(np.maximum(x, 1), np.maximum(N - x + 1, 1)), 0.0)
    return x, tx, J > N


@pytest.fixture(scope="module")
def published():
    m = _model(**PUBLISHED)
    m._check_fitted = lambda: None
    return m


@pytest.mark.parametrize("t", [10.0, 39.0, 78.0])
def test_expected_purchases_closed_form_matches_monte_carlo(published, t):
    x, _, _ = _simulate(400_000, t, **PUBLISHED, seed=int(t))
    assert published.expected_purchases(t) == pytest.approx(x.mean(), rel=0.02)


def test_p_alive_closed_form_matches_monte_carlo(published):
    x, tx, alive = _simulate(400_000, 39.0, **PUBLISHED, seed=7)
    p = published.p_alive(x, tx, np.full(len(x), 39.0))
    # no repeat purchase: P(alive) = 1 exactly (drop-out happens only right after a purchase),
    # and indeed every simulated customer without a purchase is alive
    assert np.all(p[x == 0] == 1.0) and alive[x == 0].all()
    rep = x > 0
    assert p[rep].mean() == pytest.approx(alive[rep].mean(), abs=0.01)
    for lo, hi in [(0, 0.4), (0.4, 0.7), (0.7, 1.0)]:   # calibrated within bands too
        band = rep & (p > lo) & (p <= hi)
        assert band.sum() > 5_000
        assert p[band].mean() == pytest.approx(alive[band].mean(), abs=0.02)
    # the closed form: 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    r, al, a, b = PUBLISHED.values()
    assert published.p_alive(2, 30.43, 38.86) == pytest.approx(
        1 / (1 + a / (b + 1) * ((al + 38.86) / (al + 30.43)) ** (r + 2)), rel=1e-12)


def test_auc_equals_sklearn():
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    s = np.round(rng.random(500) + 0.3 * y, 1)  # with ties
    assert tr.auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.fixture(scope="module")
def cdnow():
    from churn_research import load

    try:
        tx = load("cdnow", sample=True).transactions
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"CDNOW sample unavailable: {exc}")
    s = clv.rfm_summary(tx, calibration_end="1997-09-30", observation_end="1998-06-30")
    return tx, s, clv.BetaGeo().fit(s["frequency"], s["recency"], s["T"])


def test_tracking_totals_equal_the_per_customer_expectations(cdnow):
    tx, s, bg = cdnow
    track = tr.tracking_table(tx, s, bg)
    assert len(track) == 78 and track["holdout"].sum() == 39  # 39 + 39 weeks (FHL 2005)
    totals = tr.tracking_totals(track)
    assert totals.loc["calibration", "actual"] == s["frequency"].sum() == 2457
    assert totals.loc["holdout", "actual"] == s["frequency_holdout"].sum() == 1882
    assert totals.loc["calibration", "expected"] == pytest.approx(
        np.sum(bg.expected_purchases(s["T"])), rel=1e-10)
    assert totals.loc["holdout", "expected"] == pytest.approx(
        clv.holdout_comparison(s, bg).attrs["unconditional_total"], rel=1e-10)
    assert track["actual_cumulative"].iloc[-1] == 4339
    np.testing.assert_allclose(track["expected"].cumsum(), track["expected_cumulative"])
    # FHL 2005 report the cumulative forecast 4% short after 78 weeks
    assert track["expected_cumulative"].iloc[-1] / 4339 - 1 == pytest.approx(-0.041, abs=0.002)
    assert totals.loc["holdout", "relative_error"] == pytest.approx(-0.114, abs=0.002)


def test_p_alive_against_holdout_activity_on_cdnow(cdnow):
    _, s, bg = cdnow
    risk = pd.Series(np.random.default_rng(0).random(len(s)), index=s.index)
    auc, bands = tr.p_alive_activity(s, bg, scores={"risk_model": risk})
    # one-time buyers all have P(alive) = 1 but rarely return: over everyone P(alive) ranks
    # worse than chance, among repeat buyers well above it
    assert auc.loc["p_alive", "auc"] == pytest.approx(0.316, abs=0.002)
    assert auc.loc["p_alive_repeat", "auc"] > 0.65
    assert auc.loc["expected_holdout", "auc"] == pytest.approx(0.773, abs=0.002)
    assert auc.loc["risk_model", "auc"] == pytest.approx(0.5, abs=0.03)
    assert auc["customers"].tolist() == [2357, 946, 2357, 2357]
    assert bands["customers"].sum() == 2357
    assert bands.loc["no repeat purchase", "customers"] == 1411
    assert bands.loc["no repeat purchase", "mean_p_alive"] == 1.0
    assert bands.loc["no repeat purchase", "active_share"] == pytest.approx(193 / 1411, abs=1e-3)
    share = bands["active_share"].drop("no repeat purchase")
    assert share.is_monotonic_increasing or share.iloc[-1] > share.iloc[0] + 0.4


def test_contractual_data_get_one_line():
    class Contractual:
        kind = "contractual"

    i18n.set_language("en")
    assert say.btyd_tracking(None, data=Contractual()).startswith(
        "BG/NBD tracking plot and P(alive): not applicable, churn dates are recorded")
    i18n.set_language("zh")
    try:
        assert say.btyd_tracking(None, data=Contractual()).startswith("BG/NBD 跟踪图与仍活跃概率：不适用")
    finally:
        i18n.set_language("en")
