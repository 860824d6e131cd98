"""Complaint handling and growth KPIs of 10_indicators (issue 17): hand-made frames with numbers,
the generator's opt-in complaint-resolution effect (off: byte-identical; on: recovered)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research.indicators import churn_table, growth_table, indicator_series, target_table
from churn_research.indicators.complaints import (
    complaint_churn,
    complaint_handling,
    resolution_bands,
    resolution_table,
)
from churn_research.indicators.experience import complaint_table
from churn_research.indicators.impact import ControlChart
from churn_research.model import ChurnData
from churn_research.sources.synthetic import generate


def _hand_made() -> ChurnData:
    cust = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"],
        "start_date": pd.to_datetime(["2023-01-01"] * 4 + ["2024-02-01"]),
        "end_date": pd.to_datetime([None, "2024-01-20", None, "2024-03-15", None]),
    })
    tickets = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "date": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-01-15", "2024-02-01"]),
        "kind": ["complaint"] * 4,
        "resolved": [True, True, True, False],
        "resolution_days": [1.0, 3.0, 10.0, np.nan],
    })
    return ChurnData(customers=cust, tickets=tickets, observation_end=pd.Timestamp("2024-06-30"),
                     records_start=pd.Timestamp("2024-01-01"))


def test_resolution_median_rate_and_target_on_a_hand_made_frame():
    r = resolution_table(_hand_made(), freq="Q", service_target_days=5)
    q1 = r.set_index("period").loc["2024Q1"]
    assert q1["complaints"] == 4 and q1["resolved"] == 3
    assert q1["median_days"] == 3.0                      # median of 1, 3, 10
    assert q1["resolution_rate"] == pytest.approx(0.75)
    assert q1["within_target"] == 2 and q1["due"] == 4     # 1 and 3 days <= 5
    assert q1["within_target_rate"] == pytest.approx(0.5)
    assert q1["resolution_ci_low"] < 0.75 < q1["resolution_ci_high"]


def test_resolution_bands_are_right_closed():
    days = np.array([0, 3, 3.5, 7, 14, 15, np.nan])
    ok = np.array([True] * 6 + [False])
    assert list(resolution_bands(days, ok, [3, 7, 14])) == [
        "≤ 3 days", "≤ 3 days", "3–7 days", "3–7 days", "7–14 days", "> 14 days", "unresolved"]


def test_churn_within_days_by_band_counts_by_hand():
    # b left 10 days after a 3-day complaint; d left 42 days after an unresolved one
    d = complaint_churn(_hand_made(), within_days=30, bands=[3, 7])
    rows = d.set_index("band")
    assert rows.loc["≤ 3 days", ["complaints", "churned"]].tolist() == [2, 1]
    assert rows.loc["> 7 days", ["complaints", "churned"]].tolist() == [1, 0]
    assert rows.loc["unresolved", ["complaints", "churned"]].tolist() == [1, 0]   # 42 > 30 days
    assert d.attrs["resolved_rate"] == pytest.approx(1 / 3)
    d60 = complaint_churn(_hand_made(), within_days=60, bands=[3, 7])
    assert d60.set_index("band").loc["unresolved", "churned"] == 1


def test_complaint_rate_chart_limits_follow_the_p_chart_formula():
    # 6 monthly periods, 10 active customers each; complainants 1,2,1,2,1,2 -> p_bar = 0.15
    periods = pd.period_range("2024-01", periods=8, freq="M")
    table = pd.DataFrame({"period": periods.astype(str), "period_start": periods.start_time,
                          "period_end": periods.end_time.normalize(), "partial": False,
                          "complainants": [1, 2, 1, 2, 1, 2, 5, 1], "active": [10] * 8})
    cc = ControlChart(chart="p").fit(table, baseline_end="2024-07-01", numerator="complainants",
                                     denominator="active")
    pbar = 9 / 60
    assert cc.center_ == pytest.approx(pbar)
    ucl = pbar + 3 * np.sqrt(pbar * (1 - pbar) / 10)
    assert cc.table_["ucl"].iloc[0] == pytest.approx(ucl)          # 0.4887
    assert cc.table_["lcl"].iloc[0] == 0.0                           # pbar - 3 sigma < 0
    assert cc.flagged_ == ["2024-07"]                                # 5/10 = 0.5 > 0.4887


def test_growth_net_adds_and_reconciliation_on_synthetic_counts():
    data = generate(800, random_state=5)
    g = growth_table(churn_table(data, freq="Q"))
    assert (g["net_adds"] == g["joins"] + g["returns"] - g["losses"]).all()
    assert (g["customers_start"] + g["net_adds"] == g["customers_end"]).all()
    assert (g["customers_end"].to_numpy()[:-1] == g["customers_start"].to_numpy()[1:]).all()
    ok = g["customers_start"] > 0
    assert np.allclose(g.loc[ok, "growth_rate"], g.loc[ok, "net_adds"] / g.loc[ok, "customers_start"])
    # the count itself: customers on the books at the start of 2022Q1 by their dates
    c = data.customers
    day = pd.Timestamp("2022-01-01")
    on_books = int(((c["start_date"] < day) & (c["end_date"].isna() | (c["end_date"] >= day))).sum())
    assert g.set_index("period").loc["2022Q1", "customers_start"] == on_books


def test_growth_from_a_hand_made_table_and_its_target():
    t = pd.DataFrame({"period": ["2024Q1", "2024Q2"], "at_risk": [100, 110], "new": [30, 5],
                      "returned": [0, 0], "churned": [20, 15], "at_end": [110, 100],
                      "partial": [False, False]})
    g = growth_table(t)
    assert g["net_adds"].tolist() == [10, -10]
    assert g["growth_rate"].tolist() == pytest.approx([0.10, -10 / 110])
    data = generate(800, random_state=5)
    s = indicator_series(data, freq="Q")
    tt = target_table(s, {"growth_rate": {"value": 0.05, "from": "2022-12-31", "by": "2025-12-31"}})
    row = tt.iloc[0]
    assert row["direction"] == "higher" and row["target"] == 0.05
    assert row["actual"] == pytest.approx(s.loc[~s["partial"], "growth_rate"].iloc[-1])


def test_complaint_resolution_effect_is_opt_in_and_byte_identical_when_off():
    a, b = generate(600, random_state=2), generate(600, random_state=2, complaint_resolution=None)
    for table in ("customers", "transactions", "tickets", "surveys"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert "complaint_resolution" not in a.meta["truth"]
    on = generate(600, random_state=2, complaint_resolution={"extra_churn_prob": {"unresolved": 0.3}})
    truth = on.meta["truth"]["complaint_resolution"]
    assert truth["extra_churn_prob"] == {"slow": 0.10, "unresolved": 0.3}
    pd.testing.assert_frame_equal(on.customers[["age", "plan"]], a.customers[["age", "plan"]])
    with pytest.raises(TypeError, match=r"complaint_resolution has unknown key\(s\) \['speed'\]"):
        generate(10, complaint_resolution={"speed": 1})


@pytest.mark.slow
def test_dose_response_recovers_the_generators_effect():
    data = generate(20000, random_state=11, complaint_resolution=True)
    d = complaint_churn(data, within_days=90, bands=[3, 7, 14])
    p_un = data.meta["truth"]["complaint_resolution"]["extra_churn_prob"]["unresolved"]
    p_slow = data.meta["truth"]["complaint_resolution"]["extra_churn_prob"]["slow"]
    base = d["churn_rate"].iloc[0]
    # excess of never-resolved over the fastest band: between p (1 - base) and p
    assert d.attrs["excess_ci_low"] <= p_un and d.attrs["excess_ci_high"] >= p_un * (1 - base)
    assert p_un * (1 - base) - 0.04 < d.attrs["excess"] < p_un + 0.02
    slow_excess = d["churn_rate"].iloc[3] - base                 # "> 14 days" vs "<= 3 days"
    assert p_slow * (1 - base) - 0.035 < slow_excess < p_slow + 0.035
    assert abs(d["churn_rate"].iloc[1] - base) < 0.03             # bands within the 14 days: none
    assert d.attrs["trend_z"] > 5 and d.attrs["trend_p"] < 1e-6
    # without the effect there is no dose-response beyond chance
    d0 = complaint_churn(generate(20000, random_state=11), within_days=90, bands=[3, 7, 14])
    assert abs(d0.attrs["excess"]) < 0.05 and d0.attrs["trend_p"] > 0.001


def test_complaint_handling_without_tickets_is_flagged_not_available():
    data = _hand_made()
    none = ChurnData(customers=data.customers, observation_end=data.observation_end)
    ch = complaint_handling(none)
    assert ch.available == {"complaints": False, "resolution": False, "chart": False,
                            "change": False}
    assert ch.key_figures() == {"complaints.available": False,
                                "complaints.resolution_available": False}
    share = complaint_table(data, freq="M")
    assert share.set_index("period").loc["2024-01", "complainants"] == 3


def test_mean_growth_is_compound_from_the_first_period_with_customers():
    from churn_research.indicators.growth import mean_growth

    t = pd.DataFrame({"period": ["a", "b", "c"], "at_risk": [0, 100, 110], "new": [100, 30, 11],
                      "returned": [0, 0, 0], "churned": [0, 20, 0], "at_end": [100, 110, 121],
                      "partial": [False, False, False]})
    first, mean = mean_growth(growth_table(t))
    assert first["period"] == "b" and mean == pytest.approx(0.10)   # 100 -> 121 in 2 periods


# --- seasonality: the complaint charts follow churn's control-chart rule -----------------------
def _seasonal_complaints(seed: int = 0, *, december: float = 0.09, base: float = 0.03) -> ChurnData:
    """4,000 customers from 2019 to 2024 (churn 0.5% a month), complaining with probability
    ``base`` a month and ``december`` in December; no change at all (the event is 2024-07-01)."""
    rng = np.random.default_rng(seed)
    n = 4000
    start = pd.Timestamp("2019-01-01")
    end = start + pd.to_timedelta(rng.exponential(30.4 / 0.005, n).round(), unit="D")
    end = pd.Series(end).where(end <= pd.Timestamp("2024-12-31"))
    cust = pd.DataFrame({"customer_id": np.arange(n), "start_date": start, "end_date": end})
    rows = []
    for p in pd.period_range("2019-01", "2024-12", freq="M"):
        prob = december if p.month == 12 else base
        alive = (end.isna() | (end > p.end_time)).to_numpy()
        who = np.flatnonzero(alive & (rng.random(n) < prob))
        day = rng.integers(0, p.days_in_month, len(who))
        rows.append(pd.DataFrame({"customer_id": who, "date": p.start_time + pd.to_timedelta(day, unit="D")}))
    tk = pd.concat(rows, ignore_index=True).assign(kind="complaint", resolved=True, resolution_days=2.0)
    events = pd.DataFrame({"date": [pd.Timestamp("2024-07-01")], "event": ["change"]})
    return ChurnData(customers=cust, tickets=tk, events=events,
                     observation_end=pd.Timestamp("2024-12-31"), records_start=start)


def test_complaint_charts_do_not_flag_a_seasonal_peak_under_month_and_do_under_none():
    data = _seasonal_complaints()
    plain = complaint_handling(data, seasonality="none")
    seas = complaint_handling(data, seasonality="month")
    # under none every December of the baseline/monitoring is above the upper limit
    assert {"2022-12", "2023-12"} <= set(plain.chart.flagged_) | set(plain.chart.baseline_flagged_)
    assert "2024-12" in plain.chart.flagged_
    assert not plain.chart.seasonal_
    # under month the centre line of December is the baseline Decembers' pooled share: no flags
    assert seas.chart.seasonal_ and seas.chart.flagged_ == [] and seas.chart.flagged_low_ == []
    tab = seas.chart.table_
    dec = tab[(tab["phase"] == "baseline") & tab["period"].str.endswith("-12")]
    assert tab.loc[tab["period"] == "2024-12", "center"].iloc[0] == pytest.approx(
        dec["k"].sum() / dec["n"].sum())
    # one implementation: the same chart as churn's ControlChart fitted on the share directly
    direct = ControlChart(seasonality="month").fit(seas.share, baseline_end="2024-07-01",
                                                   numerator="complainants", denominator="active")
    pd.testing.assert_frame_equal(direct.table_, seas.chart.table_)
    assert seas.churn_chart.seasonal_ and not plain.churn_chart.seasonal_
    # before/after: the after half-year holds a December (1 in 6 months against 1 in 12 before)
    b0 = plain.change.set_index("measure").loc["complaint share per period"]
    b1 = seas.change.set_index("measure").loc["complaint share per period"]
    assert b0["after"] / b0["before"] > 1.08 and b0["p_value"] < 0.01
    assert not plain.change.attrs["seasonal"] and seas.change.attrs["seasonal"]
    assert abs(b1["after"] / b1["before"] - 1) < 0.05 and b1["p_value"] > 0.05
    # the expected "before" of the after months: (5 x base + 1 x December) / 6 on average
    assert b1["before"] == pytest.approx((5 * 0.03 + 0.09) / 6, rel=0.06)


@pytest.mark.slow
def test_control_chart_and_bar_legends_sit_off_the_data():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from churn_research.plots.indicators import plot_control_chart, plot_segment_rates
    from churn_research.plots.segments import signal_lift

    ch = complaint_handling(_seasonal_complaints(), seasonality="none")
    ax = plot_control_chart(ch.chart, unit="month")
    ax.figure.canvas.draw()
    # beside the axes: the legend starts right of the plotting area
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    pooled = pd.DataFrame({"plan": ["a", "b"], "rate": [0.1, 0.2], "ci_low": [0.08, 0.17],
                           "ci_high": [0.12, 0.23]})
    ax = plot_segment_rates(pooled, "plan", title="t", xlabel="x", reference=0.15)
    ax.figure.canvas.draw()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    lift = pd.DataFrame({"available": [True, True], "churn_rate_fired": [0.108, 0.105],
                         "churn_rate_not_fired": [0.073, 0.051]}, index=["s1", "s2"])
    ax = signal_lift(lift)
    # headroom: the tallest bar ends below 1/1.3 of the axis, the legend is in the room above
    assert ax.get_ylim()[1] == pytest.approx(0.108 * 1.3)
    ax.figure.canvas.draw()
    bars = max(p.get_window_extent().y1 for p in ax.patches)
    assert ax.get_legend().get_window_extent().y0 >= bars
    plt.close("all")
