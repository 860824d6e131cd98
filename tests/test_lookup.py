"""churn_research.lookup: the same rows as pandas' reindex / get_indexer, on the small (scan)
and the large (fresh index) path, and no lookup table left on the frames' indexes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_research import lookup
from churn_research.lookup import positions, reindexed


def _index(kind: str, n: int) -> pd.Index:
    ids = [f"C{i:07d}" for i in range(n)]
    if kind == "str":  # pandas' Arrow-backed text, as the processed data hold ids
        return pd.Index(pd.array(ids, dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
                        name="customer_id")
    if kind == "object":
        return pd.Index(ids, dtype=object, name="customer_id")
    return pd.Index(np.arange(n) * 7 + 3, name="customer_id")


def _has_table(index: pd.Index) -> bool:
    return "_engine" in index._cache  # pandas' cached hash table (what the module avoids)


@pytest.mark.parametrize("kind", ["str", "object", "int"])
@pytest.mark.parametrize("size", ["small", "large"])
def test_same_rows_as_pandas_and_no_table_left(kind, size, monkeypatch):
    monkeypatch.setattr(lookup, "SCAN_IDS", 50)
    index = _index(kind, 2000)
    rng = np.random.default_rng(3)
    take = rng.choice(2000, 20 if size == "small" else 900, replace=False)
    absent = _index(kind, 2003)[-3:] if kind != "int" else pd.Index([1, 2, 5])
    ids = index[take].append(absent)[::-1]       # shuffled, with three unknown ids
    s = pd.Series(rng.normal(size=2000), index=index, name="risk")
    counts = pd.Series(rng.integers(0, 5, 2000), index=index, name="n")
    flags = pd.Series(rng.random(2000) < 0.3, index=index, name="flag")
    frame = pd.DataFrame({"risk": s, "n": counts, "tier": pd.array(
        rng.choice(["new", "loyal"], 2000), dtype="str")}, index=index)
    got = {"pos": positions(index, ids), "s": reindexed(s, ids),
           "n0": reindexed(counts, ids, fill_value=0), "flag": reindexed(flags, ids, fill_value=False),
           "frame": reindexed(frame, ids)}
    for obj in (index, ids):
        assert not _has_table(obj)
    np.testing.assert_array_equal(got["pos"], index.get_indexer(ids))
    assert (got["pos"] == -1).sum() == 3
    pd.testing.assert_series_equal(got["s"], s.reindex(ids))
    pd.testing.assert_series_equal(got["n0"], counts.reindex(ids, fill_value=0))
    assert got["n0"].dtype == np.int64
    pd.testing.assert_series_equal(got["flag"], flags.reindex(ids, fill_value=False))
    pd.testing.assert_frame_equal(got["frame"], frame.reindex(ids))
    found = ids[got["pos"] >= 0]                 # every id found: rows by position
    pd.testing.assert_series_equal(reindexed(counts, found), counts.reindex(found))
    pd.testing.assert_frame_equal(reindexed(frame, found), frame.reindex(found))


def test_the_same_index_and_an_empty_lookup():
    index = _index("str", 100)
    s = pd.Series(np.arange(100.0), index=index)
    same = reindexed(s, index)
    pd.testing.assert_series_equal(same, s)
    assert not _has_table(index)
    assert positions(index, pd.Index(pd.array([], dtype=index.dtype))).size == 0
    none = pd.Index(pd.array(["X1", "X2"], dtype=index.dtype))              # no id of the index at all
    np.testing.assert_array_equal(positions(index, none), [-1, -1])
    pd.testing.assert_series_equal(reindexed(s, none), s.reindex(none))
    empty = pd.Series([], index=pd.Index(pd.array([], dtype=index.dtype)), dtype=float)
    np.testing.assert_array_equal(positions(empty.index, none), [-1, -1])
    assert reindexed(s, pd.Index(pd.array([], dtype=index.dtype))).empty
