"""Every business event as its own time-varying exposure in 30_survival's Cox model (issue 17):
two events with known effects, an event the model cannot separate, and the synthetic truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import survival as sv
from churn_research.model import ChurnData

D1, D2 = pd.Timestamp("2022-01-01"), pd.Timestamp("2023-07-01")
BASE, HR1, HR2 = 0.03, 1.5, 0.6        # monthly hazard; x1.5 after D1, then x0.6 on top after D2
MONTH = 365.25 / 12


def _two_events(n=6000, seed=0, events=(("price rise", D1), ("new app", D2)), end="2025-12-31"):
    """Customers joining uniformly 2019-2024 with a constant monthly hazard BASE, multiplied by
    HR1 from D1 on and by HR2 more from D2 on (calendar time); observed to ``end``."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2019-01-01")
    start = t0 + pd.to_timedelta(rng.uniform(0, 6 * 365, n).round(), unit="D")
    s = ((start - t0).days / MONTH).to_numpy(float)
    b1, b2 = (D1 - t0).days / MONTH, (D2 - t0).days / MONTH
    rates = np.array([BASE, BASE * HR1, BASE * HR1 * HR2])
    edges = np.array([b1, b2, np.inf])
    need = rng.exponential(1.0, n)               # cumulative hazard to be used up
    exit_m = np.full(n, np.nan)
    pos = s.copy()
    for k in range(3):
        lo = np.maximum(pos, edges[k - 1] if k else -np.inf)
        hi = edges[k]
        room = np.clip(hi - lo, 0, None) * rates[k]
        done = np.isnan(exit_m) & (need <= room)
        exit_m[done] = lo[done] + need[done] / rates[k]
        need = np.where(np.isnan(exit_m), need - room, need)
        pos = np.maximum(pos, hi)
    exit_date = t0 + pd.to_timedelta(np.round(exit_m * MONTH), unit="D")
    end = pd.Timestamp(end)
    customers = pd.DataFrame({"customer_id": np.arange(n), "start_date": start,
                              "end_date": pd.Series(exit_date).where(exit_date <= end),
                              "plan": rng.choice(["basic", "premium"], n)})
    ev = pd.DataFrame({"date": [d for _, d in events], "name": [e for e, _ in events]})
    return ChurnData(customers=customers, events=ev, observation_end=end)


@pytest.fixture(scope="module")
def two():
    data = _two_events()
    return data, sv.durations(data)


def test_each_event_gets_its_own_exposure_and_recovers_its_hazard_ratio(two):
    data, df = two
    ch = sv.change_analysis(data, df, data, df, covariates=["plan"])
    tb = ch.events
    assert tb["event"].tolist() == ["price rise", "new app"]
    assert tb["exposure"].tolist() == ["after_change_1", "after_change_2"]
    assert (tb["note"] == "").all() and (tb["exits_before"] >= 10).all()
    # each event's ratio: after it vs since the previous event (cumulative exposures)
    for row, truth in zip(tb.itertuples(), (HR1, HR2), strict=True):
        assert row.lower < truth < row.upper, tb
        assert abs(np.log(row.hr) - np.log(truth)) < 0.15
    # episodes split at both dates: a customer active across both has three pieces
    ep = ch.episodes
    across = df.loc[(df["start_date"] < D1) & (df["exit_date"] > D2), "customer_id"].iloc[0]
    e = ep[ep["customer_id"] == across]
    assert e[["after_change_1", "after_change_2"]].to_numpy().tolist() == [[0, 0], [1, 0], [1, 1]]
    figs = sv.change_figures(ch)
    assert figs["change_date"] == D1 and figs["change_hr"] == tb.loc[0, "hr"]
    assert figs["change_events.count"] == 2 and figs["change_events.2.event"] == "new app"
    assert figs["change_events.2.hr_lower"] == tb.loc[1, "lower"]


def test_events_parameter_selects_and_a_single_event_keeps_the_after_change_column(two):
    data, df = two
    ch = sv.change_analysis(data, df, data, df, covariates=["plan"], events=["new app"])
    assert ch.events["exposure"].tolist() == ["after_change"] and ch.name == "new app"
    # alone, "new app" is compared with everything before it (partly after the price rise)
    assert ch.hazard_ratios.loc["after_change", "hr"] == ch.events.loc[0, "hr"]
    with pytest.raises(ValueError, match="'launch' is neither an event name nor an event date"):
        sv.change_analysis(data, df, data, df, covariates=["plan"], events=["launch"])


