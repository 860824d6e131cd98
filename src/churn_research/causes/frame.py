"""The customer-level frame of the causes stage, the design (person-period hazard model or one
snapshot), the candidate drivers and the person-month expansion (:func:`person_period`).

Why a hazard model and not "ever churned"?  Customers are observed for different lengths of
time (a customer who joined last month has had little chance to churn), so a logistic regression
of "churned by the observation end" mixes exposure with effect. Person-month rows with an offset
for the exposed fraction of each month compare like with like, and the complementary log-log
coefficients are on the log-hazard scale of the synthetic generator's truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn_research.durations import CAMPAIGN_CONTACT, DAYS_PER_MONTH, first_contact
from churn_research.model import PERSONAL_COLUMNS, ChurnData, ChurnDataError
from churn_research.model import is_snapshot as model_is_snapshot

#: Days in an average calendar month (365.25 / 12), the project's one month length.
MONTH_DAYS = DAYS_PER_MONTH

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
TIME_VARYING = ("complaint_90d", "change", "last_csat", CAMPAIGN_CONTACT)

#: Time-varying terms the driver model holds fixed but does not rank among the drivers: a
#: retention campaign's contact (1 from a customer's first contact on) is an intervention, not a
#: customer trait; without it, customers the campaign kept after the business change would be
#: read as a smaller change effect.
ADJUSTMENTS = (CAMPAIGN_CONTACT,)

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


# =============================================================================================
# text of a column, one string per distinct value
# =============================================================================================
def text_codes(values) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as codes into the text of their distinct values: ``(codes, texts)`` with
    ``texts[codes]`` what ``.astype(str)`` gives each value and code -1 where a value is missing.

    One string per distinct value instead of one per row (a Series of reasons or levels as
    ``object`` strings took gigabytes on 10^7 customers); values with the same text (``1`` and
    ``"1"``) keep their own codes but share the text.
    """
    if not isinstance(values, (pd.Series, pd.Index, np.ndarray, pd.api.extensions.ExtensionArray)):
        values = np.asarray(values, dtype=object)
    codes, uniques = pd.factorize(values)
    return codes, np.array([str(u) for u in uniques], dtype=object)


def text_or(values, missing: str) -> np.ndarray:
    """Each value's text (``object`` array of shared strings), ``missing`` where it is missing:
    ``values.astype(object).where(notna, missing).astype(str)`` without a string per row."""
    codes, texts = text_codes(values)
    return np.array([*texts, missing], dtype=object)[codes]  # code -1: the last, ``missing``


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
    """Whether every churner left within ``window_days`` before the observation end (one
    snapshot, e.g. IBM Telco; :attr:`churn_research.model.ChurnData.is_snapshot`). Its churn flag
    is a one-period outcome, so it is modelled with one row per customer and tenure as a driver.
    """
    if isinstance(data, ChurnData) and observation_end is None and window_days == 31:
        return data.is_snapshot
    return model_is_snapshot(_customers(data), _observation_end(data, observation_end),
                             window_days=window_days)


def resolve_design(data: ChurnData | pd.DataFrame, design: str = "auto") -> str:
    """``"snapshot"`` or ``"person-period"``; ``"auto"`` picks snapshot for one-snapshot data."""
    if design not in {"auto", "snapshot", "person-period"}:
        raise ValueError(f"design must be 'auto', 'snapshot' or 'person-period', not {design!r}")
    if design == "auto":
        return "snapshot" if is_snapshot(data) else "person-period"
    return design


def customer_frame(data: ChurnData | pd.DataFrame, *, study_start=None, horizon_months=None,
                   observation_end=None, columns: Sequence[str] | None = None) -> pd.DataFrame:
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
    columns : sequence of str, optional
        Keep only these customer columns besides ``customer_id``, ``start_date`` and
        ``end_date`` (names that are not customer columns are ignored; the derived columns below
        are always there): a large base's frame without the columns a caller does not use.

    Returns
    -------
    DataFrame
        The customers' non-personal columns (or ``columns``) plus ``entry_date``, ``exit_date``, ``churned``
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
    attributes = [c for c in customers.columns if c not in drop and c not in _NOT_DRIVERS]
    if columns is None:
        out = customers.drop(columns=drop).copy()
    else:
        core = ["customer_id", "start_date", "end_date"]
        wanted = dict.fromkeys(c for c in columns if c in customers and c not in drop)
        out = pd.DataFrame({c: customers[c] for c in core + [c for c in wanted if c not in core]})
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
    # (attributes first: has() reads a model sample's transactions, needed only without them)
    if isinstance(data, ChurnData) and not attributes and data.has("transactions"):
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
    person-period data with tickets / surveys / events, and ``campaign_contact`` (an adjustment:
    :data:`ADJUSTMENTS`) for person-period data with a campaigns table; and first-purchase
    features for a purchase log without attributes.
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
        if data.has("tickets") and "kind" in data.columns_of("tickets"):  # (not read: columns)
            drivers.append("complaint_90d")
        if data.has("surveys") and "csat" in data.columns_of("surveys"):
            drivers.append("last_csat")
        if data.event_date is not None:
            drivers.append("change")
        if data.has("campaigns") and "treated" in data.columns_of("campaigns"):
            drivers.append(CAMPAIGN_CONTACT)
    if not [d for d in drivers if d not in ("tenure_months", "change", CAMPAIGN_CONTACT)] \
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
    ``split=True`` a month is further split at the change date, at a customer's first contact by a
    retention campaign and where the complaint indicator switches on (the day of a complaint) or
    off (``complaint_window_days`` later), so that every time-varying driver is constant within a
    row (episode splitting).

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
        the window up to the row's start; needs tickets), ``last_csat`` (last survey answer
        before the row, NaN if none yet; needs surveys) and ``campaign_contact`` (1 from the
        customer's first contact by a retention campaign on,
        :func:`churn_research.durations.first_contact`; needs campaigns), plus the customer
        columns.
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
    contact_day = None
    if isinstance(data, ChurnData) and data.has("campaigns") and "treated" in data.campaigns:
        contact = first_contact(data.campaigns)
        ccode = pd.Index(frame["customer_id"]).get_indexer(contact.index)
        ok = ccode >= 0
        contact_day = np.full(n, big, dtype=np.int64)  # never contacted
        contact_day[ccode[ok]] = days(contact.to_numpy())[ok]
    if split:
        if contact_day is not None:
            inside = (entry < contact_day) & (contact_day < grid_end)
            points.append(code[inside] * big + contact_day[inside])
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
    if contact_day is not None:
        pp[CAMPAIGN_CONTACT] = (p_start >= contact_day[own]).astype(np.int8)
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
