"""The one annual churn of a dataset (churn_research.annual) and whole-month tenure (durations)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from churn_research import ChurnData
from churn_research.annual import annual_churn, conditional_churn, product_limit, window_churn
from churn_research.durations import calendar_months, durations, month_aligned
from churn_research.narrate import definitions
from churn_research.sources import load
from churn_research.sources.synthetic import generate


@pytest.fixture(scope="module")
def synthetic_small() -> ChurnData:
    return generate(3000, random_state=5)


def _snapshot(n: int, p: float, *, seed: int = 1, snapshot: str = "2020-06-30") -> ChurnData:
    """A one-snapshot dataset as the survival curve reads it: customers join in the 72 months
    before the snapshot, each stays a geometric number of whole months (leaving with
    probability ``p`` every month), and those still there are censored at the snapshot."""
    rng = np.random.default_rng(seed)
    snap = pd.Timestamp(snapshot)
    months_ago = rng.integers(0, 73, n)
    lifetime = rng.geometric(p, n)                 # months until leaving, >= 1
    churned = lifetime <= months_ago
    tenure = np.where(churned, lifetime, months_ago)
    start = pd.Series([snap - pd.DateOffset(months=int(m)) for m in months_ago])
    end = pd.Series([s + pd.DateOffset(months=int(m)) for s, m in zip(start, lifetime, strict=True)])
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "start_date": start,
                              "end_date": end.where(churned), "tenure_months": tenure})
    return ChurnData(customers=customers, observation_end=snap, kind="contractual", snapshot=snap)


def test_product_limit_matches_lifelines_with_and_without_delayed_entry():
    rng = np.random.default_rng(3)
    d = rng.integers(0, 30, 400) + rng.random(400).round(1)
    e = rng.random(400) < 0.4
    entry = np.minimum(rng.integers(0, 10, 400), d).astype(float)
    for en in (None, entry):
        times, surv = product_limit(d, e, en)
        km = KaplanMeierFitter().fit(d, e, entry=en)
        assert np.abs(km.survival_function_at_times(times).to_numpy() - surv).max() < 1e-12


def test_conditional_churn_of_a_geometric_curve_is_exact_inside_and_beyond_the_curve():
    p = 0.03
    times = np.arange(0, 25, dtype=float)
    surv = (1 - p) ** (times + 1)            # S just after each month's exits
    tenure = np.array([0.0, 5.0, 12.0, 20.0, 24.0])   # 20 and 24 need the tail beyond 24
    np.testing.assert_allclose(conditional_churn(times, surv, tenure), 1 - (1 - p) ** 12, rtol=1e-12)


def test_window_churn_counts_the_base_at_the_window_start_by_hand():
    customers = pd.DataFrame({
        "customer_id": list("ABCDE"),
        "start_date": pd.to_datetime(["2019-01-01", "2019-06-01", "2020-03-01", "2019-02-01", "2018-01-01"]),
        "end_date": pd.to_datetime(["2020-05-01", None, None, "2019-11-30", "2020-12-31"])})
    # base on 2019-12-31: A, B, E (C joined later, D left before); A left in the window, E after it
    win = window_churn(customers, window_end="2020-12-31", months=12)
    assert (win["at_risk"], win["lost"]) == (3, 2)
    assert win["rate"] == pytest.approx(2 / 3)
    assert win["window_start"] == pd.Timestamp("2019-12-31")


def test_annual_churn_by_window_and_annualised_window_on_synthetic(synthetic_small):
    year = annual_churn(synthetic_small, months=12)
    assert year.method == "window" and year.months == 12
    assert year.rate == pytest.approx(year.lost / year.at_risk)
    assert year.ci_low < year.rate < year.ci_high
    half = annual_churn(synthetic_small, months=6)
    assert half.method == "window, annualised"
    assert half.rate == pytest.approx(1 - (1 - half.window_rate) ** 2)
    assert half.ci_low == pytest.approx(1 - (1 - half.lost / half.at_risk) ** 2, abs=0.2)
    assert half.ci_low < half.rate < half.ci_high


def test_annual_churn_of_a_snapshot_recovers_a_constant_monthly_hazard():
    """Known answer: with a 2% monthly hazard a year loses 1 - 0.98^12 = 21.5% of any base, whatever
    the tenures of the active customers."""
    data = _snapshot(20_000, 0.02)
    assert data.is_snapshot
    result = annual_churn(data, n_boot=100)
    truth = 1 - 0.98 ** 12
    assert result.method == "survival curve"
    assert result.ci_low < truth < result.ci_high
    assert abs(result.rate - truth) < 0.03
    assert result.active == int(data.customers["end_date"].isna().sum())
    again = annual_churn(data, n_boot=100)
    assert (again.rate, again.ci_low, again.ci_high) == (result.rate, result.ci_low, result.ci_high)


def test_snapshot_sentence_and_definition_name_the_survival_curve():
    result = annual_churn(_snapshot(3_000, 0.02), n_boot=50)
    text = definitions.annual_churn(result.flat_figures())
    assert "Kaplan–Meier" in text and "indicative" in text and "%" in text
    rows = definitions.churn_definitions({"50_clv": result.flat_figures(),
                                          "10_indicators": result.flat_figures()})
    (row,) = [r for r in rows if r.name == "Annual churn of the customer base"]
    assert row.stage == "10_indicators, 50_clv" and "95% CI" in row.value


def test_month_aligned_dates_give_whole_calendar_months():
    start = pd.Series(pd.to_datetime(["2017-11-30", "2017-12-31", "2018-01-15", "2018-01-15"]))
    end = pd.Series(pd.to_datetime(["2018-01-31", "2018-02-28", "2018-03-15", "2018-03-16"]))
    assert month_aligned(start, end).tolist() == [True, True, True, False]
    assert calendar_months(start, end)[:3].tolist() == [2.0, 2.0, 2.0]


def test_snapshot_durations_are_the_integer_tenure():
    """Issue 13 (5): month-aligned snapshot data use integer tenure, not days / 30.44."""
    data = _snapshot(500, 0.05, snapshot="2018-01-31")
    frame = durations(data).set_index("customer_id")
    assert frame.attrs["calendar_months"]
    tenure = data.customers.set_index("customer_id")["tenure_months"]
    assert (frame["duration"] == tenure.loc[frame.index]).all()
    telco = durations(load("telco"))
    assert telco.attrs["calendar_months"] and (telco["duration"] % 1 == 0).all()
    assert telco["duration"].max() == 72


def test_daily_dates_keep_the_average_month(synthetic_small):
    frame = durations(synthetic_small)
    assert not frame.attrs["calendar_months"]
    span = (frame["exit_date"] - frame["start_date"]).dt.days / (365.25 / 12)
    np.testing.assert_allclose(frame["duration"], span)


def test_snapshot_groups_read_their_own_curve():
    """Two contract types leaving at 1% and 5% a month: read off one curve per type, the annual
    churn is the active-weighted mean of 1 - 0.99^12 and 1 - 0.95^12."""
    a, b = _snapshot(8_000, 0.01, seed=2), _snapshot(8_000, 0.05, seed=3)
    a.customers["contract"], b.customers["contract"] = "two year", "monthly"
    b.customers["customer_id"] = "B" + b.customers["customer_id"]
    both = ChurnData(customers=pd.concat([a.customers, b.customers], ignore_index=True),
                     observation_end=a.observation_end, kind="contractual", snapshot=a.snapshot)
    n_a = int(a.customers["end_date"].isna().sum())
    n_b = int(b.customers["end_date"].isna().sum())
    truth = (n_a * (1 - 0.99 ** 12) + n_b * (1 - 0.95 ** 12)) / (n_a + n_b)
    result = annual_churn(both, by="contract", n_boot=50)
    assert result.by == "contract" and result.ci_low < truth < result.ci_high
    assert "Kaplan–Meier curve of their contract" in definitions.annual_churn(result.flat_figures())
    assert annual_churn(both, by="no such column", n_boot=5).by is None


def test_annual_churn_figure_draws_the_last_calendar_year_once(synthetic_small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from churn_research.indicators import yearly_churn
    from churn_research.plots.indicators import annual_is_last_year, plot_annual_churn

    yearly = yearly_churn(synthetic_small)
    full = yearly[~yearly["partial"].astype(bool) & (yearly["denominator"] > 0)]
    twelve, nine = annual_churn(synthetic_small, months=12), annual_churn(synthetic_small, months=9)
    last = full.iloc[-1]
    # the last 12 months to 2025-12-31 are calendar year 2025: the same customers and losses
    assert (twelve.at_risk, twelve.lost) == (int(last["denominator"]), int(last["numerator"]))
    assert annual_is_last_year(full, twelve) and not annual_is_last_year(full, nine)
    ax = plot_annual_churn(yearly, twelve)
    ticks = [x.get_text() for x in ax.get_xticklabels()]
    assert ticks == list(full["period"].astype(str))            # no extra "last 12 months" point
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    # review s5, 3: no internal reference ("seed 002") in the benchmark's legend
    assert "benchmark 10%–30% a year" in legend and not any("seed" in x for x in legend)
    assert legend[-1] == ("2025 is also the dataset's annual churn (its last 12 months are this "
                          "calendar year)")
    ax = plot_annual_churn(yearly, nine)
    assert ax.get_xticklabels()[-1].get_text() == "last 9 months,\nannualised"
    plt.close("all")
