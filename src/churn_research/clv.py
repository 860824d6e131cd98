"""Customer lifetime value, residual lifetime, the cost of churn and retention scenarios.

The module answers the project's "value" questions (DESIGN.md, question 6) in four parts.

Textbook formulas
    :func:`simple_clv` ("spend x frequency x years x margin") and :func:`churn_cost` (lost
    customers, revenue, profit and the cost of replacing them). Both reproduce their standard
    worked examples exactly.

Contractual (subscription) value from survival
    :func:`survival_curve` estimates the retention curve S(t) per segment: Kaplan-Meier where
    the data are informative (at least ``min_at_risk`` customers at risk), a parametric
    (Weibull or exponential) tail beyond, spliced so that the curve is continuous. Left
    truncation is handled with entry times (customers who were already customers when the
    records begin, or a curve restricted to the regime after a business change).
    :func:`contractual_clv` turns the curve into the expected lifetime value of a new customer,
    ``margin x value per period x sum_t S(t) (1 + d)^-t`` (a payment at the start of every
    period the customer is alive, the first one at t = 0), and :func:`residual_clv` into each
    active customer's residual value *conditional on being alive at their current tenure*,
    ``margin x value x sum_{k>=1} S(tau + k) / S(tau) (1 + d)^-(k-1)`` (the curve's DERL,
    :func:`curve_derl`, in the convention of Fader & Hardie 2010).
    :func:`derl` is the discounted expected residual lifetime of the shifted-beta-geometric
    (sBG) model in closed form (Fader & Hardie 2010, eq. 6), :func:`sbg_del` the discounted
    expected lifetime of a new customer, and :func:`fit_sbg` a small sBG maximum-likelihood fit
    from individual durations with left truncation.

Non-contractual purchases (BTYD)
    :func:`rfm_summary` condenses a transaction log into frequency / recency / T / monetary
    value (calibration period) and the holdout-period counts; :class:`BetaGeo` is the BG/NBD
    model (Fader, Hardie & Lee 2005) and :class:`GammaGamma` the gamma-gamma spend model
    (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"), both by maximum
    likelihood with standard errors from the Hessian; :func:`btyd_clv` combines them;
    :func:`holdout_comparison` and :func:`frequency_fit` are the validation tables of FHL 2005.

The cost of churn and what retention is worth
    :func:`churn_window` (churn over a window before the snapshot), :func:`retention_scenarios`
    ("what if churn fell by X points") and :func:`at_risk_value` (the value of the watchlist).

Why the BTYD models are implemented here
----------------------------------------
``lifetimes`` is archived and unmaintained (its last release, 0.11.3, imports the deprecated
``pkg_resources`` and pins old autograd idioms), and PyMC-Marketing is Bayesian and heavy
(PyMC, PyTensor, ArviZ; compiling a model takes longer than our whole fit). The two models need
a few hundred lines: the BG/NBD log-likelihood is written vectorised with ``scipy.special``
(``gammaln``, ``digamma``), with an *analytic gradient*, and maximised with L-BFGS-B over the
log-parameters (so they stay positive). Its separable parts are summed over the distinct
values of frequency and of T, and only the mixture term is evaluated per distinct (x,
recency, T) row of the repeat buyers; large data are warm-started on a subsample of those
rows. The conditional expectations use the Euler transformation of the Gaussian
hypergeometric function, which keeps ``2F1`` well conditioned for customers with many
purchases. Standard errors come from the Hessian of the negative log-likelihood at the
optimum, by forward differences of the analytic gradient (no numdifftools). The optimiser
runs with BLAS limited to one thread (``threadpoolctl``): for a 3-4 parameter problem extra
threads only add contention. Fitting the BG/NBD to all 23,570 CDNOW customers takes a few
hundredths of a second (lifetimes: over a second), a million customers a few seconds.
``tests/test_btyd.py`` reproduces the published CDNOW estimates and keeps an opt-in
cross-check against ``lifetimes`` (run in a subprocess, since importing it imports the
deprecated ``pkg_resources``).

Conventions: rates are fractions (0.05 = 5%); ``discount_rate`` is *annual* unless the
argument says otherwise and is converted to the period length; nothing depends on "now".
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from threadpoolctl import threadpool_limits

from churn_research._model import ChurnDataError

__all__ = [
    "DAYS_PER_MONTH",
    "FREQ_DAYS",
    "SimpleCLV",
    "simple_clv",
    "ChurnCost",
    "churn_cost",
    "period_discount_rate",
    "survival_curve",
    "default_observed_from",
    "contractual_clv",
    "residual_clv",
    "curve_derl",
    "derl",
    "sbg_del",
    "sbg_survival",
    "fit_sbg",
    "rfm_summary",
    "BetaGeo",
    "GammaGamma",
    "btyd_clv",
    "holdout_comparison",
    "frequency_fit",
    "churn_window",
    "churn_cost_inputs",
    "default_calibration_end",
    "retention_scenarios",
    "at_risk_value",
]

#: Days per month (tenure months, as in the synthetic generator).
DAYS_PER_MONTH = 365.25 / 12
#: Days per unit of the ``freq`` argument of :func:`rfm_summary`.
FREQ_DAYS = {"D": 1.0, "W": 7.0, "M": DAYS_PER_MONTH, "Y": 365.25}


# ========================================================================================
# textbook formulas
# ========================================================================================
@dataclass(frozen=True)
class SimpleCLV:
    """Result of :func:`simple_clv` (scalars, or arrays for vector inputs).

    Attributes
    ----------
    annual_revenue : spend per purchase x purchases per year.
    lifetime_revenue : revenue over ``years`` (present value when ``discount_rate > 0``).
    clv : lifetime profit, ``lifetime_revenue x margin`` (the customer lifetime value).
    """

    annual_revenue: float
    lifetime_revenue: float
    clv: float

    def as_dict(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-column table for display."""
        return pd.DataFrame({"value": pd.Series(self.as_dict())})


def _annuity_factor(years, discount_rate):
    """Sum of ``(1 + d)^-t`` for t = 1..years (end-of-year payments); ``years`` if d = 0."""
    years = np.asarray(years, dtype=float)
    d = np.asarray(discount_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d == 0, years, (1.0 - (1.0 + d) ** (-years)) / np.where(d == 0, 1.0, d))
    return factor


