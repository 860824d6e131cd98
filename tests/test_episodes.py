"""Lapse episodes of purchase logs (indicators.episodes): every gap of more than
``inactivity_days`` is a lapse counted in the period of the purchase before it, and a customer
who buys again returns. Counted by hand on a tiny log; the tail periods whose lapses are not
visible yet are not in the trend; on a stationary process the episode rate is flat while the
final-lapse rate drifts upwards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import indicators as ind
from churn_research.model import ChurnData
from churn_research.narrate import indicators as narrate

D = pd.Timestamp

#: Each customer's purchases (inactivity 30 days, snapshot 2024-08-31, window to 2024-07-31).
PURCHASES = {
    # lapse after 01-20 (50 days to 03-10), returns 03-10, final lapse after 03-25
    "A": ["2024-01-05", "2024-01-20", "2024-03-10", "2024-03-25"],
    # exactly 30 days (03-01 -> 03-31) is no lapse; 45 days (03-31 -> 05-15) is; active at the end
    "B": ["2024-01-10", "2024-02-05", "2024-03-01", "2024-03-31", "2024-05-15", "2024-06-10",
          "2024-07-05", "2024-08-01"],
    # one purchase: joins and lapses in February
    "C": ["2024-02-15"],
    # joins on the first day of February, never lapses
    "D": ["2024-02-01", "2024-02-20", "2024-03-15", "2024-04-10", "2024-05-01", "2024-05-30",
          "2024-06-25", "2024-07-20", "2024-08-15"],
    # joins and lapses in June, returns on the window's last day and lapses again (31 days left)
    "E": ["2024-06-20", "2024-07-31"],
}


@pytest.fixture
def log() -> ChurnData:
    rows = [(c, d) for c, dates in PURCHASES.items() for d in dates]
    tx = pd.DataFrame(rows, columns=["customer_id", "date"]).sample(frac=1.0, random_state=3)
    tx["date"] = pd.to_datetime(tx["date"])
    tx["amount"] = 10.0
    cust = pd.DataFrame({"customer_id": list(PURCHASES),
                         "start_date": pd.to_datetime([d[0] for d in PURCHASES.values()]),
                         "end_date": pd.NaT})
    return ChurnData(customers=cust, transactions=tx.reset_index(drop=True),
                     observation_end=D("2024-08-31"), kind="non-contractual", inactivity_days=30)


def test_spells_by_hand(log):
    e = ind.lapse_episodes(log)
    got = [(r.customer_id, r.spell, f"{r.start_date:%m-%d}",
            None if pd.isna(r.end_date) else f"{r.end_date:%m-%d}", r.returned) for r in e.itertuples()]
    assert got == [("A", 0, "01-05", "01-20", False), ("A", 1, "03-10", "03-25", True),
                   ("B", 0, "01-10", "03-31", False), ("B", 1, "05-15", None, True),
                   ("C", 0, "02-15", "02-15", False),
                   ("D", 0, "02-01", None, False),
                   ("E", 0, "06-20", "06-20", False), ("E", 1, "07-31", "07-31", True)]
    # each customer's last spell ends where the customer-level rule (infer_churn) says
    last = e.groupby("customer_id").tail(1).set_index("customer_id")["end_date"]
    rule = ind.prepared_customers(log).set_index("customer_id")["end_date"]
    pd.testing.assert_series_equal(last, rule, check_names=False)


def test_monthly_table_by_hand(log):
    t = ind.churn_table(log, freq="M")
    assert t.attrs["lapses"] == "episodes" and t.attrs["window"] == ("2024-01-05", "2024-07-31")
    cols = ["period", "at_risk", "new", "returned", "churned", "churned_new", "exposed", "at_end"]
    assert t[cols].values.tolist() == [
        ["2024-01", 0, 2, 0, 1, 1, 2, 1],    # A and B join; A lapses (returns later)
        ["2024-02", 1, 2, 0, 1, 1, 3, 2],    # B at risk; C and D join; C lapses
        ["2024-03", 2, 0, 1, 2, 1, 3, 1],    # B, D at risk; A returns and lapses again; B lapses
        ["2024-04", 1, 0, 0, 0, 0, 1, 1],    # D
        ["2024-05", 1, 0, 1, 0, 0, 2, 2],    # D; B returns
        ["2024-06", 2, 1, 0, 1, 1, 3, 2],    # D, B; E joins and lapses
        ["2024-07", 2, 0, 1, 1, 1, 3, 2],    # D, B; E returns on the last day and lapses
    ]
    assert t["churn_rate"].tolist() == pytest.approx([1 / 2, 1 / 3, 2 / 3, 0, 0, 1 / 3, 1 / 3])
    assert not t["partial"].iloc[1:].any()
    # losses among those on the books at the start: (churned - churned_new) / at_risk
    s = ind.churn_table(log, freq="M", denominator="start")
    assert s["churn_rate"].iloc[1:].tolist() == pytest.approx([0, 1 / 2, 0, 0, 0, 0])
    # final lapses only: A's January lapse and B's March lapse are missed (both came back)
    f = ind.churn_table(log, freq="M", lapses="final")
    assert f["churned"].tolist() == [0, 1, 1, 0, 0, 0, 1]
    assert f["at_risk"].tolist() == [0, 2, 3, 2, 2, 2, 3] and f["returned"].sum() == 0
    with pytest.raises(ValueError, match="lapses must be one of"):
        ind.churn_table(log, freq="M", lapses="first")


def test_returns_split_by_tenure(log):
    # tenure cut-off 2 months: A existing from April, B from April, E not within the window
    t = ind.new_vs_existing(log, freq="M", new_tenure_months=2).set_index(["tenure_group", "period"])
    total = ind.churn_table(log, freq="M").set_index("period")
    for col in ("at_risk", "new", "returned", "churned", "churned_new"):
        assert (t[col].groupby(level="period").sum() == total[col]).all(), col
    assert t.loc[("new", "2024-03"), "returned"] == 1        # A returns 2 months after joining
    assert t.loc[("existing", "2024-05"), "returned"] == 1   # B returns 4 months after joining
    assert t.loc[("new", "2024-07"), "returned"] == 1        # E returns after 41 days
    assert t.loc[("existing", "2024-04"), "at_risk"] == 1    # D joined 02-01: existing from April
    assert t.loc[("existing", "2024-06"), "at_risk"] == 2    # D and B (returned in May)


def test_quarterly_counts_spells(log):
    q = ind.churn_table(log, freq="Q")
    # 2024Q1: A lapses twice (January, March) and returns once; Q3 is cut at 07-31 (partial)
    assert q[["period", "new", "returned", "churned", "churned_new", "exposed"]].values.tolist() == [
        ["2024Q1", 4, 1, 4, 4, 5], ["2024Q2", 1, 1, 1, 1, 3], ["2024Q3", 0, 1, 1, 1, 3]]
    assert q["partial"].tolist() == [True, False, True]


def test_tail_periods_are_not_in_the_trend(log):
    # snapshot 2024-08-20: lapses are visible up to 2024-07-20, so July is cut short
    short = ChurnData(customers=log.customers, transactions=log.transactions[log.transactions["date"]
                      <= D("2024-08-20")], observation_end=D("2024-08-20"), kind="non-contractual",
                      inactivity_days=30)
    t = ind.churn_table(short, freq="M")
    last_visible = D("2024-08-20") - pd.Timedelta(days=31)
    assert t["period_end"].max() == last_visible and bool(t["partial"].iloc[-1])
    trend = ind.trend_table(t, kind="non-contractual")
    assert "2024-07" not in set(trend["period"]) and not trend["partial"].any()
    assert (trend["period_end"] <= last_visible).all()
    assert ind.latest_period(t)["period"] == "2024-06"
    figs = ind.churn_figures(ind.overall_churn(short), ind.latest_period(t), t, kind="non-contractual")
    assert figs["latest_period"] == "2024-06" and figs["lapses"] == "episodes"
    pooled = ind.pooled_rates(trend)
    assert figs["mean_churn_rate_per_period"] == pooled["rate"].iloc[0]


def test_acquisition_months_are_not_plotted():
    t = pd.DataFrame({"period": [f"2024-{m:02d}" for m in range(1, 6)], "partial": [False] * 4 + [True],
                      "churn_rate": [0.5, 0.4, 0.05, 0.04, 0.01], "new": [100, 50, 5, 5, 0],
                      "at_risk": [0, 100, 200, 200, 200], "numerator": [50, 60, 10, 8, 2],
                      "denominator": [100, 150, 205, 205, 200], "churn_ci_low": 0.0,
                      "churn_ci_high": 1.0, "retention_rate": 0.5, "returned": 0})
    assert ind.trend_table(t, kind="non-contractual")["period"].tolist() == ["2024-03", "2024-04"]
    assert ind.trend_table(t, kind="contractual")["period"].tolist() == [f"2024-0{m}" for m in range(1, 5)]
    figs = ind.churn_figures({"churn_rate": 0.5, "ci_low": 0.4, "ci_high": 0.6, "definition": "x",
                              "customers_at_risk": 10, "churned": 5}, t.iloc[3], t, kind="non-contractual")
    assert figs["mean_churn_rate_per_period"] == pytest.approx(18 / 410)
    assert (figs["mean_churn_rate_first_period"], figs["mean_churn_rate_last_period"]) == ("2024-03", "2024-04")
    contractual = ind.churn_figures({"churn_rate": 0.5, "ci_low": 0.4, "ci_high": 0.6, "definition": "x",
                                     "customers_at_risk": 10, "churned": 5}, t.iloc[3], t)
    assert contractual["mean_churn_rate_per_period"] == pytest.approx(128 / 660)
    assert "mean_churn_rate_first_period" not in contractual and "lapses" not in contractual


def _stationary_log(n: int = 1500, years: int = 6, seed: int = 0) -> ChurnData:
    """One cohort buying as Poisson processes (gamma-distributed rates, mean one purchase per 60
    days) for ``years``: nobody ages or dies, so the true lapse rate is the same every period."""
    rng = np.random.default_rng(seed)
    t0, obs = D("2015-01-01"), D("2015-01-01") + pd.DateOffset(years=years)
    span = (obs - t0).days
    k = rng.poisson(rng.gamma(1.0, 1 / 60, n) * span)
    cid = np.concatenate([np.arange(n), np.repeat(np.arange(n), k)])
    day = np.concatenate([np.zeros(n, dtype=int), rng.integers(1, span, k.sum())])
    tx = pd.DataFrame({"customer_id": cid.astype(str), "date": t0 + pd.to_timedelta(day, "D"),
                       "amount": 1.0})
    cust = pd.DataFrame({"customer_id": np.arange(n).astype(str), "start_date": t0, "end_date": pd.NaT})
    return ChurnData(customers=cust, transactions=tx, observation_end=obs, kind="non-contractual",
                     inactivity_days=180)


def test_episode_rate_is_flat_on_a_stationary_process():
    data = _stationary_log()
    ep = ind.churn_table(data, freq="Q")
    fin = ind.churn_table(data, freq="Q", lapses="final")
    # quarters 2..: after the first quarter (the joiners' transient), complete ones only
    ep, fin = (t[~t["partial"]].iloc[1:] for t in (ep, fin))
    first, last = ep["churn_rate"].iloc[:6].mean(), ep["churn_rate"].iloc[-6:].mean()
    assert last / first == pytest.approx(1.0, abs=0.1)
    slope = np.polyfit(np.arange(len(ep)), ep["churn_rate"], 1)[0]
    assert abs(slope) * len(ep) < 0.02                        # < 2 points over five years
    # the final-lapse rate rises for no reason but the shrinking look-ahead
    assert fin["churn_rate"].iloc[-6:].mean() > 5 * fin["churn_rate"].iloc[:6].mean()
    # same window, same joiners; the episode table's at-risk customers are those in a spell
    assert ep["period"].tolist() == fin["period"].tolist()
    assert (ep["at_risk"] <= fin["at_risk"]).all()


def test_narrative_states_the_lapse_definition(log):
    text = narrate.window_text(log, dataset="tiny", window=ind.observation_window(log), unit="month",
                               impact_unit="month")
    assert "A **lapse** is a gap of more than 30 days without a purchase" in text
    assert "counts as a loss in the month of the purchase before the gap" in text
    assert "count only each customer's final lapse" in text
    t = ind.churn_table(log, freq="M")
    trend = narrate.trend_text(t, kind="non-contractual", unit="month")
    # January is cut by the window (the first start is 01-05); February and June are months of
    # heavy acquisition: the trend is March, April, May and July
    assert "before 2024-03 show inflated churn (up to 33%)" in trend
    assert "Churn per month moved from 66.67% (2024-03) to 33.33% (2024-07)" in trend
    assert "count again from the month of that purchase (from 2024-03; 1 in 2024-07)" in trend
    assert "many lapse again in the same month (1 in 2024-07)" in trend
    assert "churn moved from 50.00% (2024-03) to 0.00% (2024-07)" in trend
    assert "returned" in narrate.churn_table_view(t).data.columns
    overall = ind.overall_churn(log)
    assert overall["lapses"] == "final" and overall["churned"] == 3     # A, C, E lost for good
    text = narrate.churn_text(overall, ind.latest_period(t), unit="month")
    assert "lost for good (final lapse)" in text and "1 customer returned after a lapse" in text
