"""The driver model's binomial GLM (``causes.drivers.fit_binomial_glm``: IRLS on the p x p normal
equations, lean on long person-month frames) gives statsmodels' GLM estimates: coefficients,
standard errors, p-values and covariance, with a cloglog and a logit link and an offset."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from churn_research.causes import DriverModel
from churn_research.causes.drivers import _design_matrix, fit_binomial_glm
from churn_research.causes.frame import DEFAULT_SCALES
from churn_research.synthetic import generate


@pytest.fixture(scope="module")
def person_months():
    data = generate(2000, random_state=3)
    model = DriverModel(reference={"plan": "basic", "contract": "monthly"}).fit(data)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("link", [families.links.CLogLog(), families.links.Logit()], ids=["cloglog", "logit"])
def test_fit_binomial_glm_equals_statsmodels(person_months, link):
    model = person_months
    frame = model.frame_
    names = model.result_.params.index
    x = _design_matrix(frame, model.drivers_, reference={"plan": "basic", "contract": "monthly"},
                       scales=DEFAULT_SCALES, min_level_count=30, duration="log", duration_knots=())[0][names]
    y = frame["event"].to_numpy(float)
    offset = np.log(frame["exposure"].to_numpy(float))
    assert len(x) > 40_000 and x.shape[1] >= 10 and int(y.sum()) > 500
    got = fit_binomial_glm(y, x, link=link, offset=offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = GLM(y, x, family=families.Binomial(link=link), offset=offset).fit(wls_method="lstsq")
    assert got.converged and got.iterations == expected.fit_history["iteration"]
    np.testing.assert_allclose(got.params, expected.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.bse, expected.bse, rtol=1e-9)
    np.testing.assert_allclose(got.pvalues, expected.pvalues, rtol=1e-6, atol=1e-300)
    np.testing.assert_allclose(got.cov_params().to_numpy(), expected.cov_params().to_numpy(), rtol=1e-8,
                               atol=1e-15)
    assert got.deviance == pytest.approx(expected.deviance, rel=1e-12)
    assert list(got.cov_params().columns) == list(names)
    if isinstance(link, families.links.CLogLog):  # the model's own fit is this one
        pd.testing.assert_series_equal(model.result_.params, got.params)


def test_fit_binomial_glm_by_hand():
    """One binary covariate, logit link: the MLE is the log odds ratio of the 2x2 table
    (a: 30/100 churn, b: 10/100), its standard error sqrt(1/30 + 1/70 + 1/10 + 1/90)."""
    y = np.r_[np.ones(30), np.zeros(70), np.ones(10), np.zeros(90)]
    x = pd.DataFrame({"const": 1.0, "b": np.r_[np.zeros(100), np.ones(100)]})
    fit = fit_binomial_glm(y, x, link=families.links.Logit())
    log_or = np.log((10 / 90) / (30 / 70))
    assert fit.params["b"] == pytest.approx(log_or, rel=1e-10)
    assert fit.params["const"] == pytest.approx(np.log(30 / 70), rel=1e-10)
    assert fit.bse["b"] == pytest.approx(np.sqrt(1 / 30 + 1 / 70 + 1 / 10 + 1 / 90), rel=1e-8)


@pytest.mark.slow
def test_odds_model_reuses_the_hazard_models_person_months(monkeypatch):
    """odds_vs_hazards refits on the hazard model's person-months when the data and design are
    the same (the same odds ratios as expanding them again), and expands its own otherwise."""
    from churn_research.causes import drivers, odds_vs_hazards

    data = generate(1500, random_state=4)
    ref = {"plan": "basic", "contract": "monthly"}
    model = DriverModel(reference=ref).fit(data)
    calls = []
    expand = drivers.person_period
    monkeypatch.setattr(drivers, "person_period", lambda *a, **k: calls.append(1) or expand(*a, **k))
    got = odds_vs_hazards(model, data, reference=ref)
    assert calls == []
    fresh = DriverModel(link="logit", reference=ref).fit(data)
    expected = fresh.effects_.set_index("term").loc[got["term"]]
    np.testing.assert_array_equal(got["ratio_or"].to_numpy(), expected["ratio"].to_numpy())
    np.testing.assert_array_equal(got["ci_high_or"].to_numpy(), expected["ci_high"].to_numpy())
    assert got.attrs["max_gap"] == pytest.approx(
        float((got["ratio_or"] / got["ratio_hr"] - 1).abs().max()), rel=1e-15)
    # other data (a copy): its own person-months, the same numbers
    other = odds_vs_hazards(model, data.replace(meta=dict(data.meta)), reference=ref)
    assert len(calls) == 2  # fresh above, and the other data's own
    pd.testing.assert_frame_equal(other, got)