def _scalar_or_array(x):
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def simple_clv(spend_per_purchase, purchases_per_year, years, margin, discount_rate=0.0) -> SimpleCLV:
    """The textbook CLV: spend x frequency x years x margin.

    Parameters
    ----------
    spend_per_purchase : float or array
        Average revenue per purchase.
    purchases_per_year : float or array
        Purchases per customer per year.
    years : float or array
        Expected customer lifetime in years.
    margin : float or array
        Profit margin (fraction of revenue).
    discount_rate : float, default 0.0
        Annual discount rate. Each year's revenue is received at the end of the year, so the
        lifetime revenue is ``annual x (1 - (1 + d)^-years) / d`` (an ordinary annuity; it is
        ``annual x years`` when ``d = 0``; fractional years are allowed).

    Returns
    -------
    SimpleCLV
        ``annual_revenue``, ``lifetime_revenue`` and ``clv`` (lifetime profit).

    Examples
    --------
    The standard worked example: 100 per week for 50 weeks a year is 5,000 a year; over 10
    years 50,000 of revenue; at a 10% margin 5,000 of profit.

    >>> simple_clv(100, 50, 10, 0.10)
    SimpleCLV(annual_revenue=5000.0, lifetime_revenue=50000.0, clv=5000.0)
    """
    annual = np.asarray(spend_per_purchase, dtype=float) * np.asarray(purchases_per_year, dtype=float)
    if np.any(np.asarray(years, dtype=float) < 0):
        raise ValueError("years must be >= 0.")
    if np.any(np.asarray(discount_rate, dtype=float) <= -1):
        raise ValueError("discount_rate must be > -1 (e.g. 0.1 for 10% a year).")
    revenue = annual * _annuity_factor(years, discount_rate)
    profit = revenue * np.asarray(margin, dtype=float)
    return SimpleCLV(_scalar_or_array(annual), _scalar_or_array(revenue), _scalar_or_array(profit))


