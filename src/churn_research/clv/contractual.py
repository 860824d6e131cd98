"""Contractual (subscription) value from survival.

:func:`survival_curve` estimates the retention curve S(t) per segment: Kaplan-Meier where the
data are informative (at least ``min_at_risk`` customers at risk), a parametric (Weibull or
exponential, lifelines; or sBG) tail beyond, spliced so that the curve is continuous. Left
truncation is handled with entry times from :func:`churn_research.durations.durations`
(customers who were already customers when the records begin, or a curve restricted to the
regime after a business change). :func:`contractual_clv` turns the curve into the expected
lifetime value of a new customer, ``margin x value per period x sum_t S(t) (1 + d)^-t`` (a
payment at the start of every period the customer is alive, the first one at t = 0), and
:func:`residual_clv` into each active customer's residual value *conditional on being alive at
their current tenure*, ``margin x value x sum_{k>=1} S(tau + k) / S(tau) (1 + d)^-(k-1)`` (the
curve's DERL, :func:`curve_derl`, in the convention of Fader & Hardie 2010). :func:`fit_sbg`
fits the sBG model (:mod:`churn_research.models.shifted_beta_geo`) per segment from individual
lifetimes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines import WeibullFitter
from lifelines.exceptions import ConvergenceError
from scipy import special

from churn_research.annual import product_limit
from churn_research.clv.formulas import period_discount_rate
from churn_research.durations import DAYS_PER_MONTH, durations
from churn_research.model import ChurnData, ChurnDataError, require_columns
from churn_research.models.shifted_beta_geo import fit_sbg_durations
from churn_research.models.weibull import fit_weibull


# ========================================================================================
# contractual: survival curve (Kaplan-Meier + parametric tail) and CLV
# ========================================================================================
def _lifetimes(customers: pd.DataFrame, *, observation_end, period_days: float,
               observed_from=None, by: str | None = None) -> pd.DataFrame:
    """Duration (periods), event flag and entry time of each customer: the project's one
    lifetime frame (:func:`churn_research.durations.durations`), with delayed entry at
    ``observed_from``."""
    require_columns(customers, "customers", ["customer_id", "start_date", "end_date"],
                    fix="the customers table needs customer_id, start_date and end_date.")
    if by is not None:
        require_columns(customers, "customers", [by], fix="choose a segment column present in "
                        f"the customers table (got by={by!r}).")
    # only the columns a lifetime and its segment need: durations() copies every column it is
    # given (10^6 customers: ~150 MB of attributes no curve reads)
    keep = list(dict.fromkeys(["customer_id", "start_date", "end_date"] + ([by] if by is not None else [])))
    data = ChurnData(customers=customers[keep], observation_end=pd.Timestamp(observation_end))
    return durations(data, unit=period_days, entry_date=observed_from)


def _lifetime_groups(customers: pd.DataFrame, *, observation_end, period_days: float,
                     observed_from, by: str | None, everyone) -> list[tuple]:
    """``[(segment, lifetimes)]`` per level of ``by`` (sorted), or ``[(everyone, all)]``."""
    dur = _lifetimes(customers, observation_end=observation_end, period_days=period_days,
                     observed_from=observed_from, by=by)
    read = ["duration", "event", "entry"]  # all a curve, an sBG fit or a resample reads
    if by is None:
        return [(everyone, dur[read])]
    segment = dur[by].astype(str).to_numpy()
    return list(dur[read].groupby(segment, sort=True))


def default_observed_from(data, *, after_event: bool = False):
    """The date from which exits are observed, for left truncation.

    ``after_event=True`` returns the date of the (first) business change in ``data.events``, so
    that the retention curve describes the regime after the change. Otherwise
    ``data.records_start`` (the start of the records when earlier customers are left-truncated
    there), else None.
    """
    if after_event and data.event_date is not None:
        return data.event_date
    return data.records_start


def _fit_weibull(duration, event, entry, start: dict | None = None, weights=None,
                 refit: bool = False):
    """Weibull fit (shape, scale) with right censoring and left truncation (lifelines), or None
    with fewer than 2 exits or when the fit fails; ``start``: ``{"shape", "scale"}`` to start
    the optimiser from; ``weights``: integer counts of identical rows (lifelines' weights: the
    same likelihood as the rows repeated); ``refit``: a bootstrap refit, by
    :func:`~churn_research.models.weibull.fit_weibull` (the same likelihood, about 30 times
    faster; lifelines when it fails)."""
    if (event.sum() if weights is None else np.asarray(weights)[np.asarray(event, bool)].sum()) < 2:
        return None
    t = np.maximum(duration, 1e-3)
    begin = None if not start or "scale" not in start else (start["shape"], start["scale"])
    if refit:
        fast = fit_weibull(t, event, np.minimum(entry, t), weights=weights, start=begin)
        if fast is not None:
            return fast
    init = None if begin is None else np.array(begin[::-1], dtype=float)  # lifelines: scale, shape
    if init is None and weights is not None:  # lifelines' start for the rows repeated
        init = np.array([np.average(t, weights=weights), 1.0])
    try:
        fitter = WeibullFitter().fit(t, event, entry=np.minimum(entry, t), initial_point=init,
                                     weights=weights)
    except (ConvergenceError, ValueError):
        return None
    return float(fitter.rho_), float(fitter.lambda_)


def _count_at_most(values: np.ndarray, t: np.ndarray, weights=None) -> np.ndarray:
    """How many of ``values`` are <= each ``t`` (with ``weights``: their total integer weight)."""
    if weights is None:
        return np.searchsorted(np.sort(values), t, side="right")
    order = np.argsort(values, kind="stable")
    below = np.concatenate([[0], np.cumsum(np.asarray(weights, dtype=np.int64)[order])])
    return below[np.searchsorted(values[order], t, side="right")]


def compact_lifetimes(lifetimes: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The distinct ``(duration, event, entry)`` rows of a lifetime frame and, for each row of
    it, the position of its distinct row: a resample of the rows is then the distinct rows with
    counts as ``weight`` (:func:`curve_from_lifetimes` takes them), the same curve and fit."""
    d = lifetimes["duration"].to_numpy(dtype=float)
    ev = lifetimes["event"].to_numpy(dtype=float)
    e = lifetimes["entry"].to_numpy(dtype=float)
    uniq, codes = np.unique(np.column_stack([d, ev, e]), axis=0, return_inverse=True)
    rows = pd.DataFrame({"duration": uniq[:, 0], "event": uniq[:, 1].astype(lifetimes["event"].dtype),
                         "entry": uniq[:, 2]})
    return np.asarray(codes).ravel(), rows


