"""Time-safe features at a cutoff: :func:`features_at` *always* computes its features from the
truncated copy of the data (:func:`churn_research.segments.design.truncate`), so no information
from after the cutoff can reach a feature — the guarantee is structural and is tested by
perturbing every post-cutoff row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.lookup import positions
from churn_research.model import ChurnData, ChurnDataError
from churn_research.personal import is_personal_header
from churn_research.segments.design import _inactivity_days, known_customers, truncate
from churn_research.segments.rules import _DENY_STATIC, DAY
from churn_research.segments.scores import _revenue_column, rfm, rfm_scores


# Features at a cutoff (time-safe)
# ---------------------------------------------------------------------------------------------
def _codes(index: pd.Index, ids) -> np.ndarray:
    return index.get_indexer(pd.Index(ids))


def _count(codes: np.ndarray, n: int, mask=None, weights=None) -> np.ndarray:
    ok = codes >= 0
    if mask is not None:
        ok &= np.asarray(mask, bool)
    w = None if weights is None else np.asarray(weights, "float64")[ok]
    return np.bincount(codes[ok], weights=w, minlength=n)


def _static_columns(customers: pd.DataFrame, static_columns=None, *, skip=(),
                    rows=None) -> list[str]:
    """The static feature columns of ``customers`` (its columns in ``skip`` left out, as if
    dropped: without a copy of the table). ``rows`` (a boolean mask): chosen from these rows
    only, as if the table had been cut to them (one column at a time, not a copy of it)."""
    if static_columns is not None:
        missing = [c for c in static_columns if c not in customers or c in skip]
        if missing:
            raise ChurnDataError(f"static feature columns {missing} are not in the table.",
                                 table="customers", column=missing[0],
                                 fix="fix the static_columns parameter of 40_segments.")
        return list(static_columns)
    cols = []
    for c in customers.columns:
        if c in skip or is_personal_header(c) or _DENY_STATIC.search(c):
            continue
        s = customers[c] if rows is None else customers[c][rows]
        if pd.api.types.is_datetime64_any_dtype(s):
            continue
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            if s.nunique(dropna=True) >= 2:
                cols.append(c)
        elif 2 <= s.nunique(dropna=True) <= 20:
            cols.append(c)
    return cols


def features_at(data: ChurnData, cutoff=None, *, design: str = "prospective",
                window_days: int = 365, recent_days: int = 90, baseline_days: int = 365,
                trend_months: int = 6, complaint_days: int = 90, survey_days: int = 365,
                static_columns=None, inactivity_days=None, n_bins: int = 5,
                exclude_recurring: bool = True, engine=None) -> pd.DataFrame:
    """Customer features using only what was known at ``cutoff``.

    The data is first cut with :func:`truncate` (rows dated after the cutoff dropped, later end
    dates masked) and only then are features computed, so post-cutoff information cannot
    leak into them.

    Parameters
    ----------
    data : ChurnData
    cutoff : date-like, optional
        Default ``observation_end``.
    design : {"prospective", "cross-sectional"}
        Cross-sectional hides every customer's churn status (all look active).
    window_days, recent_days, baseline_days, trend_months, complaint_days, survey_days : int
        Look-back windows, see :data:`DEFAULT_WINDOWS`.
    static_columns : list of str, optional
        Customer attributes used as features. Default: low-cardinality categorical, boolean and
        numeric columns of ``customers`` except identifiers, dates, churn status / reasons,
        personal data and anything that looks like an aggregate of history (tenure, total, last,
        count, ...), which is recomputed here at the cutoff instead.
    inactivity_days : int, optional
        Non-contractual data: days without a purchase after which a customer is lost.
    n_bins : int, default 5
    exclude_recurring : bool, default True
        Activity features (``tx_recent``, ``tx_baseline``, ``activity_ratio``, ``freq_trend``)
        count purchases *other than* the recurring subscription invoice — a transaction whose
        amount equals the customer's ``monthly_revenue`` (to the cent). Invoices arrive every
        month until the customer cancels, so they carry no early warning. Without a
        ``monthly_revenue`` column every transaction counts. RFM always counts every
        transaction.
    engine : optional
        The stage's engine tables (the second value of ``read_stage``: anything with a
        ``features_at(cutoff, **options)`` method returning the features without the RFM
        scores). The per-customer sums, counts and extremes over the transactions, tickets and
        surveys are then computed by the backend, only one row per customer reaches pandas, and
        the tables of ``data`` other than the customers are never read; the scores and the
        choice of static columns stay here. The same features as without it (tested).

    Returns
    -------
    DataFrame indexed by customer_id
        The :func:`rfm` base at the cutoff with ``active``, ``tenure_days``, RFM columns,
        ``value`` (trailing-window revenue), ``activity_recency_days`` (only when recurring
        invoices were set apart), ``tx_recent``, ``tx_baseline``, ``activity_ratio``,
        ``freq_trend``, ``tx_trend_window``, ``complaints_recent``, ``complaints_365``,
        ``tickets_365``, ``csat_last``, ``nps_last``, ``csat_mean``, ``survey_age_days`` (where
        the table exists) and the static attributes (booleans as 0/1).
    """
    cutoff = pd.Timestamp(data.observation_end if cutoff is None else cutoff)
    if engine is not None:
        return _features_on_engine(
            data, engine, cutoff, design=design, window_days=window_days,
            recent_days=recent_days, baseline_days=baseline_days, trend_months=trend_months,
            complaint_days=complaint_days, survey_days=survey_days,
            static_columns=static_columns, inactivity_days=inactivity_days, n_bins=n_bins,
            exclude_recurring=exclude_recurring)
    t = truncate(data, cutoff, hide_status=(design == "cross-sectional"))
    out = rfm(t, cutoff=cutoff, window_days=window_days, n_bins=n_bins,
              inactivity_days=_inactivity_days(data, inactivity_days)
              if data.kind == "non-contractual" else None)
    idx = out.index
    n = len(idx)
    cut64 = np.datetime64(cutoff, "ns")

    if t.has("transactions"):
        out["value"] = out["monetary"]
        tx = t.transactions
        if exclude_recurring and "monthly_revenue" in t.customers:
            fee = t.customers.set_index("customer_id")["monthly_revenue"].astype("float64")
            fee = fee.reindex(tx["customer_id"]).to_numpy()
            tx = tx.loc[~(np.abs(tx["amount"].to_numpy(dtype="float64") - fee) < 0.005)]
            recurring_removed = True
        else:
            recurring_removed = False
        codes = _codes(idx, tx["customer_id"])
        age = (cut64 - pd.to_datetime(tx["date"]).to_numpy()) / DAY
        if recurring_removed:
            # days since the last purchase other than the invoice (tenure if none): unlike the
            # RFM recency it does not depend on where the cutoff falls in the billing month
            ok = codes >= 0
            last_age = np.full(n, np.inf)
            np.minimum.at(last_age, codes[ok], age[ok])
            out["activity_recency_days"] = np.minimum(last_age, out["tenure_days"].to_numpy())
        recent = _count(codes, n, age < recent_days)
        base = _count(codes, n, (age >= recent_days) & (age < recent_days + baseline_days))
        tenure = out["tenure_days"].to_numpy()
        base_len = np.clip(tenure - recent_days, 0, baseline_days)
        out["tx_recent"] = recent
        out["tx_baseline"] = base
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (recent / recent_days) / (base / base_len)
        out["activity_ratio"] = np.where((base > 0) & (base_len >= 30), ratio, np.nan)
        m = int(trend_months)
        bucket = np.floor(age / 30).astype("int64")
        ok = (codes >= 0) & (bucket >= 0) & (bucket < m)
        counts = np.bincount(codes[ok] * m + bucket[ok], minlength=n * m).reshape(n, m)
        x = -np.arange(m, dtype=float)            # bucket 0 = most recent month
        xc = x - x.mean()
        mean = counts.mean(axis=1)
        slope = counts @ xc / (xc @ xc)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = slope / mean
        out["tx_trend_window"] = counts.sum(axis=1)
        out["freq_trend"] = np.where((mean > 0) & (tenure >= 30 * m), rel, np.nan)
    else:
        col = _revenue_column(t.customers)
        rev = t.customers.set_index("customer_id")[col] if col else None
        out["value"] = (rev.reindex(idx).astype("float64") * 12).to_numpy() if col is not None \
            else np.nan

    if t.has("tickets"):
        tk = t.tickets
        codes = _codes(idx, tk["customer_id"])
        age = (cut64 - pd.to_datetime(tk["date"]).to_numpy()) / DAY
        complaint = (tk["kind"].astype(str).str.lower() == "complaint").to_numpy()
        out["complaints_recent"] = _count(codes, n, complaint & (age < complaint_days)).astype("int64")
        out["complaints_365"] = _count(codes, n, complaint & (age < 365)).astype("int64")
        out["tickets_365"] = _count(codes, n, age < 365).astype("int64")
    elif data.tickets is not None:       # table present but empty at the cutoff
        out["complaints_recent"] = 0
        out["complaints_365"] = 0
        out["tickets_365"] = 0

    if data.surveys is not None:
        sv = t.surveys
        sv = sv.loc[(cut64 - pd.to_datetime(sv["date"]).to_numpy()) / DAY < survey_days]
        sv = sv.loc[sv["customer_id"].isin(idx)]
        last = _last_answers(sv)
        for col, name in (("csat", "csat_last"), ("nps", "nps_last")):
            if col in sv:
                out[name] = last[col].reindex(idx).astype("float64")
        if "csat" in sv:
            out["csat_mean"] = sv.groupby("customer_id")["csat"].mean().reindex(idx)
        out["survey_age_days"] = pd.Series(
            (cut64 - pd.to_datetime(last["date"]).to_numpy()) / DAY, index=last.index).reindex(idx)

    cust = t.customers.set_index("customer_id")
    for c in _static_columns(t.customers.drop(columns=["customer_id"]), static_columns):
        s = cust[c].reindex(idx)
        if pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().isin([True, False]).all()):
            s = s.astype("float64")
        out[c] = s
    out.attrs = {"cutoff": str(cutoff.date()), "design": design}
    return out


def _last_answers(surveys: pd.DataFrame) -> pd.DataFrame:
    """Each customer's last survey answer (indexed by customer_id): of several on the same
    date, the table's last."""
    return surveys.sort_values(["customer_id", "date"]).groupby("customer_id").tail(1) \
        .set_index("customer_id")


