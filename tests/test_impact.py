"""Change impact: known answers on simulated counts, and the synthetic generator's truth
(ITS level change vs the true log hazard ratio; control chart catches an injected spike and
does not raise false alarms on a stable baseline across seeds)."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from churn_research import impact
from churn_research import indicators as ind
from churn_research.synthetic import generate

CHANGE = "2024-07-01"
TRUE_LOG_HR = math.log(1.5)


@cache
def _monthly(seed: int, hr: float = 1.5, spike: float | None = None) -> pd.DataFrame:
    extra = {"spike": {"month": "2023-03", "hazard_ratio": spike}} if spike else {}
    data = generate(4000, random_state=seed, change_hazard_ratio=hr, **extra)
    return ind.churn_table(data, freq="M")


def _counts_table(k, n, start="2020-01-01"):
    per = pd.period_range(start, periods=len(k), freq="M")
    return pd.DataFrame({"period": per.astype(str), "period_start": per.start_time,
                         "period_end": per.end_time.normalize(), "days": per.days_in_month,
                         "partial": False, "numerator": k, "denominator": n})


# ------------------------------------------------------------------------------------------
def test_before_after_known_counts():
    t = _counts_table([10, 10, 10, 20, 20, 20], [500] * 6)
    ba = impact.before_after(t, event_date="2020-04-01")
    assert ba.table.loc["before", "churn_rate"] == pytest.approx(30 / 1500)
    assert ba.table.loc["after", "churn_rate"] == pytest.approx(60 / 1500)
    lo, hi = proportion_confint(60, 1500, method="wilson")
    assert (ba.table.loc["after", "ci_low"], ba.table.loc["after", "ci_high"]) == pytest.approx((lo, hi))
    assert ba.difference == pytest.approx(0.02) and ba.ratio == pytest.approx(2.0)
    d = confint_proportions_2indep(60, 1500, 30, 1500, method="newcomb", compare="diff")
    assert ba.difference_ci == pytest.approx(tuple(d))
    assert ba.ratio_ci[0] > 1 and ba.p_value < 0.01
    assert ba.dispersion == 1.0   # identical periods within each side: no overdispersion


def test_mid_period_event_and_partial_periods_are_left_out():
    t = _counts_table([10] * 6, [500] * 6)
    t.loc[5, "partial"] = True
    s = impact.prepare_series(t, event_date="2020-03-15")
    assert s["phase"].tolist() == ["before", "before", "transition", "after", "after", "partial"]
    assert s["used"].tolist() == [True, True, False, True, True, False]


def test_its_recovers_a_known_cloglog_model():
    rng = np.random.default_rng(1)
    T, t0 = 48, 30
    t = np.arange(T)
    post = (t >= t0).astype(float)
    eta = math.log(0.02) - 0.004 * t + 0.5 * post + 0.01 * (t - t0) * post
    n = np.full(T, 20000)
    k = rng.binomial(n, 1 - np.exp(-np.exp(eta)))
    tab = _counts_table(k, n)
    tab["days"] = 30  # equal lengths: no offset effect
    its = impact.InterruptedTimeSeries().fit(tab, event_date=tab["period_start"].iloc[t0])
    p = its.params_.set_index("term")
    for term, truth in (("pre_trend", -0.004), ("level_change", 0.5), ("slope_change", 0.01)):
        assert p.loc[term, "ci_low"] <= truth <= p.loc[term, "ci_high"], term
    assert its.hazard_ratio_ == pytest.approx(math.exp(its.level_change_))
    # the counterfactual is the pre-change line continued
    s = its.series_
    b = its.params_["estimate"].to_numpy()
    expect = 1 - np.exp(-np.exp(b[0] + b[1] * s["t"].iloc[t0:]))
    assert s["counterfactual"].iloc[t0:].to_numpy() == pytest.approx(expect.to_numpy())
    assert s["counterfactual"].iloc[:t0].isna().all()
    assert its.excess_churned_ > 0


SEEDS = range(10)


@pytest.mark.slow
def test_its_level_change_matches_synthetic_truth():
    """The cloglog ITS level change estimates the generator's log hazard ratio log(1.5)."""
    fits = [impact.InterruptedTimeSeries(link="cloglog").fit(_monthly(s), event_date=CHANGE)
            for s in SEEDS]
    est = np.array([f.level_change_ for f in fits])
    covered = [f.level_change_ci_[0] <= TRUE_LOG_HR <= f.level_change_ci_[1] for f in fits]
    assert (est > 0).all()                                   # true sign in every seed
    assert all(f.level_change_ci_[0] > 0 for f in fits)      # and detected
    assert covered[0]                                        # the default dataset's CI covers it
    assert sum(covered) >= 8                                 # 95% intervals: ~9.5 of 10 expected
    assert abs(est.mean() - TRUE_LOG_HR) < 0.06              # no material bias (sd/seed ~0.09)


