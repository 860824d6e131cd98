"""Sensitivity to the churn definition: the main figures under several inactivity windows.

Non-contractual data do not record churn: a customer counts as lost after ``inactivity_days``
without a purchase (the project's rule, :func:`churn_research.model.infer_churn`). The window is
a choice, so :func:`definition_sensitivity` re-derives churn from the same processed purchase log
under each window (:func:`churn_research.model.redefine_churn`; nothing is written) and computes
the figures the reports lead with:

* the annual churn (:func:`churn_research.annual.annual_churn`, the project's one annual churn),
  every window over the **same period** (:func:`common_period`): the latest one in which a lapse
  is visible under the longest window, i.e. ending at ``observation_end - longest window``, of
  ``months`` months kept to the months the data cover after the dataset's own window starts
  (annualised when shorter), so the rows differ by the definition only;
* the median lifetime (Kaplan–Meier on the one lifetime frame,
  :func:`churn_research.durations.durations`, with its delayed entry);
* the customers at risk now (the *at risk* value tier at ``observation_end``, the tier rules of
  40_segments) — customers past the window count as lost instead;
* the strongest drivers of churn: the standardised coefficients of the risk model's logistic
  regression (:func:`churn_research.segments.risk.make_model`), fitted on the features at the
  same date for every window (``observation_end - longest window``, the common period's end)
  with the label "no purchase in the next ``window`` days".

It lives in the segments package because that package holds the tier rules and the risk model
(the research-question packages never import each other); annual churn and the lifetime frame
come from the layers below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from churn_research.annual import annual_churn, product_limit
from churn_research.durations import durations
from churn_research.model import ChurnData, on_books, redefine_churn, sample_ids
from churn_research.segments.design import churn_label, resolve_cutoff
from churn_research.segments.features import features_at
from churn_research.segments.risk import _cat_frame, make_model, model_columns
from churn_research.segments.rules import DEFAULT_TIER_RULES, DEFAULT_WINDOWS
from churn_research.segments.tiers import value_tiers

__all__ = ["DefinitionSensitivity", "definition_sensitivity", "median_lifetime",
           "lost_at_start", "window_months", "common_period", "top_drivers"]

#: Inactivity windows (days) compared by default.
DEFAULT_SENSITIVITY_WINDOWS = (90, 180, 365)


def median_lifetime(frame: pd.DataFrame) -> float:
    """Kaplan–Meier median of a :func:`durations` frame (delayed entry respected): the first
    time at which S(t) <= 0.5, as lifelines' ``median_survival_time_``; inf if not reached."""
    if frame.empty:
        return float("nan")
    times, surv = product_limit(frame["duration"].to_numpy(float), frame["event"].to_numpy(bool),
                                frame["entry"].to_numpy(float) if "entry" in frame else None)
    below = np.flatnonzero(surv <= 0.5)
    return float(times[below[0]]) if len(below) else float("inf")


def lost_at_start(frame: pd.DataFrame) -> float:
    """The share of customers the Kaplan–Meier curve loses at time 0, ``1 - S(0)``: in a
    purchase log, the customers who never bought again after their first purchase (their loss
    is dated to it). A median lifetime of 0 means this share is at least a half."""
    if frame.empty:
        return float("nan")
    times, surv = product_limit(frame["duration"].to_numpy(float), frame["event"].to_numpy(bool),
                                frame["entry"].to_numpy(float) if "entry" in frame else None)
    return float(1 - surv[0]) if len(times) and times[0] == 0 else 0.0


def common_period(observation_end, windows, *, own_days: int, months: int
                  ) -> tuple[pd.Timestamp, int]:
    """The period over which every inactivity window's annual churn is measured: ending the day
    before ``observation_end - max(windows)`` (the last date of a last purchase whose lapse the
    longest window can see: more than ``max(windows)`` days without a purchase by the
    observation end) and :func:`window_months` months long (0 when not even one month fits).
    Returns ``(end, months)``.

    Under the inactivity rule a loss is dated to the last purchase, and a customer whose last
    purchase is on or before ``end`` has lapsed under every window, so over this period the
    annual churn is the same whatever the window; the windows differ in how recent a period
    they can measure, in who is still active now and in the lifetimes they censor."""
    longest = max(int(w) for w in windows)
    # a last purchase on observation_end - longest is a lapse only if none follows the next day,
    # which the data cannot show yet: the period ends the day before
    day_before = pd.Timestamp(observation_end) - pd.Timedelta(days=1)
    end = day_before - pd.Timedelta(days=longest)
    return end, window_months(day_before, longest, own_days=own_days, months=months)