#: The columns of :func:`features_at` up to the RFM scores, in order (the engine's leading ones).
_FRONT = ["tenure_days", "active", "recency_days", "frequency", "monetary"]
_SCORES = ["r_score", "f_score", "m_score", "rfm_code", "rfm_score"]


def _features_on_engine(data: ChurnData, engine, cutoff: pd.Timestamp, *, design: str,
                        static_columns, inactivity_days, n_bins: int, **options) -> pd.DataFrame:
    """:func:`features_at` with the row-level work done by ``engine``; the static attributes
    (chosen and taken from the customers known at the cutoff, as :func:`truncate` gives them)
    and the RFM scores are added here, the columns put in :func:`features_at`'s order.

    At 10^7 customers every copy of the frame counts: the customers known at the cutoff are a
    mask on the table (no copy of it), and the frame is built column by column, each taken from
    the engine's result (which gives it up as it goes) in the customers table's order."""
    cust = data.customers
    known, static = _static_choice(data, cutoff, static_columns)
    days = _inactivity_days(data, inactivity_days) if data.kind == "non-contractual" else None
    out = engine.features_at(cutoff, design=design, static_columns=(), inactivity_days=days,
                             **options)
    # the customers in the customers table's order, as the pandas path (a model sample drawn
    # from them is then the same customers)
    at = np.flatnonzero(known)  # the known customers' rows of the table
    ids = cust["customer_id"]
    pos = positions(out.index, ids.iloc[at])  # Arrow text on both sides: matched by Arrow
    in_base = pos >= 0
    take, at = pos[in_base], at[in_base]
    # the ids as the customers table holds them (processed data: pandas' str dtype)
    index = pd.Index(ids.iloc[at].array, name=out.index.name)
    feats = pd.DataFrame(index=index)
    for c in _FRONT:
        feats[c] = out.pop(c).array.take(take)
    feats = rfm_scores(feats, n_bins=n_bins)
    for c in [c for c in out.columns if c not in _SCORES]:
        feats[c] = out.pop(c).array.take(take)
    del out
    _add_static(feats, data, cutoff, design=design, static=static, at=at,
                known_rows=np.flatnonzero(in_base))
    if engine.has("surveys") and ("csat_last" in feats or "nps_last" in feats):
        _table_order_ties(data, engine, feats, cutoff, options.get("survey_days", 365))
    feats.attrs = {"cutoff": str(cutoff.date()), "design": design}
    return feats