def survival_curve(customers: pd.DataFrame, *, observation_end, by: str | None = None,
                   period_days: float = DAYS_PER_MONTH, horizon: int = 600,
                   tail: str = "weibull", min_at_risk: int = 30,
                   observed_from=None) -> pd.DataFrame:
    """Retention curve S(t) at t = 0, 1, ..., horizon periods: Kaplan-Meier + parametric tail.

    Parameters
    ----------
    customers : DataFrame
        ``customer_id``, ``start_date``, ``end_date`` (NaT = still a customer) and ``by``.
    observation_end : date-like
        Snapshot date (customers without an end date are censored here).
    by : str, optional
        Segment column; one curve per level (levels with fewer than 2 exits are skipped).
    period_days : float, default 365.25 / 12
        Length of a period (default: a month).
    horizon : int, default 600
        Last period of the curve (600 months = 50 years; with discounting the sum has
        converged long before).
    tail : {"weibull", "exponential", "sbg"}
        Parametric form fitted to all the segment's data (with the same left truncation) and
        used beyond the last informative period. In a heterogeneous population the hazard
        keeps falling with tenure; a Weibull tail (the default) follows that only partly and
        tends to understate the far tail, the sBG's heavier tail tends to overstate it. The
        ``tail_share`` column of :func:`contractual_clv` says how much of the value is
        extrapolated.
    min_at_risk : int, default 30
        The Kaplan-Meier estimate is used up to the last period with at least this many
        customers at risk; beyond it the tail takes over, spliced as
        ``S(t) = S_KM(t*) x S_tail(t) / S_tail(t*)``.
    observed_from : date-like, optional
        Exits are observed only from this date (left truncation): customers who joined earlier
        enter the risk set at their tenure on that date, and those who left before it are
        dropped. Use it for records that start after some customers joined, or to describe
        the regime after a business change (see :func:`default_observed_from`).

    Returns
    -------
    DataFrame
        ``segment`` (if ``by``), ``t``, ``survival``, ``source`` ("kaplan_meier" or the tail
        name), ``at_risk``. ``attrs`` holds ``by``, ``period_days``, the tail parameters per
        segment, the splice point ``t_star`` per segment and ``skipped`` (segments with fewer
        than 2 exits, which get no curve).
    """
    if tail not in ("weibull", "exponential", "sbg"):
        raise ValueError(f"tail must be 'weibull', 'exponential' or 'sbg', got {tail!r}.")
    groups = _lifetime_groups(customers, observation_end=observation_end, period_days=period_days,
                              observed_from=observed_from, by=by, everyone=None)
    return curve_from_lifetimes(groups, by=by, period_days=period_days, horizon=horizon, tail=tail,
                                min_at_risk=min_at_risk)


