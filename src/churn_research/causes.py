"""Why customers leave: exit reasons, churn drivers, high-churn profiles and common claims.

The module answers research question 3 of the project:

* **Exit reasons** — :func:`reason_pareto` (count, share and cumulative share, overall or by
  segment) and :func:`reason_shift` (the reason mix before vs after the business change, with a
  chi-square test of homogeneity).
* **Driver-by-driver churn rates** — :func:`driver_rates` (churn rate per level or bin with
  Wilson intervals) and :func:`driver_tests` (chi-square test of independence and a
  Cochran–Armitage trend test for ordered drivers); :func:`dose_response` for complaints in the
  previous 90 days (0, 1, 2, 3+) and the last satisfaction (CSAT) answer.
* **Driver model** — :class:`DriverModel`, a binomial GLM fitted with statsmodels. With dated
  data it is a *discrete-time hazard model* on person-month rows (:func:`person_period`) with a
  complementary log-log link, whose ``exp(coef)`` are hazard ratios (exact for grouped
  continuous-time proportional-hazards data); with a logit link the ratios are odds ratios, close
  to hazard ratios when the monthly churn rate is small. With a one-snapshot dataset (every
  churner left in the last period, e.g. IBM Telco) it is a logistic regression of "churned in the
  snapshot period" with tenure as a driver. A VIF check warns about collinear drivers and
  exactly aliased terms are dropped with a warning. :func:`compare_importance` sets the model's
  per-driver Wald statistics beside the permutation importance of a gradient-boosting model.
* **High-churn profiles** — :func:`churn_profiles`: the leaves of a shallow decision tree as
  readable rules with support, churn rate and lift over the base rate.
* **Common claims** — :func:`test_claims` tests "long-standing customers churn less", "older
  customers churn less", "men churn less than women" and "intermediary/business customers churn
  less than end consumers" on the data at hand.

Why a hazard model and not "ever churned"?  Customers are observed for different lengths of
time (a customer who joined last month has had little chance to churn), so a logistic regression
of "churned by the observation end" mixes exposure with effect. Person-month rows with an offset
for the exposed fraction of each month compare like with like, and the complementary log-log
coefficients are on the log-hazard scale of the synthetic generator's truth.

Conventions: functions take a :class:`~churn_research.data.ChurnData` (or a DataFrame) first and
keyword-only options, return new frames and never mutate their input.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.linalg import qr
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.tree import DecisionTreeClassifier
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from threadpoolctl import threadpool_limits

from churn_research.model import PERSONAL_COLUMNS, ChurnData, ChurnDataError
from churn_research.stats import cochran_armitage, poisson_rate_ci, ratio_test, wilson_ci
from churn_research.stats import compare_with_truth as shared_compare

__all__ = [
    "CLAIMS",
    "DriverModel",
    "ReasonShift",
    "churn_profiles",
    "claim_sentences",
    "compare_importance",
    "compare_with_truth",
    "customer_frame",
    "default_drivers",
    "dose_response",
    "driver_importance",
    "driver_rates",
    "driver_tests",
    "has_reasons",
    "is_snapshot",
    "outcome_label",
    "person_period",
    "poisson_rate_ci",
    "reason_pareto",
    "reason_shift",
    "resolve_design",
    "test_claims",
    "wilson_ci",
]

#: Days in an average calendar month (365.25 / 12).
MONTH_DAYS = 30.4375

#: Columns that are never drivers (identifiers, dates, outcomes, personal data).
_NOT_DRIVERS = {
    "customer_id", "start_date", "end_date", "churn_reason", "entry_date", "exit_date",
    "churned", "outcome", "eligible", "tenure_months", "last_purchase", "status",
    "total_charges_imputed", *PERSONAL_COLUMNS,
}

#: Candidate drivers in order of preference; :func:`default_drivers` keeps those present.
CANDIDATE_DRIVERS = (
    # plan and contract terms
    "contract", "plan", "price_rise", "internet_service", "payment_method", "paperless_billing",
    "phone_service", "tech_support", "online_security",
    # how the customer came in
    "channel", "customer_type",
    # demographics
    "gender", "age", "senior", "senior_citizen", "partner", "dependents", "region",
    # price
    "monthly_charges",
)

#: Drivers that only exist on person-period rows (time-varying).
TIME_VARYING = ("complaint_90d", "change", "last_csat")

#: How numeric drivers are scaled in the model: column -> (divisor, term name).
DEFAULT_SCALES: dict[str, tuple[float, str]] = {
    "age": (10.0, "age_per_10y"),
    "tenure_months": (12.0, "tenure_per_year"),
    "monthly_charges": (10.0, "monthly_charges_per_10"),
    "monthly_revenue": (10.0, "monthly_revenue_per_10"),
    "total_charges": (1000.0, "total_charges_per_1000"),
    "last_csat": (1.0, "last_csat_per_point"),
    "satisfaction_latent": (1.0, "satisfaction_per_sd"),
}

#: Numeric drivers whose missing values mean "not observed yet" rather than a bad row: they get
#: a ``<driver>[missing]`` indicator and are centred (missing = 0) instead of dropping rows.
MISSING_AS_LEVEL = ("last_csat",)

#: Reference levels preferred when present (otherwise the most frequent level is used).
PREFERRED_REFERENCES = (
    "female", "monthly", "month-to-month", "basic", "online", "consumer", "no", "none",
    "north", "dsl",
)


# =============================================================================================
# small statistics helpers
# =============================================================================================
# =============================================================================================
# customer-level frame, design, person-period expansion
# =============================================================================================
def _customers(data: ChurnData | pd.DataFrame) -> pd.DataFrame:
    customers = data.customers if isinstance(data, ChurnData) else data
    if not isinstance(customers, pd.DataFrame):
        raise ChurnDataError("expected a ChurnData or a customers DataFrame.", table="customers")
    missing = [c for c in ("customer_id", "start_date", "end_date") if c not in customers]
    if missing:
        raise ChurnDataError(
            f"required column(s) {missing} are missing.", table="customers",
            column=missing[0], fix="load the data with churn_research.data.load (or map the "
            "columns in the dataset's YAML) so that customers has customer_id, start_date, end_date.",
        )
    return customers


def _observation_end(data: ChurnData | pd.DataFrame, observation_end=None) -> pd.Timestamp:
    if observation_end is not None:
        return pd.Timestamp(observation_end)
    if isinstance(data, ChurnData) and data.observation_end is not None:
        return pd.Timestamp(data.observation_end)
    customers = _customers(data)
    return pd.Timestamp(pd.concat([customers["start_date"], customers["end_date"]]).max())


def _study_start(data: ChurnData | pd.DataFrame, study_start=None) -> pd.Timestamp | None:
    """The date from which churn is observed (earlier time is left-truncated), if any."""
    if study_start is not None:
        return pd.Timestamp(study_start)
    if isinstance(data, ChurnData):
        return data.records_start
    return None


def _change_date(data: ChurnData | pd.DataFrame, change_date=None) -> pd.Timestamp | None:
    if change_date is not None:
        return pd.Timestamp(change_date)
    if isinstance(data, ChurnData):
        return data.event_date
    return None


def is_snapshot(data: ChurnData | pd.DataFrame, *, observation_end=None,
                window_days: int = 31) -> bool:
    """Whether every churner left within ``window_days`` before the observation end.

    Such a dataset (e.g. IBM Telco) is one cross-section: who was a customer at the start of the
    last period, and who of them left during it. Its churn flag is a one-period outcome, so it is
    modelled with one row per customer and tenure as a driver.
    """
    customers = _customers(data)
    ends = pd.to_datetime(customers["end_date"]).dropna()
    if ends.empty:
        return False
    obs = _observation_end(data, observation_end)
    starts = pd.to_datetime(customers["start_date"])
    spread = (starts.max() - starts.min()).days
    return bool(ends.min() >= obs - pd.Timedelta(days=window_days)) and spread > window_days


def resolve_design(data: ChurnData | pd.DataFrame, design: str = "auto") -> str:
    """``"snapshot"`` or ``"person-period"``; ``"auto"`` picks snapshot for one-snapshot data."""
    if design not in {"auto", "snapshot", "person-period"}:
        raise ValueError(f"design must be 'auto', 'snapshot' or 'person-period', not {design!r}")
    if design == "auto":
        return "snapshot" if is_snapshot(data) else "person-period"
    return design


def customer_frame(data: ChurnData | pd.DataFrame, *, study_start=None, horizon_months=None,
                   observation_end=None) -> pd.DataFrame:
    """One row per customer with the churn outcome and derived drivers.

    Parameters
    ----------
    data : ChurnData or DataFrame
        ``customers`` needs ``customer_id``, ``start_date`` and ``end_date``.
    study_start : date, optional
        Churn is observed from this date (left truncation).
        Default: ``data.records_start`` (where the records begin), else none.
    horizon_months : int, optional
        If given, the outcome is "churned within ``horizon_months`` of entering observation" and
        only customers observable for the whole horizon are ``eligible``; otherwise the outcome is
        "churned by the observation end" (right for one snapshot or one acquisition cohort).
    observation_end : date, optional
        Defaults to ``data.observation_end``.

    Returns
    -------
    DataFrame
        The customers' non-personal columns plus ``entry_date``, ``exit_date``, ``churned``
        (by the observation end), ``tenure_months`` (at exit or observation end), ``outcome``
        (bool) and ``eligible`` (bool). For a purchase log whose customers have no attribute
        columns (e.g. CDNOW), also ``first_amount_log2`` (log2 of 1 + the first day's spend),
        ``first_quantity`` and ``purchases_first_90d`` (purchase days in the 90 days after the
        first).
    """
    customers = _customers(data)
    obs = _observation_end(data, observation_end)
    start = _study_start(data, study_start)
    drop = [c for c in customers.columns if str(c).lower() in PERSONAL_COLUMNS]
    out = customers.drop(columns=drop).copy()
    out["start_date"] = pd.to_datetime(out["start_date"])
    out["end_date"] = pd.to_datetime(out["end_date"])
    out["churned"] = out["end_date"].notna()
    out["entry_date"] = out["start_date"] if start is None else out["start_date"].clip(lower=start)
    # a churner was a customer at least on the first day (one-time buyers: end = start)
    out["exit_date"] = out["end_date"].where(
        out["end_date"].isna() | (out["end_date"] > out["start_date"]),
        out["start_date"] + pd.Timedelta(days=1)).fillna(obs)
    tenure = (out["exit_date"] - out["start_date"]).dt.days / MONTH_DAYS
    if len(tenure) and np.allclose(tenure, tenure.round(), atol=0.15):
        tenure = tenure.round()  # month-aligned snapshot data (e.g. Telco): whole months
    out["tenure_months"] = tenure
    if horizon_months is None:
        out["outcome"] = out["churned"]
        out["eligible"] = out["exit_date"] >= out["entry_date"]
    else:
        horizon_end = out["entry_date"] + pd.DateOffset(months=int(horizon_months))
        out["eligible"] = (horizon_end <= obs) & (out["exit_date"] >= out["entry_date"])
        out["outcome"] = out["churned"] & (out["end_date"] < horizon_end)
    attributes = [c for c in out.columns if c not in _NOT_DRIVERS]
    if isinstance(data, ChurnData) and data.has("transactions") and not attributes:
        out = _add_purchase_features(out, data.transactions)
    return out


def _add_purchase_features(frame: pd.DataFrame, transactions: pd.DataFrame) -> pd.DataFrame:
    """First-purchase features (for purchase logs without customer attributes)."""
    wanted = [c for c in ("first_amount_log2", "first_quantity", "purchases_first_90d")
              if c not in frame]
    if not wanted or not {"customer_id", "date", "amount"} <= set(transactions.columns):
        return frame
    tx = transactions[["customer_id", "date", "amount"]
                      + (["quantity"] if "quantity" in transactions else [])].copy()
    tx["date"] = pd.to_datetime(tx["date"]).dt.normalize()
    first = tx.groupby("customer_id")["date"].transform("min")
    first_day = tx[tx["date"] == first].groupby("customer_id")
    feats = pd.DataFrame({"first_amount_log2": np.log2(1 + first_day["amount"].sum())})
    if "quantity" in tx:
        feats["first_quantity"] = first_day["quantity"].sum()
    early = tx[(tx["date"] > first) & (tx["date"] <= first + pd.Timedelta(days=90))]
    feats["purchases_first_90d"] = early.groupby("customer_id")["date"].nunique()
    feats["purchases_first_90d"] = feats["purchases_first_90d"].fillna(0)
    feats = feats[[c for c in wanted if c in feats]]
    return frame.merge(feats, left_on="customer_id", right_index=True, how="left")


def outcome_label(data: ChurnData | pd.DataFrame, *, horizon_months=None,
                  design: str = "auto") -> str:
    """Plain words for the churn outcome of :func:`customer_frame` (for tables and axes)."""
    if horizon_months is not None:
        return f"{int(horizon_months)}-month churn rate"
    if resolve_design(data, design) == "snapshot" and is_snapshot(data):
        return "Churn rate in the snapshot month"
    if isinstance(data, ChurnData) and data.kind == "non-contractual":
        return "Share lapsed by the observation end"
    return "Share churned by the observation end"


def default_drivers(data: ChurnData | pd.DataFrame, *, design: str = "auto") -> list[str]:
    """A sensible driver list for the columns present.

    The customers' plan, contract, channel, demographic and price columns (see
    ``CANDIDATE_DRIVERS``; ``senior`` only when there is no ``age``, from which it is derived);
    ``tenure_months`` for a one-period snapshot (:func:`is_snapshot`; in a hazard model tenure
    is the time axis, not a driver);
    ``complaint_90d``, ``last_csat`` (the observed proxy of satisfaction) and ``change`` for
    person-period data with tickets / surveys / events; and first-purchase features for a
    purchase log without attributes.
    """
    customers = _customers(data)
    cols = set(customers.columns)
    drivers = [c for c in CANDIDATE_DRIVERS if c in cols]
    if "age" in cols:
        drivers = [d for d in drivers if d not in ("senior", "senior_citizen")]
    if "monthly_charges" not in cols and "monthly_revenue" in cols and "plan" not in cols:
        drivers.append("monthly_revenue")
    design = resolve_design(data, design)
    if design == "snapshot":
        if is_snapshot(data):
            # one snapshot: tenure at the start of the churn period is a legitimate driver (in a
            # cohort whose churn date is inferred, tenure would be measured up to the churn)
            drivers.append("tenure_months")
    elif isinstance(data, ChurnData):
        if data.has("tickets") and "kind" in data.tickets:
            drivers.append("complaint_90d")
        if data.has("surveys") and "csat" in data.surveys:
            drivers.append("last_csat")
        if data.event_date is not None:
            drivers.append("change")
    if not [d for d in drivers if d not in ("tenure_months", "change")] \
            and isinstance(data, ChurnData) and data.has("transactions"):
        drivers += ["first_amount_log2", "first_quantity", "purchases_first_90d"]
    return drivers


def person_period(data: ChurnData, *, study_start=None, change_date=None,
                  observation_end=None, complaint_window_days: int = 90,
                  split: bool = True, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Expand customers into person-period rows (calendar months), vectorised.

    Each customer is at risk from ``entry_date`` (``start_date``, or ``study_start`` for
    customers who were already customers then) until ``end_date`` (the first day the customer is
    gone) or the observation end (censored). There is one row per calendar month at risk; with
    ``split=True`` a month is further split at the change date and where the complaint indicator
    switches on (the day of a complaint) or off (``complaint_window_days`` later), so that every
    time-varying driver is constant within a row (episode splitting).

    A churner's last row runs to the end of the interval in which the churn fell (the next month
    start or split point), not to the churn day: the grouped-time likelihood of the
    complementary log-log model, P(churn in interval) = 1 − exp(−H(interval)), needs the whole
    interval. ``exposure`` (the row's length, in months of 30.44 days) is the offset of that
    model; ``time_at_risk`` stops at the churn day and is the denominator of incidence rates
    (churn events per customer-month).

    Parameters
    ----------
    data : ChurnData
    study_start, change_date, observation_end : date, optional
        Defaults from ``data`` (see :func:`customer_frame`; the change date is the first event).
    complaint_window_days : int
        Look-back window of the complaint driver (a complaint on day D counts on days
        D .. D + window − 1).
    split : bool
        Split months at the change date and at complaint on/off days (default True).
    columns : sequence of str, optional
        Customer columns to carry onto the rows (default: every non-personal attribute).

    Returns
    -------
    DataFrame
        ``customer_id``, ``period`` (month start), ``period_start``, ``period_end`` (exclusive),
        ``exposure`` (row length in months), ``time_at_risk`` (months at risk in the row),
        ``tenure_months`` (tenure at the middle of the row), ``tenure_start`` (at its start),
        ``event`` (1 in the row of the churn), and time-varying drivers: ``change`` (1 from the change date on; needs
        events or ``change_date``), ``complaints_90d`` / ``complaint_90d`` (complaint tickets in
        the window up to the row's start; needs tickets) and ``last_csat`` (last survey answer
        before the row, NaN if none yet; needs surveys), plus the customer columns.
    """
    frame = customer_frame(data, study_start=study_start, observation_end=observation_end)
    obs = _observation_end(data, observation_end)
    frame = frame[frame["exit_date"] > frame["entry_date"]].reset_index(drop=True)
    origin = np.datetime64(min(frame["start_date"].min(), frame["entry_date"].min()).date(), "D")
    origin = origin.astype("datetime64[M]").astype("datetime64[D]")
    big = np.int64(1) << 22  # > 11,000 years of days

    def days(values) -> np.ndarray:
        return (pd.to_datetime(values).to_numpy("datetime64[D]") - origin).astype(np.int64)

    entry = days(frame["entry_date"])
    obs_day = days([obs])[0]
    exit_ = np.minimum(days(frame["exit_date"]), obs_day)
    churned = frame["churned"].to_numpy()
    n = len(frame)
    code = np.arange(n, dtype=np.int64)

    def to_m(d: np.ndarray) -> np.ndarray:
        return (origin + d).astype("datetime64[M]").astype(np.int64)

    def m_day(m: np.ndarray) -> np.ndarray:
        return (m.astype("datetime64[M]").astype("datetime64[D]") - origin).astype(np.int64)

    # The grid runs to the observation end for censored customers and, for churners, to the
    # end of the month in which they left: the churn row covers its whole interval, as the
    # grouped-time likelihood P(churn in interval) = 1 - exp(-H(interval)) requires.
    grid_end = np.where(churned, np.minimum(m_day(to_m(exit_ - 1) + 1), obs_day), exit_)
    grid_end = np.maximum(grid_end, exit_)
    m0, m1 = to_m(entry), to_m(grid_end - 1)
    k = m1 - m0
    owner = np.repeat(code, k)
    offs = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 1
    points = [code * big + entry, owner * big + m_day(m0[owner] + offs)]
    change = _change_date(data, change_date)
    tickets = data.tickets if isinstance(data, ChurnData) and data.has("tickets") \
        and "kind" in data.tickets else None
    comp_keys = None
    if tickets is not None:
        comp = tickets.loc[tickets["kind"].astype(str).str.lower() == "complaint"]
        ccode = pd.Index(frame["customer_id"]).get_indexer(comp["customer_id"])
        ok = ccode >= 0
        comp_keys = np.sort(ccode[ok] * big + days(comp["date"])[ok])
    if split:
        if change is not None:
            cd = days([change])[0]
            inside = (entry < cd) & (cd < grid_end)
            points.append(code[inside] * big + cd)
        if comp_keys is not None and len(comp_keys):
            cc, dd = comp_keys // big, comp_keys % big
            for d in (dd, dd + complaint_window_days):
                inside = (entry[cc] < d) & (d < grid_end[cc])
                points.append(cc[inside] * big + d[inside])
    keys = np.unique(np.concatenate(points))
    own = keys // big
    p_start = keys % big
    nxt = np.append(keys[1:], -1)
    same = np.append(own[1:] == own[:-1], False)
    p_end = np.where(same, nxt % big, grid_end[own])
    # drop grid intervals that start after the customer left
    at_risk = p_start < exit_[own]
    own, p_start, p_end = own[at_risk], p_start[at_risk], p_end[at_risk]
    last = np.append(own[1:] != own[:-1], True)
    month = (origin + p_start).astype("datetime64[M]")
    m_start = (month.astype("datetime64[D]") - origin).astype(np.int64)
    start_d = days(frame["start_date"])[own]
    event = (last & churned[own]).astype(np.int8)

    keep = list(columns) if columns is not None else [
        c for c in frame.columns if c not in _NOT_DRIVERS or c == "customer_id"]
    keep = ["customer_id"] + [c for c in keep if c != "customer_id" and c in frame]
    pp = frame[keep].iloc[own].reset_index(drop=True)
    pp["period"] = pd.to_datetime(origin + m_start)
    pp["period_start"] = pd.to_datetime(origin + p_start)
    pp["period_end"] = pd.to_datetime(origin + p_end)
    pp["exposure"] = (p_end - p_start) / MONTH_DAYS
    pp["time_at_risk"] = (np.minimum(p_end, exit_[own]) - p_start) / MONTH_DAYS
    pp["tenure_months"] = ((p_start + p_end) / 2 - start_d) / MONTH_DAYS
    pp["tenure_start"] = (p_start - start_d) / MONTH_DAYS
    pp["event"] = event
    if change is not None:
        pp["change"] = (pp["period_start"] >= change).astype(np.int8)
    if comp_keys is not None:
        row_keys = own * big + p_start
        counts = (np.searchsorted(comp_keys, row_keys, side="right")
                  - np.searchsorted(comp_keys, row_keys - (complaint_window_days - 1), side="left"))
        pp["complaints_90d"] = counts.astype(np.int64)
        pp["complaint_90d"] = (counts > 0).astype(np.int8)
    if isinstance(data, ChurnData) and data.has("surveys") and "csat" in data.surveys:
        sv = data.surveys
        scode = pd.Index(frame["customer_id"]).get_indexer(sv["customer_id"])
        ok = (scode >= 0) & sv["csat"].notna().to_numpy()
        skeys = scode[ok] * big + days(sv["date"])[ok]
        order = np.argsort(skeys, kind="stable")
        skeys, vals = skeys[order], sv["csat"].to_numpy(dtype=float)[ok][order]
        pos = np.searchsorted(skeys, own * big + p_start, side="left") - 1
        valid = (pos >= 0) & (skeys[np.clip(pos, 0, None)] // big == own) if len(skeys) else \
            np.zeros(len(own), dtype=bool)
        pp["last_csat"] = np.where(valid, vals[np.clip(pos, 0, None)] if len(vals) else np.nan,
                                   np.nan)
    return pp


# =============================================================================================
# exit reasons
# =============================================================================================
def has_reasons(data: ChurnData | pd.DataFrame, *, reason_col: str = "churn_reason") -> bool:
    """Whether the customers table records exit reasons for at least one churner."""
    customers = _customers(data)
    return reason_col in customers and customers.loc[
        customers["end_date"].notna(), reason_col].notna().any()


def _churners_with_reasons(data, reason_col: str) -> pd.DataFrame:
    customers = _customers(data)
    if reason_col not in customers:
        raise ChurnDataError(
            "there is no exit-reason column.", table="customers", column=reason_col,
            fix="map the exit reason column to 'churn_reason' in the dataset YAML, or skip the "
                "exit-reason analysis (check has_reasons(data) first).")
    churners = customers.loc[customers["end_date"].notna()].copy()
    churners[reason_col] = churners[reason_col].astype("object").where(
        churners[reason_col].notna(), "unknown").astype(str)
    return churners


def reason_pareto(data: ChurnData | pd.DataFrame, *, by: str | None = None,
                  reason_col: str = "churn_reason") -> pd.DataFrame:
    """Exit reasons as a Pareto table: count, share and cumulative share, largest first.

    Parameters
    ----------
    data : ChurnData or DataFrame
    by : str, optional
        A customers column (e.g. ``"plan"``) to tabulate within each of its levels.
    reason_col : str
        The exit-reason column (churners without a reason count as ``"unknown"``).

    Returns
    -------
    DataFrame
        ``[by,] reason, count, share, cumulative_share, rank`` (rank 1 = most frequent), with
        Wilson 95% intervals ``ci_low``/``ci_high`` for each share.
    """
    churners = _churners_with_reasons(data, reason_col)
    if by is not None and by not in churners:
        raise ChurnDataError(f"no column {by!r} to split the exit reasons by.",
                             table="customers", column=by,
                             fix="pick one of: " + ", ".join(map(str, churners.columns)))
    keys = [by] if by else []
    counts = (churners.groupby(keys + [reason_col], observed=True).size()
              .rename("count").reset_index().rename(columns={reason_col: "reason"}))
    counts = counts.sort_values(keys + ["count", "reason"],
                                ascending=[True] * len(keys) + [False, True])
    totals = counts.groupby(keys)["count"].transform("sum") if keys else counts["count"].sum()
    counts["share"] = counts["count"] / totals
    counts["cumulative_share"] = (counts.groupby(keys)["share"].cumsum() if keys
                                  else counts["share"].cumsum())
    counts["rank"] = (counts.groupby(keys).cumcount() + 1) if keys else np.arange(1, len(counts) + 1)
    lo, hi = wilson_ci(counts["count"], totals)
    counts["ci_low"], counts["ci_high"] = lo, hi
    return counts.reset_index(drop=True)


@dataclass
class ReasonShift:
    """The exit-reason mix before vs after a business change.

    Attributes
    ----------
    table : DataFrame
        One row per reason: ``count_before``, ``count_after``, ``share_before``,
        ``share_after`` with their Wilson intervals (``share_before_low``, ...,
        ``share_after_high``), ``diff`` (after − before), its 95% interval (Newcombe's hybrid score
        method) ``ci_low``/``ci_high``, and the adjusted standardised residual of the "after"
        cell (``|residual| > 2`` marks a reason whose share moved).
    chi2, dof, p_value : float
        Chi-square test that the reason mix is the same before and after.
    cramers_v : float
        Effect size of the shift (0 = same mix).
    n_before, n_after : int
        Churners with an end date before / on or after ``change_date``.
    change_date : Timestamp
    """

    table: pd.DataFrame
    chi2: float
    dof: int
    p_value: float
    cramers_v: float
    n_before: int
    n_after: int
    change_date: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    @property
    def most_increased(self) -> str:
        """The reason whose share rose the most."""
        return str(self.table.sort_values("diff", ascending=False)["reason"].iloc[0])

    def as_dict(self) -> dict[str, Any]:
        """Flat key figures."""
        return {"chi2": self.chi2, "dof": self.dof, "p_value": self.p_value,
                "cramers_v": self.cramers_v, "n_before": self.n_before,
                "n_after": self.n_after, "change_date": self.change_date,
                "most_increased": self.most_increased}


def reason_shift(data: ChurnData | pd.DataFrame, *, change_date=None,
                 reason_col: str = "churn_reason", alpha: float = 0.05,
                 window_months: int | None = None) -> ReasonShift:
    """Did the exit-reason mix change after the business change?

    Parameters
    ----------
    data : ChurnData or DataFrame
    change_date : date, optional
        Default: the first date in ``events``.
    reason_col : str
    alpha : float
        For the intervals of the share differences.
    window_months : int, optional
        Compare only churners within this many months either side of the change (default: all).

    Returns
    -------
    ReasonShift
    """
    change = _change_date(data, change_date)
    if change is None:
        raise ChurnDataError(
            "no business change to compare before and after.", table="events",
            fix="pass change_date=... or provide an events table with the change's date.")
    churners = _churners_with_reasons(data, reason_col)
    end = pd.to_datetime(churners["end_date"])
    if window_months is not None:
        lo_d = change - pd.DateOffset(months=window_months)
        hi_d = change + pd.DateOffset(months=window_months)
        churners = churners[(end >= lo_d) & (end < hi_d)]
        end = end.loc[churners.index]
    after = np.where(end >= change, "after", "before")
    tab = pd.crosstab(churners[reason_col], after).reindex(columns=["before", "after"],
                                                           fill_value=0)
    tab.columns.name = None
    n_b, n_a = int(tab["before"].sum()), int(tab["after"].sum())
    notes = []
    if n_b == 0 or n_a == 0:
        raise ChurnDataError(
            f"no churners {'before' if n_b == 0 else 'after'} the change on {change.date()}.",
            table="customers", column="end_date",
            fix="choose a change date inside the observed period.")
    chi2, p, dof, expected = stats.chi2_contingency(tab.to_numpy(), correction=False)
    if (expected < 5).any():
        notes.append("some expected counts are below 5; the chi-square p-value is approximate.")
    n = n_a + n_b
    v = math.sqrt(chi2 / (n * max(min(tab.shape) - 1, 1)))
    out = tab.rename(columns={"before": "count_before", "after": "count_after"})
    out.index.name = "reason"
    out = out.reset_index()
    out["share_before"] = out["count_before"] / n_b
    out["share_after"] = out["count_after"] / n_a
    out["diff"] = out["share_after"] - out["share_before"]
    l1, u1 = wilson_ci(out["count_after"], n_a, alpha=alpha)
    l0, u0 = wilson_ci(out["count_before"], n_b, alpha=alpha)
    out["share_before_low"], out["share_before_high"] = l0, u0
    out["share_after_low"], out["share_after_high"] = l1, u1
    p1, p0 = out["share_after"].to_numpy(), out["share_before"].to_numpy()
    out["ci_low"] = p1 - p0 - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    out["ci_high"] = p1 - p0 + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    row_tot = out["count_before"] + out["count_after"]
    exp_after = row_tot * n_a / n
    with np.errstate(invalid="ignore", divide="ignore"):
        out["residual"] = (out["count_after"] - exp_after) / np.sqrt(
            exp_after * (1 - n_a / n) * (1 - row_tot / n))
    out = out.sort_values("count_before", ascending=False).reset_index(drop=True)
    return ReasonShift(out, float(chi2), int(dof), float(p), float(v), n_b, n_a, change, notes)


# =============================================================================================
# driver-by-driver churn rates
# =============================================================================================
def _is_indicator(s: pd.Series) -> bool:
    if s.dtype == bool or str(s.dtype) == "boolean":
        return True
    if pd.api.types.is_numeric_dtype(s):
        vals = pd.unique(s.dropna())
        return len(vals) <= 2 and set(np.asarray(vals, dtype=float)) <= {0.0, 1.0}
    return False


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not _is_indicator(s)


def _binned(s: pd.Series, bins) -> tuple[pd.Series, bool]:
    """Levels for a driver: categorical as is, numeric binned (quantiles or given edges)."""
    if _is_indicator(s):
        return s.astype(float).map({1.0: "yes", 0.0: "no"}), True
    if _is_numeric(s):
        if np.ndim(bins) == 0:
            nunique = s.nunique()
            if nunique <= int(bins) + 1:
                return s, True
            cut = pd.qcut(s, q=int(bins), duplicates="drop")
        else:
            cut = pd.cut(s, bins=bins, include_lowest=True)
        integer = bool(np.all(np.mod(s.dropna(), 1) == 0))
        first = cut.cat.categories[0].left if len(cut.cat.categories) else 0

        def label(iv) -> str:
            if integer:
                lo = int(math.floor(iv.left)) + (0 if iv.left == first and iv.left == s.min()
                                                 else 1)
                lo = max(lo, int(s.min()))
                return f"{lo}–{int(math.floor(iv.right))}"
            lo = max(iv.left, s.min())
            return f"{lo:.3g}–{iv.right:.3g}"

        labels = {iv: label(iv) for iv in cut.cat.categories}
        return cut.cat.rename_categories(labels), True
    return s.astype("object").where(s.notna(), None), False


def driver_rates(data: ChurnData | pd.DataFrame, drivers: Sequence[str] | None = None, *,
                 bins: int | Sequence[float] | Mapping[str, Any] = 4, horizon_months=None,
                 study_start=None, alpha: float = 0.05) -> pd.DataFrame:
    """Churn rate by each level (or bin) of each driver, with Wilson intervals.

    Parameters
    ----------
    data : ChurnData or DataFrame
    drivers : sequence of str, optional
        Customer columns (default: :func:`default_drivers` without time-varying ones).
    bins : int, edges, or mapping driver -> int/edges
        Numeric drivers are cut into ``bins`` quantile groups (or at the given edges).
    horizon_months : int, optional
        Churn definition, see :func:`customer_frame` (e.g. 12 = "churned within 12 months").
    study_start : date, optional
    alpha : float

    Returns
    -------
    DataFrame
        ``driver, level, order, n, churned, churn_rate, ci_low, ci_high, rate_ratio`` (vs the
        overall rate, the "base rate" of the customers used); levels of a numeric or ordered driver
        keep their natural order.
    """
    frame = customer_frame(data, study_start=study_start, horizon_months=horizon_months)
    frame = frame[frame["eligible"]]
    if drivers is None:
        drivers = [d for d in default_drivers(data) if d not in TIME_VARYING]
    base = frame["outcome"].mean()
    rows = []
    for d in drivers:
        if d not in frame:
            continue
        b = bins.get(d, 4) if isinstance(bins, Mapping) else bins
        levels, ordered = _binned(frame[d], b)
        g = frame.groupby(levels.rename("level"), observed=True, sort=ordered)["outcome"]
        tab = g.agg(n="size", churned="sum").reset_index()
        if not ordered:
            tab = tab.sort_values("n", ascending=False)
        tab.insert(0, "driver", d)
        tab["level"] = tab["level"].astype(str)
        tab["order"] = np.arange(len(tab))
        tab["ordered"] = ordered
        rows.append(tab)
    if not rows:
        return pd.DataFrame(columns=["driver", "level", "order", "n", "churned", "churn_rate",
                                     "ci_low", "ci_high", "rate_ratio", "ordered"])
    out = pd.concat(rows, ignore_index=True)
    out["churned"] = out["churned"].astype(int)
    out["churn_rate"] = out["churned"] / out["n"]
    out["ci_low"], out["ci_high"] = wilson_ci(out["churned"], out["n"], alpha=alpha)
    out["rate_ratio"] = out["churn_rate"] / base
    out.attrs["base_rate"] = float(base)
    return out


def driver_tests(rates: pd.DataFrame) -> pd.DataFrame:
    """Per driver: chi-square test of independence and, for ordered drivers, a trend test.

    Parameters
    ----------
    rates : DataFrame
        The output of :func:`driver_rates` (or :func:`dose_response`, columns ``n`` and
        ``churned``).

    Returns
    -------
    DataFrame
        ``driver, levels, chi2, dof, p_value, trend_z, trend_p_value, lowest, highest,
        max_ratio`` (highest / lowest level churn rate), sorted by p-value.
    """
    rows = []
    for d, g in rates.groupby("driver", sort=False):
        g = g[g["n"] > 0].sort_values("order")
        table = np.column_stack([g["churned"], g["n"] - g["churned"]])
        if len(g) < 2 or (table.sum(axis=0) == 0).any():
            chi2 = p = float("nan")
            dof = 0
        else:
            chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        ordered = bool(g["ordered"].iloc[0]) if "ordered" in g else False
        z, tp = cochran_armitage(g["churned"], g["n"]) if ordered else (np.nan, np.nan)
        rate = g["churned"] / g["n"]
        rows.append({
            "driver": d, "levels": len(g), "chi2": chi2, "dof": int(dof), "p_value": p,
            "trend_z": z, "trend_p_value": tp,
            "lowest": str(g["level"].iloc[int(np.argmin(rate))]),
            "highest": str(g["level"].iloc[int(np.argmax(rate))]),
            "max_ratio": float(rate.max() / rate.min()) if rate.min() > 0 else float("inf"),
        })
    return pd.DataFrame(rows).sort_values("p_value").reset_index(drop=True)


def dose_response(data: ChurnData | pd.DataFrame, driver: str = "complaints", *,
                  pp: pd.DataFrame | None = None, alpha: float = 0.05,
                  **pp_options) -> pd.DataFrame:
    """Monthly churn rate by the level of a time-varying driver (person-period rows).

    Parameters
    ----------
    data : ChurnData
        Needs ``tickets`` (for ``"complaints"``) or ``surveys`` with ``csat`` (for
        ``"satisfaction"``).
    driver : {"complaints", "satisfaction"}
        ``"complaints"``: complaint tickets in the 90 days up to the day, 0, 1, 2, 3+.
        ``"satisfaction"``: the customer's last CSAT answer so far (1–5), and "no answer yet".
    pp : DataFrame, optional
        A ready :func:`person_period` frame (saves re-expanding).
    alpha : float
    **pp_options
        Passed to :func:`person_period`.

    Returns
    -------
    DataFrame
        ``driver, level, order, customer_months`` (exposure at risk), ``churned`` (churn events),
        ``churn_rate`` (events per customer-month), ``ci_low, ci_high`` (exact Poisson),
        ``rate_ratio`` (vs the first level: 0 complaints, CSAT 1), ``ordered``;
        ``attrs["trend_z"]``/``attrs["trend_p_value"]``: Wald test of a log-linear trend over the
        ordered levels (Poisson regression on the level number; satisfaction: answered levels).
    """
    if driver not in ("complaints", "satisfaction"):
        raise ValueError("driver must be 'complaints' or 'satisfaction'")
    needed = "tickets" if driver == "complaints" else "surveys"
    if not isinstance(data, ChurnData) or not data.has(needed):
        raise ChurnDataError(f"the {driver} dose-response needs the {needed} table.",
                             table=needed, fix=f"provide {needed} or skip this analysis.")
    if pp is None:
        pp = person_period(data, **pp_options)
    if driver == "complaints":
        level = pp["complaints_90d"].clip(upper=3)
        names = {0: "0", 1: "1", 2: "2", 3: "3+"}
        ordered_levels = [0, 1, 2, 3]
        all_levels = ordered_levels
    else:
        level = pp["last_csat"].round().fillna(0)
        names = {0: "no answer yet", 1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}
        ordered_levels = [1, 2, 3, 4, 5]
        all_levels = [0, *ordered_levels]
    g = pp.groupby(level.rename("lv"))
    tab = pd.DataFrame({"churned": g["event"].sum(), "customer_months": g["exposure"].sum()})
    tab = tab.reindex(all_levels).dropna().reset_index()
    tab["level"] = tab["lv"].map(names)
    tab["order"] = np.arange(len(tab))
    tab["driver"] = driver
    tab["churned"] = tab["churned"].astype(int)
    tab["churn_rate"] = tab["churned"] / tab["customer_months"]
    tab["ci_low"], tab["ci_high"] = poisson_rate_ci(tab["churned"], tab["customer_months"],
                                                    alpha=alpha)
    ref = tab.loc[tab["lv"] == ordered_levels[0], "churn_rate"]
    tab["rate_ratio"] = tab["churn_rate"] / (ref.iloc[0] if len(ref) else np.nan)
    tab["ordered"] = True
    trend = tab[tab["lv"].isin(ordered_levels) & (tab["customer_months"] > 0)]
    z = p = float("nan")
    if len(trend) >= 2 and trend["churned"].sum() > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(trend["churned"].to_numpy(float),
                         sm.add_constant(trend["lv"].to_numpy(float)),
                         family=sm.families.Poisson(),
                         offset=np.log(trend["customer_months"].to_numpy(float))).fit()
        z, p = float(fit.tvalues[1]), float(fit.pvalues[1])
    out = tab[["driver", "level", "order", "customer_months", "churned", "churn_rate",
               "ci_low", "ci_high", "rate_ratio", "ordered"]].reset_index(drop=True)
    out.attrs.update({"trend_z": z, "trend_p_value": p})
    return out


# =============================================================================================
# the driver model
# =============================================================================================
@dataclass
class _Term:
    term: str
    driver: str
    level: str | None
    reference: str | None
    kind: str  # "driver", "duration"


def _pick_reference(levels: pd.Series, requested: Any | None) -> Any:
    counts = levels.value_counts()
    if requested is not None:
        if requested not in counts.index:
            raise ChurnDataError(
                f"reference level {requested!r} does not occur.", column=str(levels.name),
                fix="choose one of: " + ", ".join(map(str, counts.index)))
        return requested
    for pref in PREFERRED_REFERENCES:
        for lv in counts.index:
            if str(lv).strip().lower() == pref:
                return lv
    return counts.index[0]


def _design_matrix(frame: pd.DataFrame, drivers: Sequence[str], *,
                   reference: Mapping[str, Any], scales: Mapping[str, tuple[float, str]],
                   min_level_count: int, duration: str | None,
                   duration_knots: Sequence[float]) -> tuple[pd.DataFrame, list[_Term], list[str]]:
    cols: dict[str, np.ndarray] = {}
    terms: list[_Term] = []
    notes: list[str] = []
    for d in drivers:
        s = frame[d]
        if _is_indicator(s):
            cols[d] = s.astype(float).to_numpy()
            terms.append(_Term(d, d, "yes", "no", "driver"))
        elif _is_numeric(s) and d in MISSING_AS_LEVEL and s.isna().any():
            div, name = scales.get(d, (1.0, d))
            v = s.astype(float) / div
            cols[f"{d}[missing]"] = v.isna().to_numpy(dtype=float)
            terms.append(_Term(f"{d}[missing]", d, "missing", "observed", "driver"))
            cols[name] = (v - v.mean()).fillna(0.0).to_numpy()
            terms.append(_Term(name, d, None, None, "driver"))
        elif _is_numeric(s):
            div, name = scales.get(d, (1.0, d))
            cols[name] = s.astype(float).to_numpy() / div
            terms.append(_Term(name, d, None, None, "driver"))
        else:
            lv = s.astype(str)
            counts = lv.value_counts()
            rare = counts.index[counts < min_level_count]
            if len(rare):
                lv = lv.where(~lv.isin(rare), "other")
                notes.append(f"{d}: level(s) {', '.join(map(str, rare))} have fewer than "
                             f"{min_level_count} rows and were merged into 'other'.")
            ref = _pick_reference(lv.rename(d), None if reference.get(d) is None
                                  else str(reference.get(d)))
            for level in sorted(lv.unique(), key=lambda x: (-counts.get(x, 0), str(x))):
                if level == ref:
                    continue
                name = f"{d}[{level}]"
                cols[name] = (lv == level).to_numpy(dtype=float)
                terms.append(_Term(name, d, str(level), str(ref), "driver"))
    if duration is not None and duration != "none":
        t = frame["tenure_months"].to_numpy(dtype=float)
        if duration == "log":
            cols["log_tenure"] = np.log(np.maximum(t, 1 / MONTH_DAYS))
            terms.append(_Term("log_tenure", "tenure", None, None, "duration"))
        elif duration == "bins":
            edges = [0.0, *sorted(duration_knots), np.inf]
            band = np.digitize(t, edges[1:-1])
            for b in range(1, len(edges) - 1):
                hi = "+" if np.isinf(edges[b + 1]) else f"-{edges[b + 1]:g}"
                name = f"tenure[{edges[b]:g}{hi} m]"
                cols[name] = (band == b).astype(float)
                terms.append(_Term(name, "tenure", f"{edges[b]:g}{hi} m",
                                   f"0-{edges[1]:g} m", "duration"))
        else:
            raise ValueError("duration must be 'log', 'bins' or 'none'")
    x = pd.DataFrame(cols, index=frame.index)
    x.insert(0, "const", 1.0)
    return x, terms, notes


def _aliased(x: pd.DataFrame, tol: float = 1e-8) -> list[str]:
    """Columns that are (numerically) linear combinations of earlier columns."""
    arr = x.to_numpy(dtype=float)
    scale = np.sqrt((arr**2).mean(axis=0))
    scale[scale == 0] = 1.0
    r = qr(arr / scale, mode="r", check_finite=False)[0]
    diag = np.abs(np.diag(r))
    return [c for c, d in zip(x.columns, diag, strict=True) if d < tol * max(diag.max(), 1.0)
            * math.sqrt(len(arr))]


def vif_table(x: pd.DataFrame) -> pd.DataFrame:
    """Variance inflation factor of every non-constant column of a design matrix.

    ``VIF_j = 1 / (1 - R_j^2)``, with ``R_j^2`` from regressing column *j* on the other columns
    and an intercept — the quantity :func:`statsmodels.stats.outliers_influence.
    variance_inflation_factor` computes (with a constant in ``exog``), obtained here at once as
    the diagonal of the inverse correlation matrix (fast on long person-period frames). An exact
    linear dependence gives ``inf``.
    """
    cols = [c for c in x.columns if c != "const" and x[c].std() > 0]
    arr = x[cols].to_numpy(dtype=float)
    corr = np.atleast_2d(np.corrcoef(arr, rowvar=False))
    try:
        vif = np.diag(np.linalg.inv(corr))
        if (vif < 1 - 1e-6).any() or not np.isfinite(vif).all():
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        vif = np.full(len(cols), np.inf)
    return pd.DataFrame({"term": cols, "vif": vif})


class DriverModel:
    """Which drivers move churn, by how much: a binomial GLM with ratios and 95% intervals.

    Parameters
    ----------
    drivers : sequence of str, optional
        Customer columns, plus on person-period data the time-varying ``complaint_90d``,
        ``change`` and ``last_csat`` (default: :func:`default_drivers`).
    design : {"auto", "person-period", "snapshot"}
        ``person-period``: a discrete-time hazard model on person-month rows (with an offset for
        the exposed fraction of each month and a duration control). ``snapshot``: one row per
        customer, outcome "churned" (by the observation end, or within ``horizon_months``).
        ``auto``: snapshot for one-snapshot data (:func:`is_snapshot`), else person-period.
    link : {"auto", "cloglog", "logit"}
        ``cloglog`` gives hazard ratios (exact for grouped proportional-hazards data);
        ``logit`` gives odds ratios. ``auto``: cloglog for person-period, logit for a snapshot.
    reference : mapping, optional
        Reference level per categorical driver (default: a conventional baseline such as
        "female", "monthly", "month-to-month", "basic", "online", "consumer", "No" when present,
        else the most frequent level).
    scales : mapping, optional
        ``{column: (divisor, term name)}`` for numeric drivers (default ``DEFAULT_SCALES``:
        age per 10 years, tenure per year, charges per 10).
    duration : {"log", "bins", "none"}
        Duration control on person-period rows: ``log`` = log(tenure in months) (a Weibull
        baseline; its coefficient is the Weibull shape − 1); ``bins`` = a step function at
        ``duration_knots`` months.
    duration_knots : sequence of float
    horizon_months : int, optional
        Snapshot design only: see :func:`customer_frame`.
    study_start, change_date : date, optional
        See :func:`person_period`.
    min_level_count : int
        Rarer categorical levels are merged into "other".
    vif_threshold : float
        Terms with a VIF above it are reported in ``warnings_``.
    alpha : float

    Attributes
    ----------
    design_, link_ : str
    effects_ : DataFrame
        ``term, driver, level, reference, kind, coef, se, ratio, ci_low, ci_high, p_value``
        (ratio = exp(coef): hazard ratio with cloglog, odds ratio with logit).
    driver_tests_ : DataFrame
        Joint Wald test per driver (all its levels): ``driver, df, chi2, p_value``.
    vif_ : DataFrame
        ``term, vif``.
    warnings_ : list of str
        Collinearity, aliased terms dropped, missing drivers, rows dropped for missing values.
    result_ : statsmodels GLMResults
    frame_ : DataFrame
        The modelling rows (drivers as raw columns, ``event``, ``exposure``, ``tenure_months``).
    outcome_ : str
    drivers_ : list of str
        Drivers actually used.
    n_rows_, n_customers_, n_events_ : int
    """

    def __init__(self, *, drivers: Sequence[str] | None = None, design: str = "auto",
                 link: str = "auto", reference: Mapping[str, Any] | None = None,
                 scales: Mapping[str, tuple[float, str]] | None = None, duration: str = "log",
                 duration_knots: Sequence[float] = (3, 6, 12, 24, 36),
                 horizon_months: int | None = None, study_start=None, change_date=None,
                 min_level_count: int = 30, vif_threshold: float = 5.0, alpha: float = 0.05):
        self.drivers = drivers
        self.design = design
        self.link = link
        self.reference = reference
        self.scales = scales
        self.duration = duration
        self.duration_knots = duration_knots
        self.horizon_months = horizon_months
        self.study_start = study_start
        self.change_date = change_date
        self.min_level_count = min_level_count
        self.vif_threshold = vif_threshold
        self.alpha = alpha

    # -- fitting ---------------------------------------------------------------------------
    def _frame(self, data) -> tuple[pd.DataFrame, str]:
        if self.design_ == "person-period":
            if not isinstance(data, ChurnData):
                raise ChurnDataError("the person-period design needs a ChurnData (dates, "
                                     "tickets, events).", table="customers")
            pp = person_period(data, study_start=self.study_start, change_date=self.change_date)
            pp = pp[pp["exposure"] > 0]
            return pp, "event"
        frame = customer_frame(data, study_start=self.study_start,
                               horizon_months=self.horizon_months)
        frame = frame[frame["eligible"]].copy()
        frame["event"] = frame["outcome"].astype(np.int8)
        frame["exposure"] = 1.0
        return frame, "event"

    def fit(self, data: ChurnData | pd.DataFrame) -> DriverModel:
        """Fit the model; returns ``self``."""
        self.design_ = resolve_design(data, self.design)
        link = self.link
        if link == "auto":
            link = "cloglog" if self.design_ == "person-period" else "logit"
        if link not in ("cloglog", "logit"):
            raise ValueError("link must be 'auto', 'cloglog' or 'logit'")
        self.link_ = link
        self.warnings_: list[str] = []
        frame, outcome = self._frame(data)
        drivers = list(self.drivers) if self.drivers is not None else default_drivers(
            data, design=self.design_)
        missing = [d for d in drivers if d not in frame]
        if missing:
            self.warnings_.append(
                f"driver(s) {', '.join(missing)} are not available in the "
                f"{self.design_} data and were left out.")
        drivers = [d for d in drivers if d in frame]
        if self.design_ == "person-period" and "tenure_months" in drivers:
            drivers.remove("tenure_months")
            self.warnings_.append("tenure is the time axis of the hazard model (duration "
                                  "control), not a driver.")
        constant = [d for d in drivers if frame[d].nunique(dropna=True) < 2]
        if constant:
            self.warnings_.append(f"driver(s) {', '.join(constant)} take a single value and "
                                  "were left out.")
            drivers = [d for d in drivers if d not in constant]
        if not drivers:
            raise ChurnDataError("none of the requested drivers is available.",
                                 table="customers", fix="pass drivers=[...] naming columns "
                                 "of the customers table.")
        na = frame[[d for d in drivers if d not in MISSING_AS_LEVEL]].isna().any(axis=1)
        if na.any():
            counts = frame.loc[na, [d for d in drivers if d not in MISSING_AS_LEVEL]].isna().sum()
            self.warnings_.append(
                f"{int(na.sum())} row(s) with missing values were dropped ("
                + ", ".join(f"{k}: {v}" for k, v in counts[counts > 0].items()) + ").")
            frame = frame.loc[~na]
        scales = dict(DEFAULT_SCALES, **(self.scales or {}))
        duration = self.duration if self.design_ == "person-period" else None
        x, terms, notes = _design_matrix(
            frame, drivers, reference=dict(self.reference or {}), scales=scales,
            min_level_count=self.min_level_count, duration=duration,
            duration_knots=self.duration_knots)
        self.warnings_ += notes
        with threadpool_limits(1, user_api="blas"):
            aliased = _aliased(x)
        if aliased:
            self.warnings_.append(
                f"term(s) {', '.join(aliased)} are exact linear combinations of other terms "
                "(e.g. 'No internet service' levels duplicate internet_service) and were dropped.")
            x = x.drop(columns=aliased)
            terms = [t for t in terms if t.term not in aliased]
        with threadpool_limits(1, user_api="blas"):
            self.vif_ = vif_table(x)
        high = self.vif_[self.vif_["vif"] > self.vif_threshold]
        if len(high):
            self.warnings_.append(
                f"collinear drivers (VIF > {self.vif_threshold:g}): "
                + ", ".join(f"{r.term} ({r.vif:.1f})" for r in high.itertuples())
                + "; their separate effects are poorly determined — interpret them together or "
                  "drop one.")
        y = frame[outcome].to_numpy(dtype=float)
        link_obj = families.links.CLogLog() if link == "cloglog" else families.links.Logit()
        # log(row length) offset: exact for cloglog (grouped PH data); for logit it makes the
        # odds ratios approximate hazard ratios when monthly churn is small
        offset = np.log(frame["exposure"].to_numpy(dtype=float)) \
            if self.design_ == "person-period" else None
        model = GLM(y, x, family=families.Binomial(link=link_obj), offset=offset)
        # one BLAS thread: tall-skinny decompositions gain nothing from threads, and on a
        # shared machine oversubscribed threads make them ten times slower
        with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
            warnings.simplefilter("ignore")
            self.result_ = model.fit(wls_method="lstsq")
        self.frame_ = frame
        self.outcome_ = outcome
        self.drivers_ = drivers
        self.terms_ = terms
        self.n_rows_ = len(frame)
        self.n_customers_ = int(frame["customer_id"].nunique())
        self.n_events_ = int(y.sum())
        self.effects_ = self._effects()
        self.driver_tests_ = self._driver_tests()
        return self

    def _effects(self) -> pd.DataFrame:
        res = self.result_
        z = stats.norm.ppf(1 - self.alpha / 2)
        names = [t.term for t in self.terms_]
        b, se = res.params[names].to_numpy(float), res.bse[names].to_numpy(float)
        with np.errstate(over="ignore", invalid="ignore"):
            out = pd.DataFrame({
                "term": names, "driver": [t.driver for t in self.terms_],
                "level": [t.level for t in self.terms_],
                "reference": [t.reference for t in self.terms_],
                "kind": [t.kind for t in self.terms_], "coef": b, "se": se, "ratio": np.exp(b),
                "ci_low": np.exp(b - z * se), "ci_high": np.exp(b + z * se),
                "p_value": res.pvalues[names].to_numpy(float)})
        if (~np.isfinite(out["ci_high"]) | (out["se"] > 10)).any():
            bad = out.loc[~np.isfinite(out["ci_high"]) | (out["se"] > 10), "term"].tolist()
            self.warnings_.append(f"term(s) {', '.join(bad)} have huge standard errors "
                                  "(separation: a level with (almost) no churn or only churn); "
                                  "merge levels or drop the driver.")
        out.attrs["ratio_name"] = self.ratio_name
        return out

    def _driver_tests(self) -> pd.DataFrame:
        res = self.result_
        cov = res.cov_params()
        rows = []
        for d in dict.fromkeys(t.driver for t in self.terms_):
            names = [t.term for t in self.terms_ if t.driver == d]
            b = res.params[names].to_numpy()
            v = cov.loc[names, names].to_numpy()
            chi2 = float(b @ np.linalg.pinv(v) @ b)
            rows.append({"driver": d, "df": len(names), "chi2": chi2,
                         "p_value": float(stats.chi2.sf(chi2, len(names)))})
        return pd.DataFrame(rows).sort_values("chi2", ascending=False).reset_index(drop=True)

    # -- reading ---------------------------------------------------------------------------
    @property
    def ratio_name(self) -> str:
        """``"hazard ratio"`` (cloglog) or ``"odds ratio"`` (logit)."""
        return "hazard ratio" if self.link_ == "cloglog" else "odds ratio"

    def summary(self) -> pd.DataFrame:
        """The driver effects, rounded, for display (duration terms last)."""
        e = self.effects_.copy()
        e["order"] = (e["kind"] == "duration").astype(int)
        e = e.sort_values(["order", "p_value"]).drop(columns="order")
        return e[["term", "reference", "ratio", "ci_low", "ci_high", "p_value"]].rename(
            columns={"ratio": self.ratio_name}).reset_index(drop=True)

    def key_figures(self) -> dict[str, Any]:
        """Flat ``{term: ratio}`` plus intervals and p-values, for the stage JSON."""
        out: dict[str, Any] = {"design": self.design_, "link": self.link_,
                               "ratio": self.ratio_name, "n_rows": self.n_rows_,
                               "n_customers": self.n_customers_, "n_events": self.n_events_}
        for r in self.effects_.itertuples():
            out[f"{r.term}.ratio"] = r.ratio
            out[f"{r.term}.ci_low"] = r.ci_low
            out[f"{r.term}.ci_high"] = r.ci_high
            out[f"{r.term}.p_value"] = r.p_value
        return out


def compare_with_truth(effects: pd.DataFrame, truth: Mapping[str, float], *,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Set fitted log-ratios beside true log-hazard ratios (synthetic data).

    Parameters
    ----------
    effects : DataFrame
        ``DriverModel.effects_``.
    truth : mapping
        ``meta["truth"]["log_hr"]`` (term -> true log hazard ratio).

    Returns
    -------
    DataFrame
        ``term, true_log_hr, coef, coef_low, coef_high, covered, sign_ok``.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    e = effects.set_index("term")
    e = pd.DataFrame({"coef": e["coef"], "coef_low": e["coef"] - z * e["se"],
                      "coef_high": e["coef"] + z * e["se"]})
    out = shared_compare(e, truth, estimate="coef", lower="coef_low", upper="coef_high")
    out = out.rename(columns={"truth": "true_log_hr"})
    order = {t: i for i, t in enumerate(truth)}
    out = out.sort_values("term", key=lambda t: t.map(order), kind="stable").reset_index(drop=True)
    return out[["term", "true_log_hr", "coef", "coef_low", "coef_high", "covered", "sign_ok"]]


# =============================================================================================
# model-agnostic comparison: permutation importance
# =============================================================================================
def driver_importance(frame: pd.DataFrame, *, drivers: Sequence[str], outcome: str = "event",
                      groups: str | None = "customer_id", extra: Sequence[str] = (),
                      test_size: float = 0.3, n_repeats: int = 5, max_rows: int = 30_000,
                      scoring: str = "roc_auc", random_state=0) -> pd.DataFrame:
    """Permutation importance of each driver in a gradient-boosting model.

    A :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (categorical drivers as native
    categories) is fitted on a training split (split by ``groups`` so that one customer's rows
    stay together) and each raw driver column is permuted on the held-out split.

    Parameters
    ----------
    frame : DataFrame
        Modelling rows, e.g. ``DriverModel.frame_``.
    drivers : sequence of str
    outcome : str
    groups : str, optional
        Column identifying customers; None for one row per customer.
    extra : sequence of str
        Further columns to use as features and report (e.g. ``"tenure_months"``).
    test_size, n_repeats, max_rows, scoring, random_state
        Longer frames are cut to ``max_rows`` rows by a case-control subsample (all churn
        rows, a random share of the others), which leaves AUC-based importance unbiased.

    Returns
    -------
    DataFrame
        ``driver, importance, importance_std, rank``; ``attrs["test_score"]`` holds the held-out
        score of the fitted model.
    """
    features = list(dict.fromkeys([*drivers, *extra]))
    rng = np.random.default_rng(random_state)
    y_all = frame[outcome].to_numpy(dtype=int)
    if len(frame) > max_rows:
        # case-control subsample: every churn row and a random share of the others (AUC, and
        # so the importance ranking, does not depend on the outcome's prevalence)
        pos = np.flatnonzero(y_all == 1)
        neg = np.flatnonzero(y_all == 0)
        take = max(max_rows - len(pos), min(len(neg), len(pos)))
        keep = np.sort(np.concatenate([pos, rng.choice(neg, size=min(take, len(neg)),
                                                       replace=False)]))
        frame = frame.iloc[keep]
    x = pd.DataFrame(index=frame.index)
    for f in features:
        s = frame[f]
        x[f] = s.astype(float) if (_is_indicator(s) or _is_numeric(s)) else \
            s.astype(str).astype("category")
    y = frame[outcome].to_numpy(dtype=int)
    seed = int(rng.integers(2**31 - 1))
    if groups is not None:
        split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        tr, te = next(split.split(x, y, frame[groups]))
    else:
        tr, te = train_test_split(np.arange(len(x)), test_size=test_size, random_state=seed,
                                  stratify=y)
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", max_iter=150, learning_rate=0.05, max_depth=4,
        min_samples_leaf=50, l2_regularization=1.0, early_stopping=False, random_state=seed)
    # one OpenMP thread: the trees are small, and oversubscribed threads on a shared machine
    # are many times slower (the libraries are imported above, so the limit reaches them)
    with threadpool_limits(1):
        model.fit(x.iloc[tr], y[tr])
        imp = permutation_importance(model, x.iloc[te], y[te], scoring=scoring,
                                     n_repeats=n_repeats, random_state=seed)
        test_score = float(get_scorer(scoring)(model, x.iloc[te], y[te]))
    out = pd.DataFrame({"driver": features, "importance": imp.importances_mean,
                        "importance_std": imp.importances_std})
    out["driver"] = out["driver"].replace({"tenure_months": "tenure"})
    out = out.sort_values("importance", ascending=False).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs["test_score"] = test_score
    out.attrs["scoring"] = scoring
    return out


def compare_importance(model: DriverModel, *, n_repeats: int = 5, random_state=0,
                       max_rows: int = 30_000) -> pd.DataFrame:
    """The GLM's per-driver Wald chi-square beside the permutation importance of a GBM.

    Both rank the same drivers (and tenure); ``rank_gap`` is the difference of ranks and
    ``attrs["spearman"]`` the rank correlation, so a reviewer sees whether the two agree.

    Returns
    -------
    DataFrame
        ``driver, wald_chi2, df, glm_p_value, glm_rank, importance, importance_std,
        importance_rank, rank_gap``.
    """
    # tenure is the time axis of the hazard model, so the GBM sees it too; on a snapshot it is a
    # feature only if it is a driver (for inferred churn it would encode the outcome)
    extra = ["tenure_months"] if model.design_ == "person-period" else []
    imp = driver_importance(model.frame_, drivers=model.drivers_, outcome=model.outcome_,
                            groups="customer_id" if model.design_ == "person-period" else None,
                            extra=extra, n_repeats=n_repeats, random_state=random_state,
                            max_rows=max_rows)
    glm = model.driver_tests_.rename(columns={"chi2": "wald_chi2", "p_value": "glm_p_value"})
    glm = glm.replace({"driver": {"tenure_months": "tenure"}})
    out = glm.merge(imp.drop(columns="rank"), on="driver", how="outer")
    out["glm_rank"] = out["wald_chi2"].rank(ascending=False, method="min")
    out["importance_rank"] = out["importance"].rank(ascending=False, method="min")
    out["rank_gap"] = out["importance_rank"] - out["glm_rank"]
    out = out.sort_values("glm_rank").reset_index(drop=True)
    both = out.dropna(subset=["wald_chi2", "importance"])
    rho = stats.spearmanr(both["wald_chi2"], both["importance"]).statistic if len(both) > 2 \
        else float("nan")
    out.attrs.update({"spearman": float(rho), "test_score": imp.attrs["test_score"],
                      "scoring": imp.attrs["scoring"]})
    return out


# =============================================================================================
# high-churn profiles
# =============================================================================================
def _fmt_num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def churn_profiles(data: ChurnData | pd.DataFrame, drivers: Sequence[str] | None = None, *,
                   max_depth: int = 3, min_support: float = 0.03, min_lift: float = 1.5,
                   horizon_months=None, study_start=None, alpha: float = 0.05,
                   random_state=0) -> pd.DataFrame:
    """Combinations of attributes with markedly higher churn: decision-tree rules.

    A shallow :class:`~sklearn.tree.DecisionTreeClassifier` on one row per customer (one-hot
    categorical drivers) splits customers into groups; each leaf is a rule such as
    ``contract = Month-to-month & internet_service = Fiber optic``.

    Parameters
    ----------
    data : ChurnData or DataFrame
    drivers : sequence of str, optional
        Customer columns (default: :func:`default_drivers` without time-varying ones).
    max_depth : int
        At most this many conditions per rule.
    min_support : float
        Smallest group, as a share of customers (also the tree's ``min_samples_leaf``).
    min_lift : float
        Leaves with at least this lift are flagged ``high_churn``.
    horizon_months, study_start
        Churn definition, see :func:`customer_frame`.
    alpha : float
    random_state : int

    Returns
    -------
    DataFrame
        ``rule, n, support, churned, churn_rate, ci_low, ci_high, lift, high_churn``, highest
        lift first; ``attrs["base_rate"]``.
    """
    frame = customer_frame(data, study_start=study_start, horizon_months=horizon_months)
    frame = frame[frame["eligible"]]
    if drivers is None:
        drivers = [d for d in default_drivers(data) if d not in TIME_VARYING]
    drivers = [d for d in drivers if d in frame and d not in TIME_VARYING]
    frame = frame.dropna(subset=drivers)
    parts, meta, levels = [], {}, {}
    for d in drivers:
        s = frame[d]
        if _is_indicator(s):
            parts.append(s.astype(float).rename(d))
            meta[d] = ("indicator", d, None)
        elif _is_numeric(s):
            parts.append(s.astype(float).rename(d))
            meta[d] = ("numeric", d, None)
        else:
            dummies = pd.get_dummies(s.astype(str), dtype=float)
            levels[d] = list(dummies.columns)
            for lv in dummies.columns:
                name = f"{d}={lv}"
                parts.append(dummies[lv].rename(name))
                meta[name] = ("level", d, lv)
    x = pd.concat(parts, axis=1)
    y = frame["outcome"].to_numpy(dtype=int)
    n = len(y)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(int(min_support * n), 5),
                                  criterion="entropy", random_state=random_state)
    tree.fit(x.to_numpy(), y)
    t = tree.tree_
    paths: dict[int, list[tuple[str, bool, float]]] = {}
    stack = [(0, [])]
    while stack:
        node, conds = stack.pop()
        if t.children_left[node] == -1:
            paths[node] = conds
            continue
        f, thr = x.columns[t.feature[node]], float(t.threshold[node])
        stack.append((t.children_left[node], [*conds, (f, False, thr)]))
        stack.append((t.children_right[node], [*conds, (f, True, thr)]))
    leaf = tree.apply(x.to_numpy())
    base = y.mean()
    rows = []
    for node, conds in paths.items():
        mask = leaf == node
        k, m = int(y[mask].sum()), int(mask.sum())
        rows.append({"rule": _rule_text(conds, meta, levels), "n": m, "support": m / n, "churned": k,
                     "churn_rate": k / m if m else np.nan})
    out = pd.DataFrame(rows)
    out["ci_low"], out["ci_high"] = wilson_ci(out["churned"], out["n"], alpha=alpha)
    out["lift"] = out["churn_rate"] / base
    out["high_churn"] = out["lift"] >= min_lift
    out = out.sort_values("lift", ascending=False).reset_index(drop=True)
    out.attrs["base_rate"] = float(base)
    return out


