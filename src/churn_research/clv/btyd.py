"""Non-contractual value: :func:`rfm_summary` condenses a transaction log into frequency /
recency / T / monetary value (calibration period) and the holdout-period counts;
:func:`btyd_clv` combines the BG/NBD and gamma-gamma models
(:mod:`churn_research.models`) into each customer's lifetime value; :func:`holdout_comparison`
and :func:`frequency_fit` are the validation tables of Fader, Hardie & Lee (2005).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from churn_research.durations import FREQ_DAYS, btyd_window  # noqa: F401 - FREQ_DAYS re-exported
from churn_research.model import ChurnDataError, require_columns
from churn_research.models.beta_geo import BetaGeo
from churn_research.models.gamma_gamma import GammaGamma


# ========================================================================================
# non-contractual: RFM summary, BG/NBD, gamma-gamma
# ========================================================================================
def rfm_summary(transactions: pd.DataFrame, *, calibration_end, observation_end=None,
                freq: str = "W") -> pd.DataFrame:
    """Frequency / recency / T / monetary value per customer, as the BTYD models need them.

    Transactions on the same day are merged into one purchase (their amounts summed), as in
    Fader, Hardie & Lee (2005): this is what reproduces the published CDNOW estimates.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``.
    calibration_end : date-like
        Last day of the calibration period (inclusive). Customers whose first purchase is
        later are not in the summary.
    observation_end : date-like, optional
        Last day of the holdout period; adds ``frequency_holdout`` (purchases in
        ``(calibration_end, observation_end]``), ``monetary_value_holdout`` and
        ``duration_holdout``.
    freq : {"D", "W", "M", "Y"}, default "W"
        Time unit of recency, T and the holdout duration (days, weeks, months of 30.44 days,
        years).

    Returns
    -------
    DataFrame
        Index ``customer_id`` (in order of first appearance in ``transactions``);
        ``frequency`` (repeat purchases in the calibration period),
        ``recency`` (time from the first to the last purchase), ``T`` (time from the first
        purchase to ``calibration_end``), ``monetary_value`` (mean value of the repeat
        purchases; 0 without any), ``first_purchase``. ``attrs["freq"]`` and
        ``attrs["units_per_year"]`` record the unit.
    """
    require_columns(transactions, "transactions", ["customer_id", "date", "amount"], fix="the transactions table needs customer_id, date and amount.")
    unit, cal_end, obs = btyd_window(freq, calibration_end, observation_end)
    ids = transactions["customer_id"]
    amount = transactions["amount"].to_numpy(dtype=float)
    stamps = np.asarray(pd.to_datetime(transactions["date"]).to_numpy(), dtype="datetime64[ns]")
    if (amount < 0).any():
        bad = ids[amount < 0].unique().tolist()
        raise ChurnDataError("negative amounts.", table="transactions", column="amount", rows=bad,
                             fix="remove refunds or net them against their purchases first.")
    if np.isnat(stamps).any():
        bad = ids[np.isnat(stamps)].unique().tolist()
        raise ChurnDataError("missing dates.", table="transactions", column="date", rows=bad,
                             fix="drop or date these transactions.")
    # Vectorised (a million customers / tens of millions of rows in seconds): integer codes
    # for customers, whole days, one sort by (customer, day).
    codes, uniques = pd.factorize(ids, sort=False)
    if (codes < 0).any():
        raise ChurnDataError("missing customer_id.", table="transactions", column="customer_id",
                             fix="drop transactions without a customer.")
    days = stamps.view(np.int64) // 86_400_000_000_000
    cal_day = np.datetime64(cal_end.date(), "D").astype(np.int64)
    last_day = cal_day if obs is None else np.datetime64(obs.date(), "D").astype(np.int64)
    keep = days <= last_day
    codes, days, amount = codes[keep].astype(np.int64), days[keep], amount[keep]
    if not (days <= cal_day).any():
        raise ChurnDataError(f"no transactions on or before calibration_end {cal_end.date()}.",
                             table="transactions", column="date",
                             fix="choose a calibration_end within the transaction log.")
    d0 = days.min()
    key = codes * (last_day - d0 + 1) + (days - d0)
    if len(key) > 1 and not np.all(key[1:] >= key[:-1]):
        order = np.argsort(key, kind="stable")
        key, codes, days, amount = key[order], codes[order], days[order], amount[order]
    # one purchase per customer and day (same-day transactions merged, amounts summed)
    new_day = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(new_day)
    d_amount = np.add.reduceat(amount, starts)
    d_code, d_day = codes[starts], days[starts]
    cal = d_day <= cal_day
    c_code, c_day, c_amount = d_code[cal], d_day[cal], d_amount[cal]
    c_starts = np.flatnonzero(np.r_[True, c_code[1:] != c_code[:-1]])
    c_ends = np.r_[c_starts[1:], len(c_code)]
    n = c_ends - c_starts
    first, last = c_day[c_starts], c_day[c_ends - 1]
    repeat_total = np.add.reduceat(c_amount, c_starts) - c_amount[c_starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(n > 1, repeat_total / np.maximum(n - 1, 1), 0.0)
    cust = c_code[c_starts]
    epoch = np.datetime64("1970-01-01", "D")
    out = pd.DataFrame({
        "frequency": (n - 1).astype(int),
        "recency": (last - first) / unit,
        "T": (cal_day - first) / unit,
        "monetary_value": monetary,
        "first_purchase": (epoch + first.astype("timedelta64[D]")).astype("datetime64[ns]"),
    }, index=pd.Index(np.asarray(uniques)[cust], name="customer_id"))
    if obs is not None:
        hold = ~cal
        h_code = d_code[hold]
        count = np.bincount(h_code, minlength=len(uniques))[cust]
        total = np.bincount(h_code, weights=d_amount[hold], minlength=len(uniques))[cust]
        out["frequency_holdout"] = count.astype(int)
        out["monetary_value_holdout"] = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        out["duration_holdout"] = (obs - cal_end).days / unit
    out.attrs.update({"freq": freq, "units_per_year": 365.25 / unit,
                      "calibration_end": str(cal_end.date()),
                      "observation_end": None if observation_end is None
                      else str(pd.Timestamp(observation_end).date())})
    return out


def btyd_clv(summary: pd.DataFrame, *, bg: BetaGeo, gg: GammaGamma, horizon_years: float = 3.0,
             margin: float = 1.0, discount_rate: float = 0.10, steps_per_year: int = 12) -> pd.DataFrame:
    """CLV per customer from the BG/NBD and gamma-gamma models.

    ``CLV = margin x E(spend) x sum_k [E(Y(t_k)) - E(Y(t_{k-1}))] (1 + d)^-(t_k in years)``,
    the discounted expected purchases over ``horizon_years`` in steps of
    ``1 / steps_per_year`` years (purchases in step k are discounted to its end).

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`rfm_summary` (its ``attrs["units_per_year"]`` converts years to the
        models' time unit).
    bg, gg : fitted BetaGeo and GammaGamma
    horizon_years : float, default 3.0
    margin : float, default 1.0
    discount_rate : float, default 0.10
        Annual discount rate.
    steps_per_year : int, default 12

    Returns
    -------
    DataFrame
        Index as ``summary``: ``p_alive``, ``expected_purchases`` (undiscounted, over the
        horizon), ``discounted_purchases``, ``expected_spend``, ``clv``.
    """
    units = float(summary.attrs.get("units_per_year", 365.25 / 7))
    x, tx, T = summary["frequency"], summary["recency"], summary["T"]
    n_steps = int(round(horizon_years * steps_per_year))
    times = np.arange(1, n_steps + 1) / steps_per_year  # years
    prev = np.zeros(len(summary))
    disc = np.zeros(len(summary))
    for yrs in times:
        cur = np.asarray(bg.conditional_expected_purchases(yrs * units, x, tx, T), dtype=float)
        disc += (cur - prev) * (1.0 + discount_rate) ** (-yrs)
        prev = cur
    spend = np.asarray(gg.conditional_expected_spend(x, summary["monetary_value"]), dtype=float)
    out = pd.DataFrame({
        "p_alive": bg.p_alive(x, tx, T),
        "expected_purchases": prev,
        "discounted_purchases": disc,
        "expected_spend": spend,
        "clv": margin * spend * disc,
    }, index=summary.index)
    return out


def holdout_comparison(summary: pd.DataFrame, model: BetaGeo, *, max_frequency: int = 7) -> pd.DataFrame:
    """Predicted vs actual holdout purchases by calibration-period frequency (FHL 2005, Fig. 4).

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`rfm_summary` with ``observation_end`` (holdout columns).
    model : fitted BetaGeo
    max_frequency : int, default 7
        Customers with at least this many repeat purchases form the last bucket ("7+").

    Returns
    -------
    DataFrame
        Index ``frequency`` ("0", "1", ..., "7+"): ``customers``, ``actual`` and ``predicted``
        mean holdout purchases, ``actual_total``, ``predicted_total``. ``attrs`` holds the
        customer-level ``correlation`` of predicted and actual holdout purchases, the
        ``conditional_total`` and ``unconditional_total`` forecasts (the latter from the model
        alone, ``E[X(T + h)] - E[X(T)]`` per customer) and ``cumulative_forecast_error``: the
        relative error of the forecast of all repeat purchases from the first purchase to the
        end of the holdout period (FHL 2005 report -4% on the CDNOW sample).
    """
    if "frequency_holdout" not in summary.columns:
        raise ValueError("summary has no holdout columns: call rfm_summary(..., observation_end=).")
    pred = model.conditional_expected_purchases(summary["duration_holdout"], summary["frequency"],
                                                summary["recency"], summary["T"])
    bucket = np.minimum(summary["frequency"].to_numpy(), max_frequency)
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"bucket": bucket, "actual": summary["frequency_holdout"].to_numpy(),
                          "predicted": pred})
    g = frame.groupby("bucket")
    out = pd.DataFrame({"customers": g.size(), "actual": g["actual"].mean(),
                        "predicted": g["predicted"].mean(), "actual_total": g["actual"].sum(),
                        "predicted_total": g["predicted"].sum()})
    out = out.reindex(range(max_frequency + 1))
    out.index = pd.Index(labels, name="frequency")
    T = summary["T"].to_numpy(dtype=float)
    h = summary["duration_holdout"].to_numpy(dtype=float)
    expected_cal = np.asarray(model.expected_purchases(T), dtype=float)
    unconditional = np.asarray(model.expected_purchases(T + h), dtype=float) - expected_cal
    actual_cum = summary["frequency"].sum() + summary["frequency_holdout"].sum()
    out.attrs.update({
        "correlation": float(np.corrcoef(pred, summary["frequency_holdout"])[0, 1]),
        "conditional_total": float(np.sum(pred)),
        "unconditional_total": float(unconditional.sum()),
        "actual_total": float(summary["frequency_holdout"].sum()),
        "cumulative_forecast_error": float((expected_cal.sum() + unconditional.sum())
                                           / actual_cum - 1),
    })
    return out


def frequency_fit(summary: pd.DataFrame, model: BetaGeo, *, max_frequency: int = 7) -> pd.DataFrame:
    """Calibration-period histogram of repeat purchases: actual vs expected (FHL 2005, Fig. 2).

    Expected counts are ``sum_i P(X(T_i) = x)``; the last bucket collects ``max_frequency``
    and more. ``attrs`` holds the chi-square statistic, its degrees of freedom (buckets - 1 -
    4 parameters) and p-value.
    """
    T = summary["T"].to_numpy(dtype=float)
    xs = np.arange(max_frequency)
    probs = np.asarray(model.probability_of_purchases(T[:, None], xs[None, :]))
    expected = probs.sum(axis=0)
    expected = np.append(expected, len(T) - expected.sum())
    actual = np.bincount(np.minimum(summary["frequency"].to_numpy(), max_frequency),
                         minlength=max_frequency + 1)
    labels = [str(i) for i in xs] + [f"{max_frequency}+"]
    out = pd.DataFrame({"actual": actual, "expected": expected},
                       index=pd.Index(labels, name="frequency"))
    chi2 = float(((out["actual"] - out["expected"]) ** 2 / out["expected"]).sum())
    dof = len(out) - 1 - 4
    out.attrs.update({"chi2": chi2, "dof": dof, "p_value": float(stats.chi2.sf(chi2, dof))})
    return out