def curve_from_lifetimes(groups, *, by: str | None, period_days: float = DAYS_PER_MONTH,
                         horizon: int = 600, tail: str = "weibull", min_at_risk: int = 30,
                         starts: dict | None = None, refit: bool = False) -> pd.DataFrame:
    """:func:`survival_curve` from lifetime frames already split by segment.

    ``groups``: ``[(segment, lifetimes)]`` with ``duration``, ``event`` and ``entry`` (the
    segment None for one curve of everyone), and optionally ``weight``: integer counts of
    customers a row stands for (:func:`compact_lifetimes`; the curve of the rows repeated).
    ``starts``: optional Weibull starting values ``{segment: {"shape": k, "scale": s}}`` (e.g.
    the tail parameters of a previous curve, in its ``attrs["tail_params"]``) to speed up
    refits on resampled data; ``refit``: the curve of a bootstrap replicate, its Weibull tail
    fitted by :func:`~churn_research.models.weibull.fit_weibull` (lifelines' likelihood, to
    about 1e-6 of each parameter, in a few milliseconds; the curve itself keeps lifelines).
    """
    if tail not in ("weibull", "exponential", "sbg"):
        raise ValueError(f"tail must be 'weibull', 'exponential' or 'sbg', got {tail!r}.")
    starts = starts or {}
    t = np.arange(int(horizon) + 1, dtype=float)
    frames, params, stars, skipped = [], {}, {}, []
    for seg, g in groups:
        d, e, ev = g["duration"].to_numpy(), g["entry"].to_numpy(), g["event"].to_numpy()
        w = g["weight"].to_numpy(dtype=float) if "weight" in g else None
        if (ev.sum() if w is None else w[ev.astype(bool)].sum()) < 2:
            skipped.append(seg)
            continue
        # the product-limit estimate with delayed entry (lifelines' KaplanMeierFitter refuses a
        # risk set that empties early, as in a small business's segment; beyond such a point
        # the curve is the parametric tail anyway, spliced where at least min_at_risk remain)
        times, surv_km = product_limit(d, ev, e, weights=w)
        idx = np.searchsorted(times, t, side="right") - 1
        s_km = np.where(idx >= 0, surv_km[np.clip(idx, 0, None)], 1.0)
        at_risk = _count_at_most(e, t, w) - _count_at_most(d, t, w)
        ok = (at_risk >= min_at_risk) & (t <= d.max())
        t_star = int(t[ok].max()) if ok.any() else 0
        used, fit = tail, None
        if tail == "weibull":
            fit = _fit_weibull(d, ev, e, start=starts.get("all" if seg is None else seg),
                               weights=w, refit=refit)
            if fit is not None:
                k, s = fit
                log_tail = -((t / s) ** k)
                fitted = {"shape": k, "scale": s}
        elif tail == "sbg":
            if w is None:
                fit = fit_sbg_durations(d, ev, e)
            else:  # the rows repeated
                n = w.astype(np.int64)
                fit = fit_sbg_durations(np.repeat(d, n), np.repeat(ev, n), np.repeat(e, n))
            if fit is not None:
                ga, de = fit
                log_tail = special.betaln(ga, de + t) - special.betaln(ga, de)
                fitted = {"gamma": ga, "delta": de}
        if fit is None:  # exponential: events / exposure
            used = "exponential"
            if w is None:
                rate = ev.sum() / max((d - np.minimum(e, d)).sum(), 1e-12)
            else:
                rate = w[ev.astype(bool)].sum() / max((w * (d - np.minimum(e, d))).sum(), 1e-12)
            log_tail = -rate * t
            fitted = {"rate": rate}
        surv = s_km.copy()
        beyond = t > t_star
        surv[beyond] = s_km[t_star] * np.exp(log_tail[beyond] - log_tail[t_star])
        frame = pd.DataFrame({"t": t.astype(int), "survival": surv,
                              "source": np.where(beyond, used, "kaplan_meier"),
                              "at_risk": at_risk})
        if by is not None:
            frame.insert(0, "segment", seg)
        frames.append(frame)
        key = "all" if seg is None else seg
        params[key] = {"tail": used, **fitted}
        stars[key] = t_star
    if not frames:
        raise ChurnDataError("fewer than 2 observed exits: no retention curve can be estimated.",
                             table="customers", column="end_date",
                             fix="survival-based CLV needs customers with an end_date.")
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update({"by": by, "period_days": period_days, "tail": tail,
                      "tail_params": params, "t_star": stars, "skipped": skipped})
    return out