def window_months(observation_end, inactivity_days: int, *, own_days: int, months: int) -> int:
    """Months of the annual-churn window under ``inactivity_days``.

    The dataset's own window (``own_days``) measures ``months`` months ending at
    ``observation_end - own_days``. Another window ends at ``observation_end -
    inactivity_days``; it keeps ``months`` months where the data cover them, i.e. it starts no
    earlier than the own window's start (before it the customer base may not have joined yet),
    and is shorter otherwise (annualised). 0 when not even one month fits.
    """
    obs = pd.Timestamp(observation_end)
    start0 = obs - pd.Timedelta(days=int(own_days)) - pd.DateOffset(months=int(months))
    end = obs - pd.Timedelta(days=int(inactivity_days))
    m = int(months)
    while m > 0 and end - pd.DateOffset(months=m) < start0:
        m -= 1
    return m


def top_drivers(features: pd.DataFrame, label: pd.Series, *, n: int = 3,
                random_state: int = 0) -> list[tuple[str, float]]:
    """The ``n`` inputs with the largest standardised coefficients of the risk model's logistic
    regression (log1p and standardisation as :func:`make_model`), as ``(feature, coefficient)``:
    a positive coefficient raises the odds of churn per standard deviation. A missing-value
    indicator counts towards its feature. Empty when the label has one class."""
    y = label.astype(int)
    if y.nunique() < 2:
        return []
    X = features.loc[y.index]
    num, cat = model_columns(X)
    est = make_model("logistic", numeric=num, categorical=cat, random_state=random_state)
    with threadpool_limits(limits=1):
        est.fit(_cat_frame(X, cat), y)
    names = est.named_steps["prepare"].get_feature_names_out()
    coef = est.named_steps["model"].coef_.ravel()
    best: dict[str, float] = {}
    for name, c in zip(names, coef, strict=True):
        base = name.split("__", 1)[-1]
        base = base.removeprefix("missingindicator_")
        for col in cat:  # one-hot columns: feature_level -> feature
            if base.startswith(col + "_"):
                base = col
        if abs(c) > abs(best.get(base, 0.0)):
            best[base] = float(c)
    ranked = sorted(best.items(), key=lambda kv: -abs(kv[1]))
    return ranked[:n]