def test_its_without_a_change_covers_zero():
    fits = [impact.InterruptedTimeSeries().fit(_monthly(s, hr=1.0), event_date=CHANGE)
            for s in SEEDS]
    covered = [f.level_change_ci_[0] <= 0 <= f.level_change_ci_[1] for f in fits]
    assert sum(covered) >= 8
    assert abs(np.mean([f.level_change_ for f in fits])) < 0.06


# ------------------------------------------------------------------------------------------
def test_laney_limits_formula():
    k = np.array([20, 25, 18, 30, 22, 27, 19, 24, 21, 26])
    n = np.full(10, 1000)
    tab = _counts_table(k, n)
    cc = impact.ControlChart(chart="laney").fit(tab, baseline_end="2021-01-01",
                                                baseline_periods=None)
    pbar = k.sum() / n.sum()
    sp = math.sqrt(pbar * (1 - pbar) / 1000)
    z = (k / n - pbar) / sp
    sigma_z = np.abs(np.diff(z)).mean() / 1.128
    assert cc.center_ == pytest.approx(pbar)
    assert cc.sigma_z_ == pytest.approx(sigma_z)
    assert cc.table_["ucl"].iloc[0] == pytest.approx(pbar + 3 * sp * sigma_z)
    p = impact.ControlChart(chart="p").fit(tab, baseline_end="2021-01-01", baseline_periods=None)
    assert p.table_["ucl"].iloc[0] == pytest.approx(pbar + 3 * sp)


def test_laney_for_overdispersed_large_bases():
    """With a million customers, natural month-to-month variation of the underlying rate
    dwarfs binomial noise: the p-chart signals constantly, Laney's p' does not."""
    rng = np.random.default_rng(7)
    T = 36
    n = np.full(T, 1_000_000)
    p_true = 0.02 * np.exp(rng.normal(0, 0.05, T))   # stable process, 5% extra variation
    tab = _counts_table(rng.binomial(n, p_true), n)
    auto = impact.ControlChart().fit(tab, baseline_end="2022-01-01")
    plain = impact.ControlChart(chart="p").fit(tab, baseline_end="2022-01-01")
    assert auto.chart_ == "laney p'" and auto.sigma_z_ > 3
    assert len(plain.flagged_ + plain.flagged_low_ + plain.baseline_flagged_) >= 5
    assert auto.flagged_ == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_control_chart_flags_an_injected_spike(seed):
    cc = impact.control_chart(_monthly(seed, spike=3.0), baseline_end=CHANGE)
    assert "2023-03" in cc.flagged_
    # the spike is set aside in Phase I, so it does not widen the limits
    assert "2023-03" in cc.baseline_flagged_
    assert cc.table_.set_index("period").loc["2023-03", "rate"] > 1.5 * cc.table_["ucl"].max()
    # the change (hazard ratio 1.5) raises alarms after it
    assert any(p >= "2024-07" for p in cc.flagged_)


def test_control_chart_false_alarms_on_a_stable_business():
    """No change, no spike: no period is flagged high, across ten seeds (4000 customers,
    24 baseline months + 18 monitored months each, 420 months in all)."""
    alarms = {}
    for seed in SEEDS:
        cc = impact.control_chart(_monthly(seed, hr=1.0), baseline_end=CHANGE)
        alarms[seed] = cc.flagged_
        assert (cc.table_["phase"] == "baseline").sum() == 24
    assert all(not v for v in alarms.values()), alarms