def _curve_groups(curve: pd.DataFrame):
    if "segment" in curve.columns:
        return {seg: g.sort_values("t") for seg, g in curve.groupby("segment", sort=True)}
    return {"all": curve.sort_values("t")}


def contractual_clv(customers: pd.DataFrame, *, curve: pd.DataFrame, value_col: str = "monthly_revenue",
                    margin: float = 1.0, discount_rate: float = 0.10) -> pd.DataFrame:
    """Expected lifetime value of a new customer per segment, from a retention curve.

    ``clv = margin x value per period x sum_{t=0}^{H} S(t) (1 + d)^-t`` with ``d`` the
    per-period equivalent of the annual ``discount_rate``: one payment at the start of every
    period the customer is alive, the first at t = 0 (Fader & Hardie 2010, eq. 1).

    Parameters
    ----------
    customers : DataFrame
        Holds ``value_col`` (value per period) and the curve's segment column.
    curve : DataFrame
        Output of :func:`survival_curve`.
    value_col : str, default "monthly_revenue"
        Revenue per period of each customer (its segment mean is used).
    margin : float, default 1.0
        Profit margin applied to revenue.
    discount_rate : float, default 0.10
        Annual discount rate.

    Returns
    -------
    DataFrame
        One row per segment: ``customers``, ``value_per_period``, ``expected_lifetime``
        (undiscounted sum of S(t), periods), ``discounted_lifetime``, ``clv``,
        ``tail_share`` (share of the discounted lifetime beyond the Kaplan-Meier range).
    """
    by = curve.attrs.get("by")
    require_columns(customers, "customers", [value_col] + ([by] if by else []), fix="pass value_col= naming the revenue-per-period column (e.g. monthly_charges).")
    v = 1.0 / (1.0 + period_discount_rate(discount_rate, curve.attrs.get("period_days", DAYS_PER_MONTH)))
    rows = []
    for seg, g in _curve_groups(curve).items():
        s = g["survival"].to_numpy()
        disc = v ** g["t"].to_numpy()
        values = customers[value_col]  # the segment's values, not a copy of its rows
        members = values if by is None else values[(customers[by].astype(str) == seg).to_numpy()]
        value = float(members.mean())
        dl = float((s * disc).sum())
        tail = float((s * disc)[g["source"].to_numpy() != "kaplan_meier"].sum())
        rows.append({"segment": seg, "customers": len(members), "value_per_period": value,
                     "expected_lifetime": float(s.sum()), "discounted_lifetime": dl,
                     "clv": margin * value * dl, "tail_share": tail / dl if dl > 0 else np.nan})
    return pd.DataFrame(rows).set_index("segment")


