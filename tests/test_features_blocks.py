"""The engine's features in blocks of customers (ranges of ``customer_id``, one after the other:
at 10^7 customers DuckDB's work and its result stay a block's) against the whole base at once:
the same frame, to the last bit, on processed data with transactions, tickets and surveys, on a
purchase log and on a snapshot; and ``segments.features_at`` built column by column from it
against the frame the pandas path gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_stage_engine import assert_same_features

from churn_research import load, read_stage, segments
from churn_research.model import ChurnData
from churn_research.sources import engine
from churn_research.synthetic import generate


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> dict:
    out = {}
    for name, data in (("synthetic", lambda: generate(2000, random_state=5,
                                                      complaint_resolution=True)),
                       ("cdnow", lambda: load("cdnow", sample=True)),
                       ("telco", lambda: load("telco"))):
        out[name] = data().write(tmp_path_factory.mktemp(name))
    return out


CASES = [("synthetic", None, "prospective"), ("synthetic", "2025-06-30", "prospective"),
         ("synthetic", "2024-06-30", "cross-sectional"), ("cdnow", "1997-12-31", "prospective"),
         ("telco", None, "cross-sectional")]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cutoff", "design"), CASES)
def test_blocks_give_the_whole_bases_features(processed, name, cutoff, design):
    _, tables = read_stage(processed[name])
    whole = tables.features_at(cutoff, design=design, blocks=1)
    assert len(whole) > 500 and whole.index.is_monotonic_increasing
    for blocks in (2, 3, 7, 40):
        got = tables.features_at(cutoff, design=design, blocks=blocks)
        pd.testing.assert_frame_equal(got, whole, check_exact=True)
        assert got.attrs == whole.attrs


def test_id_blocks_cover_every_customer_once(processed):
    _, tables = read_stage(processed["synthetic"])
    ids = pd.Index(tables.execute(tables.customers.select("customer_id"))["customer_id"])
    assert engine._id_blocks(tables, 1) == [None]
    for blocks in (2, 3, 7):
        keeps = engine._id_blocks(tables, blocks)
        assert len(keeps) == blocks
        c = tables.customers
        parts = [tables.execute(c.filter(keep(c.customer_id)).select("customer_id"))["customer_id"]
                 for keep in keeps]
        sizes = [len(p) for p in parts]
        assert sum(sizes) == len(ids) and max(sizes) - min(sizes) <= len(ids) // blocks + 1
        seen = pd.Index(pd.concat(parts, ignore_index=True))
        assert seen.is_unique and seen.sort_values().equals(ids.sort_values())
        # the ranges in the ids' order: each block's ids below the next one's
        assert all(p.max() < q.min() for p, q in zip(parts[:-1], parts[1:], strict=True))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cutoff", "design"), CASES)
def test_lean_segment_features_equal_the_pandas_path(processed, name, cutoff, design,
                                                     monkeypatch):
    """``segments.features_at(..., engine=tables)`` in blocks of 300 customers (the default
    block is 10^6): the features of the pandas path, to the last bit where no float sum is
    involved (sums of amounts in another order: relative 1e-12)."""
    monkeypatch.setattr(engine, "FEATURE_BLOCK_CUSTOMERS", 300)
    data, tables = read_stage(processed[name])
    got = segments.features_at(data, cutoff, design=design, engine=tables)
    expected = segments.features_at(ChurnData.read(processed[name]), cutoff, design=design)
    assert got.index.equals(expected.index) and got.index.dtype == expected.index.dtype
    assert_same_features(got, expected)
    monkeypatch.setattr(engine, "FEATURE_BLOCK_CUSTOMERS", 10**9)  # one block
    whole = segments.features_at(data, cutoff, design=design, engine=tables)
    pd.testing.assert_frame_equal(got, whole, check_exact=True)


def test_rfm_codes_from_the_table_of_codes():
    from churn_research.segments.scores import rfm_scores

    rng = np.random.default_rng(1)
    n = 5000
    f = pd.DataFrame({"active": rng.uniform(size=n) < 0.7,
                      "recency_days": np.where(rng.uniform(size=n) < 0.1, np.nan,
                                               rng.integers(0, 400, n).astype(float)),
                      "frequency": rng.integers(0, 30, n),
                      "monetary": np.round(rng.gamma(2, 100, n), 2)})
    out = rfm_scores(f.copy(), n_bins=5)
    sc = [out[c].astype("float64").fillna(0).astype(int).astype(str).str.replace("0", "x")
          for c in ("r_score", "f_score", "m_score")]
    assert out["rfm_code"].tolist() == (sc[0] + sc[1] + sc[2]).tolist()
    assert out["rfm_code"].str.startswith("x").sum() == f["recency_days"].isna().sum() > 0


def test_split_labelled_equals_loc_and_a_column_cut(processed):
    """40_segments' and 60_retention's labelled rows (``features.loc[churned.index]``) and the
    whole base's columns, from one frame given up column by column: the same frames."""
    data, tables = read_stage(processed["synthetic"])
    cutoff = segments.resolve_cutoff(data, None, horizon_days=90, design="prospective")
    feats = segments.features_at(data, cutoff, engine=tables)
    churned = segments.churn_label(data, cutoff, horizon_days=90, design="prospective")
    assert 0 < len(churned) < len(feats)
    expected, cut = feats.loc[churned.index], feats[[c for c in feats.columns
                                                     if c in segments.BASE_TABLE_COLUMNS]]
    assert {"rfm_code", "r_score", "gender", "monthly_revenue"} <= set(expected.columns)
    labelled, rest = segments.split_labelled(feats.copy(), churned,
                                             keep=segments.BASE_TABLE_COLUMNS)
    pd.testing.assert_frame_equal(labelled, expected, check_exact=True)
    pd.testing.assert_frame_equal(rest, cut, check_exact=True)
    assert labelled.attrs == expected.attrs == rest.attrs != {}
    tiers = segments.value_tiers(rest)
    pd.testing.assert_series_equal(tiers, segments.value_tiers(feats))
    pd.testing.assert_frame_equal(segments.tier_summary(rest, tiers, churned),
                                  segments.tier_summary(feats, tiers, churned))
    pd.testing.assert_frame_equal(segments.rfm_overview(rest), segments.rfm_overview(feats))
    pd.testing.assert_frame_equal(segments.rfm_codes(rest, churned),
                                  segments.rfm_codes(feats, churned))
    empty, _ = segments.split_labelled(feats.copy(), churned.iloc[:0])
    pd.testing.assert_frame_equal(empty, feats.iloc[:0], check_index_type=False)
    with pytest.raises(KeyError):
        segments.split_labelled(feats.copy(), pd.Series([1], index=["no such customer"]))