def _static_choice(data: ChurnData, cutoff: pd.Timestamp, static_columns) -> tuple[np.ndarray, list]:
    """The customers known at ``cutoff`` (a mask on the table, as :func:`known_customers`) and
    the static feature columns (:func:`_static_columns`, chosen from those customers)."""
    cust = data.customers
    known = (pd.to_datetime(cust["start_date"]) <= cutoff).to_numpy()
    if static_columns is not None:  # the table's columns (the masked dates, reasons included)
        return known, _static_columns(cust, static_columns, skip=("customer_id",))
    # never a date, a reason or the status: those masked by known_customers do not count
    return known, _static_columns(cust, None, skip=("customer_id",), rows=known)


def _add_static(feats: pd.DataFrame, data: ChurnData, cutoff: pd.Timestamp, *, design: str,
                static: list, at: np.ndarray, known_rows: np.ndarray) -> None:
    """Add the ``static`` columns to ``feats`` (the customers table's rows ``at``, which are the
    known customers' rows ``known_rows``), as :func:`truncate` gives them: dates and reasons
    after the cutoff masked, booleans as 0/1 (``feats`` is modified)."""
    cust = data.customers
    masked = [c for c in static if c in ("end_date", "churn_reason")]
    masked = known_customers(data.replace(customers=cust[["customer_id", "start_date", "end_date",
                                                          *[c for c in masked if c != "end_date"]]]),
                             cutoff, hide_status=(design == "cross-sectional")) if masked else None
    for c in static:  # the known customers' rows in the base, in the same order
        s = (cust[c].iloc[at] if masked is None or c not in masked
             else masked[c].iloc[known_rows]).set_axis(feats.index)
        if pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().isin([True, False]).all()):
            s = s.astype("float64")
        feats[c] = s


