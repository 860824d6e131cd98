"""All indicators in one series per period (:func:`indicator_series`) and progress against
targets such as "cut churn by 5% within six months" (:func:`target_table`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from churn_research.i18n import _, label_msg, t
from churn_research.indicators.churn import churn_table
from churn_research.indicators.experience import (
    complaint_table,
    repeat_purchase_table,
    revenue_retention,
    satisfaction_table,
)
from churn_research.indicators.growth import GROWTH_COLUMNS, growth_table
from churn_research.indicators.window import DIRECTIONS, _as_data
from churn_research.model import ChurnData

#: The statuses of :func:`target_table` (data labels: they stay English in the table and the
#: key figures, and a report shows them through :func:`churn_research.i18n.label`).
TARGET_STATUSES = (label_msg("on track"), label_msg("off track"),
                   label_msg("not distinguishable from target"), label_msg("not available"))


# ------------------------------------------------------------------------------------------
# all indicators in one series, and targets
# ------------------------------------------------------------------------------------------
def indicator_series(data: ChurnData, *, freq: str = "Q", recurring_col: str | None = None,
                     satisfied_min: int = 4, inactivity_days: int | None = None,
                     start=None, end=None, tables=None, experience=None) -> pd.DataFrame:
    """Every available indicator per period (whole customer base), for dashboards and targets.

    Columns: ``period``, ``period_start``, ``period_end``, ``partial``, ``churn_rate``,
    ``retention_rate`` and, when their tables exist, ``complaint_rate``, ``share_complaining``,
    ``csat``, ``share_satisfied``, ``nps``, ``recommendation_rate``, ``repeat_purchase_rate``,
    ``grr``, ``nrr`` (on all transaction revenue), the growth columns ``customers_end``,
    ``joins``, ``net_adds``, ``growth_rate`` (:func:`~churn_research.indicators.growth_table`),
    and the 95% interval of each rate that has
    one (``<indicator>_ci_low`` / ``_ci_high``). ``recurring_col`` is passed to
    :func:`repeat_purchase_table` (recurring invoices are not purchase decisions).

    ``tables``: the same data as engine tables (the notebook's ``tables``): the churn table and
    the experience tables come from the engine. ``experience``: the
    :func:`~churn_research.indicators.experience_tables` of the same ``freq``,
    ``recurring_col``, ``satisfied_min`` and ``inactivity_days`` (whole window), taken instead
    of computing them again.
    """
    data = _as_data(data)
    kw = {"freq": freq, "start": start, "end": end, "inactivity_days": inactivity_days}
    if experience is not None and (start is not None or end is not None):
        raise ValueError("experience tables cover the whole window: pass start=end=None.")
    exp = experience or {}
    ct = churn_table(data, **kw) if tables is None else tables.churn_table(**kw)
    out = ct[["period", "period_start", "period_end", "partial", "churn_rate",
              "retention_rate"]].copy()
    out["churn_rate_ci_low"], out["churn_rate_ci_high"] = ct["churn_ci_low"], ct["churn_ci_high"]
    out["retention_rate_ci_low"] = ct["retention_ci_low"]
    out["retention_rate_ci_high"] = ct["retention_ci_high"]
    growth = growth_table(ct)
    for col in GROWTH_COLUMNS:
        out[col] = growth[col].to_numpy()
    if data.has("tickets") and "kind" in data.columns_of("tickets"):
        tc = exp.get("complaints")
        if tc is None:
            tc = complaint_table(data, **kw) if tables is None else tables.complaint_table(**kw)
        out["complaint_rate"] = tc["complaint_rate"].to_numpy()
        out["share_complaining"] = tc["share_complaining"].to_numpy()
        for side in ("low", "high"):
            out[f"share_complaining_ci_{side}"] = tc[f"share_complaining_ci_{side}"].to_numpy()
    if data.has("surveys"):
        s = exp.get("satisfaction")
        if s is None:
            s = (satisfaction_table(data, satisfied_min=satisfied_min, **kw) if tables is None
                 else tables.satisfaction_table(satisfied_min=satisfied_min, **kw))
        for col in ("csat", "share_satisfied", "nps", "recommendation_rate"):
            if col in s:
                out[col] = s[col].to_numpy()
        for col, ci in (("csat", "csat"), ("share_satisfied", "share_satisfied"), ("nps", "nps"),
                        ("recommendation_rate", "recommendation")):
            for side in ("low", "high"):
                if f"{ci}_ci_{side}" in s:
                    out[f"{col}_ci_{side}"] = s[f"{ci}_ci_{side}"].to_numpy()
    if data.has("transactions"):
        r = exp.get("repeat")
        if r is None:
            r = repeat_purchase_table(data, recurring_col=recurring_col, tables=tables, **kw)
        out["repeat_purchase_rate"] = r["repeat_purchase_rate"].to_numpy()
        v = exp.get("revenue")
        v = (revenue_retention(data, tables=tables, **kw) if v is None else v).set_index("period")
        out["grr"] = v["grr"].reindex(out["period"]).to_numpy()
        out["nrr"] = v["nrr"].reindex(out["period"]).to_numpy()
    out.attrs.update(ct.attrs)
    return out


def _period_at(series: pd.DataFrame, when, *, complete_only: bool = True) -> int | None:
    """Position of the last (complete) period ending on or before ``when``; None if none."""
    ends = pd.to_datetime(series["period_end"])
    mask = ends <= pd.Timestamp(when)
    if complete_only and "partial" in series:
        mask &= ~series["partial"].astype(bool)
    pos = np.flatnonzero(mask.to_numpy())
    return int(pos[-1]) if len(pos) else None


def target_table(series: pd.DataFrame, targets: Mapping[str, Mapping], *,
                 as_of=None) -> pd.DataFrame:
    """Actual vs target for each indicator, with on-track / off-track status.

    Parameters
    ----------
    series : DataFrame
        Output of :func:`indicator_series` (one row per period). Target values refer to the
        same period length (a quarterly churn target for a quarterly series).
    targets : mapping
        ``{indicator: spec}``; ``spec`` keys:

        - ``value``: the target level, e.g. ``{"value": 0.05, "by": "2025-06-30"}``; or
        - ``change``: a relative change from the baseline, e.g. ``-0.05`` = "cut by 5%"; or
          ``change_points``: an absolute change (``-0.01`` = one percentage point lower);
        - ``by`` (required): the deadline;
        - ``from``: the baseline date (the last complete period ending on or before it);
          default the first complete period of ``series``;
        - ``direction``: ``"lower"`` or ``"higher"`` is better (defaults: :data:`DIRECTIONS`).
    as_of : date-like, optional
        Evaluate at the last complete period ending on or before this date (default: the last
        complete period of ``series``; never "today").

    Returns
    -------
    DataFrame
        ``indicator``, ``direction``, ``baseline_period``, ``baseline``, ``target``, ``by``,
        ``period`` (the evaluated period), ``actual``, ``expected_now`` (where a straight path
        from baseline to target would be at that period's end), ``change_needed`` (target -
        actual, 0 if met), ``change_needed_rel`` (relative to actual), ``status``
        (``"on track"`` / ``"off track"`` / ``"not distinguishable from target"``), ``detail``,
        ``rule`` (which rule set the status: ``met`` / ``interval`` / ``passed`` / ``ahead`` /
        ``behind``), ``reference`` (the value judged against) and ``actual_ci_low`` /
        ``actual_ci_high`` (the actual value's 95% interval, NaN when the series has none).

    Notes
    -----
    Status: ``on track`` if the target is already met, or if the deadline is still ahead and
    the actual value is at least as good as the straight path from the baseline to the target;
    ``not distinguishable from target`` when it is not, but the value it is judged against (the
    target once the deadline has passed, else the straight path's value now) lies inside the 95%
    interval of the actual value (sampling error alone could explain the gap); ``off track``
    otherwise (including a passed deadline with the target clearly missed).
    """
    rows = []
    as_pos = _period_at(series, as_of if as_of is not None else pd.to_datetime(series["period_end"]).max())
    if as_pos is None:
        raise ValueError("no complete period on or before as_of to evaluate the targets.")
    for name, spec in (targets or {}).items():
        if name not in series.columns:
            rows.append({"indicator": name, "status": "not available",
                         "detail": t("'{name}' is not measured for this dataset", name=name)})
            continue
        if "by" not in spec:
            raise ValueError(f"target for '{name}' needs a deadline `by:`.")
        direction = spec.get("direction", DIRECTIONS.get(name, "higher"))
        if direction not in ("lower", "higher"):
            raise ValueError(f"direction of '{name}' must be 'lower' or 'higher'.")
        values = series[name].to_numpy(dtype=float)
        complete = ~series["partial"].astype(bool).to_numpy() if "partial" in series else np.ones(len(series), bool)
        if "from" in spec:
            b_pos = _period_at(series, spec["from"])
        else:
            cand = np.flatnonzero(complete & ~np.isnan(values))
            b_pos = int(cand[0]) if len(cand) else None
        # the latest complete period with a value at or before as_of
        cand = np.flatnonzero(complete & ~np.isnan(values) & (np.arange(len(series)) <= as_pos))
        a_pos = int(cand[-1]) if len(cand) else None
        baseline = values[b_pos] if b_pos is not None else np.nan
        if "value" in spec:
            target = float(spec["value"])
        elif "change" in spec:
            target = baseline * (1 + float(spec["change"]))
        elif "change_points" in spec:
            target = baseline + float(spec["change_points"])
        else:
            raise ValueError(f"target for '{name}' needs `value`, `change` or `change_points`.")
        by = pd.Timestamp(spec["by"])
        row = {"indicator": name, "direction": direction,
               "baseline_period": series["period"].iloc[b_pos] if b_pos is not None else None,
               "baseline": baseline, "target": target, "by": by}
        if a_pos is None or np.isnan(target):
            row.update({"status": "not available", "detail": _("no value to compare")})
            rows.append(row)
            continue
        actual = values[a_pos]
        a_end = pd.Timestamp(series["period_end"].iloc[a_pos])
        better = (lambda a, b: a <= b) if direction == "lower" else (lambda a, b: a >= b)
        met = better(actual, target)
        expected = np.nan
        if b_pos is not None and not np.isnan(baseline):
            b_end = pd.Timestamp(series["period_end"].iloc[b_pos])
            span = (by - b_end).days
            frac = 1.0 if span <= 0 else float(np.clip((a_end - b_end).days / span, 0, 1))
            expected = baseline + frac * (target - baseline)
        lo_col, hi_col = f"{name}_ci_low", f"{name}_ci_high"
        ci = ((float(series[lo_col].iloc[a_pos]), float(series[hi_col].iloc[a_pos]))
              if lo_col in series and hi_col in series else (np.nan, np.nan))
        # what the actual value is judged against: the target once the deadline has passed,
        # else the straight path's value now
        reference = target if a_end >= by or np.isnan(expected) else expected
        covered = not np.isnan(ci[0]) and ci[0] <= reference <= ci[1]
        if met:
            status, detail, rule = "on track", _("target already met"), "met"
        elif covered and not better(actual, reference):
            status, rule = "not distinguishable from target", "interval"
            detail = (t("the target ({reference}) lies inside the 95% interval of the actual value "
                        "({low}–{high})", reference=f"{reference:.4g}", low=f"{ci[0]:.4g}",
                        high=f"{ci[1]:.4g}") if reference == target else
                      t("the straight path to the target ({reference}) lies inside the 95% interval "
                        "of the actual value ({low}–{high})", reference=f"{reference:.4g}",
                        low=f"{ci[0]:.4g}", high=f"{ci[1]:.4g}"))
        elif a_end >= by:
            status, detail, rule = "off track", _("deadline passed, target missed"), "passed"
        elif not np.isnan(expected) and better(actual, expected):
            status, detail, rule = "on track", _("ahead of the straight path to the target"), "ahead"
        else:
            status, detail, rule = "off track", _("behind the straight path to the target"), "behind"
        need = 0.0 if met else target - actual
        row.update({"period": series["period"].iloc[a_pos], "actual": actual,
                    "expected_now": expected, "change_needed": need,
                    "change_needed_rel": need / actual if actual else np.nan,
                    "status": status, "detail": detail, "rule": rule, "reference": reference,
                    "actual_ci_low": ci[0], "actual_ci_high": ci[1]})
        rows.append(row)
    cols = ["indicator", "direction", "baseline_period", "baseline", "target", "by", "period",
            "actual", "expected_now", "change_needed", "change_needed_rel", "status", "detail",
            "rule", "reference", "actual_ci_low", "actual_ci_high"]
    return pd.DataFrame(rows, columns=cols)