def _rule_text(conds: list[tuple[str, bool, float]], meta: Mapping[str, tuple],
               levels: Mapping[str, list[str]]) -> str:
    """Readable rule from a tree path (merging conditions on the same driver)."""
    if not conds:
        return "all customers"
    equal: dict[str, str] = {}
    not_equal: dict[str, list[str]] = {}
    bounds: dict[str, list[float]] = {}
    flags: dict[str, bool] = {}
    order: list[str] = []
    for feat, right, thr in conds:
        kind, driver, level = meta[feat]
        if driver not in order:
            order.append(driver)
        if kind == "level":
            if right:
                equal[driver] = level
            else:
                not_equal.setdefault(driver, []).append(level)
        elif kind == "indicator":
            flags[driver] = right
        else:
            lo, hi = bounds.get(driver, [-np.inf, np.inf])
            bounds[driver] = [max(lo, thr), hi] if right else [lo, min(hi, thr)]
    parts = []
    for d in order:
        if d in equal:
            parts.append(f"{d} = {equal[d]}")
        elif d in not_equal:
            lv = not_equal[d]
            rest = [x for x in levels.get(d, []) if x not in lv]
            if len(rest) == 1:
                parts.append(f"{d} = {rest[0]}")
                continue
            parts.append(f"{d} ≠ {lv[0]}" if len(lv) == 1 else f"{d} not in {{{', '.join(lv)}}}")
        elif d in flags:
            parts.append(f"{d} = {'yes' if flags[d] else 'no'}")
        else:
            lo, hi = bounds[d]
            if np.isinf(lo):
                parts.append(f"{d} ≤ {_fmt_num(hi)}")
            elif np.isinf(hi):
                parts.append(f"{d} > {_fmt_num(lo)}")
            else:
                parts.append(f"{_fmt_num(lo)} < {d} ≤ {_fmt_num(hi)}")
    return " & ".join(parts)