@dataclass(frozen=True)
class ChurnCost:
    """Result of :func:`churn_cost` (per period of ``churn_rate``, usually a year).

    Attributes
    ----------
    lost_customers : customers x churn rate.
    lost_revenue : lost customers x revenue per customer.
    lost_profit : lost revenue x margin.
    retention_cost_per_customer : what retaining one customer costs (input; NaN if not given).
    acquisition_cost_per_customer : ``acquisition_cost_multiple`` x the retention cost.
    replacement_cost : lost customers x acquisition cost (what winning as many new customers
        would cost; NaN without a retention cost).
    retention_cost : lost customers x retention cost (what keeping them would have cost).
    """

    lost_customers: float
    lost_revenue: float
    lost_profit: float
    retention_cost_per_customer: float
    acquisition_cost_per_customer: float
    replacement_cost: float
    retention_cost: float

    def as_dict(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-column table for display."""
        return pd.DataFrame({"value": pd.Series(self.as_dict())})


def churn_cost(customers, churn_rate, revenue_per_customer, margin, acquisition_cost_multiple=5.0,
               *, retention_cost_per_customer=None) -> ChurnCost:
    """The cost of churn: lost customers, revenue and profit, and the cost of replacing them.

    Parameters
    ----------
    customers : float
        Customers at the start of the period.
    churn_rate : float
        Share lost during the period (e.g. 0.05).
    revenue_per_customer : float
        Revenue of one customer per period.
    margin : float
        Profit margin.
    acquisition_cost_multiple : float, default 5.0
        "Acquiring a customer costs about five times retaining one": the acquisition cost is
        this multiple of ``retention_cost_per_customer``.
    retention_cost_per_customer : float, optional
        What it costs to retain one customer. Without it the replacement cost cannot be put in
        money and is NaN (the rule of thumb only gives the ratio).

    Returns
    -------
    ChurnCost

    Examples
    --------
    5,000 customers with 5% churn lose 250; at 8,000 of revenue each that is 2,000,000 of
    revenue, and at a 10% margin 200,000 of profit.

    >>> c = churn_cost(5000, 0.05, 8000, 0.10)
    >>> c.lost_customers, c.lost_revenue, c.lost_profit
    (250.0, 2000000.0, 200000.0)
    """
    if np.any(np.asarray(churn_rate, dtype=float) < 0) or np.any(np.asarray(churn_rate, dtype=float) > 1):
        raise ValueError(f"churn_rate must be a fraction in [0, 1], got {churn_rate!r}.")
    lost = float(customers) * float(churn_rate)
    lost_revenue = lost * float(revenue_per_customer)
    lost_profit = lost_revenue * float(margin)
    ret = np.nan if retention_cost_per_customer is None else float(retention_cost_per_customer)
    acq = float(acquisition_cost_multiple) * ret
    return ChurnCost(lost, lost_revenue, lost_profit, ret, acq, lost * acq, lost * ret)


def period_discount_rate(annual_rate: float, period_days: float) -> float:
    """Discount rate per period of ``period_days`` days equivalent to ``annual_rate``.

    ``(1 + annual)^(period_days / 365.25) - 1``; e.g. 10% a year is 0.797% a month.
    """
    if annual_rate <= -1:
        raise ValueError("annual discount rate must be > -1.")
    return (1.0 + float(annual_rate)) ** (float(period_days) / 365.25) - 1.0


# ========================================================================================
# contractual: survival curve (Kaplan-Meier + parametric tail) and CLV
# ========================================================================================
def _check_columns(df: pd.DataFrame, table: str, columns: Sequence[str], fix: str):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ChurnDataError(f"missing column(s) {missing}.", table=table, column=missing[0], fix=fix)


def _durations(customers: pd.DataFrame, *, observation_end, period_days: float,
               observed_from=None) -> pd.DataFrame:
    """Duration (periods), event flag and entry time (left truncation) of each customer."""
    _check_columns(customers, "customers", ["customer_id", "start_date", "end_date"],
                   "the customers table needs customer_id, start_date and end_date.")
    obs = pd.Timestamp(observation_end)
    start = pd.to_datetime(customers["start_date"])
    end = pd.to_datetime(customers["end_date"])
    bad = customers.loc[start.isna(), "customer_id"].tolist()
    if bad:
        raise ChurnDataError("start_date is missing.", table="customers", column="start_date",
                             rows=bad, fix="every customer needs a start date.")
    event = end.notna() & (end <= obs)
    stop = end.where(event, obs)
    dur = (stop - start).dt.total_seconds().to_numpy() / 86400.0 / period_days
    bad = customers.loc[dur < 0, "customer_id"].tolist()
    if bad:
        raise ChurnDataError("end_date (or observation_end) is before start_date.",
                             table="customers", column="end_date", rows=bad,
                             fix="check the dates of these customers.")
    entry = np.zeros(len(customers))
    keep = np.ones(len(customers), dtype=bool)
    if observed_from is not None:
        t0 = pd.Timestamp(observed_from)
        entry = np.maximum((t0 - start).dt.total_seconds().to_numpy() / 86400.0 / period_days, 0.0)
        keep = dur > entry  # exits before `observed_from` are not in the risk set
    out = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy(), "duration": dur,
                        "event": event.to_numpy(), "entry": entry}, index=customers.index)
    return out[keep]


def default_observed_from(data, *, after_event: bool = False):
    """The date from which exits are observed, for left truncation.

    ``after_event=True`` returns the date of the (first) business change in ``data.events``, so
    that the retention curve describes the regime after the change. Otherwise the start of the
    records when the source says that earlier customers are left-truncated there
    (``meta["truth"]["left_truncated_at"]`` for synthetic data), else None.
    """
    if after_event and data.event_date is not None:
        return data.event_date
    truth = data.meta.get("truth", {}) if isinstance(data.meta, dict) else {}
    when = truth.get("left_truncated_at") or data.meta.get("left_truncated_at")
    return pd.Timestamp(when) if when else None


def _fit_weibull(duration, event, entry):
    """Weibull MLE (shape k, scale s) with right censoring and left truncation."""
    t = np.maximum(duration, 1e-3)
    e = np.minimum(entry, t)
    d = event.astype(float)
    if d.sum() < 2:
        return None

    def nll(phi):
        k, s = np.exp(phi)
        z, z0 = t / s, e / s
        ll = d * (np.log(k) - np.log(s) + (k - 1) * np.log(z)) - z ** k + z0 ** k
        return -ll.sum()

    rate = d.sum() / max((t - e).sum(), 1e-12)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        res = optimize.minimize(nll, np.array([0.0, math.log(1.0 / rate)]), method="L-BFGS-B",
                                bounds=[(math.log(0.05), math.log(20.0)), (None, None)])
    if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
        return None
    k, s = np.exp(res.x)
    return float(k), float(s)


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
    from lifelines import KaplanMeierFitter

    if tail not in ("weibull", "exponential", "sbg"):
        raise ValueError(f"tail must be 'weibull', 'exponential' or 'sbg', got {tail!r}.")
    dur = _durations(customers, observation_end=observation_end, period_days=period_days,
                     observed_from=observed_from)
    if by is not None:
        _check_columns(customers, "customers", [by], f"choose a segment column present in the "
                       f"customers table (got by={by!r}).")
        dur["segment"] = customers.loc[dur.index, by].astype(str).to_numpy()
        groups = list(dur.groupby("segment", sort=True))
    else:
        groups = [(None, dur)]
    t = np.arange(int(horizon) + 1, dtype=float)
    frames, params, stars, skipped = [], {}, {}, []
    for seg, g in groups:
        d, e, ev = g["duration"].to_numpy(), g["entry"].to_numpy(), g["event"].to_numpy()
        if ev.sum() < 2:
            skipped.append(seg)
            continue
        kmf = KaplanMeierFitter().fit(d, ev, entry=e)
        s_km = kmf.survival_function_at_times(t).to_numpy()
        at_risk = (np.searchsorted(np.sort(e), t, side="right")
                   - np.searchsorted(np.sort(d), t, side="right"))
        ok = (at_risk >= min_at_risk) & (t <= d.max())
        t_star = int(t[ok].max()) if ok.any() else 0
        used, fit = tail, None
        if tail == "weibull":
            fit = _fit_weibull(d, ev, e)
            if fit is not None:
                k, s = fit
                log_tail = -((t / s) ** k)
                fitted = {"shape": k, "scale": s}
        elif tail == "sbg":
            fit = _fit_sbg_arrays(d, ev, e)
            if fit is not None:
                ga, de = fit
                log_tail = special.betaln(ga, de + t) - special.betaln(ga, de)
                fitted = {"gamma": ga, "delta": de}
        if fit is None:  # exponential: events / exposure
            used = "exponential"
            rate = ev.sum() / max((d - np.minimum(e, d)).sum(), 1e-12)
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
    _check_columns(customers, "customers", [value_col] + ([by] if by else []),
                   "pass value_col= naming the revenue-per-period column (e.g. monthly_charges).")
    v = 1.0 / (1.0 + period_discount_rate(discount_rate, curve.attrs.get("period_days", DAYS_PER_MONTH)))
    rows = []
    for seg, g in _curve_groups(curve).items():
        s = g["survival"].to_numpy()
        disc = v ** g["t"].to_numpy()
        members = customers if by is None else customers[customers[by].astype(str) == seg]
        value = float(members[value_col].mean())
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
    _check_columns(customers, "customers", ["customer_id", "start_date", "end_date", value_col]
                   + ([by] if by else []), "see the docstring of residual_clv for the columns.")
    obs = pd.Timestamp(observation_end)
    end = pd.to_datetime(customers["end_date"])
    active = customers[end.isna() | (end > obs)]
    tenure = ((obs - pd.to_datetime(active["start_date"])).dt.days / period_days).to_numpy()
    tau = np.floor(np.maximum(tenure, 0)).astype(int)
    seg = (active[by].astype(str).to_numpy() if by else np.full(len(active), "all", dtype=object))
    v = 1.0 / (1.0 + period_discount_rate(discount_rate, period_days))
    resid = np.full(len(active), np.nan)
    p12 = np.full(len(active), np.nan)
    for name, g in _curve_groups(curve).items():
        s = g["survival"].to_numpy()
        h = len(s) - 1
        r = _derl_by_tenure(s, v)
        m = seg == name
        idx = np.minimum(tau[m], h)
        resid[m] = r[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            p12[m] = s[np.minimum(idx + 12, h)] / np.where(s[idx] > 0, s[idx], np.nan)
    value = active[value_col].to_numpy(dtype=float)
    out = pd.DataFrame({"segment": seg, "tenure": tenure, "value_per_period": value,
                        "p_alive_12": p12, "residual_lifetime": resid,
                        "residual_clv": margin * value * resid},
                       index=pd.Index(active["customer_id"].to_numpy(), name="customer_id"))
    return out


# ---- shifted-beta-geometric ----------------------------------------------------------------
def sbg_survival(gamma, delta, t):
    """sBG survival ``S(t) = B(gamma, delta + t) / B(gamma, delta)`` (t whole periods)."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(gamma, delta + t) - special.betaln(gamma, delta))


def _hyp2f1_one(b, c, z):
    """``2F1(1, b; c; z)`` for ``0 <= z < 1``: scipy, or the series where scipy fails.

    For very large ``b`` and ``c`` (a nearly homogeneous sBG) scipy's ``hyp2f1`` can return
    NaN; the series ``sum_k prod_{j<k} (b + j) / (c + j) z^k`` then converges at least as fast
    as ``z^k`` and is summed directly in log space.
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (b, c, z)))
    out = np.asarray(special.hyp2f1(1.0, b, c, z), dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        for i in zip(*np.nonzero(bad), strict=True) if out.ndim else [()]:
            bi, ci, zi = float(b[i]), float(c[i]), float(z[i])
            k = int(np.ceil(np.log(1e-18) / np.log(zi))) + 10 if zi > 0 else 1
            j = np.arange(k)
            logt = np.concatenate([[0.0], np.cumsum(np.log(bi + j) - np.log(ci + j))])[:k] \
                + j * np.log(zi if zi > 0 else 1.0)
            out[i] = float(np.exp(logt).sum()) if zi > 0 else 1.0
    return out


def derl(gamma, delta, discount_rate, renewals=0):
    """Discounted expected residual lifetime under the sBG (Fader & Hardie 2010, eq. 6).

    For a customer who has made ``renewals`` renewals (is at the end of period
    ``n = renewals + 1`` and about to decide on the next renewal), with churn probabilities
    ``theta ~ Beta(gamma, delta)`` across customers,

    ``DERL = (delta + n - 1) / (gamma + delta + n - 1)
    x 2F1(1, delta + n; gamma + delta + n; 1 / (1 + d))``,

    i.e. ``sum_{t>=n} S(t | t > n - 1) (1 + d)^-(t - n)``: the next payment (if they renew) is
    counted undiscounted. Multiply by the margin per period to get the residual lifetime value.

    Parameters
    ----------
    gamma, delta : float or array
        sBG parameters (mean churn probability ``gamma / (gamma + delta)``).
    discount_rate : float or array
        Discount rate *per period* (e.g. 0.10 for annual contracts at 10% a year).
    renewals : int or array, default 0
        Number of renewals made so far.

    Returns
    -------
    float or ndarray

    Examples
    --------
    Table 3 of Fader & Hardie (2010), case 1 (gamma = 3.80, delta = 15.20), d = 10%:

    >>> [round(float(derl(3.80, 15.20, 0.10, n)), 2) for n in range(5)]
    [3.31, 3.45, 3.59, 3.72, 3.84]
    """
    g = np.asarray(gamma, dtype=float)
    dl = np.asarray(delta, dtype=float) + np.asarray(renewals, dtype=float)
    d = np.asarray(discount_rate, dtype=float)
    if np.any(d <= 0):
        raise ValueError("discount_rate must be > 0 (undiscounted, the sBG residual lifetime is "
                         "infinite when gamma <= 1).")
    out = dl / (g + dl) * _hyp2f1_one(dl + 1.0, g + dl + 1.0, 1.0 / (1.0 + d))
    return _scalar_or_array(out)


def sbg_del(gamma, delta, discount_rate):
    """Discounted expected lifetime of a new customer under the sBG.

    ``sum_{t>=0} S(t) (1 + d)^-t = 2F1(1, delta; gamma + delta; 1 / (1 + d))`` (payments at
    the start of every period alive, the first certain); ``E(CLV) = margin x sbg_del``.
    ``d`` is per period.
    """
    g = np.asarray(gamma, dtype=float)
    dl = np.asarray(delta, dtype=float)
    return _scalar_or_array(_hyp2f1_one(dl, g + dl, 1.0 / (1.0 + np.asarray(discount_rate, float))))


def _fit_sbg_arrays(duration, event, entry, *, return_ll=False):
    """sBG MLE from durations in periods (see :func:`fit_sbg`); None if it fails."""
    ev = np.asarray(event, dtype=bool)
    d = np.asarray(duration, dtype=float)
    if ev.sum() < 2:
        return None
    t = np.where(ev, np.maximum(np.ceil(d), 1.0), np.floor(d))
    e = np.minimum(np.floor(np.asarray(entry, dtype=float)), np.where(ev, t - 1, t))
    # compress: the likelihood depends on (t, e, event) only
    rows, counts = np.unique(np.c_[t, e, ev], axis=0, return_counts=True)
    t, e, ev = rows[:, 0], rows[:, 1], rows[:, 2].astype(bool)

    def nll(phi):
        ga, de = np.exp(phi)
        ll = np.where(ev, special.betaln(ga + 1, de + t - 1), special.betaln(ga, de + t))
        ll = ll - special.betaln(ga, de + e)
        return -np.dot(counts, ll)

    # bounded: without heterogeneity in the data the MLE runs off to gamma, delta -> infinity
    # (the homogeneous geometric limit); 1e7 is numerically that limit
    with np.errstate(over="ignore", invalid="ignore"):
        res = optimize.minimize(nll, np.zeros(2), method="L-BFGS-B",
                                bounds=[(math.log(1e-4), math.log(1e7))] * 2)
    if not np.all(np.isfinite(res.x)):
        return None
    ga, de = (float(v) for v in np.exp(res.x))
    return (ga, de, -float(res.fun)) if return_ll else (ga, de)


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
    dur = _durations(customers, observation_end=observation_end, period_days=period_days,
                     observed_from=observed_from)
    if by is not None:
        dur["segment"] = customers.loc[dur.index, by].astype(str).to_numpy()
        groups = list(dur.groupby("segment", sort=True))
    else:
        groups = [("all", dur)]
    rows = []
    for seg, g in groups:
        fit = _fit_sbg_arrays(g["duration"].to_numpy(), g["event"].to_numpy(),
                              g["entry"].to_numpy(), return_ll=True)
        ga, de, ll = fit if fit is not None else (np.nan, np.nan, np.nan)
        rows.append({"segment": seg, "gamma": ga, "delta": de, "mean_churn": ga / (ga + de),
                     "polarisation": 1.0 / (ga + de + 1.0), "customers": len(g),
                     "log_likelihood": ll})
    return pd.DataFrame(rows).set_index("segment")


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
    _check_columns(transactions, "transactions", ["customer_id", "date", "amount"],
                   "the transactions table needs customer_id, date and amount.")
    if freq not in FREQ_DAYS:
        raise ValueError(f"freq must be one of {sorted(FREQ_DAYS)}, got {freq!r}.")
    unit = FREQ_DAYS[freq]
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs = None if observation_end is None else pd.Timestamp(observation_end).normalize()
    if obs is not None and obs <= cal_end:
        raise ValueError(f"observation_end ({obs.date()}) must be after calibration_end "
                         f"({cal_end.date()}).")
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


def _hessian(grad, theta, *, g0=None, rel_step=1e-6):
    """Symmetric Hessian by forward differences of an analytic gradient.

    Column i is ``(grad(theta + h_i e_i) - grad(theta)) / h_i`` with ``h_i = rel_step x
    theta_i``: one gradient per parameter (the error, of order ``rel_step``, is far below what
    matters for standard errors), symmetrised.
    """
    theta = np.asarray(theta, dtype=float)
    g0 = grad(theta) if g0 is None else g0
    k = theta.size
    H = np.empty((k, k))
    for i in range(k):
        h = rel_step * max(abs(theta[i]), 1e-3)
        up = theta.copy()
        up[i] += h
        H[:, i] = (grad(up) - g0) / h
    return 0.5 * (H + H.T)


def _minimise_log(nll_grad, x0, *, ftol: float, max_iter: int):
    """L-BFGS-B over log-parameters of ``nll_grad(theta) -> (value, gradient)``."""

    def fun(phi):
        theta = np.exp(phi)
        f, g = nll_grad(theta)
        return f, g * theta  # chain rule: d/dphi = theta d/dtheta

    # a 3-4 parameter problem whose likelihood is a few dot products: BLAS threads only add
    # contention (tenfold slower on a busy machine), so everything runs single-threaded
    with threadpool_limits(limits=1, user_api="blas"):
        return optimize.minimize(fun, np.log(np.asarray(x0, dtype=float)), jac=True,
                                 method="L-BFGS-B",
                                 options={"maxiter": max_iter, "ftol": ftol, "gtol": 1e-9,
                                          "maxcor": 20})


class _MLEModel:
    """Shared fitting machinery: L-BFGS-B on log-parameters, Hessian standard errors."""

    _param_names: tuple[str, ...] = ()

    def _fit_params(self, nll_grad, x0):
        """Minimise ``nll_grad(theta) -> (nll, grad)`` over log-parameters; Hessian SEs."""
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit_params_single_thread(nll_grad, x0)

    def _fit_params_single_thread(self, nll_grad, x0):
        t0 = time.perf_counter()
        res = _minimise_log(nll_grad, x0, ftol=self.tol, max_iter=self.max_iter)
        theta = np.exp(res.x)
        self.n_iter_ = int(res.nit)
        self.log_likelihood_ = -float(res.fun)
        names = list(self._param_names)
        self.params_ = pd.Series(theta, index=names, name="estimate")
        for name, value in zip(names, theta, strict=True):
            setattr(self, f"{name}_", float(value))
        g0 = nll_grad(theta)[1]
        H = _hessian(lambda th: nll_grad(th)[1], theta, g0=g0)
        try:
            cov = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            cov = np.full_like(H, np.nan)
        # Converged if L-BFGS-B says so, or if the Newton step that remains is negligible
        # (with a log-likelihood of millions, the line search can stop on rounding noise)
        newton = cov @ g0 if np.all(np.isfinite(cov)) else np.full_like(theta, np.inf)
        self.newton_step_ = pd.Series(newton / theta, index=names, name="relative Newton step")
        self.converged_ = bool(res.success) or bool(np.max(np.abs(newton / theta)) < 1e-5)
        self.message_ = str(res.message)
        self.fit_seconds_ = time.perf_counter() - t0
        self.hessian_ = H
        self.cov_ = pd.DataFrame(cov, index=names, columns=names)
        self.se_ = pd.Series(np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan)),
                             index=names, name="se")

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimates, standard errors and Wald confidence intervals."""
        self._check_fitted()
        z = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame({"estimate": self.params_, "se": self.se_,
                             "lower": self.params_ - z * self.se_,
                             "upper": self.params_ + z * self.se_})

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit() first.")


def _as_float(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]


class BetaGeo(_MLEModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), maximum likelihood.

    While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after every purchase they drop out with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    tol : float, default 1e-13
        Relative tolerance on the log-likelihood (L-BFGS-B ``ftol``).
    max_iter : int, default 1000

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Estimates (``alpha_`` in the time unit of the data, e.g. weeks).
    params_, se_ : Series
        Estimates and standard errors (inverse Hessian of the negative log-likelihood).
    cov_ : DataFrame
        Covariance matrix of the estimates.
    log_likelihood_ : float
    n_customers_, fit_seconds_, converged_, n_iter_

    Examples
    --------
    >>> bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    >>> bg.p_alive(2, 30.43, 38.86)  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "a", "b")

    def __init__(self, *, tol: float = 1e-13, max_iter: int = 1000):
        self.tol = tol
        self.max_iter = max_iter

    # -- likelihood ---------------------------------------------------------------------------
    @staticmethod
    def _validate(x, tx, T):
        if np.any(x < 0) or np.any(np.abs(x - np.round(x)) > 1e-9):
            raise ValueError("frequency must be a non-negative whole number (repeat purchases).")
        if np.any(tx < 0) or np.any(tx > T + 1e-9):
            raise ValueError("recency must satisfy 0 <= recency <= T.")
        if np.any((x == 0) & (tx > 0)):
            raise ValueError("customers without repeat purchases must have recency 0.")

    @staticmethod
    def _prepare(x, tx, T, weights, *, stride: int = 1):
        """Sufficient statistics of the likelihood, built once per fit.

        The BG/NBD log-likelihood of a customer is
        ``A(x) - (r + x) log(alpha + T) + 1[x > 0] softplus(D)`` with
        ``D = log(a / (b + x - 1)) + (r + x) log((alpha + T) / (alpha + recency))``. The first
        two terms are separable: they are summed over the distinct values of ``x`` and of
        ``T`` (a few dozen / a few thousand) with aggregated weights. Only the mixture term
        needs one value per distinct (x, recency, T) row of the repeat buyers, so customers
        without repeat purchases never enter the per-row work. ``stride > 1`` keeps every
        ``stride``-th distinct repeat-buyer row (weights scaled up): a cheap approximation used
        to warm-start the fit on large data (see :meth:`_subsample`).
        """
        ux, ix = np.unique(x, return_inverse=True)
        uT, iT = np.unique(T, return_inverse=True)
        pos = x > 0
        utx, itx0 = np.unique(tx[pos], return_inverse=True)
        key = (ix[pos].astype(np.int64) * len(utx) + itx0) * len(uT) + iT[pos]
        ukey, inv = np.unique(key, return_inverse=True)
        base = {
            "ux": ux, "uT": uT, "utx": utx,
            # customers without repeat purchases: their weight per distinct T
            "zero_WT": np.bincount(iT[~pos], weights=weights[~pos], minlength=len(uT)),
            # distinct repeat-buyer rows and their weights
            "p_w": np.bincount(inv.ravel(), weights=weights[pos], minlength=len(ukey)),
            "p_iT": ukey % len(uT),
            "p_itx": (ukey // len(uT)) % len(utx),
            "p_ix": ukey // (len(uT) * len(utx)),
        }
        return BetaGeo._subsample(base, stride)

    @staticmethod
    def _subsample(data, stride: int = 1):
        """Every ``stride``-th repeat-buyer row (weights x stride) and the separable sums."""
        out = dict(data)
        if stride > 1:
            for k in ("p_w", "p_iT", "p_itx", "p_ix"):
                out[k] = data[k][::stride]
            out["p_w"] = out["p_w"] * stride
        ux, uT = out["ux"], out["uT"]
        w, p_ix, p_iT = out["p_w"], out["p_ix"], out["p_iT"]
        out["p_x"] = ux[p_ix]
        zero_W = data["zero_WT"].sum()
        out["Wx"] = np.bincount(p_ix, weights=w, minlength=len(ux))
        out["Wx"][0] += zero_W if ux[0] == 0 else 0.0
        out["WT"] = data["zero_WT"] + np.bincount(p_iT, weights=w, minlength=len(uT))
        out["WxT"] = np.bincount(p_iT, weights=w * out["p_x"], minlength=len(uT))
        out["n_rows"] = len(w)
        return out

    @staticmethod
    def _loglik_terms(theta, data, grad=True):
        r, al, a, b = theta
        gl, dg = special.gammaln, special.digamma
        ux, Wx, uT, WT, WxT = data["ux"], data["Wx"], data["uT"], data["WT"], data["WxT"]
        upos = ux > 0
        # separable part: sum over x of A(x), sum over T of -(r + x) log(alpha + T)
        A = (gl(r + ux) - gl(r) + r * math.log(al) + gl(a + b) + gl(b + ux) - gl(b)
             - gl(a + b + ux))
        lT = np.log(al + uT)
        rxT = r * WT + WxT  # sum of w (r + x) per distinct T
        total = float(Wx @ A - rxT @ lT)
        # mixture part, repeat buyers only: softplus(D)
        ubx1 = np.where(upos, b + ux - 1, 1.0)
        c = math.log(a) - np.log(ubx1)
        p_ix, p_iT, p_itx, w = data["p_ix"], data["p_iT"], data["p_itx"], data["p_w"]
        rx = r + data["p_x"]
        u = lT[p_iT] - np.log(al + data["utx"])[p_itx]
        D = c[p_ix] + rx * u
        e = np.exp(-np.abs(D))  # one exp serves softplus(D) and q = expit(D)
        total += float(w @ (np.maximum(D, 0.0) + np.log1p(e)))
        if not grad:
            return total, None
        wq = w * np.where(D >= 0, 1.0, e) / (1.0 + e)
        inv_T, inv_tx = 1.0 / (al + uT), 1.0 / (al + data["utx"])
        dr = Wx @ (dg(r + ux) - dg(r) + math.log(al)) - WT @ lT + wq @ u
        dal = (r * Wx.sum() / al - rxT @ inv_T
               + (wq * rx) @ (inv_T[p_iT] - inv_tx[p_itx]))
        swq = wq.sum()
        da = Wx @ (dg(a + b) - dg(a + b + ux)) + swq / a
        wq_x = np.bincount(p_ix, weights=wq, minlength=len(ux))
        db = Wx @ (dg(a + b) + dg(b + ux) - dg(b) - dg(a + b + ux)) - wq_x @ np.where(upos, 1.0 / ubx1, 0.0)
        return total, np.array([dr, dal, da, db])

    def fit(self, frequency, recency, T, *, weights=None, initial=(1.0, 1.0, 1.0, 1.0)):
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases, time of the last purchase and age of each customer in the
            calibration period (see :func:`rfm_summary`), all in the same time unit.
        weights : array-like, optional
            Number of customers with each (frequency, recency, T) row (for grouped data).
        initial : 4 floats
            Starting values of r, alpha, a, b.

        Returns
        -------
        self

        Notes
        -----
        With more than 50,000 distinct repeat-buyer rows the optimiser is first run on every
        k-th of them (about 20,000, weights scaled) and then polished on all of them, which
        cuts the full-data evaluations about threefold; the estimate is the full-data maximum
        either way.
        """
        t0 = time.perf_counter()
        x, tx, T = _as_float(frequency, recency, T)
        self._validate(x, tx, T)
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
        data = self._prepare(x, tx, T, w)
        start = np.asarray(initial, dtype=float)
        if data["n_rows"] > 50_000:
            coarse = self._subsample(data, data["n_rows"] // 20_000)

            def nll_coarse(theta):
                f, g = self._loglik_terms(theta, coarse)
                return -f, -g

            res = _minimise_log(nll_coarse, start, ftol=1e-9, max_iter=self.max_iter)
            if np.all(np.isfinite(res.x)):
                start = np.exp(res.x)

        def nll_grad(theta):
            f, g = self._loglik_terms(theta, data)
            return -f, -g

        self._fit_params(nll_grad, start)
        self.n_customers_ = float(w.sum())
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def log_likelihood(self, frequency, recency, T) -> np.ndarray:
        """Log-likelihood contribution of each customer at the fitted parameters."""
        self._check_fitted()
        x, tx, T = _as_float(frequency, recency, T)
        r, al, a, b = self.params_.to_numpy()
        pos = x > 0
        A1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(al)
        A2 = special.betaln(a, b + x) - special.betaln(a, b)
        A3 = -(r + x) * np.log(al + T)
        bx1 = np.where(pos, b + x - 1, 1.0)
        A4 = np.where(pos, np.log(a) - np.log(bx1) - (r + x) * np.log(al + tx), -np.inf)
        return A1 + A2 + np.logaddexp(A3, A4)

    # -- predictions ---------------------------------------------------------------------------
    def expected_purchases(self, t):
        """Expected purchases of a new customer in ``(0, t]`` (FHL 2005, eq. 7).

        ``(a + b - 1) / (a - 1) x [1 - (alpha / (alpha + t))^r 2F1(r, b; a + b - 1; t / (alpha + t))]``,
        evaluated through the Euler transformation
        ``(1 - z)^r 2F1(r, b; c; z) = (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; c; z)``.
        """
        self._check_fitted()
        r, al, a, b = self.params_.to_numpy()
        t = np.asarray(t, dtype=float)
        z = t / (al + t)
        c = a + b - 1
        core = (1 - z) ** (a - 1) * special.hyp2f1(c - r, a - 1, c, z)
        return _scalar_or_array(c / (a - 1) * (1 - core))

    def conditional_expected_purchases(self, t, frequency, recency, T):
        """Expected purchases in the next ``t`` time units given (frequency, recency, T).

        FHL 2005, eq. 10, with ``2F1(r + x, b + x; a + b + x - 1; z)`` evaluated through the
        Euler transformation (stable for customers with many purchases).
        """
        self._check_fitted()
        r, al, a, b = self.params_.to_numpy()
        t, x, tx, T = _as_float(t, frequency, recency, T)
        z = t / (al + T + t)
        c = a + b + x - 1
        core = (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        num = c / (a - 1) * (1 - core)
        return _scalar_or_array(num * self.p_alive(x, tx, T))

    def p_alive(self, frequency, recency, T):
        """Probability that a customer with this history is still alive at T.

        ``1 / (1 + 1[x > 0] a / (b + x - 1) ((alpha + T) / (alpha + recency))^(r + x))``.
        """
        self._check_fitted()
        r, al, a, b = self.params_.to_numpy()
        x, tx, T = _as_float(frequency, recency, T)
        pos = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (np.log(a) - np.log(np.where(pos, b + x - 1, 1.0))
                        + (r + x) * (np.log(al + T) - np.log(al + tx)))
        p = np.where(pos, special.expit(-log_odds), 1.0)
        return _scalar_or_array(p)

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability of exactly ``n`` purchases in ``(0, t]`` (FHL 2005, eq. 8)."""
        self._check_fitted()
        r, al, a, b = self.params_.to_numpy()
        t, n = np.broadcast_arrays(*_as_float(t, n))
        p = al / (al + t)
        first = np.exp(special.betaln(a, b + n) - special.betaln(a, b)) * stats.nbinom.pmf(n, r, p)
        with np.errstate(invalid="ignore"):
            second = np.where(
                n > 0,
                np.exp(special.betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - special.betaln(a, b))
                * stats.nbinom.sf(n - 1, r, p), 0.0)
        return _scalar_or_array(first + second)


class GammaGamma(_MLEModel):
    """Gamma-gamma model of spend per transaction (Fader & Hardie 2013), maximum likelihood.

    A customer's transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, v)`` across
    customers, independent of the purchase process. Only customers with at least one repeat
    purchase (``frequency > 0``) and a positive mean spend are used; ``monetary_value`` is the
    mean value of the repeat purchases (see :func:`rfm_summary`).

    Attributes
    ----------
    p_, q_, v_ : float
    params_, se_, cov_, log_likelihood_, n_customers_, fit_seconds_, converged_, n_iter_
    mean_spend_ : float
        Population mean spend per transaction, ``p v / (q - 1)``.
    """

    _param_names = ("p", "q", "v")

    def __init__(self, *, tol: float = 1e-13, max_iter: int = 1000):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _select(x, m):
        return (x > 0) & (m > 0)

    def fit(self, frequency, monetary_value, *, initial=(1.0, 1.0, 1.0)):
        """Fit by maximum likelihood on the customers with repeat purchases.

        Returns
        -------
        self
        """
        x, m = _as_float(frequency, monetary_value)
        keep = self._select(x, m)
        if keep.sum() < 3:
            raise ValueError("the gamma-gamma model needs at least 3 customers with repeat "
                             "purchases and positive spend.")
        x, m = x[keep], m[keep]
        lx, lm = np.log(x), np.log(m)

        def nll_grad(theta):
            p, q, v = theta
            px = p * x
            lvm = np.log(v + m * x)
            ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
                  + q * np.log(v) + (px - 1) * lm + px * lx - (px + q) * lvm)
            dig = special.digamma(px + q)
            gp = x * (dig - special.digamma(px) + lm + lx - lvm)
            gq = dig - special.digamma(q) + np.log(v) - lvm
            gv = q / v - (px + q) / (v + m * x)
            return -ll.sum(), -np.array([gp.sum(), gq.sum(), gv.sum()])

        self._fit_params(nll_grad, np.asarray(initial, dtype=float))
        self.n_customers_ = int(keep.sum())
        self.mean_spend_ = self.p_ * self.v_ / (self.q_ - 1) if self.q_ > 1 else np.inf
        return self

    def conditional_expected_spend(self, frequency, monetary_value):
        """Expected spend per transaction given ``frequency`` repeat purchases of mean value m.

        ``(v + m x) p / (p x + q - 1)``: a weighted average of the population mean
        ``p v / (q - 1)`` and the customer's own mean ``m``; customers without repeat purchases
        get the population mean.
        """
        self._check_fitted()
        x, m = _as_float(frequency, monetary_value)
        p, q, v = self.params_.to_numpy()
        x = np.where(m > 0, x, 0.0)
        return _scalar_or_array((v + m * x) * p / (p * x + q - 1))


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


