"""Segmentation and early warning: RFM, value tiers, clusters, a churn-risk model, a watchlist.

The module answers question 5 of the research programme: *which customers are at risk, what
are they worth, and what should we do about them?*

Overview
--------
Time-safe features
    :func:`truncate` cuts a :class:`~churn_research.data.ChurnData` at a cutoff date: every
    dated table keeps only rows dated on or before the cutoff, customers who start after it
    disappear, and end dates / exit reasons after the cutoff are masked (a customer who churns
    later looks active). :func:`features_at` *always* computes its features from that truncated
    copy, so no information from after the cutoff can reach a feature — the guarantee is
    structural and is tested by perturbing every post-cutoff row.
RFM and value tiers
    :func:`rfm` (recency, frequency, monetary value, quintile scores, an RFM code; a vectorised
    group-by that handles a million customers in seconds) and :func:`value_tiers` (high value,
    loyal, new, regular, at risk, lost; the rules are in :data:`TIER_RULES`).
Clusters
    :class:`CustomerClusters` (k-means with k chosen by silhouette, or a Gaussian mixture with k
    chosen by BIC) and a marketer-readable profile table.
Churn-risk model
    :func:`churn_label` (churned within the horizon after the cutoff, among customers active at
    the cutoff) and :class:`ChurnRiskModel` (logistic regression vs gradient boosting vs a naive
    one-feature baseline, stratified K-fold AUC with a t-interval over the folds, calibration,
    lift / cumulative gains).
Early warning and watchlist
    :func:`early_warning_signals` (activity drop, falling purchase frequency, recent complaints,
    low satisfaction; see :data:`SIGNALS`), :func:`build_watchlist` (top-N active customers by
    risk x value with tier, signals and the action from :data:`PLAYBOOK`) and
    :func:`write_watchlist`, which refuses to write personal data.

Designs
-------
``"prospective"`` (default when the data has transactions): features at ``cutoff``, label =
churned in ``(cutoff, cutoff + horizon]``. ``"cross-sectional"`` (a single snapshot without
activity history, e.g. IBM Telco): features from customer attributes at the snapshot with the
churn status hidden, label = the dataset's churn flag. A cross-sectional model describes who
*has* churned, not who *will*; reports say so.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from churn_research.model import PERSONAL_COLUMNS, ChurnData, ChurnDataError
from churn_research.stats import wilson_ci

__all__ = [
    "DEFAULT_WINDOWS", "DEFAULT_TIER_RULES", "DEFAULT_SIGNAL_THRESHOLDS", "TIER_ORDER",
    "TIER_RULES", "SIGNALS", "PLAYBOOK", "WATCHLIST_COLUMNS",
    "resolve_design", "resolve_cutoff", "truncate", "active_at", "rfm", "quantile_scores",
    "features_at", "customer_value", "value_tiers", "tier_summary", "rfm_grid", "churn_label",
    "model_columns", "make_model", "LOG_FEATURES", "ChurnRiskModel", "calibration_table",
    "expected_calibration_error", "calibration_sentence", "tier_check_sentence", "gains_table", "score_customers", "top_decile_capture", "CustomerClusters",
    "cluster_columns", "available_signals", "early_warning_signals", "signal_eligibility", "signal_validation", "price_sensitive",
    "suggest_actions", "build_watchlist", "watchlist_summary", "assert_no_personal_data",
    "write_watchlist",
]

DAY = np.timedelta64(1, "D")

#: Look-back windows (days) used by :func:`features_at`.
DEFAULT_WINDOWS = {
    "window_days": 365,       # RFM frequency / monetary value and customer value: trailing window
    "recent_days": 90,        # "recent" activity window for the activity-drop signal
    "baseline_days": 365,     # the customer's own baseline: the window before the recent one
    "trend_months": 6,        # months (30-day buckets) in the purchase-frequency trend
    "complaint_days": 90,     # "recent" complaints
    "survey_days": 365,       # only survey answers this recent count as current satisfaction
}

#: Thresholds of the value-tier rules (see :data:`TIER_RULES`).
DEFAULT_TIER_RULES = {
    "new_days": 180,                 # tenure below this -> new
    "at_risk_recency_days": 60,      # no purchase for this long while still a customer ...
    "at_risk_min_fm": 3,             # ... and F or M score at least this (was a good customer)
    "at_risk_activity_ratio": 0.5,   # or recent activity <= this fraction of own baseline
    "at_risk_min_baseline_tx": 3,    # (baseline must hold at least this many purchases)
    "high_value_min_m": 5,           # M score at least this -> high value (5 = top quintile)
    "loyal_min_f": 4,                # F score at least this ...
    "loyal_min_tenure_days": 365,    # ... and tenure at least this -> loyal
}

#: Thresholds of the early-warning signals (see :data:`SIGNALS`).
DEFAULT_SIGNAL_THRESHOLDS = {
    "activity_drop_ratio": 0.5,      # recent purchase rate <= this x own baseline rate
    "min_baseline_tx": 3,            # baseline must hold at least this many purchases
    "frequency_trend": -0.25,        # monthly purchase count falling >= 25% of its mean per month
    "min_trend_tx": 4,               # trend needs at least this many purchases in its window
    "complaint_min": 1,              # at least this many complaints in complaint_days
    "low_csat": 2,                   # latest CSAT (1-5) at most this ...
    "low_nps": 4,                    # ... or latest NPS (0-10) at most this
}

#: Tiers from most to least valuable (report order).
TIER_ORDER = ["high value", "loyal", "regular", "new", "at risk", "lost"]

#: The value-tier rules, applied in this order (first match wins).
TIER_RULES = pd.DataFrame([
    ("lost", "no longer a customer at the cutoff: ended on or before it (contractual) or no "
             "purchase for inactivity_days (non-contractual; the data's churn rule)",
     "inactivity_days (of the data)"),
    ("new", "tenure below new_days", "new_days"),
    ("at risk", "still a customer, not new, and either no purchase for at_risk_recency_days "
                "although F or M score >= at_risk_min_fm (a good customer going quiet), or "
                "recent purchase rate <= at_risk_activity_ratio x own baseline",
     "at_risk_recency_days, at_risk_min_fm, at_risk_activity_ratio, at_risk_min_baseline_tx"),
    ("high value", "M score >= high_value_min_m (top quintile of trailing-window spend)",
     "high_value_min_m"),
    ("loyal", "F score >= loyal_min_f and tenure >= loyal_min_tenure_days",
     "loyal_min_f, loyal_min_tenure_days"),
    ("regular", "everyone else", ""),
], columns=["tier", "rule", "parameters"])

#: The early-warning signals (all computed from data dated on or before the scoring date).
SIGNALS = pd.DataFrame([
    ("recent_complaint", "tickets",
     "at least complaint_min complaints (tickets of kind 'complaint') in the last complaint_days",
     "complaint_min, complaint_days"),
    ("low_satisfaction", "surveys",
     "latest survey answer within survey_days has CSAT <= low_csat or NPS <= low_nps",
     "low_csat, low_nps, survey_days"),
    ("activity_drop", "transactions",
     "purchase rate in the last recent_days <= activity_drop_ratio x the customer's own rate in "
     "the baseline_days before that (baseline >= min_baseline_tx purchases)",
     "activity_drop_ratio, min_baseline_tx, recent_days, baseline_days"),
    ("falling_frequency", "transactions",
     "least-squares slope of monthly (30-day) purchase counts over the last trend_months, "
     "relative to their mean, <= frequency_trend per month (default -0.25: falling by a quarter "
     "of the average month every month) (>= min_trend_tx purchases, tenure "
     "covering the whole window)",
     "frequency_trend, min_trend_tx, trend_months"),
], columns=["signal", "needs", "definition", "parameters"])

#: Priority of signals when several fire: the first one is the "dominant" signal.
SIGNAL_PRIORITY = list(SIGNALS["signal"])

#: The retention playbook. The likely reason is the first row whose trigger matches (signals
#: in priority order, then price sensitivity, then tenure); the action depends on the reason
#: and on whether the customer is high value (an account manager calls high-value customers).
PLAYBOOK = pd.DataFrame([
    ("service quality", "dominant signal: recent_complaint",
     "Service recovery: call back, resolve the open issue, follow up in 2 weeks",
     "Account-manager call within 48 h: resolve the complaint, goodwill credit"),
    ("dissatisfaction", "dominant signal: low_satisfaction",
     "Satisfaction follow-up: ask what went wrong, fix it, re-survey",
     "Account-manager call: review what went wrong, agree a fix"),
    ("price", "price-sensitive (had a price rise; or month-to-month in the top revenue quintile)",
     "Price offer: loyalty discount or a move to an annual / cheaper plan",
     "Account-manager call with a retention price offer (annual contract at a discount)"),
    ("disengagement", "dominant signal: activity_drop or falling_frequency",
     "Re-engagement: usage tips and a personalised offer",
     "Account-manager call: review needs, tailor the service"),
    ("onboarding", "tier: new",
     "Onboarding check-in: help the customer get value from the product",
     "Account-manager welcome call and onboarding plan"),
    ("unknown (model risk only)", "otherwise",
     "Proactive check-in; monitor next month",
     "Account-manager call: review needs, offer a loyalty benefit"),
], columns=["likely reason", "trigger", "action", "action (high value)"])

#: The only columns a watchlist may carry (no names, phone numbers or e-mails).
WATCHLIST_COLUMNS = ["rank", "customer_id", "tier", "high_value", "risk", "value",
                     "expected_loss", "priority", "signals", "n_signals", "dominant_signal",
                     "likely_reason", "action"]

_DENY_STATIC = re.compile(
    r"(^customer_id$|date|churn|reason|^end|tenure|total|^last|^first|count|^n_|recency|"
    r"frequency|monetary|score|label|status|active)", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Designs, cutoffs and the time-safe view
# ---------------------------------------------------------------------------------------------
def resolve_design(data: ChurnData, design: str = "auto") -> str:
    """Return ``"prospective"`` or ``"cross-sectional"``.

    ``"auto"`` is prospective when the data has transactions (an activity history to cut at
    a date) and cross-sectional for a snapshot without one (IBM Telco).
    """
    if design == "auto":
        return "prospective" if data.has("transactions") else "cross-sectional"
    if design not in ("prospective", "cross-sectional"):
        raise ValueError(f"design must be 'auto', 'prospective' or 'cross-sectional', not {design!r}")
    return design


def resolve_cutoff(data: ChurnData, cutoff=None, *, horizon_days: int = 180,
                   design: str = "prospective") -> pd.Timestamp:
    """The feature cutoff: ``observation_end - horizon_days`` unless given.

    Cross-sectional designs use ``observation_end``. A prospective cutoff must leave a whole
    horizon before ``observation_end`` (otherwise the label would be censored).
    """
    obs = pd.Timestamp(data.observation_end)
    if design == "cross-sectional":
        return obs if cutoff is None else pd.Timestamp(cutoff)
    cut = obs - pd.Timedelta(days=int(horizon_days)) if cutoff is None else pd.Timestamp(cutoff)
    if cut + pd.Timedelta(days=int(horizon_days)) > obs:
        raise ChurnDataError(
            f"cutoff {cut.date()} + horizon {horizon_days} days runs past observation_end "
            f"{obs.date()}, so the churn label would be censored.",
            fix="choose an earlier cutoff (or leave it None: observation_end - horizon_days).")
    return cut


def _inactivity_days(data: ChurnData, inactivity_days=None) -> int:
    if inactivity_days is not None:
        return int(inactivity_days)
    return data.inactivity_days


def truncate(data: ChurnData, cutoff, *, hide_status: bool = False) -> ChurnData:
    """A copy of ``data`` as it was known at ``cutoff``.

    * customers: only those with ``start_date <= cutoff``; ``end_date`` and ``churn_reason``
      after the cutoff are masked (the customer looks active). For non-contractual data every
      end date is masked, because an inferred end date (no purchase for ``inactivity_days``) is
      only known long after the last purchase; activity is re-derived from purchases instead.
      ``hide_status=True`` masks all end dates and reasons (cross-sectional design).
    * transactions, tickets, surveys, events: only rows dated ``<= cutoff``.
    * ``observation_end`` becomes ``cutoff``.

    Parameters
    ----------
    data : ChurnData
    cutoff : date-like
    hide_status : bool, default False

    Returns
    -------
    ChurnData
        New tables; the input is not modified.
    """
    cutoff = pd.Timestamp(cutoff)
    cust = data.customers
    cust = cust.loc[pd.to_datetime(cust["start_date"]) <= cutoff].copy()
    end = pd.to_datetime(cust["end_date"])
    hide = end > cutoff
    if hide_status or data.kind == "non-contractual":
        hide = pd.Series(True, index=cust.index)
    cust["end_date"] = end.mask(hide)
    if "churn_reason" in cust:
        cust["churn_reason"] = cust["churn_reason"].mask(hide | cust["end_date"].isna())
    tables = {}
    for name in ("transactions", "tickets", "surveys", "events"):
        df = getattr(data, name)
        if df is None:
            tables[name] = None
        else:
            tables[name] = df.loc[pd.to_datetime(df["date"]) <= cutoff].copy()
    return data.replace(customers=cust, **tables, observation_end=cutoff, meta=dict(data.meta))


def active_at(data: ChurnData, cutoff, *, inactivity_days=None) -> pd.Series:
    """Whether each customer (started on or before ``cutoff``) is still a customer at ``cutoff``.

    Contractual: no end date on or before the cutoff. Non-contractual: a purchase in the
    ``inactivity_days`` up to the cutoff (purchases after the cutoff are ignored).

    Returns
    -------
    Series of bool indexed by customer_id.
    """
    cutoff = pd.Timestamp(cutoff)
    cust = data.customers
    cust = cust.loc[pd.to_datetime(cust["start_date"]) <= cutoff]
    ids = pd.Index(cust["customer_id"], name="customer_id")
    if data.kind == "non-contractual":
        if not data.has("transactions"):
            raise ChurnDataError("non-contractual data needs transactions to tell who is active.",
                                 table="transactions", fix="load the purchase log.")
        days = _inactivity_days(data, inactivity_days)
        tx = data.transactions
        d = pd.to_datetime(tx["date"])
        recent = tx.loc[(d <= cutoff) & (d > cutoff - pd.Timedelta(days=days)), "customer_id"]
        return pd.Series(ids.isin(pd.unique(recent)), index=ids, name="active")
    end = pd.to_datetime(cust["end_date"]).to_numpy()
    return pd.Series(~(end <= np.datetime64(cutoff)), index=ids, name="active")


# ---------------------------------------------------------------------------------------------
# RFM
# ---------------------------------------------------------------------------------------------
def quantile_scores(values: pd.Series, *, n_bins: int = 5, higher_is_better: bool = True,
                    reference=None) -> pd.Series:
    """Quantile scores 1..n_bins (n_bins = best) from percentile ranks.

    Ties share the average rank, so equal values always get the same score (bins may then be
    unequal). Missing values get a missing score.

    Parameters
    ----------
    values : Series
    n_bins : int, default 5
    higher_is_better : bool, default True
        False for recency (fewer days = better).
    reference : array of bool, optional
        Rows that define the quantiles (default: all). Other rows are scored against the
        reference distribution — e.g. lost customers against the active ones, so that "top
        quintile" means the top fifth of *current* customers.
    """
    v = pd.Series(values, dtype="float64")
    x = v.to_numpy() if higher_is_better else -v.to_numpy()
    miss = np.isnan(x)
    ref = ~miss if reference is None else np.asarray(reference, bool) & ~miss
    if not ref.any():
        return pd.Series(pd.arrays.IntegerArray(np.ones(len(v), "int64"), np.ones(len(v), bool)),
                         index=v.index)
    srt = np.sort(x[ref])
    left = np.searchsorted(srt, x, "left")
    right = np.searchsorted(srt, x, "right")
    # average rank of ties as a share; a value absent from the reference ranks just above
    # the reference values below it
    pct = np.where(right > left, left + (right - left + 1) / 2, left) / len(srt)
    score = np.ceil(np.nan_to_num(pct, nan=1.0) * n_bins - 1e-9).clip(1, n_bins).astype("int64")
    return pd.Series(pd.arrays.IntegerArray(score, miss), index=v.index)


def _revenue_column(customers: pd.DataFrame) -> str | None:
    for col in ("monthly_revenue", "monthly_charges", "MonthlyCharges"):
        if col in customers:
            return col
    return None


def rfm(data, *, cutoff=None, window_days: int | None = 365, n_bins: int = 5,
        inactivity_days=None) -> pd.DataFrame:
    """Recency, frequency and monetary value at a cutoff, with quintile scores and an RFM code.

    Parameters
    ----------
    data : ChurnData or DataFrame
        A ChurnData, or a transactions frame (customer_id, date, amount).
    cutoff : date-like, optional
        Only purchases on or before it count (default: ``observation_end``, or the last
        purchase date for a bare transactions frame).
    window_days : int or None, default 365
        Frequency = number of purchases and monetary = total spend in the ``window_days`` up to
        the cutoff (None: all history).
    n_bins : int, default 5
        Quintiles by default. Scores: 5 = most recent / most frequent / highest spend.
    inactivity_days : int, optional
        Non-contractual data: who counts as active (default ``data.inactivity_days``).

    Returns
    -------
    DataFrame indexed by customer_id
        ``recency_days`` (days since the last purchase, or since the start for customers who
        never bought; NaN without transactions), ``frequency``, ``monetary``, ``r_score``,
        ``f_score``, ``m_score``, ``rfm_code`` (e.g. "545"; "x" where a score is unavailable),
        ``rfm_score`` (sum of the available scores) and, for ChurnData, ``tenure_days`` and
        ``active``. The base is every customer who is active at the cutoff or who was active at
        some point in the window (recently lost customers are kept; long-gone ones are not).
        Scores are quintiles among the customers *active* at the cutoff (lost ones are scored
        against the same cut points), so "M score 5" means the top fifth of current customers.

    Notes
    -----
    Without transactions (a snapshot such as IBM Telco) F is the number of months as a customer
    (bills paid) and M is the monthly revenue times the months billed within the window;
    recency is unavailable. One group-by over the transactions: a million customers take
    seconds.
    """
    if isinstance(data, pd.DataFrame):
        tx = data
        d = pd.to_datetime(tx["date"])
        cut = pd.Timestamp(cutoff) if cutoff is not None else d.max()
        base = None
    else:
        cut = pd.Timestamp(cutoff) if cutoff is not None else pd.Timestamp(data.observation_end)
        tx = data.transactions if data.has("transactions") else None
        d = pd.to_datetime(tx["date"]) if tx is not None else None
        base = data.customers.loc[pd.to_datetime(data.customers["start_date"]) <= cut]
        base = base.set_index("customer_id")
        base.index.name = "customer_id"
    cut64 = np.datetime64(cut, "ns")
    win = None if window_days is None else np.timedelta64(int(window_days), "D")

    if tx is not None:
        keep = (d <= cut).to_numpy()
        dates = d.to_numpy()[keep]
        amounts = tx["amount"].to_numpy(dtype="float64")[keep]
        in_win = np.ones(len(dates), bool) if win is None else dates > cut64 - win
        # one factorisation of the ids, then bincount / maximum.at: no per-customer Python
        ids = tx["customer_id"]
        if isinstance(ids.dtype, pd.CategoricalDtype):          # already factorised
            codes, uniq = ids.cat.codes.to_numpy()[keep], ids.cat.categories
        else:
            codes, uniq = pd.factorize(ids.to_numpy()[keep])
        if (codes < 0).any():                                   # missing ids are ignored
            good = codes >= 0
            codes, dates, amounts, in_win = codes[good], dates[good], amounts[good], in_win[good]
        k = len(uniq)
        last_i8 = np.full(k, np.iinfo(np.int64).min)
        np.maximum.at(last_i8, codes, dates.astype("datetime64[ns]").view("int64"))
        g = pd.DataFrame({
            "last": last_i8.view("datetime64[ns]"),
            "frequency": np.bincount(codes, weights=in_win, minlength=k).astype("int64"),
            "monetary": np.bincount(codes, weights=np.where(in_win, amounts, 0.0), minlength=k),
        }, index=pd.Index(uniq, name="customer_id"))
    else:
        g = None

    if base is None:
        out = pd.DataFrame(index=g.index)
        out["recency_days"] = (cut64 - g["last"].to_numpy()) / DAY
        out["frequency"] = g["frequency"].to_numpy()
        out["monetary"] = g["monetary"].to_numpy()
        if win is not None:
            out = out.loc[out["frequency"] > 0]
    else:
        start = pd.to_datetime(base["start_date"]).to_numpy()
        tenure = (cut64 - start) / DAY
        out = pd.DataFrame(index=base.index)
        out["tenure_days"] = tenure
        sub = data.replace(customers=base.reset_index(), transactions=None, observation_end=cut)
        if g is not None:
            pos = base.index.get_indexer(g.index)      # transactions of unknown customers: -1
            ok = pos >= 0
            last = np.full(len(base), np.datetime64("NaT"), dtype="datetime64[ns]")
            freq = np.zeros(len(base), dtype="int64")
            mon = np.zeros(len(base))
            last[pos[ok]] = g["last"].to_numpy()[ok]
            freq[pos[ok]] = g["frequency"].to_numpy()[ok]
            mon[pos[ok]] = g["monetary"].to_numpy()[ok]
        if data.kind == "non-contractual":
            if g is None:
                raise ChurnDataError("non-contractual data needs transactions.", table="transactions")
            days = _inactivity_days(data, inactivity_days)
            active = ~np.isnat(last) & ((cut64 - last) / DAY < days)
        else:
            active = active_at(sub, cut).to_numpy()
        out["active"] = active
        if g is not None:
            rec = (cut64 - last) / DAY
            out["recency_days"] = np.where(np.isnat(last), tenure, rec)
            out["frequency"] = freq
            out["monetary"] = mon
            in_window = freq > 0 if win is not None else np.ones(len(base), bool)
        else:
            months = np.floor(tenure / 30.4375)
            col = _revenue_column(base)
            rev = base[col].astype("float64").to_numpy() if col else np.full(len(base), np.nan)
            win_months = months if win is None else np.minimum(months, int(window_days) / 30.4375)
            out["recency_days"] = np.nan
            out["frequency"] = months
            out["monetary"] = np.round(rev * np.maximum(win_months, 0), 2)
            end = pd.to_datetime(base["end_date"]).to_numpy()
            in_window = np.ones(len(base), bool) if win is None else ~(end <= cut64 - win)
        out = out.loc[out["active"].to_numpy() | np.asarray(in_window)]
    out.index.name = "customer_id"
    ref = out["active"].to_numpy(bool) if "active" in out and out["active"].any() else None
    out["r_score"] = quantile_scores(out["recency_days"], n_bins=n_bins, higher_is_better=False,
                                     reference=ref)
    out["f_score"] = quantile_scores(out["frequency"], n_bins=n_bins, reference=ref)
    out["m_score"] = quantile_scores(out["monetary"], n_bins=n_bins, reference=ref)
    sc = [out[c].to_numpy(dtype="float64", na_value=np.nan) for c in ("r_score", "f_score", "m_score")]
    digits = np.array(["x"] + [str(i) for i in range(1, 10)], dtype=object)
    parts = [digits[np.nan_to_num(v, nan=0).astype(int).clip(0, 9)] for v in sc]
    out["rfm_code"] = parts[0] + parts[1] + parts[2]
    out["rfm_score"] = np.nansum(np.vstack(sc), axis=0).astype("int64")
    return out


# ---------------------------------------------------------------------------------------------
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


def _static_columns(customers: pd.DataFrame, static_columns=None) -> list[str]:
    if static_columns is not None:
        missing = [c for c in static_columns if c not in customers]
        if missing:
            raise ChurnDataError(f"static feature columns {missing} are not in the table.",
                                 table="customers", column=missing[0],
                                 fix="fix the static_columns parameter of 40_segments.")
        return list(static_columns)
    cols = []
    for c in customers.columns:
        if c.lower() in PERSONAL_COLUMNS or _DENY_STATIC.search(c):
            continue
        s = customers[c]
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
                exclude_recurring: bool = True) -> pd.DataFrame:
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
        sv = sv.loc[sv["customer_id"].isin(idx)].sort_values(["customer_id", "date"])
        last = sv.groupby("customer_id").tail(1).set_index("customer_id")
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
        if pd.api.types.is_bool_dtype(s) or s.dropna().isin([True, False]).all() and s.dtype == object:
            s = s.astype("float64")
        out[c] = s
    out.attrs = {"cutoff": str(cutoff.date()), "design": design}
    return out


def customer_value(features: pd.DataFrame) -> pd.Series:
    """The value used for prioritising: trailing-window revenue (``value`` of :func:`features_at`).

    With transactions this is the revenue of the last ``window_days`` (default 12 months);
    for a snapshot without transactions it is 12 x the monthly revenue.
    """
    return features["value"].rename("value")


# ---------------------------------------------------------------------------------------------
# Value tiers
# ---------------------------------------------------------------------------------------------
def value_tiers(features: pd.DataFrame, *, new_days: int = 180,
                at_risk_recency_days: int = 60, at_risk_min_fm: int = 3,
                at_risk_activity_ratio: float = 0.5, at_risk_min_baseline_tx: int = 3,
                high_value_min_m: int = 5, loyal_min_f: int = 4,
                loyal_min_tenure_days: int = 365) -> pd.Series:
    """Assign each customer a value tier (rules in :data:`TIER_RULES`, first match wins).

    Parameters
    ----------
    features : DataFrame
        Output of :func:`rfm` or :func:`features_at` (needs ``active``, ``tenure_days``,
        ``recency_days``, ``f_score``, ``m_score``; ``activity_ratio`` and ``tx_baseline`` are
        used when present).
    new_days, at_risk_recency_days, at_risk_min_fm, at_risk_activity_ratio,
    at_risk_min_baseline_tx, high_value_min_m, loyal_min_f, loyal_min_tenure_days
        Thresholds, see :data:`DEFAULT_TIER_RULES`. "Lost" is the ``active`` flag of
        :func:`rfm` / :func:`features_at` (without it: no purchase for 180 days).

    Returns
    -------
    Series of str (categorical in :data:`TIER_ORDER`) indexed like ``features``.
    """
    f = features
    if "active" in f:
        lost = ~f["active"].astype(bool).to_numpy()
    else:
        lost = (f["recency_days"] > 180).to_numpy()
    tenure = f["tenure_days"].to_numpy(dtype=float) if "tenure_days" in f else np.full(len(f), np.inf)
    rec = f["recency_days"].to_numpy(dtype=float)
    fs = f["f_score"].astype("float64").fillna(0).to_numpy()
    ms = f["m_score"].astype("float64").fillna(0).to_numpy()
    new = tenure < new_days
    quiet = (rec >= at_risk_recency_days) & ((fs >= at_risk_min_fm) | (ms >= at_risk_min_fm))
    if "activity_ratio" in f:
        ratio = f["activity_ratio"].to_numpy(dtype=float)
        enough = f["tx_baseline"].to_numpy(dtype=float) >= at_risk_min_baseline_tx \
            if "tx_baseline" in f else np.ones(len(f), bool)
        dropping = (ratio <= at_risk_activity_ratio) & enough
    else:
        dropping = np.zeros(len(f), bool)
    at_risk = quiet | dropping
    high = ms >= high_value_min_m
    loyal = (fs >= loyal_min_f) & (tenure >= loyal_min_tenure_days)
    tier = np.select([lost, new, at_risk, high, loyal],
                     ["lost", "new", "at risk", "high value", "loyal"], default="regular")
    return pd.Series(pd.Categorical(tier, categories=TIER_ORDER), index=f.index, name="tier")


def tier_summary(features: pd.DataFrame, tiers: pd.Series, churned: pd.Series | None = None,
                 *, value: str = "value") -> pd.DataFrame:
    """Size, churn rate and revenue share per tier.

    Parameters
    ----------
    features : DataFrame
        Needs the ``value`` column (trailing revenue).
    tiers : Series
        From :func:`value_tiers`.
    churned : Series of 0/1, optional
        The churn label (defined for customers active at the cutoff); the lost tier has no
        churn rate (already lost).

    Returns
    -------
    DataFrame indexed by tier: ``customers``, ``share``, ``churned``, ``churn_rate`` (with a
    Wilson 95% interval ``churn_ci_low`` / ``churn_ci_high``), ``revenue``, ``revenue_share``,
    ``mean_value``.
    """
    df = pd.DataFrame({"tier": tiers, "value": features[value].reindex(tiers.index)})
    if churned is not None:
        df["churned"] = churned.reindex(tiers.index).astype("float64")
    g = df.groupby("tier", observed=False)
    out = pd.DataFrame({"customers": g.size()})
    out["share"] = out["customers"] / out["customers"].sum()
    if churned is not None:
        known = g["churned"].count()
        k = g["churned"].sum(min_count=1)
        out["churned"] = k.fillna(0).astype("int64")
        out["churn_rate"] = k / known.replace(0, np.nan)
        lo, hi = wilson_ci(k.fillna(0).to_numpy(), known.to_numpy())
        out["churn_ci_low"], out["churn_ci_high"] = lo, hi
    out["revenue"] = g["value"].sum()
    out["revenue_share"] = out["revenue"] / out["revenue"].sum() if out["revenue"].sum() else np.nan
    out["mean_value"] = g["value"].mean()
    out.index.name = "tier"
    return out


def rfm_grid(features: pd.DataFrame, churned: pd.Series, *, rows: str = "r_score",
             cols: str = "f_score") -> pd.DataFrame:
    """Churn rate by two RFM scores (rows x columns), among customers with a label."""
    df = features[[rows, cols]].copy()
    df["churned"] = churned.reindex(features.index)
    df = df.dropna()
    return df.pivot_table(index=rows, columns=cols, values="churned", aggfunc="mean",
                          observed=False).sort_index(ascending=False)


# ---------------------------------------------------------------------------------------------
# Label
# ---------------------------------------------------------------------------------------------
def churn_label(data: ChurnData, cutoff=None, *, horizon_days: int = 180,
                design: str = "prospective", inactivity_days=None) -> pd.Series:
    """The churn label for the risk model.

    Prospective: among customers active at ``cutoff`` (started on or before it and not yet
    lost), 1 if they churn in ``(cutoff, cutoff + horizon_days]``. Contractual data: the end
    date falls in that interval. Non-contractual data (churn is not observed): no purchase in
    that interval — computed here from the transactions, the natural label when the horizon
    plays the role of the inactivity period.

    Cross-sectional: every customer, 1 if the dataset marks them as churned (an end date).

    Returns
    -------
    Series of int (0/1) indexed by customer_id, named ``churned``.
    """
    if design == "cross-sectional":
        c = data.customers
        return pd.Series(c["end_date"].notna().astype("int64").to_numpy(),
                         index=pd.Index(c["customer_id"], name="customer_id"), name="churned")
    cutoff = resolve_cutoff(data, cutoff, horizon_days=horizon_days, design=design)
    horizon_end = cutoff + pd.Timedelta(days=int(horizon_days))
    act = active_at(data, cutoff, inactivity_days=inactivity_days)
    ids = act.index[act.to_numpy()]
    if data.kind == "non-contractual":
        tx = data.transactions
        d = pd.to_datetime(tx["date"])
        bought = pd.unique(tx.loc[(d > cutoff) & (d <= horizon_end), "customer_id"])
        y = ~ids.isin(bought)
    else:
        end = pd.to_datetime(data.customers.set_index("customer_id")["end_date"]).reindex(ids)
        y = ((end > cutoff) & (end <= horizon_end)).to_numpy()
    return pd.Series(np.asarray(y).astype("int64"), index=ids, name="churned")


# ---------------------------------------------------------------------------------------------
# Risk model
# ---------------------------------------------------------------------------------------------
_NOT_FEATURES = {"active", "r_score", "f_score", "m_score", "rfm_code", "rfm_score", "value",
                 "tier", "churned", "tx_trend_window"}


def model_columns(features: pd.DataFrame, *, exclude=()) -> tuple[list[str], list[str]]:
    """Numeric and categorical model inputs among the columns of :func:`features_at`.

    Scores, codes, the ``active`` flag and ``value`` (a duplicate of ``monetary``) are left out;
    columns that are constant or entirely missing are dropped. When ``activity_recency_days``
    is present (recurring invoices were separated from purchases), the RFM ``recency_days`` is
    left out: for a subscription it only measures where the date falls in the billing month,
    which differs between the training cutoff and the scoring date.
    """
    num, cat = [], []
    skip = set(_NOT_FEATURES) | set(exclude)
    if "activity_recency_days" in features:
        skip.add("recency_days")
    for c in features.columns:
        if c in skip:
            continue
        s = features[c]
        if s.nunique(dropna=True) < 2:
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            num.append(c)
        else:
            cat.append(c)
    return num, cat


#: Non-negative, right-skewed inputs that the models see on a log scale (log1p).
LOG_FEATURES = ("tenure_days", "recency_days", "activity_recency_days", "frequency", "monetary", "tx_recent",
                "tx_baseline", "activity_ratio", "complaints_recent", "complaints_365",
                "tickets_365", "survey_age_days", "total_charges")


def _log1p_clip(X):
    return np.log1p(np.clip(np.asarray(X, dtype="float64"), 0, None))


def make_model(name: str, *, numeric, categorical, random_state: int = 0):
    """A scikit-learn pipeline: imputation + scaling / one-hot encoding + a classifier.

    Numeric columns listed in :data:`LOG_FEATURES` (durations, counts, money) are log1p-
    transformed, then every numeric column gets median imputation with a missing-value
    indicator and standardisation; categorical columns are one-hot encoded (unknown levels
    ignored).

    ``"logistic"``: L2 logistic regression (C=1). ``"gradient_boosting"``: histogram gradient
    boosting (learning rate 0.05, 150 trees of depth <= 3, >= 50 customers per leaf, L2 1.0,
    no early stopping, so the fit is deterministic for a random_state). ``"baseline"``: a
    logistic regression on the numeric columns given (the naive one-feature rule).
    """
    def num_pipe(log):
        steps = [FunctionTransformer(_log1p_clip, feature_names_out="one-to-one")] if log else []
        steps += [SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                  StandardScaler()]
        return make_pipeline(*steps)

    logged = [c for c in numeric if c in LOG_FEATURES]
    plain = [c for c in numeric if c not in LOG_FEATURES]
    parts = []
    if logged:
        parts.append(("log", num_pipe(True), logged))
    if plain:
        parts.append(("num", num_pipe(False), plain))
    if categorical:
        parts.append(("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)), list(categorical)))
    pre = ColumnTransformer(parts, remainder="drop")
    if name in ("logistic", "baseline"):
        clf = LogisticRegression(C=1.0, max_iter=2000)
    elif name == "gradient_boosting":
        clf = HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=50,
            l2_regularization=1.0, early_stopping=False, random_state=random_state)
    else:
        raise ValueError(f"unknown model {name!r}: use 'logistic', 'gradient_boosting' or 'baseline'")
    return Pipeline([("prepare", pre), ("model", clf)])


def _cat_frame(X: pd.DataFrame, categorical) -> pd.DataFrame:
    """Categorical columns as strings, missing values as the level "missing"."""
    X = X.copy()
    for c in categorical:
        s = X[c].astype("object")
        X[c] = s.where(s.notna(), "missing").astype(str)
    return X


def _auc(y, p) -> float:
    return float(roc_auc_score(y, p))


class ChurnRiskModel:
    """Compare churn-risk classifiers by stratified K-fold cross-validation, keep the best.

    Parameters
    ----------
    models : sequence of str, default ("logistic", "gradient_boosting")
        Candidates (see :func:`make_model`).
    baseline_feature : str, default "tenure_days"
        The naive baseline: a one-feature logistic regression ("new customers churn more";
        use "recency_days" for non-contractual data). A no-skill ranking has AUC 0.5.
    n_splits : int, default 5
    confidence : float, default 0.95
        Level of the AUC interval: mean fold AUC +- t(n_splits - 1) x sd / sqrt(n_splits)
        (a t-interval over the fold AUCs).
    n_bins : int, default 10
        Bins (deciles of predicted risk) of the calibration and gains tables.
    random_state : int, default 0
        Seeds the fold split and the gradient boosting.
    n_threads : int or None, default 1
        Threads for BLAS / OpenMP while fitting (None: library default). One thread is the
        fastest on a shared machine (stages run in parallel under ``make -j``).

    Attributes
    ----------
    numeric_, categorical_ : list of str
    cv_results_ : DataFrame
        One row per model and fold: ``auc``.
    oof_ : DataFrame
        Out-of-fold predicted churn probability per customer and model, plus ``churned``.
    summary_ : DataFrame
        Per model: ``cv_auc``, ``ci_low``, ``ci_high``, ``fold_sd``, ``oof_auc``, ``ece``,
        ``max_calibration_gap``, ``brier``, ``top_decile_capture``, ``top_decile_lift`` and,
        against the baseline, ``auc_gain`` with its paired t-interval over the folds
        (``gain_ci_low``, ``gain_ci_high``).
    best_name_ : str
        The candidate with the highest mean CV AUC.
    best_estimator_ : Pipeline
        The best candidate refitted on all the data.
    """

    def __init__(self, models=("logistic", "gradient_boosting"), *,
                 baseline_feature: str = "tenure_days", n_splits: int = 5,
                 confidence: float = 0.95, n_bins: int = 10, random_state: int = 0,
                 n_threads: int | None = 1):
        self.n_threads = n_threads
        self.models = models
        self.baseline_feature = baseline_feature
        self.n_splits = n_splits
        self.confidence = confidence
        self.n_bins = n_bins
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series, *, numeric=None, categorical=None):
        """Cross-validate every candidate and the baseline, then refit the best on all data.

        Parameters
        ----------
        X : DataFrame
            Features (e.g. :func:`features_at` rows of the customers with a label).
        y : Series of 0/1
            Churn label aligned on ``X.index``.
        numeric, categorical : list of str, optional
            Model inputs (default :func:`model_columns`).

        Returns
        -------
        self
        """
        with threadpool_limits(limits=self.n_threads):
            return self._fit(X, y, numeric=numeric, categorical=categorical)

    def _fit(self, X, y, *, numeric=None, categorical=None):
        y = pd.Series(y).reindex(X.index)
        if y.isna().any():
            raise ChurnDataError("some customers in X have no label.", rows=list(y.index[y.isna()]))
        y = y.astype(int)
        if y.nunique() < 2:
            raise ChurnDataError("the label has a single class; no model can be fitted.",
                                 fix="choose a cutoff / horizon with both churners and stayers.")
        if self.baseline_feature is not None and self.baseline_feature not in X:
            raise ChurnDataError(
                f"the baseline feature '{self.baseline_feature}' is not among the features.",
                column=self.baseline_feature,
                fix=f"set baseline_feature to one of {sorted(model_columns(X)[0])} (or None).")
        if numeric is None and categorical is None:
            numeric, categorical = model_columns(X)
        self.numeric_, self.categorical_ = list(numeric or []), list(categorical or [])
        Xc = _cat_frame(X, self.categorical_)
        cv = StratifiedKFold(n_splits=self.n_splits, shuffle=True, random_state=self.random_state)
        splits = list(cv.split(Xc, y))
        specs = {m: (self.numeric_, self.categorical_) for m in self.models}
        if self.baseline_feature is not None and self.baseline_feature in X:
            specs["baseline"] = ([self.baseline_feature], [])
        rows, oof = [], pd.DataFrame(index=X.index)
        for name, (num, cat) in specs.items():
            pred = np.empty(len(y))
            for k, (tr, te) in enumerate(splits):
                est = make_model(name, numeric=num, categorical=cat, random_state=self.random_state)
                est.fit(Xc.iloc[tr], y.iloc[tr])
                pred[te] = est.predict_proba(Xc.iloc[te])[:, 1]
                rows.append({"model": name, "fold": k, "auc": _auc(y.iloc[te], pred[te])})
            oof[name] = pred
        oof["churned"] = y
        self.cv_results_ = pd.DataFrame(rows)
        self.oof_ = oof
        summ = []
        tq = stats.t.ppf(0.5 + self.confidence / 2, self.n_splits - 1)
        for name in specs:
            a = self.cv_results_.loc[self.cv_results_["model"] == name, "auc"]
            half = tq * a.std(ddof=1) / np.sqrt(len(a))
            p = oof[name].to_numpy()
            cal = calibration_table(y, p, n_bins=self.n_bins)
            gains = gains_table(y, p, n_bins=self.n_bins)
            summ.append({
                "model": name, "cv_auc": a.mean(), "ci_low": a.mean() - half,
                "ci_high": a.mean() + half, "fold_sd": a.std(ddof=1), "oof_auc": _auc(y, p),
                "ece": expected_calibration_error(y, p, n_bins=self.n_bins),
                "max_calibration_gap": float(cal["gap"].abs().max()),
                "brier": float(np.mean((p - y.to_numpy()) ** 2)),
                "top_decile_capture": float(gains["cum_capture"].iloc[0]),
                "top_decile_lift": float(gains["lift"].iloc[0]),
            })
        self.summary_ = pd.DataFrame(summ).set_index("model")
        if "baseline" in specs:                  # paired over folds: same customers, same split
            folds = self.cv_results_.pivot(index="fold", columns="model", values="auc")
            for name in specs:
                diff = folds[name] - folds["baseline"]
                half = tq * diff.std(ddof=1) / np.sqrt(len(diff))
                self.summary_.loc[name, "auc_gain"] = diff.mean()
                self.summary_.loc[name, "gain_ci_low"] = diff.mean() - half
                self.summary_.loc[name, "gain_ci_high"] = diff.mean() + half
        cand = self.summary_.loc[list(self.models)]
        self.best_name_ = str(cand["cv_auc"].idxmax())
        self.best_estimator_ = make_model(self.best_name_, numeric=self.numeric_,
                                          categorical=self.categorical_,
                                          random_state=self.random_state).fit(Xc, y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> pd.Series:
        """Churn probability within the horizon from the best model (a Series named ``risk``)."""
        Xc = _cat_frame(X, self.categorical_)
        with threadpool_limits(limits=self.n_threads):
            p = self.best_estimator_.predict_proba(Xc)[:, 1]
        return pd.Series(p, index=X.index, name="risk")

    def roc_curves(self) -> pd.DataFrame:
        """Out-of-fold ROC curve points (``model``, ``fpr``, ``tpr``)."""
        parts = []
        for name in self.summary_.index:
            fpr, tpr, _ = roc_curve(self.oof_["churned"], self.oof_[name])
            parts.append(pd.DataFrame({"model": name, "fpr": fpr, "tpr": tpr}))
        return pd.concat(parts, ignore_index=True)

    def calibration(self, model: str | None = None) -> pd.DataFrame:
        """Calibration table (deciles of out-of-fold risk) of a model (default: the best)."""
        m = model or self.best_name_
        return calibration_table(self.oof_["churned"], self.oof_[m], n_bins=self.n_bins)

    def gains(self, model: str | None = None) -> pd.DataFrame:
        """Lift / cumulative-gains table of a model (default: the best), out of fold."""
        m = model or self.best_name_
        return gains_table(self.oof_["churned"], self.oof_[m], n_bins=self.n_bins)


def score_customers(data: ChurnData, model: ChurnRiskModel, *, design: str = "prospective",
                    **feature_options) -> tuple[pd.DataFrame, pd.Series]:
    """Features and churn risk of the current customers at ``observation_end``.

    Prospective: features at ``observation_end`` (same definitions as at the training cutoff)
    scored by the refitted best model — the probability of churning within the horizon.
    Cross-sectional: the snapshot's customers without a churn flag are the active ones, and
    their risk is the model's *out-of-fold* prediction (they were part of the training data, so
    in-sample scores would be optimistic).

    Parameters
    ----------
    data : ChurnData
    model : ChurnRiskModel
        Fitted.
    design : {"prospective", "cross-sectional"}
    **feature_options
        Passed to :func:`features_at` (windows, static columns, ...).

    Returns
    -------
    features : DataFrame
        :func:`features_at` at ``observation_end``; ``active`` is the customer's true status.
    risk : Series
        Churn probability of each active customer (named ``risk``).
    """
    feats = features_at(data, data.observation_end, design=design, **feature_options)
    if design == "cross-sectional":
        status = data.customers.set_index("customer_id")["end_date"].reindex(feats.index)
        feats["active"] = status.isna().to_numpy()
        act = feats.index[feats["active"]]
        risk = model.oof_[model.best_name_].reindex(act).rename("risk")
        return feats, risk
    act = feats.loc[feats["active"].astype(bool)]
    return feats, model.predict_proba(act)


def _risk_bins(p, n_bins: int) -> np.ndarray:
    """Equal-size bins of customers ranked by risk; bin 0 = highest risk (ties broken by order)."""
    p = np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    ranks = np.empty(len(p), dtype=np.int64)
    ranks[order] = np.arange(len(p))
    return (ranks * n_bins) // len(p)


def calibration_table(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed churn rate per decile of predicted risk (lowest risk first).

    Returns ``bin``, ``customers``, ``predicted``, ``observed``, ``gap`` (observed - predicted)
    and a Wilson 95% interval of the observed rate.
    """
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    b = n_bins - 1 - _risk_bins(p, n_bins)
    df = pd.DataFrame({"bin": b, "y": y, "p": p}).groupby("bin")
    out = pd.DataFrame({"customers": df.size(), "predicted": df["p"].mean(),
                        "observed": df["y"].mean()})
    out["gap"] = out["observed"] - out["predicted"]
    lo, hi = wilson_ci(df["y"].sum().to_numpy(), out["customers"].to_numpy())
    out["observed_ci_low"], out["observed_ci_high"] = lo, hi
    return out.reset_index()