# =============================================================================================
# common claims
# =============================================================================================
#: The claims tested by :func:`test_claims`: key -> statement.
CLAIMS = {
    "tenure": "Long-standing customers churn less than new ones",
    "age": "Older customers churn less than younger ones",
    "gender": "Men churn less than women",
    "channel": "Intermediary/business customers churn less than end consumers",
}

_MALE = {"male", "m", "man", "men", "男", "1"}
_FEMALE = {"female", "f", "woman", "women", "女", "0"}
INTERMEDIARY_LEVELS = ("partner", "intermediary", "reseller", "broker", "agent", "dealer",
                       "wholesale", "distributor", "business", "b2b", "corporate", "enterprise")
CONSUMER_LEVELS = ("online", "direct", "web", "app", "store", "retail", "shop", "phone",
                   "consumer", "b2c", "individual", "private", "personal")


def _channel_definition(ch, ct, inter, cons, intermediary, has_ch, has_ct) -> str:
    parts = []
    if has_ch and set(ch) & intermediary:
        parts.append("channel " + "/".join(sorted(set(ch) & intermediary)))
    if has_ct and set(ct) & intermediary:
        parts.append("customer_type " + "/".join(sorted(set(ct) & intermediary)))
    others = []
    if has_ch:
        others.append("channel " + "/".join(sorted(set(ch[cons]))))
    if has_ct:
        others.append("customer_type " + "/".join(sorted(set(ct[cons]))))
    return (f"Intermediary/business = {' or '.join(parts)}; end consumers = the others "
            f"({' and '.join(others)}).")