def attributes_at(data: ChurnData, cutoff=None, *, design: str = "prospective",
                  static_columns=None, ids=None, **_options) -> pd.DataFrame:
    """The customer attributes of :func:`features_at` at ``cutoff`` (``tenure_days`` and the
    static columns, chosen and masked as there), for every customer known at the cutoff (or
    those of ``ids`` among them), in the customers table's order: the values
    :func:`features_at` (on an engine) gives these customers, without their behaviour (no pass
    over the purchases, tickets or surveys). Other keyword arguments (the feature windows,
    ``engine``) are accepted and not needed."""
    cutoff = pd.Timestamp(data.observation_end if cutoff is None else cutoff)
    known, static = _static_choice(data, cutoff, static_columns)
    cust = data.customers
    at = np.flatnonzero(known)
    if ids is not None:  # only these customers' rows (a campaign's, not the whole base's)
        rows = positions(pd.Index(cust["customer_id"]), pd.Index(ids))
        rows = np.unique(rows[rows >= 0])
        at = rows[known[rows]]
    feats = pd.DataFrame(index=pd.Index(cust["customer_id"].iloc[at].array, name="customer_id"))
    start = pd.to_datetime(cust["start_date"]).to_numpy()[at].astype("datetime64[D]")
    feats["tenure_days"] = (np.datetime64(cutoff.normalize(), "D") - start).astype("int64") \
        .astype("float64")  # whole days, as the engine counts them
    _add_static(feats, data, cutoff, design=design, static=static, at=at,
                known_rows=np.searchsorted(np.flatnonzero(known), at))
    feats.attrs = {"cutoff": str(cutoff.date()), "design": design}
    return feats