def expected_calibration_error(y, p, *, n_bins: int = 10) -> float:
    """Expected calibration error: customer-weighted mean |observed - predicted| over risk deciles."""
    t = calibration_table(y, p, n_bins=n_bins)
    return float(np.average(t["gap"].abs(), weights=t["customers"]))


def calibration_sentence(cal: pd.DataFrame, *, ece: float, tolerance: float = 0.05) -> str:
    """What the calibration table means for reading the risks, in one sentence.

    ``cal`` is :func:`calibration_table` (lowest risk first). Within ``tolerance`` on average
    and in every decile: read as probabilities. Within on average only: name the decile with the
    largest gap and, when it is the riskiest one (where a watchlist comes from), whether its
    risks are over- or understated. Otherwise: recalibrate.
    """
    if ece > tolerance:
        return "The probabilities should be recalibrated before being read literally."
    worst = cal.loc[cal["gap"].abs().idxmax()]
    if abs(worst["gap"]) <= tolerance:
        return "The probabilities can be read as churn probabilities in every risk decile."
    text = (f"On average the probabilities can be read as churn probabilities, but in risk decile "
            f"{int(worst['bin']) + 1} of {len(cal)} (1 = lowest risk) the model predicts "
            f"{worst['predicted']:.0%} against {worst['observed']:.0%} observed")
    if int(worst["bin"]) != len(cal) - 1:
        return text + "."
    direction = "overstated" if worst["predicted"] > worst["observed"] else "understated"
    return (text + " — the riskiest customers, from whom the watchlist is drawn, so its risks and "
            f"expected loss are likely {direction}.")


