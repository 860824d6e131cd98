"""A synthetic subscription business with known ground truth.

:func:`generate` simulates a contractual (subscription) business month by month over calendar
months and returns a :class:`~churn_research.ChurnData` with all five tables plus the true
parameters in ``meta["truth"]``, so that every estimator of the project can be checked against
the truth. The contract is ``notes/synthetic_spec.md``; this docstring records the choices the
contract leaves open.

Time and hazard
---------------
Time is measured in days since ``start`` (continuous); tenure in months of
``365.25 / 12`` days. Each customer's churn hazard (per month) is

``lambda_i(t) = lambda0(tenure) * exp(x_i' beta + beta_change 1[t >= change_date]
+ beta_complaint 1[complaint in the last 90 days] (+ log spike HR in the spike month))``

with ``lambda0`` the Weibull hazard ``(k / s) (tenure / s)^(k - 1)``. The covariate part is
constant within each period of the simulation grid (the calendar months, additionally split at
``change_date`` if it is not a month start); the baseline is **integrated exactly** over tenure
(cumulative hazard ``(tenure / s)^k``), not evaluated at mid-month, and the complaint indicator
switches on at the exact time of each complaint and off exactly 90 days after the last one, so
the indicator computed from the ``tickets`` table (complaint at ``date`` <= t < ``date`` + 90
days, up to the within-day time) is the one that drove the hazard. The event time within a
period is drawn by inverting the exact cumulative hazard with a unit exponential. ``age`` enters
as ``(age - 50) / 10``, so ``lambda0`` is the hazard of the reference customer (female, 50,
online, consumer, basic, monthly, no price rise, average satisfaction, before the change, no
recent complaint). The hidden satisfaction ``z ~ N(0, 1)`` drives the hazard, the complaint rate
``0.04 exp(-0.5 z)`` and the survey answers; it is not a column (``include_latent=True`` adds it
as ``satisfaction_latent`` for tests).

Left truncation
---------------
About 35% of customers are already customers at ``start``: their ``start_date`` is uniform over
the five years before ``start``, and they are simulated only from ``start``, conditionally on
their tenure there (the hazard given tenure and covariates needs no history). Their data are
therefore **left-truncated at** ``start`` (``truth["left_truncated_at"]``): survival analyses
must use their tenure at ``start`` as entry time (``CoxPHFitter(entry_col=...)``). Their
covariates follow the same distribution as new customers'. No record of any table exists
before ``start`` (the complaint indicator is 0 at ``start``).

Dates
-----
``start_date`` is a day; new customers join uniformly over ``[start, observation_end)``.
``end_date`` is the day the cancellation takes effect: the event time rounded up to the next
midnight, so ``start_date < end_date <= observation_end``; events after the start of
``observation_end`` are censored (``end_date`` NaT). Every transaction, ticket and survey of a
customer has ``start_date <= date < end_date`` (``<= observation_end`` if censored) and
``date >= start``.

Tables
------
``transactions``: one invoice per active calendar month on the first active day of the month
(amount ``monthly_revenue``, quantity 1) plus usage add-ons (Poisson process with a
customer-specific rate, gamma(2, 0.5) distributed with mean 1/month; amount gamma, quantity
``1 + Poisson(0.5)``); the usage rate falls to 40% in the 3 months (3 x 365.25/12 days) before
the churn time. ``tickets``: complaints from the monthly loop plus inquiries (0.05/month) and
technical tickets (0.04/month); ``resolution_days`` is geometric-like (mean 3/6/8 days for
inquiry/technical/complaint), ``resolved`` is False for ~8% and for tickets whose resolution
would fall after ``observation_end`` (then ``resolution_days`` is NaN). ``surveys``: a Poisson
process with rate 0.08 per active month (about one survey per customer-year);
``csat = clip(round(3.6 + 0.9 z + N(0, 0.6)), 1, 5)``,
``nps = clip(round(7.0 + 1.8 z + N(0, 1.2)), 0, 10)``.

Dtypes: dates ``datetime64[ns]``; ids and categorical-like columns are plain ``object``
strings (built by indexing a small array of shared string objects, so a million rows cost 8
bytes each); counts are ``int64``; ``resolution_days`` is float (NaN when unresolved).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd

from churn_research.model import ChurnData

__all__ = [
    "generate",
    "TRUE_LOG_HR",
    "STATIC_LOG_HR",
    "WEIBULL_SHAPE",
    "WEIBULL_SCALE_MONTHS",
    "CHANGE_HAZARD_RATIO",
    "COMPLAINT_HAZARD_RATIO",
    "REASON_WEIGHTS",
    "REASON_MULTIPLIERS",
    "ACTIVITY_DROP",
    "DEFAULTS",
    "CAMPAIGN_DEFAULTS",
    "COMPLAINT_RESOLUTION_DEFAULTS",
    "DAYS_PER_MONTH",
    "AGE_CENTRE",
]

#: Days per tenure month.
DAYS_PER_MONTH = 365.25 / 12
#: Age enters the linear predictor as ``(age - AGE_CENTRE) / 10``.
AGE_CENTRE = 50

WEIBULL_SHAPE = 0.8
#: Calibrated so that the overall monthly churn rate is about 2.5% (see ``tests``).
WEIBULL_SCALE_MONTHS = 27.0
CHANGE_HAZARD_RATIO = 1.5
COMPLAINT_HAZARD_RATIO = 2.0

#: True log hazard ratios of the static covariates (reference levels: female, online,
#: consumer, basic, monthly, no price rise); ``age_per_10y`` per 10 years of age;
#: ``satisfaction_per_sd`` for the hidden satisfaction (not a column).
STATIC_LOG_HR: dict[str, float] = {
    "gender[male]": 0.0,
    "age_per_10y": -0.15,
    "channel[partner]": -0.30,
    "channel[store]": -0.10,
    "customer_type[business]": -0.25,
    "plan[standard]": -0.20,
    "plan[premium]": -0.40,
    "contract[annual]": -0.80,
    "price_rise": 0.40,
    "satisfaction_per_sd": -0.35,
}
#: All true log hazard ratios, including the time-varying complaint indicator (any complaint
#: in the previous 90 days) and the business change (t >= change_date).
TRUE_LOG_HR: dict[str, float] = {
    **STATIC_LOG_HR,
    "complaint_90d": math.log(COMPLAINT_HAZARD_RATIO),
    "change": math.log(CHANGE_HAZARD_RATIO),
}

REASON_WEIGHTS: dict[str, float] = {
    "price": 0.25,
    "competitor": 0.20,
    "product_quality": 0.15,
    "service_quality": 0.15,
    "needs_changed": 0.10,
    "relocation": 0.08,
    "other": 0.07,
}
REASON_MULTIPLIERS: dict[str, dict[str, float]] = {
    "price": {"price_rise": 2.0},
    "service_quality": {"complaint_90d": 3.0},
    "competitor": {"after_change": 1.6},
}
ACTIVITY_DROP: dict[str, float] = {"months_before_churn": 3, "factor": 0.4}

COVARIATE_DISTRIBUTION: dict[str, Any] = {
    "gender": {"female": 0.5, "male": 0.5},
    "age": "18 + round(67 * Beta(2, 2.6)), i.e. 18-85, mean about 47",
    "region": {"north": 0.25, "south": 0.25, "east": 0.25, "west": 0.25},
    "channel": {"online": 0.5, "store": 0.3, "partner": 0.2},
    "customer_type": {"consumer": 0.8, "business": 0.2},
    "plan": {"basic": 0.45, "standard": 0.35, "premium": 0.2},
    "contract": {"monthly": 0.6, "annual": 0.4},
    "price_rise": 0.25,
    "satisfaction": "N(0, 1), hidden",
}
PLAN_PRICE = {"basic": 30.0, "standard": 50.0, "premium": 80.0}

#: Every option :func:`generate` accepts as an override, with its default.
DEFAULTS: dict[str, Any] = {
    "weibull_shape": WEIBULL_SHAPE,
    "weibull_scale_months": WEIBULL_SCALE_MONTHS,
    "log_hr": dict(TRUE_LOG_HR),
    "change_hazard_ratio": CHANGE_HAZARD_RATIO,
    "complaint_hazard_ratio": COMPLAINT_HAZARD_RATIO,
    "complaint_window_days": 90,
    "complaint_rate_monthly": 0.04,
    "complaint_satisfaction_slope": -0.5,
    "inquiry_rate_monthly": 0.05,
    "technical_rate_monthly": 0.04,
    "usage_rate_monthly": 1.0,
    "survey_prob_monthly": 0.08,
    "share_existing": 0.35,
    "existing_years": 5,
    "reason_weights": dict(REASON_WEIGHTS),
    "reason_multipliers": copy.deepcopy(REASON_MULTIPLIERS),
    "activity_drop": dict(ACTIVITY_DROP),
    "spike": None,
    "include_latent": False,
    "campaign": None,
    "complaint_resolution": None,
}

#: The opt-in effect of complaint handling on churn (``generate(complaint_resolution=True)`` or a
#: dict of overrides): see :func:`_complaint_resolution`. A complaint not resolved within
#: ``slow_days`` (resolved later, or never) makes its customer leave, while they wait, with
#: probability ``extra_churn_prob["slow"]`` (resolved after ``slow_days``) or
#: ``extra_churn_prob["unresolved"]`` (never resolved), on top of the hazard model.
COMPLAINT_RESOLUTION_DEFAULTS: dict[str, Any] = {
    "slow_days": 14,
    "unresolved_share": 0.08,
    "mean_days": 8.0,
    "extra_churn_prob": {"slow": 0.10, "unresolved": 0.25},
}

#: The randomised retention campaign's defaults (``generate(campaign=True)`` or a dict of
#: overrides): see :func:`_campaign`. ``save_prob``: the chance that contacting a customer who
#: would have left within ``horizon_days`` after ``date`` keeps them, by the path they were on
#: (``price_sensitive``: a price rise, or leaving for the price; ``relocation``: leaving because
#: they move; ``other``: every other leaver). ``confounding`` 0 = randomised; > 0: customers
#: with a higher observed risk score are contacted more often (log-odds slope per unit of the
#: linear predictor without the hidden satisfaction), for checking the propensity estimate.
CAMPAIGN_DEFAULTS: dict[str, Any] = {
    "name": "retention_offer",
    "date": "2025-06-01",
    "horizon_days": 180,
    "share_treated": 0.5,
    "save_prob": {"price_sensitive": 0.6, "relocation": 0.0, "other": 0.1},
    "cost_per_contact": 10.0,
    "confounding": 0.0,
}

_FIRST_FEMALE = [
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
    "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Ashley", "Emily", "Donna",
    "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Laura", "Anna", "Maria", "Sofia",
]
_FIRST_MALE = [
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
    "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew", "Joshua",
    "Kevin", "Brian", "George", "Edward", "Ryan", "Jacob", "Lucas", "Omar",
]
_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Chen",
]
_DOMAINS = ["example.com", "example.org", "example.net"]


# ----------------------------------------------------------------------------------------

def _opt_in(name: str, value, defaults: dict, nested: str, nested_keys: set) -> dict | None:
    """An opt-in generator option: None/False = off; True = ``defaults``; a dict = ``defaults``
    updated with it (its ``nested`` dict merged key by key). Unknown keys are a ``TypeError``."""
    if value is None or value is False:
        return None
    given = {} if value is True else dict(value)
    bad = sorted(set(given) - set(defaults))
    if bad:
        raise TypeError(f"{name} has unknown key(s) {bad}; allowed: {sorted(defaults)}.")
    out = copy.deepcopy(defaults)
    out[nested].update(given.pop(nested, {}) or {})
    out.update(given)
    if set(out[nested]) != nested_keys:
        keys = sorted(nested_keys)
        raise TypeError(f"{name} {nested} takes {', '.join(keys[:-1])} and {keys[-1]}.")
    return out

def _options(overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise TypeError(
            f"generate() got unknown override(s) {unknown}; allowed: {sorted(DEFAULTS)}."
        )
    opt = copy.deepcopy(DEFAULTS)
    for key, value in overrides.items():
        if key == "log_hr":
            bad = sorted(set(value) - set(TRUE_LOG_HR))
            if bad:
                raise TypeError(f"log_hr override has unknown key(s) {bad}; allowed: "
                                f"{sorted(TRUE_LOG_HR)}.")
            opt["log_hr"].update({k: float(v) for k, v in value.items()})
        elif key in ("reason_weights", "activity_drop"):
            opt[key].update(value)
        elif key == "reason_multipliers":
            for reason, mult in value.items():
                opt[key].setdefault(reason, {}).update(mult)
        else:
            opt[key] = copy.deepcopy(value)
    # the hazard-ratio overrides win over log_hr; keep both spellings consistent
    if "change_hazard_ratio" in overrides:
        opt["log_hr"]["change"] = math.log(float(overrides["change_hazard_ratio"]))
    if "complaint_hazard_ratio" in overrides:
        opt["log_hr"]["complaint_90d"] = math.log(float(overrides["complaint_hazard_ratio"]))
    opt["change_hazard_ratio"] = math.exp(opt["log_hr"]["change"])
    opt["complaint_hazard_ratio"] = math.exp(opt["log_hr"]["complaint_90d"])
    bad_reasons = sorted(set(opt["reason_multipliers"]) - set(opt["reason_weights"]))
    if bad_reasons:
        raise TypeError(f"reason_multipliers name unknown reason(s) {bad_reasons}.")
    opt["campaign"] = camp = _opt_in("campaign", opt["campaign"], CAMPAIGN_DEFAULTS, "save_prob",
                                     {"price_sensitive", "relocation", "other"})
    if camp is not None and not 0 < float(camp["share_treated"]) < 1:
        raise ValueError("campaign share_treated must lie strictly between 0 and 1.")
    opt["complaint_resolution"] = cr = _opt_in(
        "complaint_resolution", opt["complaint_resolution"], COMPLAINT_RESOLUTION_DEFAULTS,
        "extra_churn_prob", {"slow", "unresolved"})
    if cr is not None and not 0 < float(cr["slow_days"]) < float(opt["complaint_window_days"]):
        raise ValueError("complaint_resolution slow_days must lie between 0 and "
                         "complaint_window_days.")
    spikes = opt["spike"]
    if spikes is not None:
        spikes = [spikes] if isinstance(spikes, dict) else list(spikes)
        for s in spikes:
            if set(s) != {"month", "hazard_ratio"}:
                raise TypeError("spike must be {'month': 'YYYY-MM', 'hazard_ratio': float} "
                                "or a list of such dicts.")
        opt["spike"] = [{"month": str(s["month"]), "hazard_ratio": float(s["hazard_ratio"])}
                        for s in spikes]
    return opt


def _choice(rng: np.random.Generator, probs: dict[str, float], n: int):
    """Category codes and level names drawn with the given probabilities."""
    levels = np.array(list(probs), dtype=object)
    p = np.array(list(probs.values()), dtype=float)
    codes = np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right")
    return np.minimum(codes, len(levels) - 1), levels


def _poisson_times(rng, owner, lo, hi, rate_per_month):
    """Event times of independent Poisson processes on ``[lo, hi)`` (days).

    Returns the owner of each event (``owner`` repeated, grouped) and its time.
    """
    length = np.maximum(hi - lo, 0.0)
    counts = rng.poisson(rate_per_month * length / DAYS_PER_MONTH)
    times = rng.random(int(counts.sum()))
    times *= np.repeat(length, counts)
    times += np.repeat(lo, counts)
    return np.repeat(owner, counts), times


def _to_dates(origin: np.datetime64, days) -> np.ndarray:
    """Whole days since ``origin`` (NaN -> NaT) as ``datetime64[ns]``."""
    days = np.asarray(days)
    if days.dtype.kind == "f":
        ok = ~np.isnan(days)
        ns = np.floor(np.where(ok, days, 0.0)).astype(np.int64)
    else:
        ok = None
        ns = days.astype(np.int64)
    ns *= 86_400_000_000_000
    ns += origin.astype("datetime64[ns]").astype(np.int64)
    if ok is not None:
        ns[~ok] = np.iinfo(np.int64).min  # NaT
    return ns.view("datetime64[ns]")


def _order(owner: np.ndarray, day: np.ndarray, third: np.ndarray | None = None) -> np.ndarray:
    """Stable sort order by (owner, day[, third]) using one int64 key."""
    key = owner.astype(np.int64) * 100_000
    key += np.floor(day).astype(np.int64) if day.dtype.kind == "f" else day
    key += 50_000
    if third is not None:
        key = key * 4 + third
    return np.argsort(key, kind="stable")


def _str_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    s = np.strings.zfill(numbers.astype(np.dtypes.StringDType()), width)
    return np.strings.add(prefix, s).astype(object)


# ----------------------------------------------------------------------------------------
def generate(n_customers: int = 5000, *, random_state: int = 0, start="2021-01-01",
             observation_end="2025-12-31", change_date="2024-07-01",
             **overrides) -> ChurnData:
    """Simulate a subscription business with known churn drivers.

    Parameters
    ----------
    n_customers : int, default 5000
        Number of customers (pre-existing at ``start`` plus those joining in the window).
    random_state : int, default 0
        Seed of ``numpy.random.default_rng``; the output is a deterministic function of all
        arguments.
    start, observation_end, change_date : date-like
        Window start (records begin here; pre-existing customers are left-truncated here),
        snapshot date and date of the business change (rename and new owner).
    **overrides
        Any key of :data:`DEFAULTS`, e.g. ``change_hazard_ratio=1.0``,
        ``log_hr={"price_rise": 0.0}``, ``spike={"month": "2023-03", "hazard_ratio": 3.0}``
        (a list of such dicts is allowed), ``weibull_scale_months=150``,
        ``include_latent=True`` (adds the hidden ``satisfaction_latent`` column). Every
        override is recorded in ``meta["params"]["overrides"]`` and reflected in
        ``meta["truth"]``.

    Returns
    -------
    ChurnData
        ``kind="contractual"``, all five tables, ``meta["truth"]`` with the true parameters
        (see the module docstring and ``notes/synthetic_spec.md``).

    Examples
    --------
    >>> data = generate(2000, random_state=1)
    >>> data.meta["truth"]["log_hr"]["contract[annual]"]
    -0.8
    """
    n = int(n_customers)
    if n < 1:
        raise ValueError(f"n_customers must be >= 1, got {n_customers!r}.")
    opt = _options(overrides)
    rng = np.random.default_rng(random_state)
    start_ts = pd.Timestamp(start).normalize()
    obs_ts = pd.Timestamp(observation_end).normalize()
    change_ts = pd.Timestamp(change_date).normalize()
    if obs_ts <= start_ts:
        raise ValueError(f"observation_end ({obs_ts.date()}) must be after start "
                         f"({start_ts.date()}).")
    origin = np.datetime64(start_ts.date(), "D")
    T = float((obs_ts - start_ts).days)  # horizon in days since start
    change_day = float((change_ts - start_ts).days)
    k = float(opt["weibull_shape"])
    s = float(opt["weibull_scale_months"])
    beta = opt["log_hr"]
    window = float(opt["complaint_window_days"])

    # ---- customers and static covariates -------------------------------------------
    n_exist = int(round(opt["share_existing"] * n))
    span = int(round(opt["existing_years"] * 365.25))
    start_day = np.empty(n, dtype=float)
    start_day[:n_exist] = rng.integers(-span, 0, size=n_exist)
    start_day[n_exist:] = rng.integers(0, int(T), size=n - n_exist)
    start_day.sort()  # customer ids follow the sign-up order (covariates are drawn iid below)

    g_code, g_lev = _choice(rng, COVARIATE_DISTRIBUTION["gender"], n)
    age = 18 + np.rint(67 * rng.beta(2.0, 2.6, size=n)).astype(np.int64)
    r_code, r_lev = _choice(rng, COVARIATE_DISTRIBUTION["region"], n)
    ch_code, ch_lev = _choice(rng, COVARIATE_DISTRIBUTION["channel"], n)
    ct_code, ct_lev = _choice(rng, COVARIATE_DISTRIBUTION["customer_type"], n)
    pl_code, pl_lev = _choice(rng, COVARIATE_DISTRIBUTION["plan"], n)
    co_code, co_lev = _choice(rng, COVARIATE_DISTRIBUTION["contract"], n)
    price_rise = rng.random(n) < COVARIATE_DISTRIBUTION["price_rise"]
    z = rng.standard_normal(n)
    revenue = np.array([PLAN_PRICE[p] for p in pl_lev])[pl_code] * rng.lognormal(0.0, 0.15, n)
    revenue = np.round(np.where(price_rise, revenue * 1.10, revenue), 2)

    def level(codes, levels, name):
        return (levels[codes] == name).astype(float)

    eta = (beta["gender[male]"] * level(g_code, g_lev, "male")
           + beta["age_per_10y"] * (age - AGE_CENTRE) / 10.0
           + beta["channel[partner]"] * level(ch_code, ch_lev, "partner")
           + beta["channel[store]"] * level(ch_code, ch_lev, "store")
           + beta["customer_type[business]"] * level(ct_code, ct_lev, "business")
           + beta["plan[standard]"] * level(pl_code, pl_lev, "standard")
           + beta["plan[premium]"] * level(pl_code, pl_lev, "premium")
           + beta["contract[annual]"] * level(co_code, co_lev, "annual")
           + beta["price_rise"] * price_rise
           + beta["satisfaction_per_sd"] * z)
    risk = np.exp(eta)
    comp_rate = opt["complaint_rate_monthly"] * np.exp(opt["complaint_satisfaction_slope"] * z)

    # ---- simulation grid: calendar months (+ change date, spike months) ---------------
    months = pd.date_range(start_ts.to_period("M").to_timestamp(), obs_ts, freq="MS")
    month_days = np.asarray((months - start_ts).days, dtype=float)
    grid = set(month_days[(month_days > 0) & (month_days < T)].tolist()) | {0.0, T}
    if 0 < change_day < T:
        grid.add(change_day)
    spike_windows = []
    for sp in opt["spike"] or []:
        m0 = pd.Period(sp["month"], freq="M")
        lo = float((m0.to_timestamp() - start_ts).days)
        hi = float(((m0 + 1).to_timestamp() - start_ts).days)
        spike_windows.append((lo, hi, math.log(sp["hazard_ratio"])))
        grid |= {x for x in (lo, hi) if 0 < x < T}
    grid = np.array(sorted(grid))

    # ---- month-by-month simulation ------------------------------------------------------
    alive = np.ones(n, dtype=bool)
    t_event = np.full(n, np.nan)
    last_comp = np.full(n, -np.inf)
    comp_at_churn = np.zeros(n, dtype=bool)
    comp_owner, comp_time = [], []
    hc = math.exp(beta["complaint_90d"])
    tiny = 1e-9

    def cum0(t_days, sd):
        return (np.maximum(t_days - sd, 0.0) / DAYS_PER_MONTH / s) ** k

    for p in range(len(grid) - 1):
        a0, b = grid[p], grid[p + 1]
        idx = np.flatnonzero(alive & (start_day < b))
        if idx.size == 0:
            continue
        sd = start_day[idx]
        a = np.maximum(a0, sd)
        # complaints of the period (Poisson process, independent of churn until churn)
        c_loc, c_t = _poisson_times(rng, np.arange(idx.size), a, np.full(idx.size, b),
                                    comp_rate[idx])
        first = np.full(idx.size, b)
        np.minimum.at(first, c_loc, c_t)
        # indicator on on [a, e) (earlier complaint) and on [p2, b) (complaint this period)
        e = np.clip(last_comp[idx] + window, a, b)
        p2 = np.clip(first, e, b)
        log_period = beta["change"] * (a0 >= change_day)
        for lo, hi, lhr in spike_windows:
            if lo <= a0 < hi:
                log_period += lhr
        mult = risk[idx] * math.exp(log_period)
        Ha, He, Hp, Hb = cum0(a, sd), cum0(e, sd), cum0(p2, sd), cum0(np.full(idx.size, b), sd)
        L1 = mult * hc * (He - Ha)
        L2 = mult * (Hp - He)
        L3 = mult * hc * (Hb - Hp)
        E = rng.exponential(size=idx.size)
        ev = E < L1 + L2 + L3
        in1 = E < L1
        in2 = ~in1 & (E < L1 + L2)
        with np.errstate(divide="ignore", invalid="ignore"):
            H_target = np.where(in1, Ha + E / (mult * hc),
                                np.where(in2, He + (E - L1) / mult,
                                         Hp + (E - L1 - L2) / (mult * hc)))
        t_loc = sd + DAYS_PER_MONTH * s * np.maximum(H_target, 0.0) ** (1.0 / k)
        t_loc = np.where(ev, np.clip(t_loc, a + tiny, b), np.inf)
        # keep complaints made before the churn time
        keep = c_t < t_loc[c_loc]
        owners = idx[c_loc[keep]]
        comp_owner.append(owners)
        comp_time.append(c_t[keep])
        np.maximum.at(last_comp, owners, c_t[keep])
        hit = idx[ev]
        t_event[hit] = t_loc[ev]
        comp_at_churn[hit] = ~in2[ev]
        alive[hit] = False

    resolution_truth = None
    if opt["complaint_resolution"] is not None:
        comp_owner, comp_time, comp_res, resolution_truth = _complaint_resolution(
            opt, random_state=random_state, T=T, comp_owner=comp_owner, comp_time=comp_time,
            t_event=t_event, comp_at_churn=comp_at_churn)
    churned = ~np.isnan(t_event)
    entry = np.maximum(start_day, 0.0)
    exit_ = np.where(churned, t_event, T)
    end_day = np.where(churned, np.maximum(np.ceil(t_event), start_day + 1), np.nan)

    # ---- exit reasons ---------------------------------------------------------------------
    reasons = np.array(list(opt["reason_weights"]), dtype=object)
    w_base = np.array([opt["reason_weights"][r] for r in reasons], dtype=float)
    ci = np.flatnonzero(churned)
    W = np.tile(w_base, (ci.size, 1))
    flags = {"price_rise": price_rise[ci], "complaint_90d": comp_at_churn[ci],
             "after_change": t_event[ci] >= change_day}
    for j, r in enumerate(reasons):
        for flag, m in opt["reason_multipliers"].get(r, {}).items():
            if flag not in flags:
                raise TypeError(f"reason multiplier flag {flag!r} unknown; use one of "
                                f"{sorted(flags)}.")
            W[:, j] *= np.where(flags[flag], m, 1.0)
    cdf = np.cumsum(W, axis=1)
    u = rng.random(ci.size) * cdf[:, -1]
    r_idx = np.minimum((cdf < u[:, None]).sum(axis=1), len(reasons) - 1)
    churn_reason = np.full(n, np.nan, dtype=object)
    churn_reason[ci] = reasons[r_idx]

    # ---- personal data ---------------------------------------------------------------------
    ids = _str_ids("C", np.arange(1, n + 1), max(7, len(str(n))))
    male = g_lev[g_code] == "male"
    first_f = np.array(_FIRST_FEMALE, dtype=object)
    first_m = np.array(_FIRST_MALE, dtype=object)
    last_names = np.array(_LAST, dtype=object)
    fi = rng.integers(0, len(_FIRST_FEMALE), n)
    li = rng.integers(0, len(_LAST), n)
    first = np.where(male, first_m[fi % len(first_m)], first_f[fi])
    last = last_names[li]
    first_s = first.astype(np.dtypes.StringDType())
    last_s = last.astype(np.dtypes.StringDType())
    name = np.strings.add(np.strings.add(first_s, " "), last_s).astype(object)
    num = rng.integers(1, 1000, n).astype(np.dtypes.StringDType())
    dom = np.array(_DOMAINS, dtype=np.dtypes.StringDType())[rng.integers(0, len(_DOMAINS), n)]
    email = np.strings.lower(np.strings.add(np.strings.add(first_s, "."), last_s))
    email = np.strings.add(np.strings.add(np.strings.add(email, num), "@"), dom).astype(object)
    d3 = np.strings.zfill(rng.integers(0, 1000, n).astype(np.dtypes.StringDType()), 3)
    d4 = np.strings.zfill(rng.integers(0, 10000, n).astype(np.dtypes.StringDType()), 4)
    phone = np.strings.add(np.strings.add(np.strings.add("+1-555-0", d3), "-"), d4).astype(object)

    customers = pd.DataFrame({
        "customer_id": ids,
        "start_date": _to_dates(origin, start_day),
        "end_date": _to_dates(origin, end_day),
        "churn_reason": churn_reason,
        "gender": g_lev[g_code],
        "age": age,
        "senior": age >= 65,
        "region": r_lev[r_code],
        "channel": ch_lev[ch_code],
        "customer_type": ct_lev[ct_code],
        "plan": pl_lev[pl_code],
        "contract": co_lev[co_code],
        "price_rise": price_rise,
        "monthly_revenue": revenue,
        "name": name,
        "phone": phone,
        "email": email,
    }, copy=False)
    if opt["include_latent"]:
        customers["satisfaction_latent"] = z

    # ---- transactions: invoices + usage add-ons ----------------------------------------------
    # (int32 owners/days and early deletes keep the peak memory low at a million customers)
    cust = np.arange(n, dtype=np.int32)
    all_months = np.asarray(
        (pd.date_range(start_ts.to_period("M").to_timestamp(), obs_ts + pd.offsets.MonthBegin(1),
                       freq="MS") - start_ts).days, dtype=float)
    m_entry = np.searchsorted(all_months, entry, side="right") - 1
    m_exit = np.searchsorted(all_months, exit_, side="left") - 1
    n_inv = np.maximum(m_exit - m_entry + 1, 0)
    inv_owner = np.repeat(cust, n_inv)
    month_of = np.arange(inv_owner.size, dtype=np.int64)
    month_of -= np.repeat(np.cumsum(n_inv) - n_inv - m_entry, n_inv)
    inv_day = np.maximum(all_months[month_of], entry[inv_owner]).astype(np.int32)
    del month_of

    drop_m = float(opt["activity_drop"]["months_before_churn"])
    drop_f = float(opt["activity_drop"]["factor"])
    usage_rate = rng.gamma(2.0, 0.5, n) * opt["usage_rate_monthly"]
    drop_start = np.where(churned, t_event - drop_m * DAYS_PER_MONTH, np.inf)
    normal_hi = np.minimum(exit_, drop_start)
    u1_owner, u1_t = _poisson_times(rng, cust, entry, normal_hi, usage_rate)
    drop_lo = np.maximum(entry, np.where(churned, drop_start, exit_))
    u2_owner, u2_t = _poisson_times(rng, cust, drop_lo, exit_, usage_rate * drop_f)
    n_u = u1_owner.size + u2_owner.size

    t_owner = np.concatenate([inv_owner, u1_owner, u2_owner])
    del u1_owner, u2_owner
    t_day = np.concatenate([inv_day, np.floor(u1_t).astype(np.int32),
                            np.floor(u2_t).astype(np.int32)])
    del u1_t, u2_t, inv_day
    amount = np.concatenate([revenue[inv_owner], np.round(rng.gamma(2.0, 7.5, n_u), 2)])
    quantity = np.concatenate([np.ones(inv_owner.size, dtype=np.int64),
                               1 + rng.poisson(0.5, n_u).astype(np.int64)])
    del inv_owner
    order = _order(t_owner, t_day)
    customer_id = ids[t_owner[order]]
    del t_owner
    date = _to_dates(origin, t_day[order])
    del t_day
    amount = amount[order]
    quantity = quantity[order]
    del order
    transactions = pd.DataFrame({"customer_id": customer_id, "date": date, "amount": amount,
                                 "quantity": quantity}, copy=False)
    del customer_id, date, amount, quantity

    # ---- tickets ------------------------------------------------------------------------------
    c_owner = np.concatenate(comp_owner) if comp_owner else np.zeros(0, dtype=np.int64)
    c_time = np.concatenate(comp_time) if comp_time else np.zeros(0)
    i_owner, i_time = _poisson_times(rng, cust, entry, exit_,
                                     np.full(n, opt["inquiry_rate_monthly"]))
    h_owner, h_time = _poisson_times(rng, cust, entry, exit_,
                                     np.full(n, opt["technical_rate_monthly"]))
    k_owner = np.concatenate([c_owner, i_owner, h_owner])
    k_day = np.floor(np.concatenate([c_time, i_time, h_time]))
    k_kind = np.concatenate([np.zeros(c_owner.size, np.int8), np.ones(i_owner.size, np.int8),
                             np.full(h_owner.size, 2, np.int8)])
    order = _order(k_owner, k_day, k_kind)
    k_owner, k_day, k_kind = k_owner[order], k_day[order], k_kind[order]
    kinds = np.array(["complaint", "inquiry", "technical"], dtype=object)
    mean_days = np.array([8.0, 3.0, 6.0])[k_kind]
    res_days = rng.geometric(1.0 / (mean_days + 1.0)) - 1.0
    resolved = rng.random(k_owner.size) >= 0.08
    if resolution_truth is not None:  # the complaints' resolution drawn with the effect
        is_comp = order < c_owner.size
        res_days[is_comp] = np.where(np.isfinite(comp_res), comp_res, 0.0)[order[is_comp]]
        resolved[is_comp] = np.isfinite(comp_res)[order[is_comp]]
    resolved &= k_day + res_days <= T
    tickets = pd.DataFrame({
        "customer_id": ids[k_owner],
        "date": _to_dates(origin, k_day),
        "kind": kinds[k_kind],
        "resolved": resolved,
        "resolution_days": np.where(resolved, res_days, np.nan),
    }, copy=False)

    # ---- surveys --------------------------------------------------------------------------------
    s_owner, s_time = _poisson_times(rng, cust, entry, exit_,
                                     np.full(n, opt["survey_prob_monthly"]))
    order = np.argsort(s_owner.astype(np.int64) * 100_000 + np.floor(s_time).astype(np.int64)
                       + 50_000, kind="stable")
    s_owner, s_time = s_owner[order], s_time[order]
    zs = z[s_owner]
    csat = np.clip(np.rint(3.6 + 0.9 * zs + rng.normal(0, 0.6, zs.size)), 1, 5).astype(np.int64)
    nps = np.clip(np.rint(7.0 + 1.8 * zs + rng.normal(0, 1.2, zs.size)), 0, 10).astype(np.int64)
    surveys = pd.DataFrame({
        "customer_id": ids[s_owner],
        "date": _to_dates(origin, np.floor(s_time)),
        "csat": csat,
        "nps": nps,
    }, copy=False)

    campaigns, campaign_truth = None, None
    if opt["campaign"] is not None:
        eta_observed = eta - beta["satisfaction_per_sd"] * z
        customers, transactions, tickets, surveys, campaigns, campaign_truth = _campaign(
            opt, random_state=random_state, origin=origin, start_ts=start_ts, T=T, ids=ids,
            customers=customers, transactions=transactions, tickets=tickets, surveys=surveys,
            t_event=t_event, usage_rate=usage_rate, z=z, revenue=revenue,
            price_rise=price_rise, eta_observed=eta_observed)

    events = pd.DataFrame({
        "date": pd.to_datetime([change_ts]).astype("datetime64[ns]"),
        "name": ["rename_and_new_owner"],
        "description": ["Company renamed after a change of ownership"],
    })

    # ---- metadata -------------------------------------------------------------------------------
    truth = {
        "hazard_model": "piecewise-constant PH, monthly; lambda0 Weibull(k, s) in tenure months",
        "hazard_integration": ("exact: Weibull cumulative baseline (tenure/s)^k integrated "
                               "exactly; covariate part constant within each calendar month "
                               "except the complaint indicator, which switches at the exact "
                               "complaint time and 90 days later"),
        "tenure_unit_days": DAYS_PER_MONTH,
        "weibull_shape": k,
        "weibull_scale_months": s,
        "age_centre": AGE_CENTRE,
        "reference_customer": "female, age 50, online, consumer, basic, monthly, no price "
                              "rise, satisfaction 0, before the change, no recent complaint",
        "log_hr": {key: float(v) for key, v in beta.items()},
        "change_date": str(change_ts.date()),
        "change_hazard_ratio": float(opt["change_hazard_ratio"]),
        "complaint_hazard_ratio": float(opt["complaint_hazard_ratio"]),
        "complaint_window_days": window,
        "complaint_rate_monthly": float(opt["complaint_rate_monthly"]),
        "complaint_satisfaction_slope": float(opt["complaint_satisfaction_slope"]),
        "inquiry_rate_monthly": float(opt["inquiry_rate_monthly"]),
        "technical_rate_monthly": float(opt["technical_rate_monthly"]),
        "usage_rate_monthly": float(opt["usage_rate_monthly"]),
        "survey_prob_monthly": float(opt["survey_prob_monthly"]),
        "satisfaction_drives": {"csat": "clip(round(3.6 + 0.9 z + N(0, 0.6)), 1, 5)",
                                "nps": "clip(round(7.0 + 1.8 z + N(0, 1.2)), 0, 10)"},
        "reason_weights": {r: float(v) for r, v in opt["reason_weights"].items()},
        "reason_multipliers": opt["reason_multipliers"],
        "top_reason": max(opt["reason_weights"], key=opt["reason_weights"].get),
        "activity_drop": {"months_before_churn": drop_m, "factor": drop_f},
        "plan_price": dict(PLAN_PRICE),
        "price_rise_revenue_factor": 1.10,
        "covariate_distribution": COVARIATE_DISTRIBUTION,
        "share_existing": float(opt["share_existing"]),
        "existing_years": float(opt["existing_years"]),
        "n_existing_at_start": n_exist,
        "left_truncated_at": str(start_ts.date()),
        "spike": opt["spike"],
        "overrides": sorted(overrides),
    }
    if campaign_truth is not None:
        truth["campaign"] = campaign_truth
    if resolution_truth is not None:
        truth["complaint_resolution"] = resolution_truth
    params = {
        "n_customers": n, "random_state": random_state, "start": str(start_ts.date()),
        "observation_end": str(obs_ts.date()), "change_date": str(change_ts.date()),
        "overrides": copy.deepcopy(overrides),
    }
    meta = {"source": "synthetic", "licence": "generated (CC0)", "checksums": {},
            "params": params, "truth": truth}
    return ChurnData(customers=customers, transactions=transactions, tickets=tickets,
                     surveys=surveys, events=events, campaigns=campaigns, observation_end=obs_ts,
                     kind="contractual", meta=meta, records_start=start_ts)


# ----------------------------------------------------------------------------------------
def _complaint_resolution(opt, *, random_state, T, comp_owner, comp_time, t_event, comp_at_churn):
    """The opt-in effect of slow and unresolved complaints on churn
    (``generate(complaint_resolution=...)``), applied to the simulated exits before any record
    is written, so that every table follows the new exits.

    It draws only from its own random stream (``numpy.random.default_rng([random_state,
    COMPLAINT_STREAM])``). Every complaint gets its resolution here: never resolved with
    probability ``unresolved_share``, else after ``geometric(1 / (mean_days + 1)) - 1`` days
    (the generator's complaint resolution without the effect). A complaint still open after
    ``slow_days`` makes its customer leave, with probability ``extra_churn_prob["slow"]`` if it
    is resolved later and ``extra_churn_prob["unresolved"]`` if never, at a uniform time while
    it stays open between ``slow_days`` and ``min(resolution, complaint_window_days)`` after the
    complaint, unless the customer has left before (an extra, independent exit: the customer's
    exit is the earlier of the two). Complaints after the new exit are dropped; an extra exit
    counts as leaving with a recent complaint (exit reasons). ``resolved`` is as drawn even when
    the customer left before the resolution; a resolution after ``observation_end`` is not yet
    seen (``resolved`` False), as without the effect.

    So the truth of "churn within ``complaint_window_days`` after a complaint", per resolution
    band, is the base churn plus about ``extra_churn_prob`` times the chance of still being a
    customer when the extra exit comes (``meta["truth"]["complaint_resolution"]``).
    """
    cr = opt["complaint_resolution"]
    rng = np.random.default_rng([int(random_state), COMPLAINT_STREAM])
    owner = np.concatenate(comp_owner) if comp_owner else np.zeros(0, dtype=np.int64)
    time = np.concatenate(comp_time) if comp_time else np.zeros(0)
    m = owner.size
    res = rng.geometric(1.0 / (float(cr["mean_days"]) + 1.0), m) - 1.0
    res = np.where(rng.random(m) < float(cr["unresolved_share"]), np.inf, res)
    slow = float(cr["slow_days"])
    window = float(opt["complaint_window_days"])
    prob = np.where(np.isinf(res), cr["extra_churn_prob"]["unresolved"],
                    np.where(res > slow, cr["extra_churn_prob"]["slow"], 0.0))
    hit = rng.random(m) < prob
    u = rng.random(m)
    x = time + slow + u * (np.minimum(res, window) - slow)
    ok = hit & (x < T) & ~(x >= np.nan_to_num(t_event[owner], nan=np.inf))
    new_t = np.full(t_event.size, np.inf)
    np.minimum.at(new_t, owner[ok], x[ok])
    moved = np.isfinite(new_t)
    t_event[moved] = new_t[moved]
    comp_at_churn[moved] = True
    keep = time < np.nan_to_num(t_event[owner], nan=np.inf)
    truth = {
        "effect": ("a complaint still open after slow_days makes its customer leave with "
                   "extra_churn_prob (slow: resolved later; unresolved: never), at a uniform time "
                   "while it is open, up to complaint_window_days after the complaint"),
        "slow_days": slow, "window_days": window,
        "unresolved_share": float(cr["unresolved_share"]), "mean_days": float(cr["mean_days"]),
        "extra_churn_prob": {k: float(v) for k, v in cr["extra_churn_prob"].items()},
        "extra_exits": int(moved.sum()),
    }
    return [owner[keep]], [time[keep]], res[keep], truth


# ----------------------------------------------------------------------------------------
def _campaign(opt, *, random_state, origin, start_ts, T, ids, customers, transactions, tickets,
              surveys, t_event, usage_rate, z, revenue, price_rise, eta_observed):
    """The randomised retention campaign (``generate(campaign=...)``), applied to the finished
    business so that everything else stays as it is.

    It draws only from its own random stream (``numpy.random.default_rng([random_state,
    CAMPAIGN_STREAM])``), so the generator's data are identical with and without it except for
    the customers the campaign keeps. Design:

    * **Eligible**: every customer on the books on the campaign's ``date`` (started by then, not
      left by then). Each is contacted (``treated = 1``) with probability ``share_treated``
      (randomised: a holdout control group), or, with ``confounding > 0``, with log-odds
      ``logit(share_treated) + confounding * (eta_obs - mean)``, ``eta_obs`` the linear
      predictor of the observed covariates (a targeted, non-randomised campaign whose
      assignment the data explain).
    * **Effect (thinning)**: ``Y0`` = the customer left within ``horizon_days`` after the date in
      the simulated business (the world without the campaign). A contacted customer with
      ``Y0 = 1`` is kept with probability ``p`` = ``save_prob[price_sensitive]`` if they had a
      price rise or left for the price, ``save_prob[relocation]`` if they left because they
      moved, else ``save_prob[other]``; a kept customer's exit moves ``horizon_days`` later
      (censored when that is after ``observation_end``). So the true effect is known exactly in
      expectation: the ATE on churn within the horizon is ``-mean(Y0 * p)`` over the eligible
      (a risk difference), per subgroup the same mean within it.
    * **Records of a kept customer** after their original exit: monthly invoices, usage add-ons
      (with the 3-month activity drop before the new exit), inquiries, technical tickets and
      surveys at the generator's rates; no complaints (their hazard effect is not simulated
      beyond the original exit). Their exit reason is kept (cleared when now censored).

    ``meta["truth"]["campaign"]``: the design, ``ate`` (expected risk difference over the
    eligible), ``att``, ``effect_by_group`` (price rise or not) and ``save_prob_by_reason``,
    ``churn_untreated`` (the eligible's churn within the horizon without the campaign),
    ``saved`` (customers actually kept), ``saved_expected`` (sum of ``Y0 * p`` over the
    contacted) and ``kept_if_contacted`` (``{customer_id: Y0 * p}`` where it is positive: the
    chance that contacting the customer keeps them). With ``include_latent=True`` the campaigns table also holds each customer's
    ``churn_untreated`` (Y0) and ``save_prob`` (p) for checks against the truth.
    """
    camp = opt["campaign"]
    crng = np.random.default_rng([int(random_state), CAMPAIGN_STREAM])
    day = pd.Timestamp(camp["date"]).normalize()
    horizon = int(camp["horizon_days"])
    until = day + pd.Timedelta(days=horizon)
    obs_ts = start_ts + pd.Timedelta(days=T)
    if not start_ts < day or until > obs_ts:
        raise ValueError(f"campaign date {day.date()} + horizon {horizon} days must lie after "
                         f"start ({start_ts.date()}) and end by observation_end "
                         f"({obs_ts.date()}).")
    start = customers["start_date"].to_numpy()
    end = customers["end_date"]
    eligible = (start <= day.to_datetime64()) & (end.isna() | (end > day)).to_numpy()
    idx = np.flatnonzero(eligible)
    n_el = idx.size
    logit = math.log(camp["share_treated"] / (1 - camp["share_treated"]))
    if float(camp["confounding"]):
        e = eta_observed[idx]
        logit = logit + float(camp["confounding"]) * (e - e.mean())
    prob = 1.0 / (1.0 + np.exp(-logit)) * np.ones(n_el)
    treated = crng.random(n_el) < prob
    reason = customers["churn_reason"].to_numpy()[idx]
    y0 = (end.notna() & (end <= until)).to_numpy()[idx]
    sp = camp["save_prob"]
    p = np.where(reason == "relocation", sp["relocation"],
                 np.where(price_rise[idx] | (reason == "price"), sp["price_sensitive"], sp["other"]))
    p = np.where(y0, p, 0.0).astype(float)
    saved = treated & y0 & (crng.random(n_el) < p)
    who = idx[saved]

    # ---- the kept customers: later exit, records after the original exit -------------------
    t_old = t_event[who]
    t_new = t_old + horizon
    churns = t_new < T
    t_eff = np.where(churns, t_new, T)
    new_end = np.where(churns, np.maximum(np.ceil(t_new), 0), np.nan)
    customers = customers.copy()
    customers.loc[who, "end_date"] = _to_dates(origin, new_end)
    reason_col = customers["churn_reason"].to_numpy().copy()
    reason_col[who[~churns]] = np.nan
    customers["churn_reason"] = reason_col

    months = np.asarray((pd.date_range(start_ts.to_period("M").to_timestamp(),
                                       obs_ts + pd.offsets.MonthBegin(1), freq="MS")
                         - start_ts).days, dtype=float)
    inv_o, inv_d = [], []
    for j, (lo, hi) in enumerate(zip(t_old, t_eff, strict=True)):
        m = months[(months >= lo) & (months < hi)]
        inv_o.append(np.full(m.size, j))
        inv_d.append(m)
    inv_o = np.concatenate(inv_o) if inv_o else np.zeros(0, int)
    inv_d = np.concatenate(inv_d) if inv_d else np.zeros(0)
    drop_m = float(opt["activity_drop"]["months_before_churn"])
    drop_f = float(opt["activity_drop"]["factor"])
    drop_start = np.where(churns, t_new - drop_m * DAYS_PER_MONTH, np.inf)
    local = np.arange(who.size)
    u1_o, u1_t = _poisson_times(crng, local, t_old, np.minimum(t_eff, drop_start),
                                usage_rate[who])
    u2_o, u2_t = _poisson_times(crng, local, np.maximum(t_old, np.minimum(drop_start, t_eff)),
                                t_eff, usage_rate[who] * drop_f)
    n_u = u1_o.size + u2_o.size
    tx_o = np.concatenate([inv_o, u1_o, u2_o]).astype(int)
    new_tx = pd.DataFrame({
        "customer_id": ids[who[tx_o]],
        "date": _to_dates(origin, np.floor(np.concatenate([inv_d, u1_t, u2_t]))),
        "amount": np.concatenate([revenue[who[inv_o.astype(int)]],
                                  np.round(crng.gamma(2.0, 7.5, n_u), 2)]),
        "quantity": np.concatenate([np.ones(inv_o.size, dtype=np.int64),
                                    1 + crng.poisson(0.5, n_u).astype(np.int64)]),
    })
    i_o, i_t = _poisson_times(crng, local, t_old, t_eff, np.full(who.size, opt["inquiry_rate_monthly"]))
    h_o, h_t = _poisson_times(crng, local, t_old, t_eff,
                              np.full(who.size, opt["technical_rate_monthly"]))
    k_kind = np.concatenate([np.ones(i_o.size, np.int8), np.full(h_o.size, 2, np.int8)])
    k_day = np.floor(np.concatenate([i_t, h_t]))
    res_days = crng.geometric(1.0 / (np.array([8.0, 3.0, 6.0])[k_kind] + 1.0)) - 1.0
    resolved = (crng.random(k_kind.size) >= 0.08) & (k_day + res_days <= T)
    new_tk = pd.DataFrame({
        "customer_id": ids[who[np.concatenate([i_o, h_o]).astype(int)]],
        "date": _to_dates(origin, k_day),
        "kind": np.array(["complaint", "inquiry", "technical"], dtype=object)[k_kind],
        "resolved": resolved,
        "resolution_days": np.where(resolved, res_days, np.nan),
    })
    s_o, s_t = _poisson_times(crng, local, t_old, t_eff, np.full(who.size, opt["survey_prob_monthly"]))
    zs = z[who[s_o.astype(int)]]
    new_sv = pd.DataFrame({
        "customer_id": ids[who[s_o.astype(int)]],
        "date": _to_dates(origin, np.floor(s_t)),
        "csat": np.clip(np.rint(3.6 + 0.9 * zs + crng.normal(0, 0.6, zs.size)), 1, 5).astype(np.int64),
        "nps": np.clip(np.rint(7.0 + 1.8 * zs + crng.normal(0, 1.2, zs.size)), 0, 10).astype(np.int64),
    })

    def merged(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
        out = pd.concat([old, new.astype({c: old[c].dtype for c in new.columns})],
                        ignore_index=True)
        return out.sort_values(["customer_id", "date"], kind="mergesort", ignore_index=True)

    transactions, tickets, surveys = (merged(transactions, new_tx), merged(tickets, new_tk),
                                      merged(surveys, new_sv))

    cost = float(camp["cost_per_contact"])
    campaigns = pd.DataFrame({
        "customer_id": ids[idx],
        "date": np.full(n_el, day.to_datetime64()).astype("datetime64[ns]"),
        "campaign": np.full(n_el, str(camp["name"]), dtype=object),
        "treated": treated.astype(np.int8),
        "cost": np.where(treated, cost, 0.0),
    })
    if opt["include_latent"]:
        campaigns["churn_untreated"] = y0.astype(np.int8)
        campaigns["save_prob"] = p

    tau = -(y0 * p)
    group = price_rise[idx]
    reasons_seen = sorted({r for r in reason[y0] if isinstance(r, str)})
    truth = {
        "name": str(camp["name"]), "date": str(day.date()), "horizon_days": horizon,
        "share_treated": float(camp["share_treated"]),
        "save_prob": {k: float(v) for k, v in sp.items()},
        "cost_per_contact": cost,
        "assignment": "randomised" if not float(camp["confounding"]) else "by observed risk",
        "confounding": float(camp["confounding"]),
        "effect": ("thinning: a contacted customer who would have left within the horizon is "
                   "kept with save_prob of their path; a kept customer's exit moves horizon_days "
                   "later"),
        "n_eligible": int(n_el), "n_treated": int(treated.sum()),
        "churn_untreated": float(y0.mean()) if n_el else float("nan"),
        "ate": float(tau.mean()) if n_el else float("nan"),
        "att": float(tau[treated].mean()) if treated.any() else float("nan"),
        "effect_by_group": {
            "price_rise": float(tau[group].mean()) if group.any() else float("nan"),
            "no_price_rise": float(tau[~group].mean()) if (~group).any() else float("nan")},
        "save_prob_by_reason": {r: float(sp["relocation"] if r == "relocation" else
                                         sp["price_sensitive"] if r == "price" else sp["other"])
                                for r in reasons_seen},
        "saved": int(saved.sum()),
        "saved_expected": float((y0 * p)[treated].sum()),
        # per customer: the chance a contact keeps them (Y0 x p; customers left out: 0), so a
        # targeting policy's true saved value can be checked on the data alone
        "kept_if_contacted": {str(c): float(v) for c, v in zip(ids[idx], y0 * p, strict=True) if v > 0},
    }
    return customers, transactions, tickets, surveys, campaigns, truth


#: The campaign's random stream (independent of the generator's own: ``[random_state, this]``).
CAMPAIGN_STREAM = 0xCA4
#: The complaint-resolution effect's random stream (``[random_state, this]``).
COMPLAINT_STREAM = 0xC0C