# ========================================================================================
# the cost of churn and retention scenarios
# ========================================================================================
def churn_window(customers: pd.DataFrame, *, observation_end, months: int = 12) -> dict:
    """Churn over the ``months`` before the snapshot, and its annual equivalent.

    At risk: customers active at the window start (joined on or before it, no end date by
    then). Lost: those of them whose end date falls in the window. The annual rate is
    ``1 - (1 - rate)^(12 / months)``.

    Returns
    -------
    dict
        ``window_start``, ``window_end``, ``months``, ``at_risk``, ``lost``, ``churn_rate``,
        ``annual_churn_rate``.
    """
    _check_columns(customers, "customers", ["start_date", "end_date"],
                   "the customers table needs start_date and end_date.")
    obs = pd.Timestamp(observation_end)
    w0 = obs - pd.DateOffset(months=int(months))
    start = pd.to_datetime(customers["start_date"])
    end = pd.to_datetime(customers["end_date"])
    at_risk = (start <= w0) & (end.isna() | (end > w0))
    lost = at_risk & end.notna() & (end <= obs)
    n, k = int(at_risk.sum()), int(lost.sum())
    rate = k / n if n else np.nan
    return {"window_start": w0, "window_end": obs, "months": int(months), "at_risk": n,
            "lost": k, "churn_rate": rate,
            "annual_churn_rate": 1 - (1 - rate) ** (12 / months) if n else np.nan}