def _norm(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower()


def test_claims(data: ChurnData | pd.DataFrame, *, design: str = "auto", study_start=None,
                tenure_split_months: float = 12, older_age: int = 65, alpha: float = 0.05,
                intermediary_levels: Iterable[str] = INTERMEDIARY_LEVELS,
                consumer_levels: Iterable[str] = CONSUMER_LEVELS) -> pd.DataFrame:
    """Test four claims of the churn-management literature on the data at hand.

    Each claim compares the churn of a group (long-standing, older, male, intermediary/business
    customers) with the churn of its counterpart; the claim is ``supported`` when the group's
    churn is lower at the ``alpha`` level (two-sided Wald test on the log ratio, direction as
    claimed). The comparison is crude (unadjusted), because the claims are about what a manager
    sees, not about effects "other things equal"; the adjusted effects are in :class:`DriverModel`.

    * person-period data (dated churn): ``effect`` is the ratio of monthly churn rates (churn
      events per customer-month at risk), so that customers observed for different lengths of
      time are compared fairly;
    * one snapshot (:func:`is_snapshot`): ``effect`` is the ratio of the churn proportions.

    Definitions:

    ``tenure``
        long-standing = tenure of at least ``tenure_split_months`` months (at the start of the
        month at risk, or at the snapshot), new = less. Not tested when churn is inferred from
        inactivity (non-contractual data): a customer can then only be seen to lapse after the
        last purchase, which ties churn to tenure mechanically.
    ``age``
        older = aged ``older_age`` (65) or more, younger = below. When there is no ``age`` column
        but a senior flag (``senior``, ``senior_citizen``, ``is_senior``), older = flagged senior
        citizens (the Telco data flags customers aged 65 or more) and younger = the rest.
    ``gender``
        men vs women (values male/m/man/男 vs female/f/woman/女).
    ``channel``
        intermediary/business = ``channel`` in ``intermediary_levels`` (partner, reseller,
        broker, agent, ...) or ``customer_type`` in it (business, B2B, ...); end consumers = the
        other customers buying through a direct channel (online, store, ...) as consumers.

    Parameters
    ----------
    data : ChurnData or DataFrame
    design : {"auto", "person-period", "snapshot"}
    study_start : date, optional
    tenure_split_months : float
    older_age : int
    alpha : float
    intermediary_levels, consumer_levels : iterable of str
        Lower-case labels (channel or customer_type values) of each side.

    Returns
    -------
    DataFrame
        One row per claim: ``claim`` (key), ``statement``, ``supported`` (nullable bool; NA if
        untestable), ``effect`` (ratio group / counterpart; < 1 = the group churns less),
        ``ci_low``, ``ci_high``, ``p_value``, ``n`` (customers), ``method``, ``group`` and
        ``reference_group`` (who is compared with whom) and ``note`` (the definition used and the
        verdict, or why the claim could not be tested).
    """
    design = resolve_design(data, design)
    customers = customer_frame(data, study_start=study_start)
    customers = customers[customers["eligible"]]
    if design == "person-period":
        if not isinstance(data, ChurnData):
            raise ChurnDataError("the person-period design needs a ChurnData.",
                                 table="customers")
        cols = [c for c in ("age", "senior", "senior_citizen", "is_senior", "gender", "channel",
                            "customer_type") if c in customers]
        rows = person_period(data, study_start=study_start, columns=cols)
        rows = rows[rows["exposure"] > 0].copy()
        rows["tenure_at_start"] = rows["tenure_start"]
        method = "ratio of monthly churn rates (events per customer-month), Wald CI on log scale"
        kind, time_col = "rate", "time_at_risk"
    else:
        rows = customers.copy()
        rows["event"] = rows["outcome"].astype(int)
        rows["exposure"] = 1.0
        rows["tenure_at_start"] = rows["tenure_months"]
        method = "ratio of churn proportions (risk ratio), Wald CI on log scale"
        kind, time_col = "risk", "exposure"
    intermediary = {s.lower() for s in intermediary_levels}
    consumer = {s.lower() for s in consumer_levels}
    senior_col = next((c for c in ("senior", "senior_citizen", "is_senior") if c in rows), None)

    def compare(group: pd.Series, other: pd.Series, key: str, labels: tuple[str, str],
                definition: str = "") -> dict[str, Any]:
        g, o = rows.loc[group.fillna(False)], rows.loc[other.fillna(False)]
        n = int(pd.concat([g["customer_id"], o["customer_id"]]).nunique())
        base = {"claim": key, "statement": CLAIMS[key], "n": n, "method": method,
                "group": labels[0], "reference_group": labels[1]}
        if g["customer_id"].nunique() < 10 or o["customer_id"].nunique() < 10:
            return {**base, "supported": pd.NA, "effect": np.nan, "ci_low": np.nan,
                    "ci_high": np.nan, "p_value": np.nan,
                    "note": "Not testable: fewer than 10 customers on one side."}
        ratio, lo, hi, p = ratio_test(float(g["event"].sum()), float(g[time_col].sum()),
                                       float(o["event"].sum()), float(o[time_col].sum()),
                                       kind=kind, alpha=alpha)
        supported = bool(p < alpha and ratio < 1)
        if supported:
            verdict = "Lower churn, significant at the 5% level."
        elif p < alpha:
            verdict = "Significant in the opposite direction: this group churns MORE."
        else:
            verdict = "No significant difference at the 5% level."
        return {**base, "supported": supported, "effect": ratio, "ci_low": lo, "ci_high": hi,
                "p_value": p, "note": f"{definition} {verdict}".strip()}

    def untestable(key: str, why: str) -> dict[str, Any]:
        return {"claim": key, "statement": CLAIMS[key], "supported": pd.NA, "effect": np.nan,
                "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n": 0,
                "method": method, "group": "", "reference_group": "", "note": why}

    out = []
    # tenure
    t = rows["tenure_at_start"]
    split_s = f"{tenure_split_months:g}"
    if isinstance(data, ChurnData) and data.kind == "non-contractual":
        out.append(untestable(
            "tenure", "Not testable: churn is inferred from inactivity (no purchase for "
            f"{data.inactivity_days} days), so a customer can only be seen to "
            "lapse after the last purchase and churn is tied to tenure by construction."))
    else:
        out.append(compare(t >= tenure_split_months, t < tenure_split_months, "tenure",
                           (f"customers with {split_s}+ months' tenure",
                            f"customers in their first {split_s} months"),
                           f"Long-standing = tenure of {split_s} months or more."))
    # age
    if "age" in rows and rows["age"].notna().any():
        a = pd.to_numeric(rows["age"], errors="coerce")
        out.append(compare(a >= older_age, a < older_age, "age",
                           (f"customers aged {older_age}+", f"customers under {older_age}"),
                           f"Older = aged {older_age} or more."))
    elif senior_col is not None:
        s = rows[senior_col]
        flag = s.astype(str).str.strip().str.lower().isin({"1", "1.0", "true", "yes", "y"})
        out.append(compare(flag & s.notna(), ~flag & s.notna(), "age",
                           ("senior citizens", "other customers"),
                           f"No age column: older = flagged senior citizens ('{senior_col}'; "
                           "65+ in the Telco data), younger = the rest."))
    else:
        out.append(untestable("age", "Not testable: no 'age' column and no senior flag "
                                     "('senior', 'senior_citizen')."))
    # gender
    if "gender" in rows:
        gnd = _norm(rows["gender"])
        if gnd.isin(_MALE).any() and gnd.isin(_FEMALE).any():
            out.append(compare(gnd.isin(_MALE), gnd.isin(_FEMALE), "gender", ("men", "women")))
        else:
            out.append(untestable("gender", "Not testable: 'gender' has no recognisable "
                                            "male and female values."))
    else:
        out.append(untestable("gender", "Not testable: no 'gender' column."))
    # channel / customer type
    has_ch, has_ct = "channel" in rows, "customer_type" in rows
    if has_ch or has_ct:
        ch = _norm(rows["channel"]) if has_ch else pd.Series("", index=rows.index)
        ct = _norm(rows["customer_type"]) if has_ct else pd.Series("", index=rows.index)
        inter = ch.isin(intermediary) | ct.isin(intermediary)
        cons = ~inter & (ch.isin(consumer) if has_ch else True) & (
            ct.isin(consumer) if has_ct else True)
        what = " or ".join([c for c, h in (("channel", has_ch), ("customer_type", has_ct)) if h])
        if inter.any() and cons.any():
            out.append(compare(
                inter, cons, "channel",
                ("intermediary/business customers", "end consumers"),
                _channel_definition(ch, ct, inter, cons, intermediary, has_ch, has_ct)))
        else:
            out.append(untestable("channel", f"Not testable: {what} has no recognisable "
                                             "intermediary/business and consumer levels."))
    else:
        out.append(untestable("channel", "Not testable: no 'channel' or 'customer_type' column."))
    table = pd.DataFrame(out)
    table["supported"] = table["supported"].astype("boolean")
    cols = ["claim", "statement", "supported", "effect", "ci_low", "ci_high", "p_value", "n",
            "method", "group", "reference_group", "note"]
    return table[cols]


test_claims.__test__ = False  # a library function, not a pytest test


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def claim_sentences(claims: pd.DataFrame) -> list[str]:
    """One plain sentence per claim of :func:`test_claims` (markdown)."""
    out = []
    for r in claims.itertuples():
        if pd.isna(r.supported):
            out.append(f"**{r.statement}** — cannot be tested on these data. {r.note}")
            continue
        verdict = "supported" if r.supported else "not supported"
        more_less = "less" if r.effect < 1 else "more"
        pct = abs(1 - r.effect) * 100
        out.append(
            f"**{r.statement}** — {verdict}: {r.group} churn {pct:.0f}% {more_less} than "
            f"{r.reference_group} (ratio {r.effect:.2f}, 95% CI {r.ci_low:.2f}–{r.ci_high:.2f}, "
            f"{_fmt_p(r.p_value)}, {r.n:,} customers). {r.note}")
    return out
