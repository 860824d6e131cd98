"""Survival diagnostics (issue 17): number at risk, smoothed hazard, held-out time-dependent AUC and
integrated Brier score -- each against a case whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from churn_research.plots.survival import at_risk_counts
from churn_research.survival import diagnostics as dg

BETA, RATE = 1.5, 0.05


def _simulated(n=3000, seed=1, entry_share=0.0):
    """Exponential lifetimes with hazard RATE * exp(BETA * x) and 60 months of uniform censoring;
    ``entry_share`` of the customers are left-truncated: already customers for E ~ U(0, 20) months
    when observation starts, and in the data only if they had not left by then."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    T = rng.exponential(1 / (RATE * np.exp(BETA * x)))
    late = rng.random(n) < entry_share
    E = np.where(late, rng.uniform(0, 20, n), 0.0)
    C = E + rng.uniform(0, 60, n)
    df = pd.DataFrame({"customer_id": np.arange(n), "x": x, "duration": np.minimum(T, C),
                       "event": (T <= C).astype(int), "entry": E})
    return df[T > E].reset_index(drop=True)


def test_at_risk_counts_equal_the_event_table_and_the_risk_set_with_delayed_entry():
    df = _simulated(500, entry_share=0.3)
    kmf = KaplanMeierFitter().fit(df["duration"], df["event"], entry=df["entry"])
    et = kmf.event_table
    assert np.array_equal(at_risk_counts(kmf, et.index.to_numpy(float)), et["at_risk"].to_numpy(int))
    ticks = np.array([0.0, 5.0, 10.0, 20.0, 40.0, 80.0])
    by_hand = [int(((df["entry"] <= t) & (df["duration"] >= t)).sum()) for t in ticks]
    assert at_risk_counts(kmf, ticks).tolist() == by_hand
    assert by_hand[0] == int((df["entry"] == 0).sum()) and by_hand[-1] == 0


def test_smoothed_hazard_recovers_a_constant_hazard():
    rng = np.random.default_rng(3)
    T = rng.exponential(1 / RATE, 20000)
    C = rng.uniform(0, 60, 20000)
    df = pd.DataFrame({"duration": np.minimum(T, C).round(1), "event": (T <= C).astype(int), "entry": 0.0,
                       "seg": rng.choice(["a", "b"], 20000)})
    h = dg.smoothed_hazards(df, ["seg"], bandwidth=4)
    mid = h[(h["time"] > 8) & (h["time"] < 40)]
    assert set(map(str, h["group"])) == {"all customers", "a", "b"}
    assert mid.loc[mid["segment"].isna(), "hazard"].between(0.85 * RATE, 1.15 * RATE).all()
    assert h.attrs["bandwidth"] == 4.0
    assert dg.hazard_figures(h)["hazard_bandwidth"] == 4.0
    with pytest.raises(ValueError, match="bandwidth must be positive"):
        dg.smoothed_hazards(df, bandwidth=0)


def test_smoothed_hazard_stops_where_few_remain_at_risk_and_has_a_band_covering_the_truth():
    rng = np.random.default_rng(4)
    n = 6000
    T = rng.exponential(1 / RATE, n)
    C = rng.uniform(0, 80, n)
    late = rng.random(n) < 0.3
    E = np.where(late, rng.uniform(0, 10, n), 0.0)
    df = pd.DataFrame({"duration": np.minimum(T, C).round(1), "event": (T <= C).astype(int), "entry": E})
    df = df[df["duration"] > df["entry"]]
    h = dg.smoothed_hazards(df, bandwidth=3, min_at_risk=200)
    assert (h["at_risk"] >= 200).all() and h.attrs["min_at_risk"] == 200
    cut = h.attrs["cut"][(None, "all customers")]
    assert cut == h["time"].max()
    # the first tenure past the cut has fewer than 200 at risk (the risk set, delayed entry included)
    beyond = np.linspace(cut + 0.05, cut + 0.5, 5)
    assert dg.at_risk(df, [cut])[0] >= 200 > dg.at_risk(df, beyond).min()
    by_hand = int(((df["entry"] <= 20) & (df["duration"] >= 20)).sum())
    assert dg.at_risk(df, [20.0])[0] == by_hand
    # a wider threshold cuts earlier; the band brackets the estimate and mostly covers the truth
    assert dg.smoothed_hazards(df, bandwidth=3, min_at_risk=1000)["time"].max() < cut
    assert ((h["lower"] <= h["hazard"]) & (h["hazard"] <= h["upper"])).all()
    mid = h[h["time"].between(5, cut)]
    assert ((mid["lower"] <= RATE) & (RATE <= mid["upper"])).mean() > 0.9
    figs = dg.hazard_figures(h)
    assert figs["hazard_shown_to"] == cut and figs["hazard_peak_lower"] < figs["hazard_peak"] < figs["hazard_peak_upper"]