def churn_cost_inputs(data, *, months: int = 12, value_col: str = "monthly_revenue") -> dict:
    """Churn and revenue per customer over the last ``months`` before the snapshot.

    The inputs of :func:`churn_cost` and :func:`retention_scenarios`, measured on the data:
    :func:`churn_window` for the churn rate (and its annual equivalent), and the annual
    revenue per customer, from the transactions of the customers who were customers for the
    whole window (annualised), or, without transactions, 12 x the mean of ``value_col`` among
    the customers at risk.

    Parameters
    ----------
    data : ChurnData
    months : int, default 12
        Window length (a snapshot such as IBM Telco, whose churn flag covers one month, needs 1).
    value_col : str, default "monthly_revenue"
        Revenue per month, used when there are no transactions.

    Returns
    -------
    dict
        The keys of :func:`churn_window` plus ``annual_revenue_per_customer`` and
        ``revenue_source`` ("transactions" or the column name).
    """
    cust = data.customers
    win = churn_window(cust, observation_end=data.observation_end, months=months)
    start = pd.to_datetime(cust["start_date"])
    end = pd.to_datetime(cust["end_date"])
    w0, w1 = win["window_start"], win["window_end"]
    at_risk = (start <= w0) & (end.isna() | (end > w0))
    stayed = at_risk & (end.isna() | (end > w1))
    if data.has("transactions") and stayed.any():
        tx = data.transactions
        dates = pd.to_datetime(tx["date"])
        sel = (dates > w0) & (dates <= w1) & tx["customer_id"].isin(cust.loc[stayed, "customer_id"])
        revenue = float(tx.loc[sel, "amount"].sum()) / int(stayed.sum()) * 12.0 / months
        source = "transactions"
    elif value_col in cust.columns and at_risk.any():
        revenue = 12.0 * float(cust.loc[at_risk, value_col].mean())
        source = value_col
    else:
        raise ChurnDataError("no revenue information: neither transactions nor a revenue column.",
                             table="customers", column=value_col,
                             fix="load the transactions or name the monthly revenue column "
                                 "with value_col=.")
    return {**win, "annual_revenue_per_customer": revenue, "revenue_source": source}