def test_value_tiers_from_codes_equal_the_string_rule(processed):
    """value_tiers built from the categories' codes: the Series the rule on strings gave."""
    from churn_research.segments.rules import TIER_ORDER

    data, tables = read_stage(processed["synthetic"])
    f = segments.features_at(data, engine=tables)
    got = segments.value_tiers(f, new_days=200, at_risk_min_fm=2)
    lost = ~f["active"].astype(bool).to_numpy()
    tenure, rec = f["tenure_days"].to_numpy(float), f["recency_days"].to_numpy(float)
    fs = f["f_score"].astype("float64").fillna(0).to_numpy()
    ms = f["m_score"].astype("float64").fillna(0).to_numpy()
    quiet = (rec >= 60) & ((fs >= 2) | (ms >= 2))
    dropping = (f["activity_ratio"].to_numpy(float) <= 0.5) & (f["tx_baseline"].to_numpy(float) >= 3)
    tier = np.select([lost, tenure < 200, quiet | dropping, ms >= 5, (fs >= 4) & (tenure >= 365)],
                     ["lost", "new", "at risk", "high value", "loyal"], default="regular")
    expected = pd.Series(pd.Categorical(tier, categories=TIER_ORDER), index=f.index, name="tier")
    pd.testing.assert_series_equal(got, expected)
    assert got.nunique() == 6


@pytest.mark.parametrize(("name", "cutoff", "design"), CASES)
def test_attributes_at_equal_the_features_attributes(processed, name, cutoff, design):
    """60_retention's campaign covariates (the customer attributes and the tenure on the
    campaign's date) without the behaviour: the values and column order of features_at's, for
    every customer it has, and every customer known at the cutoff."""
    data, tables = read_stage(processed[name])
    day = pd.Timestamp(data.observation_end if cutoff is None else cutoff)
    feats = segments.features_at(data, day, design=design, engine=tables)
    got = segments.attributes_at(data, day, design=design, engine=tables, window_days=365)
    cols = [c for c in feats.columns if c in data.customers.columns or c == "tenure_days"]
    assert list(got.columns) == cols and (len(cols) >= 2 or name == "cdnow")  # cdnow: none
    known = (pd.to_datetime(data.customers["start_date"]) <= day).sum()
    assert len(got) == known >= len(feats) and got.index.is_unique
    pd.testing.assert_frame_equal(got.loc[feats.index], feats[cols], check_exact=True)
    assert got.attrs == feats.attrs
    # covariates_at: the attributes when the columns are attributes; else the features
    pd.testing.assert_frame_equal(segments.covariates_at(data, day, design=design, engine=tables), got)
    pd.testing.assert_frame_equal(
        segments.covariates_at(data, day, columns=["tenure_days"], design=design, engine=tables), got)
    pd.testing.assert_frame_equal(
        segments.covariates_at(data, day, columns=["tenure_days", "frequency"], design=design,
                               engine=tables), feats)
    # a campaign's customers only: their rows, in the table's order (unknown ids left out)
    ids = pd.Index(list(feats.index[::-7]) + ["no such customer"])
    some = segments.covariates_at(data, day, ids=ids, design=design, engine=tables)
    pd.testing.assert_frame_equal(some, got[got.index.isin(ids)], check_exact=True)
    assert len(some) == len(feats.index[::-7])