def test_hazard_text_quotes_no_value_from_the_cut_tail():
    from churn_research.narrate import survival as ns

    rng = np.random.default_rng(5)
    T = rng.exponential(1 / RATE, 3000)
    C = rng.uniform(0, 60, 3000)
    df = pd.DataFrame({"duration": np.minimum(T, C).round(1), "event": (T <= C).astype(int), "entry": 0.0})
    h = dg.smoothed_hazards(df, bandwidth=3, min_at_risk=150)
    text = ns.hazard_text(h)
    last = h.iloc[-1]
    assert f"{100 * last['hazard']:.2f}% per month at {last['time']:.0f} months" in text
    assert "fewer than 150 customers remain at risk" in text and f"(all customers: at {last['time']:.0f} months)" in text
    assert dg.at_risk(df, [last["time"] + 0.5])[0] < 150 or last["time"] >= df["duration"].max() - 3 - 0.1


@pytest.fixture(scope="module")
def split():
    return dg.holdout_split(_simulated(4000), test_share=0.4, random_state=0)


def _true_survival(test, times):
    return np.exp(-np.outer(RATE * np.exp(BETA * test["x"].to_numpy()), np.asarray(times, float)))


def test_auc_is_chance_for_noise_and_high_for_the_true_hazard(split):
    train, test = split
    horizons, grid = [6.0, 12.0, 24.0], np.linspace(1, 24, 30)
    times = [*horizons, *grid]
    true = dg.auc_and_brier(train, test, _true_survival(test, times), horizons=horizons, grid=grid)
    noise = np.tile(np.random.default_rng(7).random((len(test), 1)), (1, len(times)))
    rand = dg.auc_and_brier(train, test, noise, horizons=horizons, grid=grid)
    km = dg.auc_and_brier(train, test, dg.km_survival_matrix(train, len(test), times), horizons=horizons,
                          grid=grid)
    assert all(v > 0.8 for v in true["auc"].values())
    assert all(abs(v - 0.5) < 0.05 for v in rand["auc"].values())
    assert all(v == pytest.approx(0.5) for v in km["auc"].values())  # one score for everyone: ties
    assert true["ibs"] < km["ibs"] < rand["ibs"]
    assert km["ibs"] - true["ibs"] > 0.02


def test_cox_survival_honours_delayed_entry():
    """The Breslow baseline over entry-aware risk sets: predicted survival of the true model's
    linear predictor matches the truth; lifelines' own baseline (risk sets ignore entry) is too
    optimistic when many lifetimes are left-truncated."""
    df = _simulated(6000, seed=5, entry_share=0.6)
    cox = dg.CoxRegression(["x"]).fit(df)
    X = pd.DataFrame({"x": [0.0]})
    mine = dg.cox_survival_matrix(cox, X, [10, 20])[0]
    truth = np.exp(-RATE * np.array([10, 20]))
    assert mine == pytest.approx(truth, abs=0.03)
    lifelines_own = cox.fitter_.predict_survival_function(X, times=[10, 20]).to_numpy().ravel()
    assert (lifelines_own - truth).min() > 0.03


