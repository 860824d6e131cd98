"""Issue 13 #7, non-contractual: P(churn within a horizon) from the BG/NBD, against a
Monte-Carlo simulation of the model and against direct numerical integration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from churn_research.clv.risk import bgnbd_churn_probability, bgnbd_survival_given_alive
from churn_research.models.beta_geo import BetaGeo

#: the published CDNOW estimates (Fader, Hardie & Lee 2005), weeks
PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def bg():
    m = BetaGeo()
    m.params_ = pd.Series(PARAMS)
    for k, v in PARAMS.items():
        setattr(m, f"{k}_", v)
    return m


def _simulate(x, tx, T, h, *, n, seed=0, tol=0.5):
    """Share alive at T + h among simulated BG/NBD customers whose history in (0, T] is x
    repeat purchases, the last within ``tol`` of ``tx``: lambda ~ Gamma(r, alpha),
    p ~ Beta(a, b); repeat purchases at exponential gaps; after each one the customer drops out
    with probability p."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(PARAMS["r"], 1.0 / PARAMS["alpha"], n)
    p = rng.beta(PARAMS["a"], PARAMS["b"], n)
    t, last = np.zeros(n), np.zeros(n)
    count = np.zeros(n, int)
    alive, going = np.ones(n, bool), np.ones(n, bool)
    while going.any():
        idx = np.flatnonzero(going)
        t[idx] += rng.exponential(1.0 / lam[idx])
        over = t[idx] > T + h
        going[idx[over]] = False
        idx = idx[~over]
        cal = idx[t[idx] <= T]
        count[cal] += 1
        last[cal] = t[cal]
        drop = idx[rng.random(len(idx)) < p[idx]]
        alive[drop] = False
        going[drop] = False
    match = (count == x) & (np.abs(last - tx) <= tol)
    return alive[match].mean(), int(match.sum())


@pytest.mark.slow
@pytest.mark.parametrize("x, tx, T", [(0, 0.0, 30.0), (2, 20.0, 39.0)])
def test_p_alive_at_the_horizon_matches_a_simulation_of_the_model(bg, x, tx, T):
    h = 52.0
    sim, n = _simulate(x, tx, T, h, n=1_000_000)
    p = bgnbd_churn_probability(bg, h, np.array([x]), np.array([tx]), np.array([T])).iloc[0]
    se = np.sqrt(sim * (1 - sim) / n)
    assert 1 - p["p_gone_at_horizon"] == pytest.approx(sim, abs=4 * se + 0.005)
    # the pieces: gone at the horizon = not alive now, or alive now and dropping out within it
    assert p["p_gone_at_horizon"] == pytest.approx(1 - p["p_alive"] + p["p_churn"])
    assert p["p_churn"] == pytest.approx(p["p_alive"] * p["p_churn_if_alive"])


def test_survival_given_alive_equals_the_integral_over_the_posterior(bg):
    """q = E[exp(-lambda p h)] with lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x)."""
    r, al, a, b = PARAMS.values()
    for x, T, h in [(0, 30.0, 52.18), (4, 39.0, 52.18), (20, 70.0, 100.0), (1, 2.0, 52.18)]:
        def integrand(q, x=x, T=T, h=h):
            return (1 + q * h / (al + T)) ** (-(r + x)) * stats.beta.pdf(q, a, b + x)
        expected = integrate.quad(integrand, 0, 1, limit=200)[0]
        got = bgnbd_survival_given_alive(bg, h, x, 0.0, T)
        assert float(got) == pytest.approx(expected, rel=1e-8)
    # no time, no dropout; longer horizons, more dropouts
    assert float(bgnbd_survival_given_alive(bg, 0.0, 3, 0.0, 20.0)) == pytest.approx(1.0)
    qs = [float(bgnbd_survival_given_alive(bg, h, 3, 0.0, 20.0)) for h in (10, 52, 520)]
    assert qs[0] > qs[1] > qs[2] > 0
