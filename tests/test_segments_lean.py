"""The lean watchlist path (ranking on every active customer, the other columns for the top
rows only, no copy of the feature frame) against the whole-frame path it replaced: the same
rows, columns and values, to the last bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import segments as S
from churn_research.segments.rules import WATCHLIST_COLUMNS
from churn_research.segments.watchlist import (
    assert_no_personal_data,
    price_sensitive,
    suggest_actions,
)


def _whole_frame_watchlist(features, risk, *, tiers, signals, top_n=100, high_value_min_m=5,
                           open_complaints=None):
    """build_watchlist as it was before the lean path: every column built for every active
    customer, then sorted and cut to the top rows."""
    act = features.index[features["active"].astype(bool).to_numpy()]
    df = pd.DataFrame(index=act)
    df["tier"] = tiers.reindex(act).astype(str)
    df["high_value"] = features.loc[act, "m_score"].astype("float64").fillna(0) >= high_value_min_m
    df["risk"] = risk.reindex(act).astype(float)
    df["value"] = features.loc[act, "value"].astype(float)
    df["expected_loss"] = df["risk"] * df["value"]
    df["priority"] = df["expected_loss"]
    sig = signals.reindex(act)
    df["signals"] = sig["signals"].fillna("")
    df["n_signals"] = sig["n_signals"].fillna(0).astype(int)
    df["dominant_signal"] = sig["dominant_signal"].fillna("none")
    state = pd.DataFrame(index=act)
    state["price_sensitive"] = price_sensitive(features.loc[act]).reindex(act).fillna(False).astype(bool)
    if "contract" in features:
        state["contract"] = features["contract"].reindex(act)
    if open_complaints is not None:
        state["open_complaints"] = open_complaints.reindex(act).fillna(0).astype("int64")
    df = df.join(state)
    df = df.dropna(subset=["priority"]).sort_values(["priority", "risk"], ascending=False,
                                                    kind="stable").head(int(top_n))
    df = df.join(suggest_actions(df))
    df.index.name = "customer_id"
    df = df.reset_index()
    df["rank"] = np.arange(1, len(df) + 1)
    out = df[WATCHLIST_COLUMNS].copy()
    assert_no_personal_data(out)
    return out


THRESHOLDS = {"activity_drop_ratio": 0.5, "min_baseline_tx": 3, "frequency_trend": -0.25,
              "min_trend_tx": 4, "complaint_min": 1, "low_csat": 2, "low_nps": 4}


@pytest.fixture(scope="module")
def scored():
    from churn_research.synthetic import generate

    data = generate(2000, random_state=3, complaint_resolution=True)
    feats = S.features_at(data, data.observation_end)
    rng = np.random.default_rng(0)
    act = feats.index[feats["active"].to_numpy(bool)]
    # ties (rounded risks, equal values) and missing risks: the sort's order must not change
    risk = pd.Series(np.round(rng.uniform(0, 1, len(act)), 1), index=act)
    risk.iloc[::7] = np.nan
    feats.loc[act[::3], "value"] = 5000.0  # the top rows tie on risk x value and on risk
    comp = S.open_complaints(data.tickets, data.observation_end, days=90)
    return feats, risk, comp


@pytest.mark.slow
@pytest.mark.parametrize("top_n", [0, 1, 37, 100, 100_000])
@pytest.mark.parametrize("price_rise", [True, False])
def test_lean_watchlist_equals_the_whole_frame_one(scored, top_n, price_rise):
    feats, risk, comp = scored
    if not price_rise:  # price sensitivity from the contract and the revenue quintile instead
        feats = feats.drop(columns="price_rise")
        assert "contract" in feats and "monthly_revenue" in feats
    tiers = S.value_tiers(feats)
    signals = S.early_warning_signals(feats, **THRESHOLDS)
    whole = _whole_frame_watchlist(feats, risk, tiers=tiers, signals=signals, top_n=top_n,
                                   open_complaints=comp)
    given = S.build_watchlist(feats, risk, tiers=tiers, signals=signals, top_n=top_n,
                              open_complaints=comp)
    lean = S.build_watchlist(feats, risk, tiers=tiers, signal_thresholds=THRESHOLDS,
                             top_n=top_n, open_complaints=comp)
    assert len(whole) == min(top_n, int(risk.notna().sum()))
    if len(whole) > 2:  # ties on both sort keys are exercised
        assert whole.duplicated(["priority", "risk"]).sum() > 0
    pd.testing.assert_frame_equal(given, whole, check_exact=True)
    pd.testing.assert_frame_equal(lean, whole, check_exact=True)
    assert lean.to_csv(index=False, float_format="%.4f") == whole.to_csv(index=False,
                                                                          float_format="%.4f")


@pytest.mark.slow
def test_all_rows_equals_a_frame_marked_active(scored):
    """60_retention's list at the training cutoff: every labelled customer counts, as with
    ``features.assign(active=True)`` (a copy of the frame), and ``playbook_state`` agrees."""
    feats, risk, comp = scored
    feats = feats.drop(columns="price_rise")
    every = pd.Series(np.linspace(0, 1, len(feats)), index=feats.index)
    tiers = S.value_tiers(feats)
    marked = feats.assign(active=True)
    whole = _whole_frame_watchlist(marked, every, tiers=tiers,
                                   signals=S.early_warning_signals(marked, **THRESHOLDS),
                                   top_n=len(feats))
    lean = S.build_watchlist(feats, every, tiers=tiers, signal_thresholds=THRESHOLDS,
                             top_n=len(feats), all_rows=True)
    assert (~feats["active"]).sum() > 0 and len(lean) == len(feats)
    pd.testing.assert_frame_equal(lean, whole, check_exact=True)
    ids = feats.index[::3]
    pd.testing.assert_frame_equal(S.playbook_state(feats, ids, all_rows=True, open_complaints=comp),
                                  S.playbook_state(marked, ids, open_complaints=comp))
    # not the same as the active customers' state: the price quintile is over other customers
    a = S.playbook_state(feats, feats.index, all_rows=True)["price_sensitive"]
    b = S.playbook_state(feats, feats.index)["price_sensitive"]
    assert a.sum() != b.sum()


@pytest.mark.slow  # fits the risk model
def test_scoring_rows_in_place_equals_scoring_a_copy_of_them():
    """score_customers scores the active rows of today's features in place (``rows``), with
    the same risks to the last bit as scoring a copy of those rows."""
    from churn_research.synthetic import generate

    data = generate(2000, random_state=1)
    cutoff = S.resolve_cutoff(data, None, horizon_days=90, design="prospective")
    feats = S.features_at(data, cutoff)
    y = S.churn_label(data, cutoff, horizon_days=90)
    model = S.ChurnRiskModel(random_state=0, n_splits=3).fit(feats.loc[y.index], y)
    now, risk = S.score_customers(data, model)
    act = now.loc[now["active"].to_numpy(bool)]
    assert len(act) < len(now)
    pd.testing.assert_series_equal(risk, model.predict_proba(act), check_exact=True)
    rows = np.array([5, 0, 17, 3])
    pd.testing.assert_series_equal(model.predict_proba(now, rows=rows),
                                   model.predict_proba(now.iloc[rows]), check_exact=True)


def test_duckdb_gives_freed_memory_back_at_once():
    """The engine's DuckDB connections flush their allocator (no retained cache of freed
    memory, which held about 400 MB after each features query at 10^6 customers)."""
    from churn_research.sources import engine

    con = engine.duckdb_connect()
    got = dict(con.raw_sql("select name, value from duckdb_settings() where name in "
                           "('allocator_flush_threshold', "
                           "'allocator_bulk_deallocation_flush_threshold')").fetchall())
    assert {k: v.replace(" bytes", "B") for k, v in got.items()} == {
        "allocator_flush_threshold": "0B",
        "allocator_bulk_deallocation_flush_threshold": "0B"}


def test_a_column_by_id_equals_the_indexed_table():
    """churn_label and score_customers read one column of the customers by id without a copy
    of the table: the same Series as ``set_index("customer_id")[column]``."""
    from churn_research.segments.design import _by_id
    from churn_research.synthetic import generate

    cust = generate(300, random_state=0).customers
    for col in ("end_date", "churn_reason", "plan"):
        pd.testing.assert_series_equal(_by_id(cust, col), cust.set_index("customer_id")[col],
                                       check_exact=True)


def test_signal_flags_and_counts_and_the_check_equal_the_full_signals(scored):
    """The signals' bool columns and counts without their text (signal_flags, signal_counts:
    50_clv's flags, 40_segments' check) equal early_warning_signals', and the signal check on
    the signals' inputs alone equals the validation of the full signals of every labelled
    customer (the check before it read only those columns)."""
    from churn_research.segments.rules import SIGNAL_PRIORITY
    from churn_research.segments.signals import signal_flags

    feats = scored[0]
    thresholds = {"activity_drop_ratio": 0.6, "min_baseline_tx": 2, "frequency_trend": -0.2}
    full = S.early_warning_signals(feats, **thresholds)
    pd.testing.assert_frame_equal(signal_flags(feats, **thresholds), full[SIGNAL_PRIORITY])
    counts = S.signal_counts(feats, **thresholds)
    pd.testing.assert_series_equal(counts, full["n_signals"])
    assert counts.gt(0).sum() > 10
    rng = np.random.default_rng(0)
    churned = pd.Series(rng.integers(0, 2, len(feats) // 2), name="churned",
                        index=feats.index[rng.choice(len(feats), len(feats) // 2, replace=False)])
    check = S.check_signals(feats, churned, **thresholds)
    labelled = feats.loc[churned.index]
    want = S.signal_validation(S.early_warning_signals(labelled, **thresholds), churned,
                               S.signal_eligibility(labelled, **thresholds), check.available)
    pd.testing.assert_frame_equal(check.validation, want)
    same = S.check_signals(labelled, churned, **thresholds)  # the labelled rows given: no cut
    pd.testing.assert_frame_equal(same.validation, want)


@pytest.mark.parametrize("price_rise", [True, False])
def test_playbook_inputs_keep_the_playbook_state(scored, price_rise):
    """60_retention keeps only the playbook's inputs of today's features once the watchlist is
    built: every customer's state (price sensitivity over the active base's revenue quintile
    without a price_rise column, contract, open complaints) is the same."""
    feats, _, comp = scored
    if not price_rise:
        feats = feats.drop(columns="price_rise")
    cut = S.playbook_inputs(feats)
    assert len(cut.columns) < 6 and "active" in cut and ("price_rise" in cut) == price_rise
    ids = feats.index[::5]
    pd.testing.assert_frame_equal(S.playbook_state(cut, ids, open_complaints=comp),
                                  S.playbook_state(feats, ids, open_complaints=comp))
    assert S.playbook_state(cut, ids)["price_sensitive"].any()