def test_held_out_validation_scores_cox_and_aft_above_kaplan_meier():
    df = _simulated(3000, seed=11)
    v = dg.held_out_validation(df, covariates=["x"], horizons=[6, 12, 24, 500], test_share=0.3,
                               random_state=0, aft_model="weibull", n_boot=0)
    assert v.skipped is None and v.horizons == [6.0, 12.0, 24.0]  # 500: beyond follow-up
    assert list(v.table.index) == ["Cox", "AFT (weibull)", "Kaplan–Meier (no drivers)"]
    assert (v.table.loc["Cox", ["auc(6)", "auc(12)", "auc(24)"]] > 0.8).all()
    assert v.table.loc["Cox", "ibs"] < v.table.loc["Kaplan–Meier (no drivers)", "ibs"] - 0.02
    assert v.table.loc["AFT (weibull)", "ibs"] == pytest.approx(v.table.loc["Cox", "ibs"], abs=0.01)
    again = dg.held_out_validation(df, covariates=["x"], horizons=[6, 12, 24], random_state=0, n_boot=0)
    assert again.table.loc["Cox", "ibs"] == v.table.loc["Cox", "ibs"]  # seeded
    figs = v.key_figures()
    assert figs["validation_test_customers"] == v.n_test and "validation_auc.Cox.12" in figs
    none = dg.held_out_validation(df.head(40), covariates=["x"], horizons=[6], min_events=20)
    assert none.skipped == "too few held-out customers followed from their start"
    assert none.key_figures() == {"validation_not_available": none.skipped}