def test_diff_in_diff_recovers_the_effect():
    rng = np.random.default_rng(5)
    per = pd.period_range("2022-01", periods=36, freq="M")
    season = 0.2 * np.sin(np.arange(36) / 12 * 2 * np.pi)
    rows = []
    for seg, base, effect in (("exposed", math.log(0.02), math.log(1.5)), ("spared", math.log(0.03), 0.0)):
        eta = base + season + effect * (per.start_time >= pd.Timestamp("2024-01-01"))
        n = np.full(36, 30000)
        k = rng.binomial(n, 1 - np.exp(-np.exp(eta)))
        rows.append(pd.DataFrame({"region": seg, "period": per.astype(str),
                                  "period_start": per.start_time, "period_end": per.end_time.normalize(),
                                  "days": 30, "partial": False, "numerator": k, "denominator": n}))
    tab = pd.concat(rows, ignore_index=True)
    did = impact.diff_in_diff(tab, segment="region", treated="exposed", control="spared",
                              event_date="2024-01-01")
    assert did["delta_ci_low"] <= math.log(1.5) <= did["delta_ci_high"]
    assert did["delta_ci_low"] > 0 and did["pretrend_p_value"] > 0.01


def test_verdict_says_worse_on_synthetic_data():
    t = _monthly(0)
    its = impact.InterruptedTimeSeries().fit(t, event_date=CHANGE)
    ba = impact.before_after(t, event_date=CHANGE)
    cc = impact.control_chart(t, baseline_end=CHANGE)
    text = impact.verdict(its=its, before_after=ba, chart=cc)
    assert text.startswith("**Verdict: churn got worse")
    assert "hazard ratio" in text and "control chart" in text


# ------------------------------------------------------------------------------------------
# seasonality (month-of-year terms in the ITS, a seasonal baseline in the control chart)
SEASON = {1: 0.35, 2: 0.2, 7: -0.1, 8: -0.1, 12: -0.45}   # log hazard ratio by calendar month


def _seasonal_table(seed: int, effect: float, *, T: int = 50, t0: int = 36, effects=None):
    """Monthly counts from a cloglog model with a pre-trend, a known seasonal pattern and a
    level change ``effect`` at month ``t0`` (or ``effects``: {t0: effect, ...})."""
    rng = np.random.default_rng(seed)
    per = pd.period_range("2020-01-01", periods=T, freq="M")
    t = np.arange(T)
    steps = sum(e * (t >= s) for s, e in (effects or {t0: effect}).items())
    season = np.array([SEASON.get(m, 0.0) for m in per.month])
    eta = math.log(0.02) + 0.002 * t + steps + season + np.log(per.days_in_month / 30.4)
    n = np.full(T, 20000)
    return _counts_table(rng.binomial(n, 1 - np.exp(-np.exp(eta))), n)


@pytest.mark.parametrize("effect", [0.0, 0.3])
def test_seasonal_its_recovers_the_change_where_the_plain_one_is_biased(effect):
    seas, plain = [], []
    for seed in range(6):
        tab = _seasonal_table(seed, effect)
        ev = tab["period_start"].iloc[36]
        a = impact.InterruptedTimeSeries(seasonality="auto").fit(tab, event_date=ev)
        assert a.seasonal_ and a.seasonality_test_["p_value"] < 1e-10
        assert a.seasonal_ratios_.loc[12] / a.seasonal_ratios_.loc[1] == pytest.approx(
            math.exp(SEASON[12] - SEASON[1]), rel=0.1)
        seas.append(a)
        plain.append(impact.InterruptedTimeSeries(seasonality="none").fit(tab, event_date=ev))
    covered = [f.level_change_ci_[0] <= effect <= f.level_change_ci_[1] for f in seas]
    assert sum(covered) >= 5
    assert abs(np.mean([f.level_change_ for f in seas]) - effect) < 0.04
    # the after window holds two Januaries and Februaries (high months): biased upwards
    assert np.mean([f.level_change_ for f in plain]) - effect > 0.12


def test_seasonal_control_chart_does_not_flag_the_season():
    tab = _seasonal_table(0, 0.0)
    ev = tab["period_start"].iloc[36]
    plain = impact.ControlChart(seasonality="none").fit(tab, baseline_end=ev)
    seas = impact.ControlChart(seasonality="auto").fit(tab, baseline_end=ev)
    assert {"2021-12", "2022-12", "2023-12"} <= set(plain.flagged_low_)
    assert {"2021-01", "2022-01", "2023-01", "2024-01"} <= set(plain.flagged_)
    assert seas.seasonal_ and seas.flagged_ == [] and seas.flagged_low_ == []
    # the centre line of a month is its pooled baseline rate
    base = seas.table_[seas.table_["phase"] == "baseline"]
    dec = base[base["period"].str.endswith("-12")]
    centre = seas.table_.loc[seas.table_["period"] == "2023-12", "center"].iloc[0]
    assert centre == pytest.approx(dec["k"].sum() / dec["n"].sum())


