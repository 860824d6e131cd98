"""churn_research.coxfit: the fast delayed-entry partial likelihood equals lifelines' own."""

import lifelines
import numpy as np
import pandas as pd
import pytest

from churn_research.models.coxfit import CoxPHFitter, CoxTimeVaryingFitter, efron_gradients

pytestmark = pytest.mark.filterwarnings("ignore::lifelines.exceptions.StatisticalWarning")


def _frame(n=1500, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    entry = np.where(rng.random(n) < 0.4, rng.uniform(0, 10, n), 0.0)
    # whole months plus a few half months: many tied event times
    t = entry + 0.01 + np.round(rng.exponential(10 * np.exp(-x @ [0.4, -0.3, 0.1]), n)) \
        + 0.5 * rng.integers(0, 2, n)
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    df["duration"], df["entry"] = t, entry
    df["event"] = (rng.random(n) < 0.7).astype(int)
    df["g"] = rng.integers(0, 3, n)
    df["w"] = rng.uniform(0.5, 2.0, n)
    return df


@pytest.mark.parametrize("options", [{}, {"strata": ["g"]}, {"weights_col": "w"},
                                     {"penalizer": 0.1}])
def test_cox_with_entry_equals_lifelines(options):
    df = _frame()
    if "weights_col" not in options:
        df = df.drop(columns="w")
    args = {"duration_col": "duration", "event_col": "event", "entry_col": "entry"}
    fit_args = {k: v for k, v in options.items() if k != "penalizer"}
    made = {k: v for k, v in options.items() if k == "penalizer"}
    ours = CoxPHFitter(**made).fit(df, **args, **fit_args)
    theirs = lifelines.CoxPHFitter(**made).fit(df, **args, **fit_args)
    np.testing.assert_allclose(ours.params_, theirs.params_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.standard_errors_, theirs.standard_errors_, rtol=1e-6)
    assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(ours.baseline_cumulative_hazard_.to_numpy(),
                               theirs.baseline_cumulative_hazard_.to_numpy(), rtol=1e-6)


def test_gradients_equal_lifelines_at_any_beta():
    df = _frame(800, seed=3)
    x = df[["a", "b", "c"]].to_numpy()
    e, start, stop = df["event"].to_numpy(bool), df["entry"].to_numpy(), df["duration"].to_numpy()
    w = np.ones(len(df))
    beta = np.array([0.3, -0.7, 0.2])
    ours = efron_gradients(x, e, start, stop, w, beta)
    theirs = lifelines.CoxTimeVaryingFitter._get_gradients(x, e, start, stop, w, beta)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_without_entry_lifelines_path_unchanged():
    df = _frame().drop(columns=["entry", "w"])
    args = {"duration_col": "duration", "event_col": "event"}
    ours = CoxPHFitter().fit(df, **args)
    theirs = lifelines.CoxPHFitter().fit(df, **args)
    np.testing.assert_array_equal(ours.params_.to_numpy(), theirs.params_.to_numpy())


def test_time_varying_equals_lifelines():
    df = _frame().drop(columns=["w"]).rename(columns={"entry": "start", "duration": "stop"})
    df["id"] = np.arange(len(df))
    args = {"id_col": "id", "event_col": "event", "start_col": "start", "stop_col": "stop"}
    ours = CoxTimeVaryingFitter().fit(df.drop(columns="g"), **args)
    theirs = lifelines.CoxTimeVaryingFitter().fit(df.drop(columns="g"), **args)
    np.testing.assert_allclose(ours.params_, theirs.params_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.standard_errors_, theirs.standard_errors_, rtol=1e-6)
    ours = CoxTimeVaryingFitter().fit(df, strata=["g"], **args)
    theirs = lifelines.CoxTimeVaryingFitter().fit(df, strata=["g"], **args)
    np.testing.assert_allclose(ours.params_, theirs.params_, rtol=0, atol=1e-6)