def test_km_legend_and_at_risk_row_reconcile_under_late_entry():
    """The legend's n (customers ever at risk) minus the late entrants it names equals the
    number-at-risk row at tenure 0; a caption under the plot says what each counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from churn_research.plots.survival import late_entrants, plot_km

    df = _simulated(800, seed=2, entry_share=0.4)
    kmf = KaplanMeierFitter().fit(df["duration"], df["event"], entry=df["entry"])
    late = late_entrants(kmf)
    assert late == int((df["entry"] > 0).sum()) > 0
    ax = plot_km({"all customers": kmf}, title="t")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"all customers (n={len(df):,}; {late:,} enter late)"]
    assert at_risk_counts(kmf, [0.0])[0] == len(df) - late
    texts = [t.get_text() for t in ax.texts]
    assert any(s.startswith("n: customers ever at risk, late entrants included") for s in texts)
    plt.close("all")
    plain = KaplanMeierFitter().fit(df["duration"] - df["entry"], df["event"])
    ax = plot_km({"all customers": plain}, title="t")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"all customers (n={len(df):,})"]
    assert not any(s.startswith("n: customers ever") for s in (t.get_text() for t in ax.texts))
    plt.close("all")


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_estimate_and_shrink_with_more_held_out_customers():
    small = dg.held_out_validation(_simulated(1200, seed=21), covariates=["x"], horizons=[6, 12],
                                   random_state=0, n_boot=60)
    large = dg.held_out_validation(_simulated(6000, seed=21), covariates=["x"], horizons=[6, 12],
                                   random_state=0, n_boot=60)
    for v in (small, large):
        tb = v.table
        assert v.n_boot == 60
        for col in ("auc(6)", "auc(12)", "ibs"):
            assert (tb[f"{col}_lower"] <= tb[col]).all() and (tb[col] <= tb[f"{col}_upper"]).all(), tb
        assert v.ibs_gain_ci[0] < v.ibs_gain < v.ibs_gain_ci[1]
    width = lambda v, c: (v.table[f"{c}_upper"] - v.table[f"{c}_lower"]).loc["Cox"]  # noqa: E731
    for col in ("auc(6)", "auc(12)", "ibs"):
        # 5x the customers: about 1/sqrt(5) = 0.45 of the width
        assert width(large, col) < 0.65 * width(small, col)
    # the strong driver's gain over Kaplan-Meier is clear of zero; seeded: the same intervals again
    assert large.ibs_gain_ci[0] > 0
    again = dg.held_out_validation(_simulated(1200, seed=21), covariates=["x"], horizons=[6, 12],
                                   random_state=0, n_boot=60)
    pd.testing.assert_frame_equal(again.table, small.table)
    figs = small.key_figures()
    assert figs["validation_auc_lower.Cox.6"] == small.table.loc["Cox", "auc(6)_lower"]
    assert figs["validation_ibs_gain_lower"] == small.ibs_gain_ci[0] and figs["validation_bootstrap"] == 60
    none = dg.held_out_validation(_simulated(1200, seed=21), covariates=["x"], horizons=[6], n_boot=0)
    assert "ibs_lower" not in none.table and "validation_bootstrap" not in none.key_figures()


@pytest.mark.parametrize("cox_ibs, ci, says", [
    (0.20, (0.05, 0.15), "(9% lower; lower is better). The brackets"),
    (0.20, (0.05, 0.15), "The gain is clear of zero"),
    (0.227, (-0.026, -0.007), "(3% higher; lower is better)"),
    (0.227, (-0.026, -0.007), "The Cox model's predicted survival is worse than the curve without drivers"),
    (0.218, (-0.01, 0.02), "It is not distinguishable from no improvement"),
])
def test_validation_text_reads_the_bootstrap_interval_of_the_gain(cox_ibs, ci, says):
    from churn_research.narrate import survival as ns

    table = pd.DataFrame({"auc(12)": [0.6, 0.5], "ibs": [cox_ibs, 0.22], "auc(12)_lower": [0.55, 0.5],
                          "auc(12)_upper": [0.65, 0.5], "ibs_lower": [cox_ibs - 0.01, 0.21],
                          "ibs_upper": [cox_ibs + 0.01, 0.23]},
                         index=pd.Index(["Cox", "Kaplan–Meier (no drivers)"], name="model"))
    v = dg.HeldOutValidation(table=table, horizons=[12.0], grid_end=12.0, n_test=500, events_test=200,
                             n_boot=200, ibs_gain=1 - cox_ibs / 0.22, ibs_gain_ci=ci)
    assert says in ns.validation_text(v)
    shown = ns.validation_table(v)
    assert shown.loc["Cox", "AUC at 12 months"] == "0.600 [0.550, 0.650]"


def test_censoring_fitted_once_gives_the_same_scores_and_restores_sksurv():
    import sksurv.metrics

    from churn_research.survival.diagnostics import _censoring_fitted_once, auc_and_brier

    rng = np.random.default_rng(5)
    def frame(n):
        return pd.DataFrame({"duration": rng.uniform(1, 40, n), "event": rng.random(n) < 0.6})
    train, test = frame(400), frame(150)
    times = [6.0, 12.0, *np.linspace(2, 12, 8)]
    surv = np.exp(-np.outer(rng.uniform(0.02, 0.1, len(test)), times))
    plain = auc_and_brier(train, test, surv, horizons=[6.0, 12.0], grid=np.linspace(2, 12, 8))
    original = sksurv.metrics.CensoringDistributionEstimator
    with _censoring_fitted_once():
        once = [auc_and_brier(train, test, surv, horizons=[6.0, 12.0], grid=np.linspace(2, 12, 8))
                for _ in range(2)]
    assert sksurv.metrics.CensoringDistributionEstimator is original
    assert once[0] == once[1] == plain


def test_a_base_smaller_than_min_at_risk_draws_no_hazard_and_says_why():
    """A 100-customer business (tests/test_notebooks.py's small run) once crashed the hazard
    figure with zero panels."""
    from churn_research import survival as sv
    from churn_research.narrate import survival as ns
    from churn_research.plots import survival as sp
    from churn_research.synthetic import generate

    df = sv.durations(generate(100, random_state=1))
    hazards = sv.smoothed_hazards(df, ["plan"], bandwidth=3, min_at_risk=100)
    assert hazards.empty and sv.hazard_figures(hazards) == {}
    assert sp.plot_hazards(hazards, unit="months", title="t") is None
    assert ns.hazard_text(hazards).startswith(
        "No hazard curve is shown: at no tenure are 100 customers at risk")


def test_auc_at_increasing_horizons_in_one_call_equals_one_call_per_horizon(split):
    """auc_and_brier scores increasing horizons in one scikit-survival call (a risk score per
    horizon) and a given training outcome array: the AUCs and Brier score of one call per
    horizon, exactly; unordered horizons take one call each."""
    from sksurv.metrics import brier_score, cumulative_dynamic_auc

    train, test = split
    horizons, grid = [6.0, 12.0, 24.0], np.linspace(1, 24, 30)
    surv = _true_survival(test, [*horizons, *grid]) ** np.random.default_rng(3).uniform(0.5, 2, (len(test), 1))
    tau = 24.0
    s_train = dg._surv(train)
    s_test = dg.Surv.from_arrays(event=test["event"].to_numpy(bool) & (test["duration"].to_numpy() <= tau),
                                 time=np.minimum(test["duration"].to_numpy(float), tau * (1 + 1e-9)))
    expected = {h: float(cumulative_dynamic_auc(s_train, s_test, 1 - surv[:, j], [h])[0][0])
                for j, h in enumerate(horizons)}
    _, bs = brier_score(s_train, s_test, surv[:, 3:], grid)
    got = dg.auc_and_brier(train, test, surv, horizons=horizons, grid=grid, s_train=s_train)
    assert got["auc"] == expected
    assert got["ibs"] == float(np.trapezoid(bs, grid) / (grid[-1] - grid[0]))
    order = [2, 0, 1]
    swapped = dg.auc_and_brier(train, test, surv[:, [*order, *range(3, surv.shape[1])]],
                               horizons=[horizons[i] for i in order], grid=grid)
    assert swapped["auc"] == expected and swapped["ibs"] == got["ibs"]


@pytest.mark.parametrize("case", ["true hazard", "ties and few exits", "unordered horizons"])
def test_bootstrap_from_per_customer_terms_equals_scikit_survival_resample_by_resample(
        split, monkeypatch, case):
    """bootstrap_scores computes each held-out customer's weight and Brier terms once; its
    intervals and per-resample scores equal scoring every resample with scikit-survival,
    including the resamples scikit-survival refuses (skipped by both), tied risk scores (the
    Kaplan–Meier reference gives every customer the same) and horizons out of order."""
    train, test = split
    horizons, grid = [6.0, 12.0, 24.0], np.linspace(1, 24, 30)
    rng = np.random.default_rng(11)
    if case == "ties and few exits":
        test = test.iloc[:40].copy()  # some resamples have no follow-up past the last horizon
        horizons = [6.0, 12.0, float(np.sort(test["duration"])[-3])]
        grid = np.linspace(1, horizons[-1], 12)
    if case == "unordered horizons":
        horizons = [12.0, 6.0, 24.0]
    times = [*horizons, *grid]
    true = _true_survival(test, times)
    rows = {"true": true, "noisy": true ** rng.uniform(0.5, 2, (len(test), 1)),
            "km": dg.km_survival_matrix(train, len(test), times)}
    fast = dg.bootstrap_scores(train, test, rows, horizons=horizons, grid=grid, n_boot=60,
                               random_state=4)
    monkeypatch.setattr(dg._ResampledScores, "valid_grid", staticmethod(lambda grid: False))
    slow = dg.bootstrap_scores(train, test, rows, horizons=horizons, grid=grid, n_boot=60,
                               random_state=4)
    assert fast[1].shape == slow[1].shape and len(slow[1]) >= 30
    if case == "ties and few exits":
        assert len(slow[1]) < 60  # the case exercises skipped resamples
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-14, atol=0)  # one sum in another order
    pd.testing.assert_frame_equal(fast[0], slow[0], check_exact=False, rtol=1e-14, atol=0)