def test_seasonality_auto_needs_two_years_and_a_better_fit():
    tab = _seasonal_table(0, 0.3)
    short = impact.InterruptedTimeSeries(seasonality="auto").fit(tab.iloc[20:], event_date=tab["period_start"].iloc[36])
    assert not short.seasonal_ and short.seasonality_test_ is None
    assert "fewer than the 24" in short.seasonality_reason_
    flat = _counts_table(np.random.default_rng(3).binomial(20000, 0.02, 50), [20000] * 50)
    its = impact.InterruptedTimeSeries(seasonality="auto").fit(flat, event_date="2023-01-01")
    assert not its.seasonal_ and its.seasonality_test_["p_value"] > 0.05
    q = _counts_table([10] * 12, [500] * 12)
    q["days"] = 91
    with pytest.raises(ValueError, match="seasonality='month' needs calendar-month periods"):
        impact.InterruptedTimeSeries(seasonality="month").fit(q, event_date="2020-07-01")
    with pytest.raises(ValueError, match="seasonality must be 'auto', 'none' or 'month'"):
        impact.ControlChart(seasonality="yes").fit(tab, baseline_end="2023-01-01")


# ------------------------------------------------------------------------------------------
# every business event
def test_each_event_recovers_two_effects_on_their_own_windows():
    events = pd.DataFrame({"date": pd.to_datetime(["2022-01-01", "2023-07-01"]),
                           "event": ["price rise", "new app"]})
    hits = {0: 0, 1: 0}
    for seed in range(4):
        tab = _seasonal_table(seed, 0.0, T=60, effects={24: 0.4, 42: -0.3})
        out = ind.each_event(tab, events, seasonality="month")
        assert out["event"].tolist() == ["price rise", "new app"]
        # windows end at the next event and start at the previous one
        assert out["window"].tolist() == ["2020-01 – 2023-06", "2022-01 – 2024-12"]
        assert out[["periods_before", "periods_after"]].to_numpy().tolist() == [[24, 18], [18, 18]]
        for i, truth in enumerate((0.4, -0.3)):
            lo, hi = np.log(out.loc[i, ["level_ratio_ci_low", "level_ratio_ci_high"]].astype(float))
            hits[i] += lo <= truth <= hi
            assert abs(np.log(out.loc[i, "level_ratio"]) - truth) < 0.12
    assert hits[0] >= 3 and hits[1] >= 3


def test_select_events_by_name_or_date_and_short_windows():
    data = generate(300, random_state=0)
    assert ind.select_events(data)["event"].tolist() == ["rename_and_new_owner"]
    assert ind.select_events(data, ["2024-07-01"])["date"].tolist() == [pd.Timestamp(CHANGE)]
    with pytest.raises(ValueError, match="'launch' is neither an event name nor an event date"):
        ind.select_events(data, ["launch"])
    tab = _seasonal_table(0, 0.0, T=30)
    events = pd.DataFrame({"date": pd.to_datetime(["2021-01-01", "2021-03-01"]), "event": ["a", "b"]})
    out = ind.each_event(tab, events)
    # a: 12 months before, 2 after (ending at b); b: only 2 months since a, so no ITS
    assert out["note"].str.startswith("too few complete periods").tolist() == [False, True]
    assert out.loc[0, ["periods_before", "periods_after"]].tolist() == [12, 2]
    assert np.isnan(out.loc[1, "level_ratio"]) and out.loc[1, "window"] == "2021-01 – 2022-06"