def tier_check_sentence(tiers: pd.DataFrame) -> str:
    """A caveat when the rule-based "at risk" tier does not churn more than another active tier.

    ``tiers`` is :func:`tier_summary` with a ``churn_rate`` column; empty string otherwise.
    """
    if "churn_rate" not in tiers or "at risk" not in tiers.index:
        return ""
    ar = tiers.loc["at risk"]
    if not ar["customers"] or pd.isna(ar["churn_rate"]):
        return ""
    others = tiers.drop(index=["at risk", "lost"], errors="ignore")
    others = others[(others["customers"] > 0) & others["churn_rate"].notna()]
    if others.empty or ar["churn_rate"] > others["churn_rate"].max():
        return ""
    top = others["churn_rate"].idxmax()
    return (f" On these data the at-risk rule does not single out the riskiest customers: its tier "
            f"churns {ar['churn_rate']:.0%}, the {top} tier {others.loc[top, 'churn_rate']:.0%}; for "
            "targeting, use the risk model's ranking below rather than the tier.")


def gains_table(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by decile of predicted risk (highest risk first).

    Returns ``decile`` (1 = top 10% by risk), ``customers``, ``churners``, ``churn_rate``,
    ``lift`` (churn rate / overall rate), ``cum_share`` (share of customers contacted) and
    ``cum_capture`` (share of all churners among them: the cumulative-gains curve).
    """
    y = np.asarray(y, float)
    b = _risk_bins(p, n_bins)
    g = pd.DataFrame({"decile": b + 1, "y": y}).groupby("decile")["y"]
    out = pd.DataFrame({"customers": g.size(), "churners": g.sum()})
    out["churn_rate"] = out["churners"] / out["customers"]
    out["lift"] = out["churn_rate"] / y.mean()
    out["cum_share"] = out["customers"].cumsum() / len(y)
    out["cum_capture"] = out["churners"].cumsum() / y.sum()
    return out.reset_index()


def top_decile_capture(y, p) -> float:
    """Share of all churners among the 10% of customers with the highest predicted risk."""
    return float(gains_table(y, p, n_bins=10)["cum_capture"].iloc[0])


# ---------------------------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------------------------
_BEHAVIOURAL = ["tenure_days", "recency_days", "activity_recency_days", "frequency", "monetary", "activity_ratio",
                "freq_trend", "complaints_365", "tickets_365", "csat_mean", "nps_last"]

_LABELS = {"tenure_days": "tenure", "recency_days": "days since last purchase",
           "activity_recency_days": "days since last add-on purchase",
           "frequency": "purchases", "monetary": "spend", "activity_ratio": "recent activity",
           "freq_trend": "purchase trend", "complaints_365": "complaints", "tickets_365": "tickets",
           "csat_mean": "CSAT", "nps_last": "NPS"}


def cluster_columns(features: pd.DataFrame, columns=None, *, max_missing: float = 0.6) -> list[str]:
    """Behavioural columns used for clustering: given ones, or those of :data:`_BEHAVIOURAL`
    present, non-constant and with at most ``max_missing`` missing."""
    if columns is not None:
        missing = [c for c in columns if c not in features]
        if missing:
            raise ChurnDataError(
                f"cluster features {missing} are not available for this dataset.",
                column=missing[0],
                fix=f"choose cluster_features among {[c for c in _BEHAVIOURAL if c in features]} "
                    "or the numeric customer attributes (or null for the default).")
        return list(columns)
    out = []
    for c in _BEHAVIOURAL:
        if c in features and features[c].isna().mean() <= max_missing \
                and features[c].nunique(dropna=True) > 2:
            out.append(c)
    return out


class CustomerClusters:
    """Cluster customers on standardised behavioural features.

    Skewed non-negative columns (counts, money, tenure) are log1p-transformed, missing values
    set to the median, then everything standardised (z-scores).

    Parameters
    ----------
    k : int, optional
        Number of clusters; default chosen over ``k_range``.
    k_range : sequence of int, default range(2, 9)
    method : {"kmeans", "gmm"}
        k-means (k = the best silhouette, computed on a sample of ``sample_size`` customers) or
        a Gaussian mixture with full covariances (k = the lowest BIC).
    sample_size : int, default 3000
        Customers on which the silhouette is computed.
    max_fit_rows : int or None, default 30000
        Larger inputs are clustered on a seeded random sample of this many rows (k-means with
        ten starts per k on 10^6 customers takes minutes; on 30,000 the centres are the same
        up to sampling noise); every row is then assigned to its nearest centre. ``None``:
        always use every row.
    random_state : int, default 0

    Attributes
    ----------
    columns_ : list of str
    selection_ : DataFrame
        Per k: ``silhouette`` and ``inertia`` (k-means) or ``bic`` (gmm).
    k_ : int
    labels_ : Series
        Cluster (1..k, by decreasing size) per customer.
    centers_ : DataFrame
        Cluster means in standard-deviation units (rows = clusters).
    """

    def __init__(self, *, k: int | None = None, k_range=range(2, 9), method: str = "kmeans",
                 sample_size: int = 3000, max_fit_rows: int | None = 30_000, random_state: int = 0):
        self.k = k
        self.max_fit_rows = max_fit_rows
        self.k_range = k_range
        self.method = method
        self.sample_size = sample_size
        self.random_state = random_state

    def _transform(self, X: pd.DataFrame) -> np.ndarray:
        Z = X[self.columns_].astype("float64").copy()
        for c in self.log_:
            Z[c] = np.log1p(Z[c].clip(lower=0))
        Z = Z.fillna(self.median_)
        return ((Z - self.mean_) / self.scale_).to_numpy()

    def fit(self, X: pd.DataFrame, columns=None):
        """Choose k (unless given) and cluster the rows of ``X``; returns ``self``."""
        with threadpool_limits(limits=1):
            return self._fit(X, columns)

    def _fit(self, X: pd.DataFrame, columns=None):
        self.columns_ = cluster_columns(X, columns)
        if len(self.columns_) < 2:
            raise ChurnDataError("fewer than two usable behavioural columns to cluster on.",
                                 fix="pass cluster_columns explicitly.")
        raw = X[self.columns_].astype("float64")
        self.log_ = [c for c in self.columns_
                     if raw[c].min() >= 0 and raw[c].skew() > 1.0]
        Z = raw.copy()
        for c in self.log_:
            Z[c] = np.log1p(Z[c])
        self.median_ = Z.median()
        Z = Z.fillna(self.median_)
        self.mean_, self.scale_ = Z.mean(), Z.std(ddof=0).replace(0, 1.0)
        Zn = self._transform(X)
        rng = np.random.default_rng(self.random_state)
        Zfit = Zn  # fit on a seeded random sample of large inputs; every row is labelled below
        if self.max_fit_rows is not None and len(Zn) > self.max_fit_rows:
            Zfit = Zn[np.sort(rng.choice(len(Zn), size=int(self.max_fit_rows), replace=False))]
        self.n_fit_ = len(Zfit)
        sample = rng.choice(len(Zfit), size=min(self.sample_size, len(Zfit)), replace=False)

        def model(k):
            if self.method == "gmm":
                return GaussianMixture(k, covariance_type="full", n_init=2,
                                       random_state=self.random_state)
            return KMeans(k, n_init=10, random_state=self.random_state)

        rows = []
        ks = [self.k] if self.k is not None else list(self.k_range)
        fits = {}
        for k in ks:
            m = model(k).fit(Zfit)
            fits[k] = m
            lab = m.predict(Zfit)
            row = {"k": k}
            if self.method == "gmm":
                row["bic"] = m.bic(Zfit)
            else:
                row["inertia"] = m.inertia_
            row["silhouette"] = (silhouette_score(Zfit[sample], lab[sample])
                                 if len(np.unique(lab[sample])) > 1 else np.nan)
            rows.append(row)
        self.selection_ = pd.DataFrame(rows).set_index("k")
        if self.k is not None:
            self.k_ = self.k
        elif self.method == "gmm":
            self.k_ = int(self.selection_["bic"].idxmin())
        else:
            self.k_ = int(self.selection_["silhouette"].idxmax())
        self.model_ = fits[self.k_]
        lab = self.model_.predict(Zn)
        order = pd.Series(lab).value_counts().index          # 1 = largest cluster
        self.relabel_ = {int(old): new + 1 for new, old in enumerate(order)}
        self.labels_ = pd.Series([self.relabel_[v] for v in lab], index=X.index, name="cluster")
        self.centers_ = pd.DataFrame(Zn, index=X.index, columns=self.columns_).groupby(
            self.labels_).mean()
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Cluster of new rows (same numbering as ``labels_``)."""
        with threadpool_limits(limits=1):
            lab = self.model_.predict(self._transform(X))
        return pd.Series([self.relabel_[v] for v in lab], index=X.index, name="cluster")

    def profiles(self, X: pd.DataFrame, *, churned: pd.Series | None = None,
                 value: pd.Series | None = None, top: int = 3) -> pd.DataFrame:
        """A profile table a marketer can read: one row per cluster.

        Columns: ``customers``, ``share``, ``churn_rate`` (if ``churned``), ``mean_value`` and
        ``value_share`` (if ``value``), the cluster's median of each feature, and
        ``distinguishing`` — the ``top`` features furthest from the average customer, in
        standard deviations (e.g. "high spend (+1.2 sd), low tenure (-0.8 sd)").
        """
        lab = self.labels_
        out = pd.DataFrame({"customers": lab.value_counts().sort_index()})
        out["share"] = out["customers"] / out["customers"].sum()
        if churned is not None:
            out["churn_rate"] = churned.reindex(lab.index).groupby(lab).mean()
        if value is not None:
            v = value.reindex(lab.index)
            out["mean_value"] = v.groupby(lab).mean()
            out["value_share"] = v.groupby(lab).sum() / v.sum()
        med = X.loc[lab.index, self.columns_].groupby(lab).median()
        out = out.join(med)
        desc = []
        for _cl, row in self.centers_.iterrows():
            top_cols = row.abs().sort_values(ascending=False).index[:top]
            desc.append(", ".join(
                f"{'high' if row[c] > 0 else 'low'} {_LABELS.get(c, c)} ({row[c]:+.1f} sd)"
                for c in top_cols))
        out["distinguishing"] = desc
        out.index.name = "cluster"
        return out


# ---------------------------------------------------------------------------------------------
# Early-warning signals
# ---------------------------------------------------------------------------------------------
def available_signals(features: pd.DataFrame) -> dict[str, bool]:
    """Which signals can be computed from the columns of :func:`features_at`."""
    return {
        "recent_complaint": "complaints_recent" in features,
        "low_satisfaction": "csat_last" in features or "nps_last" in features,
        "activity_drop": "activity_ratio" in features,
        "falling_frequency": "freq_trend" in features,
    }


def early_warning_signals(features: pd.DataFrame, *, activity_drop_ratio: float = 0.5,
                          min_baseline_tx: int = 3, frequency_trend: float = -0.25,
                          min_trend_tx: int = 4, complaint_min: int = 1, low_csat: float = 2,
                          low_nps: float = 4) -> pd.DataFrame:
    """Evaluate the early-warning signals of :data:`SIGNALS` for each customer.

    Parameters
    ----------
    features : DataFrame
        From :func:`features_at` (the windows are set there). Signals whose input table is
        absent are False for everyone (see :func:`available_signals`).
    activity_drop_ratio, min_baseline_tx, frequency_trend, min_trend_tx, complaint_min,
    low_csat, low_nps
        Thresholds, see :data:`DEFAULT_SIGNAL_THRESHOLDS`.

    Returns
    -------
    DataFrame indexed like ``features``: one bool column per signal, ``n_signals``,
    ``signals`` (the fired ones joined by ", ", "" if none) and ``dominant_signal`` (the fired
    signal highest in :data:`SIGNAL_PRIORITY`: complaint > satisfaction > activity drop >
    falling frequency; "none" if none).
    """
    f = features
    n = len(f)
    out = pd.DataFrame(index=f.index)

    def col(name, default=np.nan):
        return f[name].to_numpy(dtype=float) if name in f else np.full(n, default)

    out["recent_complaint"] = col("complaints_recent", 0) >= complaint_min
    csat, nps = col("csat_last"), col("nps_last")
    out["low_satisfaction"] = (csat <= low_csat) | (nps <= low_nps)
    out["activity_drop"] = (col("activity_ratio") <= activity_drop_ratio) & \
        (col("tx_baseline", 0) >= min_baseline_tx)
    out["falling_frequency"] = (col("freq_trend") <= frequency_trend) & \
        (col("tx_trend_window", 0) >= min_trend_tx)
    flags = out[SIGNAL_PRIORITY].to_numpy()
    out["n_signals"] = flags.sum(axis=1)
    names = np.array(SIGNAL_PRIORITY, dtype=object)
    out["signals"] = [", ".join(names[row]) for row in flags]
    first = np.where(flags.any(axis=1), flags.argmax(axis=1), -1)
    out["dominant_signal"] = np.where(first >= 0, names[np.maximum(first, 0)], "none")
    return out


def signal_eligibility(features: pd.DataFrame, *, min_baseline_tx: int = 3,
                       min_trend_tx: int = 4, **_thresholds) -> pd.DataFrame:
    """Whether each signal *could* fire for each customer (enough history / data to judge).

    Complaints: the tickets table exists. Satisfaction: a survey answer within
    ``survey_days``. Activity drop: a baseline of at least ``min_baseline_tx`` purchases.
    Falling frequency: a trend window fully covered by the tenure with at least
    ``min_trend_tx`` purchases. Other keyword arguments (the remaining thresholds) are ignored,
    so the ``signal_thresholds`` dict can be passed as is.
    """
    f = features
    n = len(f)

    def has(c):
        return f[c].notna().to_numpy() if c in f else np.zeros(n, bool)

    def num(c):
        return f[c].to_numpy(dtype=float) if c in f else np.zeros(n)

    return pd.DataFrame({
        "recent_complaint": has("complaints_recent"),
        "low_satisfaction": has("csat_last") | has("nps_last"),
        "activity_drop": has("activity_ratio") & (num("tx_baseline") >= min_baseline_tx),
        "falling_frequency": has("freq_trend") & (num("tx_trend_window") >= min_trend_tx),
    }, index=f.index)


def signal_validation(signals: pd.DataFrame, churned: pd.Series,
                      eligible: pd.DataFrame | None = None,
                      available: dict[str, bool] | None = None) -> pd.DataFrame:
    """How well each signal, evaluated at the cutoff, picks out customers who then churned.

    Parameters
    ----------
    signals : DataFrame
        :func:`early_warning_signals` at the cutoff.
    churned : Series
        The label (customers without one are ignored).
    eligible : DataFrame, optional
        :func:`signal_eligibility`: the comparison group of a signal is then the customers
        for whom it *could* have fired but did not (e.g. new customers, who cannot show a trend,
        are not counted as "no falling frequency").
    available : dict, optional
        :func:`available_signals`.

    Returns
    -------
    DataFrame, one row per signal: ``available``, ``eligible`` (customers), ``fired``,
    ``share_fired`` (of eligible), ``churn_rate_fired``, ``churn_rate_not_fired``, ``lift``
    (ratio of the two) and ``recall`` (share of all churners who had the signal).
    """
    y = churned.reindex(signals.index).astype(float)
    ok = y.notna().to_numpy()
    rows = []
    for name in SIGNAL_PRIORITY:
        f = signals[name].astype(bool).to_numpy() & ok
        el = ok if eligible is None else eligible[name].reindex(signals.index).fillna(False) \
            .astype(bool).to_numpy() & ok
        yf, yn = y[f], y[el & ~f]
        rows.append({
            "signal": name,
            "available": True if available is None else bool(available.get(name, False)),
            "eligible": int(el.sum()), "fired": int(f.sum()),
            "share_fired": f.sum() / el.sum() if el.sum() else np.nan,
            "churn_rate_fired": yf.mean() if len(yf) else np.nan,
            "churn_rate_not_fired": yn.mean() if len(yn) else np.nan,
            "recall": yf.sum() / y[ok].sum() if y[ok].sum() else np.nan,
        })
    out = pd.DataFrame(rows).set_index("signal")
    out["lift"] = out["churn_rate_fired"] / out["churn_rate_not_fired"]
    return out


# ---------------------------------------------------------------------------------------------
# Playbook and watchlist
# ---------------------------------------------------------------------------------------------
def price_sensitive(features: pd.DataFrame) -> pd.Series:
    """Customers whose likely exit reason is price.

    True if the customer had a price rise (``price_rise`` column); otherwise, when there is no
    such column, a month-to-month contract with monthly revenue in the top quintile (the
    customers most exposed to a cheaper competitor offer). False when neither is available.
    """
    if "price_rise" in features:
        return features["price_rise"].fillna(0).astype(bool).rename("price_sensitive")
    rev_col = _revenue_column(features)
    if "contract" in features and rev_col:
        monthly = features["contract"].astype(str).str.lower().str.contains("month")
        monthly &= ~features["contract"].astype(str).str.lower().str.contains("annual|year")
        rev = features[rev_col].astype(float)
        return (monthly & (rev >= rev.quantile(0.8))).rename("price_sensitive")
    return pd.Series(False, index=features.index, name="price_sensitive")


def suggest_actions(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :data:`PLAYBOOK`: the likely reason (first matching trigger) and the action.

    Parameters
    ----------
    frame : DataFrame
        Needs ``tier``, ``high_value`` (bool), ``dominant_signal`` and ``price_sensitive``.

    Returns
    -------
    DataFrame with ``likely_reason`` and ``action`` (the high-value action for high-value
    customers).
    """
    tier = frame["tier"].astype(str).to_numpy()
    high = frame["high_value"].astype(bool).to_numpy()
    dom = frame["dominant_signal"].astype(str).to_numpy()
    price = frame["price_sensitive"].astype(bool).to_numpy()
    conditions = [dom == "recent_complaint", dom == "low_satisfaction", price,
                  np.isin(dom, ["activity_drop", "falling_frequency"]), tier == "new"]
    reasons = list(PLAYBOOK["likely reason"])
    reason = np.select(conditions, reasons[:-1], default=reasons[-1])
    book = PLAYBOOK.set_index("likely reason")
    action = np.where(high, book.loc[reason, "action (high value)"].to_numpy(),
                      book.loc[reason, "action"].to_numpy())
    return pd.DataFrame({"likely_reason": reason, "action": action}, index=frame.index)


def build_watchlist(features: pd.DataFrame, risk: pd.Series, *, tiers: pd.Series,
                    signals: pd.DataFrame, top_n: int = 100,
                    high_value_min_m: int = 5) -> pd.DataFrame:
    """The early-warning watchlist: top-N active customers by risk x value.

    Parameters
    ----------
    features : DataFrame
        :func:`features_at` at the scoring date (only ``active`` customers are listed).
    risk : Series
        Predicted churn probability within the horizon, per customer.
    tiers : Series
        :func:`value_tiers` at the scoring date.
    signals : DataFrame
        :func:`early_warning_signals` at the scoring date.
    top_n : int, default 100
    high_value_min_m : int, default 5
        M score from which a customer counts as high value (the playbook's account-manager rule).

    Returns
    -------
    DataFrame with exactly :data:`WATCHLIST_COLUMNS`: ``rank``, ``customer_id``, ``tier``,
    ``high_value``, ``risk``, ``value`` (trailing 12-month revenue), ``expected_loss``
    (risk x value), ``priority`` (= expected_loss, the sort key), the fired ``signals``,
    ``n_signals``, ``dominant_signal``, ``likely_reason`` and the suggested ``action``.
    Never names, phone numbers or e-mails.
    """
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
    df["price_sensitive"] = price_sensitive(features.loc[act])
    df = df.dropna(subset=["priority"]).sort_values(["priority", "risk"], ascending=False,
                                                    kind="stable").head(int(top_n))
    df = df.join(suggest_actions(df))
    df.index.name = "customer_id"
    df = df.reset_index()
    df["rank"] = np.arange(1, len(df) + 1)
    out = df[WATCHLIST_COLUMNS].copy()
    assert_no_personal_data(out)
    return out


def watchlist_summary(watchlist: pd.DataFrame, features: pd.DataFrame | None = None) -> dict:
    """Key figures of a watchlist: size, value, expected loss and the dominant signals."""
    sig = watchlist["signals"].str.split(", ").explode()
    sig = sig[sig.astype(bool) & sig.notna()]
    out = {
        "size": int(len(watchlist)),
        "annual_value": float(watchlist["value"].sum()),
        "value_at_risk": float(watchlist["expected_loss"].sum()),
        "mean_risk": float(watchlist["risk"].mean()) if len(watchlist) else np.nan,
        "with_any_signal": int((watchlist["n_signals"] > 0).sum()),
        "signal_counts": {k: int(v) for k, v in sig.value_counts().items()},
        "dominant_signal_counts": {k: int(v) for k, v in
                                   watchlist["dominant_signal"].value_counts().items()},
        "action_counts": {k: int(v) for k, v in watchlist["action"].value_counts().items()},
        "tier_counts": {k: int(v) for k, v in watchlist["tier"].value_counts().items()},
    }
    if features is not None:
        act = features["active"].astype(bool)
        total = features.loc[act, "value"].sum()
        out["share_of_active_value"] = float(watchlist["value"].sum() / total) if total else np.nan
    return out


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
_PHONE = re.compile(r"(\+?\d[\d\s().-]{7,}\d)")


def assert_no_personal_data(frame: pd.DataFrame) -> None:
    """Raise if ``frame`` has a personal-data column or a cell that looks like an e-mail/phone."""
    bad = [c for c in frame.columns if str(c).lower() in PERSONAL_COLUMNS]
    if bad:
        raise ChurnDataError("personal data must never reach a report.", table="watchlist",
                             column=bad[0], fix="drop the column.")
    for c in frame.columns:
        if frame[c].dtype == object:
            s = frame[c].dropna().astype(str)
            hit = s.str.contains(_EMAIL) | s.str.fullmatch(_PHONE)
            if hit.any():
                raise ChurnDataError("cells look like e-mail addresses or phone numbers.",
                                     table="watchlist", column=c,
                                     rows=list(frame.index[hit.reindex(frame.index, fill_value=False)]),
                                     fix="never copy personal data into a report.")


def write_watchlist(watchlist: pd.DataFrame, path: str | Path) -> Path:
    """Write the watchlist CSV (only :data:`WATCHLIST_COLUMNS`; refuses personal data)."""
    unknown = [c for c in watchlist.columns if c not in WATCHLIST_COLUMNS]
    if unknown:
        raise ChurnDataError(f"unexpected watchlist columns {unknown}.", table="watchlist",
                             fix="build it with build_watchlist().")
    assert_no_personal_data(watchlist)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    watchlist.to_csv(tmp, index=False, float_format="%.4f")
    tmp.replace(path)
    return path
