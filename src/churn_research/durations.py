"""The one lifetime frame every stage uses: duration, churn event and delayed entry per customer.

:func:`durations` turns a :class:`~churn_research.model.ChurnData` into one row per customer with
its tenure at exit (``duration``), whether the exit is a churn (``event``) and the tenure at which
the customer enters observation (``entry``, for left truncation: customers who were already
customers when the records begin, ``ChurnData.records_start``). Survival analysis, the
survival-based lifetime value and the sBG fits all start from it, so they agree on who is at
risk, when, and for how long.

Time scale
----------
Tenure (time since the customer's ``start_date``) in the unit chosen: ``"days"``, ``"weeks"``,
``"months"`` (a month is 365.25 / 12 = 30.44 days) or ``"years"``.

Month-aligned data (every start, exit and censoring date the same day of the month, counting a
month's last day as aligned with any later day: e.g. IBM Telco, whose start dates are the
snapshot minus a whole number of months) are measured in whole calendar months instead
(:func:`calendar_months`): dividing days by 30.44 would put a tenure of 24 months at 23.97 or
24.02 and read S(24) off a shifted axis.

Left truncation
---------------
When the data only follow customers from some date on (the synthetic generator simulates
customers who were already customers at its ``start`` only from that date: they are *left
truncated*), such a customer enters the risk set at the tenure they had on that date, not at 0.
:func:`durations` puts that tenure in the ``entry`` column, and every estimator uses it
(lifelines' ``entry`` / ``entry_col`` / start-stop episodes). Ignoring it would overstate
survival, because only the survivors of those early years are in the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_research.model import (
    MAP_COLUMNS_FIX,
    ChurnData,
    ChurnDataError,
    infer_end_dates,
)
from churn_research.personal import is_personal_header

__all__ = ["TIME_UNITS", "DAYS_PER_MONTH", "FREQ_DAYS", "CAMPAIGN_CONTACT", "btyd_window", "durations",
           "first_contact", "unit_days", "to_units", "calendar_months", "month_aligned"]

#: Days per month (tenure months: 365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12
#: Days per unit of the BTYD summaries' ``freq`` (the pandas path in :mod:`churn_research.clv`
#: and the engine in :mod:`churn_research.sources.engine`).
FREQ_DAYS = {"D": 1.0, "W": 7.0, "M": DAYS_PER_MONTH, "Y": 365.25}

#: Length of one time unit in days.
TIME_UNITS: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": 365.25}

_CORE = ("customer_id", "start_date", "end_date")

#: The time-varying exposure of a retention campaign (:func:`first_contact`): 0 before a
#: customer's first contact, 1 from it on. 30_survival's Cox model and 20_causes' driver model
#: both hold it fixed, so that customers a campaign kept are not read as a smaller effect of a
#: business change that preceded it.
CAMPAIGN_CONTACT = "campaign_contact"


def first_contact(campaigns: pd.DataFrame | None) -> pd.Series:
    """The date of each customer's first contact by a retention campaign.

    The one rule behind the exposure :data:`CAMPAIGN_CONTACT` (1 from this date on): the
    earliest ``date`` among a customer's rows of the campaigns table with ``treated == 1``
    (customers held out as controls are never contacted, so they have no date).

    Returns
    -------
    Series
        Contact date (Timestamp) indexed by ``customer_id``, sorted by customer; empty without a
        campaigns table or without a contacted customer.
    """
    if campaigns is None or not len(campaigns):
        return pd.Series([], dtype="datetime64[ns]", index=pd.Index([], name="customer_id"), name="date")
    contacted = campaigns.loc[pd.to_numeric(campaigns["treated"]).astype(int) == 1]
    return pd.to_datetime(contacted["date"]).groupby(contacted["customer_id"]).min().rename("date")


def unit_days(unit: str | float) -> float:
    """Length of one ``unit`` in days: a name of :data:`TIME_UNITS` or a number of days."""
    if isinstance(unit, int | float) and not isinstance(unit, bool) and unit > 0:
        return float(unit)
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {unit!r}; use one of {sorted(TIME_UNITS)}")
    return TIME_UNITS[unit]


def to_units(delta: pd.Series | pd.Timedelta, unit: str):
    """Convert a timedelta (Series or scalar) into a float number of ``unit``."""
    days = delta / pd.Timedelta(days=1)
    return days / unit_days(unit)


def month_aligned(start: pd.Series, end: pd.Series | pd.Timestamp) -> np.ndarray:
    """Whether ``end`` lies a whole number of calendar months after ``start`` (elementwise).

    True when the day of the month is the same, or when the earlier day is its month's last
    day and the later day is not earlier (2017-11-30 -> 2018-01-31 is two months, as
    ``2018-01-31 - DateOffset(months=2)`` gives; so is 2017-12-31 -> 2018-02-28).
    """
    start = pd.to_datetime(pd.Series(start))
    end = pd.to_datetime(pd.Series(end, index=start.index) if not isinstance(end, pd.Series) else end)
    sd, ed = start.dt.day.to_numpy(), end.dt.day.to_numpy()
    s_last, e_last = start.dt.is_month_end.to_numpy(), end.dt.is_month_end.to_numpy()
    return (sd == ed) | ((ed > sd) & s_last) | ((sd > ed) & e_last)


def calendar_months(start: pd.Series, end: pd.Series | pd.Timestamp) -> np.ndarray:
    """Whole calendar months from ``start`` to ``end`` (month-aligned dates: see
    :func:`month_aligned`), as floats."""
    start = pd.to_datetime(pd.Series(start))
    end = pd.to_datetime(pd.Series(end, index=start.index) if not isinstance(end, pd.Series) else end)
    months = (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
    return months.to_numpy(dtype=float)


def durations(
    data: ChurnData,
    *,
    unit: str | float = "months",
    entry_date="auto",
    inactivity_days: int | None = None,
) -> pd.DataFrame:
    """One row per customer with its lifetime, churn indicator and delayed entry.

    Parameters
    ----------
    data : ChurnData
        Contractual data: a lifetime runs from ``start_date`` to ``end_date`` (churn) or is
        censored at ``observation_end``. Non-contractual data: churn is inferred from
        ``transactions`` by the project's shared rule
        (:func:`churn_research.model.infer_end_dates`): a customer with no purchase for more
        than ``inactivity_days`` before ``observation_end`` churned on the date of the last
        purchase. The others are censored at ``observation_end - inactivity_days``, not at
        ``observation_end``: that is the last date up to which a lapse would already be
        visible, so every lifetime ending before it is seen as churn and none after it is
        (censoring them at ``observation_end`` would credit them with months they may not have
        had). Customers who joined after that date (the rule's "undetermined" status) have no
        usable follow-up and are left out (their number is in ``result.attrs["excluded"]``).
    unit : {"days", "weeks", "months", "years"} or float
        Time unit of ``duration`` and ``entry`` (a month is 365.25 / 12 days, or a calendar
        month when every date is month-aligned: ``attrs["calendar_months"]``), or the length
        of a period in days.
    entry_date : "auto", date-like or None
        Customers are only observed from this date on; anyone who started earlier enters the
        risk set at the tenure they had then (left truncation), and anyone who left before it
        is dropped. ``"auto"`` takes ``data.records_start`` (which loaders set and a user's
        mapping can declare); ``None`` switches it off.
    inactivity_days : int, optional
        Non-contractual data only; defaults to ``data.inactivity_days``.

    Returns
    -------
    DataFrame
        ``customer_id, start_date, end_date`` (churn date, NaT if censored), ``exit_date``
        (churn or censoring date), ``duration`` and ``entry`` (tenure at exit / at the start
        of observation, in ``unit``), ``event`` (1 = churned, 0 = censored),
        ``followup_limit`` (tenure at the censoring date: the longest follow-up the customer
        could have had) and the customer's other attribute columns (personal data dropped).
        ``attrs`` holds ``unit``, ``censor_date``, ``entry_date`` and ``excluded``.

    Raises
    ------
    ChurnDataError
        If a required column is missing, a date is missing or an end date falls before the
        start date or after ``observation_end``.
    """
    unit_days(unit)
    customers = data.customers
    for col in _CORE:
        if col not in customers.columns:
            raise ChurnDataError(
                "required column is missing.", table="customers", column=col,
                fix=MAP_COLUMNS_FIX)
    if data.observation_end is None:
        raise ChurnDataError("observation_end is not set.",
                             fix="set ChurnData.observation_end to the snapshot date.")
    obs_end = pd.Timestamp(data.observation_end)
    # (drop returns a new frame: the date columns set below never reach the caller's table)
    cust = customers.drop(columns=[c for c in customers.columns if is_personal_header(c)])
    cust["start_date"] = pd.to_datetime(cust["start_date"])
    cust["end_date"] = pd.to_datetime(cust["end_date"])
    bad = cust.loc[cust["start_date"].isna(), "customer_id"].tolist()
    if bad:
        raise ChurnDataError("start_date is missing.", table="customers", column="start_date",
                             rows=bad, fix="fill the start date or drop these customers.")
    bad = cust.loc[cust["start_date"] > obs_end, "customer_id"].tolist()
    if bad:
        raise ChurnDataError(f"start_date after observation_end ({obs_end.date()}).",
                             table="customers", column="start_date", rows=bad,
                             fix="drop customers who joined after the snapshot or move observation_end.")

    excluded = 0
    if data.kind == "non-contractual":
        if inactivity_days is None:
            inactivity_days = data.inactivity_days
        censor_date = obs_end - pd.Timedelta(days=int(inactivity_days))
        if data.has("transactions"):
            tx = data.transactions[["customer_id", "date"]].copy()
            tx["date"] = pd.to_datetime(tx["date"])
            inferred = infer_end_dates(cust[["customer_id", "start_date"]], tx, observation_end=obs_end,
                                       inactivity_days=int(inactivity_days))
            cust["end_date"] = inferred["end_date"].to_numpy()
        elif cust["end_date"].isna().all():
            raise ChurnDataError(
                "non-contractual data need transactions (or inferred end dates) to date churn.",
                table="transactions", fix="load the purchase log with the customers.")
        late = cust["start_date"] > censor_date
        excluded = int(late.sum())
        cust = cust.loc[~late]
    else:
        censor_date = obs_end

    bad = cust.loc[cust["end_date"] < cust["start_date"], "customer_id"].tolist()
    if bad:
        raise ChurnDataError("end_date before start_date.", table="customers", column="end_date",
                             rows=bad, fix="correct the dates (or swap them if they were entered reversed).")
    bad = cust.loc[cust["end_date"] > obs_end, "customer_id"].tolist()
    if bad:
        raise ChurnDataError(f"end_date after observation_end ({obs_end.date()}).",
                             table="customers", column="end_date", rows=bad,
                             fix="set observation_end to the snapshot date of the export, or blank "
                                 "end dates that are only scheduled.")

    if isinstance(entry_date, str) and entry_date == "auto":
        entry_date = data.records_start
    entry_date = None if entry_date is None else pd.Timestamp(entry_date)

    event = cust["end_date"].notna() & (cust["end_date"] <= censor_date)
    exit_date = cust["end_date"].where(event, censor_date)
    out = pd.DataFrame({
        "customer_id": cust["customer_id"].values,
        "start_date": cust["start_date"].values,
        "end_date": cust["end_date"].where(event).values,
        "exit_date": exit_date.values,
    })
    calendar = (unit_days(unit) == DAYS_PER_MONTH and len(out) > 0
                and bool(month_aligned(out["start_date"], out["exit_date"]).all())
                and bool(month_aligned(out["start_date"], censor_date).all())
                and (entry_date is None or bool(month_aligned(out["start_date"], entry_date).all())))
    span = calendar_months if calendar else (lambda a, b: to_units(b - a, unit).astype(float))
    out["duration"] = span(out["start_date"], out["exit_date"])
    out["event"] = event.astype(int).values
    if entry_date is not None:
        out["entry"] = np.maximum(span(out["start_date"], pd.Series(entry_date, index=out.index)), 0.0)
        gone = out["exit_date"] < entry_date
        if gone.any():  # ended before observation began: cannot be in left-truncated data
            excluded += int(gone.sum())
            out = out.loc[~gone]
    else:
        out["entry"] = 0.0
    out["entry"] = np.minimum(out["entry"].astype(float), out["duration"])
    out["followup_limit"] = span(out["start_date"], pd.Series(censor_date, index=out.index))
    # outcome-derived columns of non-contractual loaders must not pose as attributes
    leaks = [c for c in ("last_purchase", "status") if data.kind == "non-contractual" and c in cust]
    attrs = cust.drop(columns=list(_CORE) + leaks)
    if len(out.columns.intersection(attrs.columns)):  # (join's error on the clash)
        out = out.join(attrs.set_index(cust["customer_id"]), on="customer_id")
    else:  # out's rows are cust's, in order (customer_id is unique): by position, no hash join
        rows = out.index.to_numpy()
        if len(rows) == len(attrs) and (rows == np.arange(len(rows))).all():
            attrs.index = out.index  # every row kept: no take (the text columns' Arrow buffers
            # stay shared with the customers table: ~100 MB less per 10^6 customers)
        else:
            attrs = attrs.reset_index(drop=True).iloc[rows].set_index(out.index)
        out = pd.concat([out, attrs], axis=1)
    out = out.reset_index(drop=True)
    out.attrs.update({"unit": unit, "censor_date": censor_date, "entry_date": entry_date,
                      "excluded": excluded, "kind": data.kind, "calendar_months": calendar})
    return out


def btyd_window(freq: str, calibration_end, observation_end=None
                ) -> tuple[float, pd.Timestamp, pd.Timestamp | None]:
    """Days per unit of ``freq`` (:data:`FREQ_DAYS`), the calibration end and the observation end
    (normalised) of a BTYD summary; ``ValueError`` for an unknown unit or an observation end not
    after the calibration end."""
    if freq not in FREQ_DAYS:
        raise ValueError(f"freq must be one of {sorted(FREQ_DAYS)}, got {freq!r}.")
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs = None if observation_end is None else pd.Timestamp(observation_end).normalize()
    if obs is not None and obs <= cal_end:
        raise ValueError(f"observation_end ({obs.date()}) must be after calibration_end "
                         f"({cal_end.date()}).")
    return FREQ_DAYS[freq], cal_end, obs