def test_experience_by_event_compares_surveys_and_complaints_on_the_windows():
    data = generate(1500, random_state=0)
    events = pd.DataFrame({"date": pd.to_datetime(["2023-01-01", CHANGE]), "event": ["a", "b"]})
    exp = ind.events.experience_by_event(data, events)
    assert exp["measure"].tolist() == ["mean CSAT", "NPS", "complaint share per period"] * 2
    d = pd.to_datetime(data.surveys["date"])
    csat = data.surveys["csat"]
    before = csat[(d >= "2023-01-01") & (d < CHANGE)].dropna()
    after = csat[d >= CHANGE].dropna()
    row = exp[(exp["event"] == "b") & (exp["measure"] == "mean CSAT")].iloc[0]
    assert (row["before"], row["after"]) == pytest.approx((before.mean(), after.mean()))
    assert (row["n_before"], row["n_after"]) == (len(before), len(after))
    nps = data.surveys["nps"][d < "2023-01-01"].dropna()
    first = exp[(exp["event"] == "a") & (exp["measure"] == "NPS")].iloc[0]
    assert first["before"] == pytest.approx(100 * ((nps >= 9).mean() - (nps <= 6).mean()))
    assert first["ci_low"] < first["difference"] < first["ci_high"]


@pytest.mark.slow
def test_seasonal_its_recovers_the_generators_change_effect_with_a_seasonal_pattern():
    """A seasonal pattern added through the generator's spike option (December x0.5, January
    x1.6, February x1.3 every year): the seasonal ITS keeps month terms and its interval covers
    the true log HR, and is much narrower than the plain one's; the seasonal control chart flags
    no month before the change while the plain chart reads Januaries as abnormal."""
    season = [{"month": f"{y}-{m:02d}", "hazard_ratio": hr} for y in range(2020, 2026)
              for m, hr in ((12, 0.5), (1, 1.6), (2, 1.3))]
    covered, widths, plain_pre, seas_pre = 0, [], [], []
    for seed in range(5):
        tab = ind.churn_table(generate(4000, random_state=seed, spike=season), freq="M")
        a = impact.InterruptedTimeSeries(seasonality="auto").fit(tab, event_date=CHANGE)
        b = impact.InterruptedTimeSeries(seasonality="none").fit(tab, event_date=CHANGE)
        assert a.seasonal_ and a.seasonal_ratios_.loc[12] < a.seasonal_ratios_.loc[1]
        covered += a.level_change_ci_[0] <= TRUE_LOG_HR <= a.level_change_ci_[1]
        widths.append(np.diff(a.level_change_ci_)[0] / np.diff(b.level_change_ci_)[0])
        ca = impact.ControlChart(seasonality="auto").fit(tab, baseline_end=CHANGE)
        cb = impact.ControlChart(seasonality="none").fit(tab, baseline_end=CHANGE)
        assert ca.seasonal_
        seas_pre += [p for p in ca.flagged_ + ca.flagged_low_ if p < CHANGE[:7]]
        plain_pre += [p for p in cb.flagged_ + cb.flagged_low_ if p < CHANGE[:7]]
    assert covered >= 4 and max(widths) < 0.7
    assert seas_pre == [] and {"2023-01", "2024-01"} <= set(plain_pre)


def test_seasonal_before_after_compares_the_after_months_with_their_own_before_months():
    """No change but a season and a pre-trend (0.002 a month: the after months are on average 25
    months later, a log ratio of 0.05 that a before/after comparison cannot remove), and an after
    window heavy in high months: the seasonal baseline reads only the trend, the pooled one more;
    the report says which baseline it used."""
    from churn_research.narrate.indicators import before_after_sentence

    ratios = {"none": [], "month": []}
    for seed in range(6):
        tab = _seasonal_table(seed, 0.0)
        ev = tab["period_start"].iloc[36]
        for choice in ratios:
            ratios[choice].append(impact.before_after(tab, event_date=ev, seasonality=choice))
    assert all(not b.seasonal for b in ratios["none"]) and all(b.seasonal for b in ratios["month"])
    trend = 0.002 * (np.arange(36, 50).mean() - np.arange(36).mean())
    seasonal_bias = np.mean([math.log(b.ratio) for b in ratios["month"]]) - trend
    pooled_bias = np.mean([math.log(b.ratio) for b in ratios["none"]]) - trend
    assert abs(seasonal_bias) < 0.02 and abs(pooled_bias) > 2 * abs(seasonal_bias) + 0.02
    seasonal = before_after_sentence(ratios["month"][0], unit="month")
    assert "expected from the before months of the same calendar month" in seasonal
    assert "month-of-year terms, by choice" in seasonal
    assert "Pooled churn per month" in before_after_sentence(ratios["none"][0], unit="month")