def covariates_at(data: ChurnData, cutoff=None, *, columns=None, ids=None,
                  **feature_options) -> pd.DataFrame:
    """What a model of a campaign's customers reads about them on its date: with ``columns``
    None (the customer attributes and the tenure) or only such columns, :func:`attributes_at`
    (of the customers ``ids`` only, when given); otherwise :func:`features_at` (behaviour
    included, every customer). The same values either way."""
    # behaviour asked for (a column the customers table does not hold): the features. A table
    # column that is not a static feature is in neither frame, so the table's columns decide
    # without choosing the static columns twice
    if columns is not None and not set(columns) <= {"tenure_days", *data.customers.columns}:
        return features_at(data, cutoff, **feature_options)
    return attributes_at(data, cutoff, ids=ids, **feature_options)


def _table_order_ties(data: ChurnData, engine, out: pd.DataFrame, cutoff: pd.Timestamp,
                      survey_days: int) -> None:
    """The last answers of the customers with several on their last survey date, by the
    pandas path's rule (the table's last; the engine keeps the highest score): only these
    customers' survey rows are read (``out`` is modified)."""
    pos = positions(out.index, pd.Index(engine.survey_ties(cutoff, survey_days=survey_days)))
    pos = np.sort(pos[pos >= 0])  # as intersection with out.index: in out's order
    if not len(pos):
        return
    ties = out.index[pos]
    sv = data.rows_of("surveys", ties)
    dates = pd.to_datetime(sv["date"])
    sv = sv.loc[(dates <= cutoff).to_numpy()
                & ((np.datetime64(cutoff, "ns") - dates.to_numpy()) / DAY < survey_days)]
    last = _last_answers(sv).reindex(ties)
    for col, name in (("csat", "csat_last"), ("nps", "nps_last")):
        if name in out and col in last:
            values = out[name].to_numpy(dtype="float64", copy=True)
            values[pos] = last[col].astype("float64").to_numpy()
            out[name] = values


#: The columns of the whole base's tables at the training cutoff in 40_segments (RFM overview,
#: RFM codes, value tiers and their summary; the ``active`` flag of the key figures).
BASE_TABLE_COLUMNS = ("active", "tenure_days", "recency_days", "frequency", "monetary",
                      "r_score", "f_score", "m_score", "rfm_code", "value", "activity_ratio",
                      "tx_baseline")


def split_labelled(features: pd.DataFrame, labels: pd.Series, *,
                   keep=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The labelled customers' features (``features.loc[labels.index]``, every column) and
    ``features`` cut to its columns in ``keep`` (those absent left out), built column by column
    while ``features`` gives up each column (it is emptied): at 10^7 customers, never the whole
    frame and its labelled copy at once."""
    pos = positions(features.index, labels.index)
    if (pos < 0).any():
        raise KeyError("labelled customers without features")
    labelled = pd.DataFrame(index=features.index[pos])
    rest = pd.DataFrame(index=features.index)
    for c in list(features.columns):
        s = features.pop(c)
        labelled[c] = s.array.take(pos)
        if c in keep:
            rest[c] = s
        del s
    labelled.attrs = dict(features.attrs)
    rest.attrs = dict(features.attrs)
    return labelled, rest


def customer_value(features: pd.DataFrame) -> pd.Series:
    """The value used for prioritising: trailing-window revenue (``value`` of :func:`features_at`).

    With transactions this is the revenue of the last ``window_days`` (default 12 months);
    for a snapshot without transactions it is 12 x the monthly revenue.
    """
    return features["value"].rename("value")


# ---------------------------------------------------------------------------------------------