def _derl_by_tenure(s: np.ndarray, v: float) -> np.ndarray:
    """``DERL(tau) = sum_{j > tau} S(j) v^(j - tau - 1) / S(tau)`` for every tau of the curve."""
    h = len(s) - 1
    vt = v ** np.arange(h + 1)
    tail_sum = np.concatenate([np.cumsum((s * vt)[::-1])[::-1][1:], [0.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = tail_sum / (s * vt) / v
    return np.where(s > 0, r, 0.0)


def curve_derl(curve: pd.DataFrame, renewals: Sequence[int], *, discount_rate: float = 0.10) -> pd.DataFrame:
    """Discounted expected residual lifetime read off a retention curve, per segment.

    The model-free counterpart of :func:`derl`, in the same convention (Fader & Hardie 2010,
    eq. 5): for a customer who has made ``n`` renewals (is alive at tenure ``n`` periods),
    ``DERL = sum_{t > n} S(t) / S(n) (1 + d)^-(t - n - 1)`` -- the next renewal counted
    undiscounted. ``discount_rate`` is annual and converted to the curve's period.

    Returns
    -------
    DataFrame
        Index ``renewals``, one column per segment.
    """
    v = 1.0 / (1.0 + period_discount_rate(discount_rate, curve.attrs.get("period_days", DAYS_PER_MONTH)))
    idx = np.asarray(renewals, dtype=int)
    out = {}
    for seg, g in _curve_groups(curve).items():
        r = _derl_by_tenure(g["survival"].to_numpy(), v)
        out[seg] = r[np.minimum(idx, len(r) - 1)]
    return pd.DataFrame(out, index=pd.Index(idx, name="renewals"))


def residual_lifetime(curve: pd.DataFrame, segment, tenure, *, discount_rate: float,
                      horizon: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Per customer alive at whole-period tenure ``tenure`` in ``segment``: the curve's DERL
    (as in :func:`residual_clv`) and ``S(tau + horizon) / S(tau)``, the probability of still
    being a customer ``horizon`` periods later (NaN where the curve lacks the segment)."""
    period_days = curve.attrs.get("period_days", DAYS_PER_MONTH)
    v = 1.0 / (1.0 + period_discount_rate(discount_rate, period_days))
    seg = np.asarray(segment, dtype=object)
    tau = np.asarray(tenure, dtype=int)
    resid = np.full(len(tau), np.nan)
    p_stay = np.full(len(tau), np.nan)
    for name, g in _curve_groups(curve).items():
        s = g["survival"].to_numpy()
        h = len(s) - 1
        r = _derl_by_tenure(s, v)
        m = seg == name
        idx = np.minimum(tau[m], h)
        resid[m] = r[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            p_stay[m] = s[np.minimum(idx + int(horizon), h)] / np.where(s[idx] > 0, s[idx], np.nan)
    return resid, p_stay


def residual_clv(customers: pd.DataFrame, *, curve: pd.DataFrame, observation_end,
                 value_col: str = "monthly_revenue", margin: float = 1.0,
                 discount_rate: float = 0.10) -> pd.DataFrame:
    """Residual lifetime value of each active customer, given that they are alive now.

    A customer alive at tenure ``tau`` (whole periods) has made ``tau`` renewals; their
    discounted expected residual lifetime is read off the curve as in :func:`curve_derl`,
    ``DERL(tau) = sum_{k>=1} S(tau + k) / S(tau) (1 + d)^-(k - 1)`` (computed for every tenure
    at once with a reverse cumulative sum), and the residual CLV is
    ``margin x value x DERL(tau)``.

    Parameters
    ----------
    customers : DataFrame
        ``customer_id``, ``start_date``, ``end_date``, ``value_col`` and the curve's segment.
    curve : DataFrame
        Output of :func:`survival_curve` (its ``attrs`` give the segment column and period).
    observation_end : date-like
        Snapshot date; customers without an end date by then are the active ones.
    value_col, margin, discount_rate
        As in :func:`contractual_clv`.

    Returns
    -------
    DataFrame
        One row per active customer (index ``customer_id``): ``segment``, ``tenure`` (periods),
        ``value_per_period``, ``p_alive_12`` (probability of still being a customer 12
        periods later), ``residual_lifetime`` (discounted periods), ``residual_clv``.
    """
    by = curve.attrs.get("by")
    period_days = curve.attrs.get("period_days", DAYS_PER_MONTH)
    require_columns(customers, "customers", ["customer_id", "start_date", "end_date", value_col]
                   + ([by] if by else []), fix="see the docstring of residual_clv for the columns.")
    obs = pd.Timestamp(observation_end)
    end = pd.to_datetime(customers["end_date"])
    cols = list(dict.fromkeys(["customer_id", "start_date", value_col] + ([by] if by else [])))
    active = customers.loc[(end.isna() | (end > obs)).to_numpy(), cols]  # only what is read
    tenure = ((obs - pd.to_datetime(active["start_date"])).dt.days / period_days).to_numpy()
    tau = np.floor(np.maximum(tenure, 0)).astype(int)
    if by:  # one str object per level, not one per customer (the same values); Arrow text is
        # factorized as it is held (at 10^7 customers, not 4 * 10^6 Python strings first)
        codes, levels = pd.factorize(active[by].astype(str))
        seg = np.asarray(levels, dtype=object).take(codes)
    else:
        seg = np.full(len(active), "all", dtype=object)
    resid, p12 = residual_lifetime(curve, seg, tau, discount_rate=discount_rate, horizon=12)
    value = active[value_col].to_numpy(dtype=float)
    out = pd.DataFrame({"segment": seg, "tenure": tenure, "value_per_period": value,
                        "p_alive_12": p12, "residual_lifetime": resid,
                        "residual_clv": margin * value * resid},
                       index=pd.Index(active["customer_id"].array, name="customer_id"))
    return out


# ---- shifted-beta-geometric ----------------------------------------------------------------
def fit_sbg(customers: pd.DataFrame, *, observation_end, period_days: float = DAYS_PER_MONTH,
            observed_from=None, by: str | None = None) -> pd.DataFrame:
    """Maximum-likelihood sBG fit from individual customers, per segment.

    A customer who leaves during period ``t`` (``t = ceil(duration)``, at least 1) contributes
    ``P(T = t) = B(gamma + 1, delta + t - 1) / B(gamma, delta)``, a censored one
    ``S(t) = B(gamma, delta + t) / B(gamma, delta)`` with ``t = floor(duration)``; with left
    truncation (``observed_from``) each contribution is divided by ``S(floor(entry))``.
    (Used when :mod:`churn_research.survival` offers no sBG fitter with left truncation.)

    Returns
    -------
    DataFrame
        One row per segment: ``gamma``, ``delta``, ``mean_churn`` (``gamma / (gamma + delta)``),
        ``polarisation`` (``1 / (gamma + delta + 1)``: 0 = every customer has the same churn
        probability, 1 = customers either stay for ever or leave at once), ``customers``,
        ``log_likelihood``. Parameters are bounded at 1e7 (the homogeneous limit).
    """
    groups = _lifetime_groups(customers, observation_end=observation_end, period_days=period_days,
                              observed_from=observed_from, by=by, everyone="all")
    rows = []
    for seg, g in groups:
        fit = fit_sbg_durations(g["duration"].to_numpy(), g["event"].to_numpy(),
                              g["entry"].to_numpy(), return_ll=True)
        ga, de, ll = fit if fit is not None else (np.nan, np.nan, np.nan)
        rows.append({"segment": seg, "gamma": ga, "delta": de, "mean_churn": ga / (ga + de),
                     "polarisation": 1.0 / (ga + de + 1.0), "customers": len(g),
                     "log_likelihood": ll})
    return pd.DataFrame(rows).set_index("segment")
