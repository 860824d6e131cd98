"""Kaplan-Meier, its summaries (confidence bands, median and its interval, survival at horizons,
RMST), the log-rank tests and the smoothed hazards of 30_survival computed on lifetime *counts*
(``survival.counts_frame``: one row per distinct exit and entry time of each group, weighted by
its customers) equal lifelines' fits on one row per customer, to 1e-12, with and without delayed
entry; and the counts of the lifetime frame in memory equal the engine's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter, NelsonAalenFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from churn_research import load
from churn_research import survival as sv
from churn_research.model import ChurnDataError
from churn_research.sources import engine
from churn_research.stats import logrank_chi2, logrank_parts
from churn_research.survival.diagnostics import at_risk
from churn_research.survival.km import WEIGHT, as_counts, counts_frame, lifetime_counts
from churn_research.synthetic import generate

ATOL = 1e-12
EVENT_TABLE = ["removed", "observed", "censored", "entrance", "at_risk"]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """Lifetime frames with delayed entry (synthetic: records start after many customers
    joined), without it (telco, entry switched off on synthetic) and of a purchase log
    (cdnow, inferred churn)."""
    synthetic = generate(3000, random_state=5)
    late = sv.durations(synthetic)
    assert (late["entry"] > 0).sum() > 300  # left truncation is exercised
    return {"synthetic": late,
            "synthetic_no_entry": sv.durations(synthetic, entry_date=None),
            "synthetic_weeks": sv.durations(synthetic, unit="weeks"),
            "telco": sv.durations(load("telco")),
            "cdnow": sv.durations(load("cdnow"))}


CASES = [("synthetic", None), ("synthetic", "plan"), ("synthetic", "contract"),
         ("synthetic_no_entry", "plan"), ("synthetic_weeks", "region"),
         ("telco", None), ("telco", "contract"), ("cdnow", None)]
IDS = [f"{n}-{b}" for n, b in CASES]


def _customer_fits(df: pd.DataFrame, by: str | None) -> dict:
    """lifelines on one row per customer (the path before counts), groups of 20 or more."""
    groups = [("all customers", df)] if by is None else list(df.groupby(by, observed=True, sort=True))
    out = {}
    for level, sub in groups:
        if len(sub) < 20:
            continue
        entry = sub["entry"].to_numpy(float) if (sub["entry"] > 0).any() else None
        out[level] = KaplanMeierFitter().fit(sub["duration"], sub["event"], entry=entry)
    return out


def _close(got, expected):
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(expected, float), rtol=0, atol=ATOL)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "by"), CASES, ids=IDS)
def test_km_on_counts_equals_lifelines_per_customer(frames, name, by):
    df = frames[name]
    compact = as_counts(df, by)
    counts = lifetime_counts(df, by)
    assert int(compact[WEIGHT].sum()) == len(df)
    assert len(compact) < len(counts["exits"]) + len(counts["entries"])  # not one row per customer
    expected = _customer_fits(df, by)
    got = sv.km_fit(compact, by=by)
    assert list(map(str, got)) == list(map(str, expected))
    for level, kmf in expected.items():
        g = got[level]
        et, ge = kmf.event_table, g.event_table
        np.testing.assert_array_equal(ge.index.to_numpy(), et.index.to_numpy())
        np.testing.assert_array_equal(ge[EVENT_TABLE].to_numpy(np.int64), et[EVENT_TABLE].to_numpy(np.int64))
        _close(g.survival_function_.to_numpy(), kmf.survival_function_.to_numpy())
        _close(g.confidence_interval_.to_numpy(), kmf.confidence_interval_.to_numpy())
        assert g.median_survival_time_ == kmf.median_survival_time_
        _close(median_survival_times(g.confidence_interval_).to_numpy(),
               median_survival_times(kmf.confidence_interval_).to_numpy())
        _close(sv.rmst(g, 36.0), sv.rmst(kmf, 36.0))
        _close(sv.survival_at(g, [12, 24, 36]).to_numpy(), sv.survival_at(kmf, [12, 24, 36]).to_numpy())


@pytest.mark.slow
@pytest.mark.parametrize(("name", "by"), CASES, ids=IDS)
def test_km_summary_of_customers_and_of_counts_agree(frames, name, by):
    """km_summary fits on counts either way; its customer and churn counts come from the weights
    and the curves' numbers from lifelines' fit per customer."""
    df = frames[name]
    horizons = [12, 24, 36] if name != "synthetic_weeks" else [52, 104]
    summary = sv.km_summary(df, by=by, horizons=horizons, rmst_horizon=max(horizons))
    pd.testing.assert_frame_equal(
        sv.km_summary(as_counts(df, by), by=by, horizons=horizons, rmst_horizon=max(horizons)), summary)
    for row, (level, kmf) in zip(summary.itertuples(index=False), _customer_fits(df, by).items(), strict=True):
        sub = df if by is None else df[df[by] == level]
        assert (row.customers, row.churned) == (len(sub), int(sub["event"].sum()))
        med = kmf.median_survival_time_
        assert row.median == med or (np.isinf(row.median) and np.isinf(med))
        lo, hi = median_survival_times(kmf.confidence_interval_).to_numpy(float).ravel()
        _close([row.median_lower, row.median_upper], [lo, hi])
        at = sv.survival_at(kmf, horizons)
        mine = summary[summary["group"] == level]
        for h in horizons:
            _close(mine[[f"S({h:g})", f"S({h:g})_lower", f"S({h:g})_upper"]].to_numpy().ravel(),
                   at.loc[float(h)].to_numpy())
        if np.isfinite(row.rmst):
            _close([row.rmst, row.rmst_se], sv.rmst(kmf, max(horizons)))


def _logrank_per_customer(df: pd.DataFrame, by: str):
    """The statistic on one row per customer: lifelines' test without delayed entry, the risk
    sets ``entry <= t <= duration`` with it."""
    sizes = df[by].value_counts()
    sub = df[df[by].isin(sizes.index[sizes >= 20])]
    levels = sorted(sub[by].unique().tolist(), key=str)
    codes = pd.Categorical(sub[by], categories=levels).codes
    T, E = sub["duration"].to_numpy(float), sub["event"].to_numpy(int)
    if (sub["entry"] > 0).any():
        parts = logrank_parts(T, E, codes, k=len(levels), entry=sub["entry"].to_numpy(float))
        return logrank_chi2(*parts), parts
    res = multivariate_logrank_test(T, sub[by].astype(str).to_numpy(), E)
    return ((float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value)),
            logrank_parts(T, E, codes, k=len(levels)))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "by"), [c for c in CASES if c[1] is not None],
                         ids=[i for i, c in zip(IDS, CASES, strict=True) if c[1] is not None])
def test_logrank_on_counts_equals_the_customer_test(frames, name, by):
    df = frames[name]
    (stat, dof, p), (obs, exp_, _) = _logrank_per_customer(df, by)
    got = sv.logrank(df, by=by)
    assert got["df"] == dof
    assert got["test_statistic"] == pytest.approx(stat, rel=1e-12)
    assert got["p"] == pytest.approx(p, rel=1e-9, abs=1e-300)
    np.testing.assert_array_equal(got["table"]["observed"], obs)
    _close(got["table"]["expected"], exp_)
    assert got["table"]["customers"].tolist() == df[by].value_counts().sort_index(
        key=lambda s: s.astype(str)).loc[lambda s: s >= 20].tolist()
    pairs = sv.pairwise_logrank(df, by=by)
    for row in pairs.itertuples():
        pair = df[df[by].isin([row.group_a, row.group_b])].copy()
        pair[by] = pair[by].astype(str)
        (s2, _, p2), _ = _logrank_per_customer(pair, by)
        assert row.test_statistic == pytest.approx(s2, rel=1e-12)
        assert row.p == pytest.approx(p2, rel=1e-9, abs=1e-300)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synthetic", "synthetic_no_entry", "cdnow"])
def test_smoothed_hazards_and_at_risk_on_counts(frames, name):
    df = frames[name]
    got = sv.smoothed_hazards(df, ["plan"] if "plan" in df else [], bandwidth=3.0, min_at_risk=100)
    sub = df
    entry = sub["entry"].to_numpy(float) if (sub["entry"] > 0).any() else None
    naf = NelsonAalenFitter().fit(sub["duration"], sub["event"], entry=entry)
    h = naf.smoothed_hazard_(3.0).iloc[:, 0]
    ci = naf.smoothed_hazard_confidence_intervals_(3.0, hazard_=h.to_numpy(float))
    overall = got[got["segment"].isna()].set_index("time")
    assert len(overall) > 10
    _close(overall["hazard"], h.loc[overall.index])
    _close(overall["lower"], ci.iloc[:, 1].to_numpy()[h.index.isin(overall.index)])
    _close(overall["upper"], ci.iloc[:, 0].to_numpy()[h.index.isin(overall.index)])
    times = np.r_[0.0, 0.5, overall.index.to_numpy(), 1e6]
    np.testing.assert_array_equal(at_risk(as_counts(df), times), at_risk(df, times))
    np.testing.assert_array_equal(overall["at_risk"], at_risk(df, overall.index))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "by", "options"), [
    ("synthetic", "plan", {}), ("synthetic", None, {"unit": "weeks"}), ("telco", "contract", {}),
    ("cdnow", None, {})])
def test_counts_in_memory_equal_the_engine_counts(name, by, options):
    data = generate(3000, random_state=5) if name == "synthetic" else load(name)
    if name == "synthetic":
        data = data.replace(customers=data.customers.drop(columns=["name", "phone", "email"]))
    df = sv.durations(data, **options)
    mine = lifetime_counts(df, by)
    theirs = engine.lifetime_counts(engine.from_data(data), by=by, **options)
    for key in ("exits", "entries"):
        a, b = mine[key], theirs[key]
        assert a.columns.tolist() == b.columns.tolist()
        np.testing.assert_array_equal(a.drop(columns=by or []).to_numpy(float),
                                      b.drop(columns=by or []).to_numpy(float))
        if by:
            assert a[by].astype(str).tolist() == b[by].astype(str).tolist()
    pd.testing.assert_frame_equal(counts_frame(mine).drop(columns=by or []),
                                  counts_frame(theirs).drop(columns=by or []), check_dtype=False)


def test_counts_frame_by_hand():
    """Four customers: entries at 0, 0, 2, 5; exits at 3 (churn), 6 (censored), 6 (churn) and
    6 (churn): the k-th entry is paired with the k-th exit."""
    df = pd.DataFrame({"duration": [3.0, 6.0, 6.0, 6.0], "event": [1, 0, 1, 1],
                       "entry": [0.0, 2.0, 5.0, 0.0], "plan": ["a", "a", "b", "b"]})
    df.attrs["unit"] = "months"
    got = as_counts(df)
    assert got.attrs == {"unit": "months"}
    assert got.to_dict("list") == {"duration": [3.0, 6.0, 6.0, 6.0], "event": [1, 0, 1, 1],
                                   "entry": [0.0, 0.0, 2.0, 5.0], WEIGHT: [1, 1, 1, 1]}
    by = as_counts(df, "plan")
    assert by.to_dict("list") == {"plan": ["a", "a", "b", "b"], "duration": [3.0, 6.0, 6.0, 6.0],
                                  "event": [1, 0, 1, 1], "entry": [0.0, 2.0, 0.0, 5.0],
                                  WEIGHT: [1, 1, 1, 1]}
    same = pd.concat([df] * 3, ignore_index=True)
    tripled = as_counts(same, "plan")
    assert tripled[WEIGHT].tolist() == [3, 3, 3, 3] and as_counts(tripled) is tripled
    assert sv.km_summary(same, by="plan", min_size=1)[["customers", "churned"]].to_numpy().tolist() == [[6, 3], [6, 6]]
    with pytest.raises(ValueError, match="exits and entries must count the same customers"):
        counts_frame({"exits": pd.DataFrame({"duration": [1.0], "event": [1], "n": [2]}),
                      "entries": pd.DataFrame({"entry": [0.0], "n": [1]}), "by": []})
    with pytest.raises(ValueError, match="an entry comes after every remaining exit"):
        counts_frame({"exits": pd.DataFrame({"duration": [1.0], "event": [1], "n": [1]}),
                      "entries": pd.DataFrame({"entry": [2.0], "n": [1]}), "by": []})
    with pytest.raises(ChurnDataError, match="segment column is missing"):
        as_counts(df, "region")


@pytest.mark.parametrize("p", [[0.01, 0.04, 0.03, 0.005], [0.5, 0.001, 0.2], [0.04], [0.3, 0.3, 0.01, 0.9, 0.012],
                               [1e-20, 0.6, 0.6, 0.02, 0.0125, 0.05]])
def test_holm_equals_statsmodels(p):
    from statsmodels.stats.multitest import multipletests

    from churn_research.survival.group_tests import _holm

    reject, adjusted = _holm(np.asarray(p, float))
    expected = multipletests(p, alpha=0.05, method="holm")
    np.testing.assert_array_equal(reject, expected[0])
    np.testing.assert_array_equal(adjusted, expected[1])
