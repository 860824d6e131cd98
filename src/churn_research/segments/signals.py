"""Early-warning signals: activity drop, falling purchase frequency, recent complaints, low
satisfaction (:data:`churn_research.segments.rules.SIGNALS`), who is eligible for each, and how
well each predicts churn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.lookup import reindexed
from churn_research.segments.rules import SIGNAL_PRIORITY


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
    out = signal_flags(features, activity_drop_ratio=activity_drop_ratio,
                       min_baseline_tx=min_baseline_tx, frequency_trend=frequency_trend,
                       min_trend_tx=min_trend_tx, complaint_min=complaint_min,
                       low_csat=low_csat, low_nps=low_nps)
    f = features
    flags = out[SIGNAL_PRIORITY].to_numpy()
    out["n_signals"] = flags.sum(axis=1)
    names = np.array(SIGNAL_PRIORITY, dtype=object)
    out["signals"] = pd.Series([", ".join(names[row]) for row in flags], index=f.index,
                               dtype=object)  # text even without a row
    first = np.where(flags.any(axis=1), flags.argmax(axis=1), -1)
    out["dominant_signal"] = np.where(first >= 0, names[np.maximum(first, 0)], "none")
    return out


#: The columns of :func:`features_at` the signals read.
SIGNAL_INPUTS = ("complaints_recent", "csat_last", "nps_last", "activity_ratio", "tx_baseline",
                 "freq_trend", "tx_trend_window")


def signal_flags(features: pd.DataFrame, *, activity_drop_ratio: float = 0.5,
                 min_baseline_tx: int = 3, frequency_trend: float = -0.25,
                 min_trend_tx: int = 4, complaint_min: int = 1, low_csat: float = 2,
                 low_nps: float = 4) -> pd.DataFrame:
    """The bool columns of :func:`early_warning_signals` alone (one per signal, indexed like
    ``features``): what a validation over every labelled customer reads, without a text per
    customer (at 10^7 customers, millions of strings)."""
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
    return out


def signal_counts(features: pd.DataFrame, **thresholds) -> pd.Series:
    """How many signals fire for each customer: ``n_signals`` of :func:`early_warning_signals`
    (the same thresholds), without its text columns (50_clv's flags over the whole base)."""
    flags = signal_flags(features, **thresholds)[SIGNAL_PRIORITY].to_numpy()
    return pd.Series(flags.sum(axis=1), index=features.index, name="n_signals")


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
    y = reindexed(churned, signals.index).astype(float)
    ok = y.notna().to_numpy()
    rows = []
    for name in SIGNAL_PRIORITY:
        f = signals[name].astype(bool).to_numpy() & ok
        el = ok if eligible is None else reindexed(eligible[name], signals.index, fill_value=False) \
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
