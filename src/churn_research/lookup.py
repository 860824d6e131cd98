"""Rows of a customer-indexed frame looked up by customer id, without leaving a hash table behind.

pandas looks labels up in an index through a hash table that it builds on first use and keeps
on the index for as long as the index lives. For an index of customer ids held as text, that
table holds a Python string per customer: about 60 MB per 10^6 customers, kept by every
long-lived frame or series that was once reindexed, joined or indexed by label (at 10^7
customers, 0.3-0.6 GB each; five of them in 40_segments). The functions here do the same
lookups through a new index object on the same data, so that the table goes when the lookup
is done; a small set of ids is matched with a scan of the index (Arrow's ``is_in`` on text),
which builds a table of the small set only.

Prefer ``Series.reindex`` for small frames; these are for the customer-level frames of the
stages (the results are the same: tested against ``reindex``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Up to this many ids are matched by a scan of the index (a hash table of the ids alone).
SCAN_IDS = 100_000


def _fresh(index: pd.Index) -> pd.Index:
    """A new index object on the same values (not a copy of them): its lookup table is its own."""
    return pd.Index(index.array, name=index.name, copy=False)


def _small(ids: pd.Index, index: pd.Index) -> bool:
    return len(ids) <= SCAN_IDS and len(ids) * 10 < len(index)


def _arrow_text(values):
    """The Arrow array of text held in Arrow (pandas' ``str`` dtype), else None."""
    dtype = values.dtype
    if (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
            isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype) in ("string", "large_string")):
        import pyarrow as pa

        arr = pa.array(values.array)  # the array's own buffers (no copy)
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return None


def positions(index: pd.Index, ids) -> np.ndarray:
    """``index.get_indexer(ids)`` (positions of ``ids`` in the unique ``index``, -1 where
    absent), without a lookup table left on ``index`` or ``ids``. Text held in Arrow on both
    sides is matched by Arrow (``pyarrow.compute.index_in``: a hash of the index's bytes, no
    Python string per id: 10^6 ids in 2 * 10^6 took 0.66 s and 93 MB at most, pandas'
    ``get_indexer`` 1.79 s and 286 MB, of which 227 MB stay on the index). A few ids (at most
    :data:`SCAN_IDS`, under a tenth of the index) are matched by a scan of the index."""
    ids = ids if isinstance(ids, pd.Index) else pd.Index(ids)
    if _small(ids, index):
        at = np.flatnonzero(index.isin(ids))
        if not len(at):
            return np.full(len(ids), -1, dtype=np.intp)
        found = _fresh(index[at]).get_indexer(ids)
        return np.where(found >= 0, at[np.maximum(found, 0)], -1).astype(np.intp)
    a, b = _arrow_text(index), _arrow_text(ids)
    if a is not None and b is not None:
        import pyarrow.compute as pc

        found = pc.index_in(b, value_set=a, skip_nulls=True)
        return pc.fill_null(found, -1).to_numpy().astype(np.intp)
    return _fresh(index).get_indexer(ids)


def reindexed(obj: pd.Series | pd.DataFrame, ids, *, fill_value=None):
    """``obj.reindex(ids, fill_value=fill_value)`` (``obj``'s index unique): the same result,
    without a lookup table left on ``obj``'s index or on ``ids``."""
    ids = ids if isinstance(ids, pd.Index) else pd.Index(ids)
    if _small(ids, obj.index):
        src = obj.iloc[np.flatnonzero(obj.index.isin(ids))]
    else:
        pos = positions(obj.index, ids)
        if (pos >= 0).all():  # every id found: the rows at their positions, as reindex gives
            out = obj.iloc[pos]
            out.index = ids
            return out
        src = obj.copy(deep=False)
    src.index = _fresh(src.index)
    return src.reindex(ids, fill_value=fill_value)