def test_an_event_with_too_few_exits_around_it_is_left_out_with_a_note(two):
    data, df = two
    data = data.replace(events=pd.DataFrame({
        "date": [pd.Timestamp("2018-06-01"), D1, D1 + pd.Timedelta(days=3), D2],
        "name": ["founding", "price rise", "tweak", "new app"]}))
    ch = sv.change_analysis(data, df, data, df, covariates=["plan"])
    tb = ch.events.set_index("event")
    assert tb.loc["founding", "exposure"] == "" and tb.loc["founding", "exits_before"] == 0
    assert tb.loc["founding", "note"] == "too few exits observed before it to estimate its effect"
    assert tb.loc["tweak", "exposure"] == "" and tb.loc["tweak", "exits_before"] < 20
    assert tb.loc["tweak", "note"].startswith("too few exits between the previous event and it")
    assert tb.loc["price rise", "exposure"] == "after_change_1" and tb.loc["new app", "exposure"] == "after_change_2"
    # the tweak's three days count with the price rise: its ratio is the price rise's effect
    assert tb.loc["price rise", "lower"] < HR1 < tb.loc["price rise", "upper"]
    assert np.isnan(tb.loc["tweak", "hr"])
    figs = ch.key_figures()
    assert figs["change_events.1.note"].startswith("too few exits observed") and "change_events.1.hr" not in figs


def test_separable_events_counts_exits_in_each_window():
    df = pd.DataFrame({"event": [1, 1, 1, 0, 1, 1],
                       "exit_date": pd.to_datetime(["2020-01-01", "2020-06-01", "2021-01-01", "2021-02-01",
                                                    "2022-01-01", "2022-02-01"])})
    ev = pd.DataFrame({"date": pd.to_datetime(["2020-03-01", "2021-06-01"]), "event": ["a", "b"]})
    out = sv.separable_events(df, ev, min_exits=1)
    assert out[["exits_before", "exits_after", "kept"]].to_numpy().tolist() == [[1, 2, True], [2, 2, True]]
    out = sv.separable_events(df, ev, min_exits=2)
    assert out["kept"].tolist() == [False, True]
    assert out.loc[1, "exits_before"] == 3  # a left out: b's before window reaches back to the start
    assert out.loc[0, "exits_after"] == 2   # and a's after window runs to b, the next kept event
    assert out.loc[0, "note"] == "too few exits observed before it to estimate its effect"
    out = sv.separable_events(df, ev, min_exits=3)
    assert out["kept"].tolist() == [False, False]
    assert out.loc[1, "note"] == "too few exits after it to estimate its effect"


@pytest.mark.slow
def test_synthetic_change_effect_covers_the_generators_truth():
    """The generator's one business event (2024-07-01, true hazard ratio 1.5) through the same
    path as the report: its exposure's interval covers the truth."""
    from churn_research.data import load

    data = load("synthetic", n_customers=5000, random_state=0)
    df = sv.durations(data)
    ch = sv.change_analysis(data, df, data, df, covariates=["gender", "age", "channel", "customer_type", "plan",
                                                            "contract", "price_rise"],
                            reference={"contract": "monthly", "plan": "basic"}, per={"age": 10})
    row = ch.events.iloc[0]
    truth = np.exp(data.meta["truth"]["log_hr"]["change"])
    assert row["exposure"] == "after_change" and row["lower"] < truth < row["upper"]
    assert ch.key_figures()["change_hr"] == row["hr"]


def test_campaign_contact_is_an_exposure_from_the_contact_on():
    customers = pd.DataFrame({"customer_id": ["A", "B"], "start_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
                              "end_date": pd.to_datetime(["2024-12-01", None])})
    campaigns = pd.DataFrame({"customer_id": ["A", "B"], "date": pd.to_datetime(["2024-09-01"] * 2),
                              "treated": [1, 0]})
    data = ChurnData(customers=customers, campaigns=campaigns, observation_end=pd.Timestamp("2025-01-01"))
    df = sv.durations(data, unit="days")
    ep = sv.change_episodes(df, change_date="2024-07-01", campaigns=campaigns)
    a, b = ep[ep["customer_id"] == "A"], ep[ep["customer_id"] == "B"]
    # A: change on day 182, contact on day 244, churn on day 335; B (control) is never contacted
    assert a[["start", "stop"]].to_numpy().tolist() == [[0, 182], [182, 244], [244, 335]]
    assert a["campaign_contact"].tolist() == [0, 0, 1] and a["after_change"].tolist() == [0, 1, 1]
    assert b["campaign_contact"].tolist() == [0, 0]


@pytest.mark.slow
def test_the_reports_synthetic_data_with_its_campaign_recover_the_change_effect():
    """The report's synthetic data run a randomised retention campaign after the change: with the
    contact as an exposure, the change's interval covers the generator's 1.5 (without it, customers
    the campaign kept pull the change's ratio down, to about 1.3)."""
    from churn_research.data import load

    data = load("synthetic", n_customers=5000, random_state=0, complaint_resolution=True,
                campaign={"date": "2024-12-01", "horizon_days": 365})
    df = sv.durations(data)
    covs = ["gender", "age", "region", "channel", "customer_type", "plan", "contract", "price_rise"]
    ch = sv.change_analysis(data, df, data, df, covariates=covs, per={"age": 10},
                            reference={"contract": "monthly", "plan": "basic"})
    truth = np.exp(data.meta["truth"]["log_hr"]["change"])
    row = ch.events.iloc[0]
    assert row["lower"] < truth < row["upper"], ch.events
    assert ch.hazard_ratios.loc["campaign_contact", "upper"] < 1
