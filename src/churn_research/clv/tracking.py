"""BG/NBD diagnostics across the calibration / holdout split: the tracking plot and P(alive).

* :func:`tracking_table` — actual vs expected repeat transactions per period (week) and
  cumulated, from the first purchase of the calibration customers to the end of the holdout
  (Fader, Hardie & Lee 2005, Fig. 3 and 5: "the expected curve tracks the actual"). The
  expected count up to a time ``g`` is ``sum_i E[X(g - s_i)]`` over the customers with their
  first purchase ``s_i`` before ``g`` (FHL 2005, eq. 7: the model alone, no customer history),
  so the holdout part is an unconditional forecast.
* :func:`tracking_totals` — the calibration and holdout totals of that table with the error.
* :func:`p_alive_activity` — P(alive) at the calibration end against whether the customer bought
  in the holdout: AUC per score and a table by P(alive) band. In the BG/NBD a customer can drop
  out only right after a repeat purchase, so every customer without one has P(alive) = 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from churn_research.clv.btyd import FREQ_DAYS
from churn_research.models.beta_geo import BetaGeo


def _purchase_days(transactions: pd.DataFrame, ids) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (customer, day) purchases of ``ids``: customer codes and whole days."""
    tx = transactions.loc[transactions["customer_id"].isin(ids), ["customer_id", "date"]]
    day = (pd.to_datetime(tx["date"]).to_numpy().astype("datetime64[D]").astype(np.int64))
    frame = pd.DataFrame({"c": pd.Categorical(tx["customer_id"], categories=list(ids)).codes,
                          "d": day}).drop_duplicates()
    return frame["c"].to_numpy(), frame["d"].to_numpy()