@dataclass
class DefinitionSensitivity:
    """The figures per inactivity window (:func:`definition_sensitivity`).

    ``table``: one row per window, ``inactivity_days``, ``own`` (the dataset's window),
    ``annual_churn`` with ``ci_low`` / ``ci_high``, ``months`` / ``window_start`` /
    ``window_end`` (the annual-churn window: the common period, the same in every row),
    ``median_lifetime`` (in ``unit``) and ``lost_at_start`` (:func:`lost_at_start`),
    ``at_risk_now``, ``active_now`` (on the books at ``observation_end`` by the rule) and
    ``drivers`` (list of ``(feature, coefficient)``). ``available`` is False for contractual data
    (``reason`` says why). ``extra``: ``longest`` (days), ``driver_cutoff`` and ``dataset``, the
    dataset's own annual churn (:class:`~churn_research.annual.AnnualChurn`, over its latest
    window: the figure of 00_data and 10_indicators).
    """

    table: pd.DataFrame
    own_days: int | None
    unit: str = "months"
    available: bool = True
    reason: str = ""
    extra: dict = field(default_factory=dict)

    def row(self, days: int) -> pd.Series:
        return self.table.set_index("inactivity_days").loc[int(days)]

    def key_figures(self) -> dict:
        """Flat figures under ``definition_sensitivity.<days>.*``."""
        if not self.available:
            return {"definition_sensitivity": {"available": False}}
        out: dict = {"available": True, "own_days": self.own_days}
        for _, r in self.table.iterrows():
            out[str(int(r["inactivity_days"]))] = {
                "annual_churn": r["annual_churn"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                "months": int(r["months"]), "median_lifetime": r["median_lifetime"],
                "lost_at_start": r["lost_at_start"],
                "at_risk_now": int(r["at_risk_now"]),
                "drivers": ", ".join(d for d, _ in r["drivers"])}
        if self.table["months"].iloc[0]:
            out["window_start"] = str(pd.Timestamp(self.table["window_start"].iloc[0]).date())
        out["window_end"] = str(pd.Timestamp(self.table["window_end"].iloc[0]).date())
        return {"definition_sensitivity": out}


def definition_sensitivity(data: ChurnData, windows=DEFAULT_SENSITIVITY_WINDOWS, *,
                           months: int = 12, unit: str = "months", tier_rules: dict | None = None,
                           feature_windows: dict | None = None, static_columns=None,
                           n_drivers: int = 3,
                           max_model_customers: int | None = None,
                           random_state: int = 0) -> DefinitionSensitivity:
    """Annual churn, median lifetime, customers at risk now and the top drivers under each
    inactivity window (see the module docstring). The dataset's own window is always included.

    Parameters
    ----------
    data : ChurnData
        The processed data (not modified). Contractual data: ``available`` False.
    windows : sequence of int
        Inactivity windows in days (the parameter ``sensitivity_windows``).
    months : int
        The annual-churn window of the dataset (``annual_churn_months``).
    unit : str
        Time unit of the median lifetime.
    tier_rules, feature_windows : dict, optional
        The dataset's tier rules and feature look-back windows (``tier_rules``, ``windows``).
    static_columns : list of str, optional
        Customer attributes used as features (as 40_segments' ``static_columns``).
    n_drivers : int
        Drivers listed per window.
    max_model_customers : int, optional
        The driver model is fitted on a random sample of this many labelled customers.
    """
    if data.kind != "non-contractual":
        return DefinitionSensitivity(pd.DataFrame(), None, unit, available=False,
                                     reason="contractual")
    own = int(data.inactivity_days)
    days = sorted({int(w) for w in windows} | {own})
    bad = [w for w in days if w <= 0]
    if bad:
        raise ValueError(f"sensitivity_windows must be positive numbers of days, got {bad}")
    rules = {**DEFAULT_TIER_RULES, **(tier_rules or {})}
    fw = {**DEFAULT_WINDOWS, **(feature_windows or {}), "static_columns": static_columns}
    obs = pd.Timestamp(data.observation_end)
    end, m = common_period(obs, days, own_days=own, months=months)
    rows = []
    for w in days:
        d = data if w == own else redefine_churn(data, w)
        if m > 0:
            a = annual_churn(d, months=m, window_end=end)
            annual = (a.rate, a.ci_low, a.ci_high, a.window_start, a.window_end)
        else:
            annual = (np.nan, np.nan, np.nan, pd.NaT, end)
        frame = durations(d, unit=unit)
        median = median_lifetime(frame)
        now = features_at(d, design="prospective", **fw)
        tiers = value_tiers(now, **rules)
        drivers: list = []
        cutoff = end   # the same feature date for every window
        if cutoff > pd.to_datetime(d.customers["start_date"]).min():
            cutoff = resolve_cutoff(d, cutoff, horizon_days=w)
            label = churn_label(d, cutoff, horizon_days=w)
            if max_model_customers is not None and len(label) > int(max_model_customers):
                label = label.loc[sample_ids(label.index.to_series(), int(max_model_customers),
                                             random_state=random_state)]
            if len(label):
                feats = features_at(d, cutoff, design="prospective", **fw)
                drivers = top_drivers(feats, label, n=n_drivers, random_state=random_state)
        rows.append({"inactivity_days": w, "own": w == own, "annual_churn": annual[0],
                     "ci_low": annual[1], "ci_high": annual[2], "months": m,
                     "window_start": annual[3], "window_end": annual[4],
                     "median_lifetime": median, "lost_at_start": lost_at_start(frame),
                     "at_risk_now": int((tiers == "at risk").sum()),
                     "active_now": int(on_books(d.customers, obs).sum()), "drivers": drivers})
    return DefinitionSensitivity(pd.DataFrame(rows), own, unit,
                                 extra={"longest": max(days), "driver_cutoff": end,
                                        "dataset": annual_churn(data, months=months)})