def default_calibration_end(transactions: pd.DataFrame, observation_end) -> pd.Timestamp:
    """Midpoint between the first transaction and ``observation_end`` (calibration / holdout)."""
    first = pd.to_datetime(transactions["date"]).min()
    obs = pd.Timestamp(observation_end)
    return (first + (obs - first) / 2).normalize()


def retention_scenarios(customers: float, churn_rate: float, revenue_per_customer: float,
                        margin: float, *, reductions: Sequence[float] = (0.01, 0.02, 0.05),
                        horizon: int = 3, discount_rate: float = 0.0) -> pd.DataFrame:
    """Revenue and profit over a horizon if churn fell by some points.

    A closed base of ``customers`` loses ``churn_rate`` of its members every period (year);
    the customers still there at the end of period t pay ``revenue_per_customer`` for it
    (the convention of :func:`churn_cost`, so that a one-period horizon reproduces its lost
    revenue), discounted by ``(1 + discount_rate)^-t``. New customers are left out: the
    scenarios value *retention*, not acquisition.

    Parameters
    ----------
    customers, churn_rate, revenue_per_customer, margin : float
        Current base, churn per period, revenue per customer per period, profit margin.
    reductions : sequence of float, default (0.01, 0.02, 0.05)
        Cuts in the churn rate, in points (0.05 = five percentage points).
    horizon : int, default 3
        Periods (years) to project.
    discount_rate : float, default 0.0
        Discount rate per period.

    Returns
    -------
    DataFrame
        Rows ``baseline`` and ``churn -X pts``: ``reduction``, ``churn_rate``,
        ``customers_end``, ``revenue``, ``profit``, ``extra_customers_end``, ``extra_revenue``,
        ``extra_profit`` (vs the baseline).
    """
    if not 0 <= churn_rate <= 1:
        raise ValueError(f"churn_rate must be in [0, 1], got {churn_rate!r}.")
    t = np.arange(1, int(horizon) + 1)
    disc = (1.0 + discount_rate) ** (-t)
    rows = []
    for cut in [0.0, *reductions]:
        c = max(churn_rate - float(cut), 0.0)
        n_t = customers * (1 - c) ** t
        revenue = float((n_t * revenue_per_customer * disc).sum())
        rows.append({"scenario": "baseline" if cut == 0 else f"churn -{cut * 100:g} pts",
                     "reduction": float(cut), "churn_rate": c, "customers_end": float(n_t[-1]),
                     "revenue": revenue, "profit": revenue * margin})
    out = pd.DataFrame(rows).set_index("scenario")
    base = out.iloc[0]
    out["extra_customers_end"] = out["customers_end"] - base["customers_end"]
    out["extra_revenue"] = out["revenue"] - base["revenue"]
    out["extra_profit"] = out["profit"] - base["profit"]
    return out


def at_risk_value(values: pd.Series, at_risk) -> dict:
    """The value of the customers on a watchlist.

    Parameters
    ----------
    values : Series
        CLV (or residual CLV) per customer, indexed by ``customer_id``.
    at_risk : iterable of ids, or boolean Series indexed like ``values``

    Returns
    -------
    dict
        ``customers`` (on the list and valued), ``total``, ``mean``, ``share_of_total``
        (share of the whole base's value), ``share_of_customers``.
    """
    values = pd.Series(values).astype(float)
    if isinstance(at_risk, pd.Series) and at_risk.dtype == bool:
        ids = at_risk.index[at_risk.to_numpy()]
    else:
        ids = pd.Index(list(at_risk))
    sel = values[values.index.isin(ids)]
    total = float(values.sum())
    return {"customers": int(len(sel)), "total": float(sel.sum()),
            "mean": float(sel.mean()) if len(sel) else np.nan,
            "share_of_total": float(sel.sum() / total) if total else np.nan,
            "share_of_customers": len(sel) / len(values) if len(values) else np.nan}