def tracking_table(transactions: pd.DataFrame, split: pd.DataFrame, model: BetaGeo, *,
                   freq: str | None = None) -> pd.DataFrame:
    """Actual vs BG/NBD-expected repeat transactions per period, calibration and holdout.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date`` (the log :func:`rfm_summary` summarised; same-day purchases
        count once, as there).
    split : DataFrame
        :func:`rfm_summary` output with ``observation_end`` (``attrs`` give the dates and unit).
    model : BetaGeo
        Fitted on ``split``'s calibration columns.
    freq : {"D", "W", "M", "Y"}, optional
        Period length; default the unit of ``split``.

    Returns
    -------
    DataFrame
        One row per period, the periods ending on the calibration end and stepping back to the
        first purchase and forward to the observation end (the last one may be shorter):
        ``end`` (date), ``period`` (number since the first purchase, 1 = the first),
        ``holdout`` (bool), ``actual`` and ``expected`` repeat transactions in the period,
        ``actual_cumulative`` and ``expected_cumulative``.
    """
    unit = FREQ_DAYS[split.attrs.get("freq", "W")]
    step = FREQ_DAYS[freq or split.attrs.get("freq", "W")]
    cal = np.datetime64(split.attrs["calibration_end"], "D").astype(np.int64)
    obs = np.datetime64(split.attrs["observation_end"], "D").astype(np.int64)
    first = split["first_purchase"].to_numpy().astype("datetime64[D]").astype(np.int64)
    start = first.min()
    back = np.arange(cal, start - 1, -step)[::-1]
    fwd = np.arange(cal + step, obs + step, step)
    ends = np.r_[back, np.minimum(fwd, obs)]
    ends = np.unique(np.round(ends).astype(np.int64))
    # expected: E[X(g - s)] summed over distinct first-purchase days, weighted by customers
    days, counts = np.unique(first, return_counts=True)
    age = (ends[:, None] - days[None, :]) / unit
    ex = np.where(age > 0, model.expected_purchases(np.maximum(age, 0.0)), 0.0)
    expected_cum = ex @ counts
    # actual: every purchase day of these customers except each one's first
    codes, pday = _purchase_days(transactions, split.index)
    repeat = pday > first[codes]
    pday = pday[repeat & (pday <= obs)]
    actual_cum = np.searchsorted(np.sort(pday), ends, side="right").astype(float)
    epoch = np.datetime64("1970-01-01", "D")
    out = pd.DataFrame({
        "end": (epoch + ends.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "period": np.ceil((ends - start) / step).astype(int),
        "holdout": ends > cal,
        "actual": np.diff(np.r_[0.0, actual_cum]),
        "expected": np.diff(np.r_[0.0, expected_cum]),
        "actual_cumulative": actual_cum,
        "expected_cumulative": expected_cum,
    })
    out.attrs.update({"calibration_end": split.attrs["calibration_end"],
                      "observation_end": split.attrs["observation_end"],
                      "freq": freq or split.attrs.get("freq", "W")})
    return out


def tracking_totals(tracking: pd.DataFrame) -> pd.DataFrame:
    """Repeat transactions in the calibration and holdout periods: actual, expected, error.

    Index ``calibration``, ``holdout``; columns ``actual``, ``expected``, ``error``
    (expected - actual) and ``relative_error`` (error / actual).
    """
    g = tracking.groupby("holdout")[["actual", "expected"]].sum()
    out = g.rename(index={False: "calibration", True: "holdout"}).reindex(["calibration", "holdout"])
    out["error"] = out["expected"] - out["actual"]
    out["relative_error"] = out["error"] / out["actual"]
    out.index.name = "period"
    return out


def auc(score, positive) -> float:
    """Area under the ROC curve of ``score`` for the 0/1 ``positive`` (ties count one half)."""
    score = np.asarray(score, dtype=float)
    pos = np.asarray(positive, dtype=bool)
    n1, n0 = pos.sum(), (~pos).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


#: Upper edges of the P(alive) bands of :func:`p_alive_activity` (the last one closed at 1).
P_ALIVE_BANDS = (0.2, 0.4, 0.6, 0.8, 1.0)


def p_alive_activity(split: pd.DataFrame, model: BetaGeo, *, scores: dict | None = None,
                     bands=P_ALIVE_BANDS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(alive) at the calibration end against activity (any purchase) in the holdout.

    Parameters
    ----------
    split : DataFrame
        :func:`rfm_summary` output with the holdout columns.
    model : BetaGeo
        Fitted on the calibration columns.
    scores : dict of name -> Series, optional
        Other scores on ``split.index`` where *higher means more likely active* (e.g. one minus
        a churn-risk model's probability); customers without a score are left out of its AUC.

    Returns
    -------
    auc_table : DataFrame
        Index: score name (``p_alive``, ``p_alive_repeat`` = the same among the repeat buyers,
        ``expected_holdout`` = the BG/NBD's conditional expected holdout purchases, then
        ``scores``); ``auc`` (for activity in the holdout)
        and ``customers``.
    bands_table : DataFrame
        One row for the customers without a repeat purchase (P(alive) = 1 by the model) and one
        per P(alive) band of the repeat buyers: ``customers``, ``mean_p_alive``,
        ``active_share`` (bought in the holdout) and ``mean_expected`` purchases.
    """
    x, tx, T = split["frequency"], split["recency"], split["T"]
    p = pd.Series(np.asarray(model.p_alive(x, tx, T), dtype=float), index=split.index)
    ex = pd.Series(np.asarray(model.conditional_expected_purchases(
        split["duration_holdout"], x, tx, T), dtype=float), index=split.index)
    active = split["frequency_holdout"] > 0
    rep = x.to_numpy() > 0
    rows = {"p_alive": (auc(p, active), len(p)),
            "p_alive_repeat": (auc(p[rep], active[rep]), int(rep.sum())),
            "expected_holdout": (auc(ex, active), len(ex))}
    for name, s in (scores or {}).items():
        s = pd.Series(s).reindex(split.index)
        ok = s.notna()
        rows[name] = (auc(s[ok], active[ok]), int(ok.sum()))
    auc_table = pd.DataFrame(rows, index=["auc", "customers"]).T
    auc_table["customers"] = auc_table["customers"].astype(int)
    edges = np.r_[0.0, np.asarray(bands, dtype=float)]
    names = [f"{lo:.0%}-{hi:.0%}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    band = pd.cut(p, edges, labels=names, include_lowest=True).astype(object)
    band[x.to_numpy() == 0] = "no repeat purchase"
    frame = pd.DataFrame({"band": band, "p": p, "active": active, "ex": ex})
    g = frame.groupby("band")
    table = pd.DataFrame({"customers": g.size(), "mean_p_alive": g["p"].mean(),
                          "active_share": g["active"].mean(), "mean_expected": g["ex"].mean()})
    table = table.reindex(["no repeat purchase", *names]).dropna(how="all")
    table["customers"] = table["customers"].astype(int)
    table.index.name = "p_alive_band"
    return auc_table, table
