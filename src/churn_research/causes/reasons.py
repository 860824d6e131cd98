"""Exit reasons: :func:`reason_pareto` (count, share and cumulative share, overall or by segment)
and :func:`reason_shift` (the reason mix before vs after the business change, with a chi-square
test of homogeneity).

Multiple comparisons: the shares of the k reasons are one family, so every interval here is a
*simultaneous* 95% interval across the k reasons — Goodman's simultaneous intervals for
multinomial proportions (``statsmodels.stats.proportion.multinomial_proportions_confint``,
``method="goodman"``: a Wilson interval at level 1 − 0.05/k for each share, i.e. Bonferroni);
the k share differences of :func:`reason_shift` use Newcombe's hybrid interval built from those
simultaneous intervals (Bonferroni across the k reasons), and its per-reason tests are
Holm-adjusted (``p_holm``), as the driver tests of :mod:`churn_research.causes.rates` are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import multinomial_proportions_confint

from churn_research.causes.frame import _change_date, _customers, text_or
from churn_research.i18n import _
from churn_research.model import ChurnData, ChurnDataError


def simultaneous_ci(counts, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Goodman's simultaneous ``1 − alpha`` intervals for the shares of one categorical variable.

    ``statsmodels.stats.proportion.multinomial_proportions_confint(method="goodman")``: jointly
    cover all k shares with probability about ``1 − alpha`` (each is the Wilson interval at level
    ``1 − alpha / k``). Empty input gives empty arrays; all-zero counts give NaN.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.size == 0:
        return np.array([]), np.array([])
    if counts.sum() <= 0:
        nan = np.full(counts.shape, np.nan)
        return nan, nan.copy()
    ci = multinomial_proportions_confint(counts, alpha=alpha, method="goodman")
    return np.clip(ci[:, 0], 0, 1), np.clip(ci[:, 1], 0, 1)


# =============================================================================================
# exit reasons
# =============================================================================================
def has_reasons(data: ChurnData | pd.DataFrame, *, reason_col: str = "churn_reason") -> bool:
    """Whether the customers table records exit reasons for at least one churner."""
    customers = _customers(data)
    return reason_col in customers and customers.loc[
        customers["end_date"].notna(), reason_col].notna().any()


def _churners_with_reasons(data, reason_col: str, columns=None) -> pd.DataFrame:
    """The churners (only ``end_date``, the reason and ``columns`` when given), their reason as
    text, ``"unknown"`` where none was recorded."""
    customers = _customers(data)
    if reason_col not in customers:
        raise ChurnDataError(
            "there is no exit-reason column.", table="customers", column=reason_col,
            fix="map the exit reason column to 'churn_reason' in the dataset YAML, or skip the "
                "exit-reason analysis (check has_reasons(data) first).")
    keep = slice(None) if columns is None else \
        [c for c in dict.fromkeys(["end_date", reason_col, *columns]) if c in customers]
    churners = customers.loc[customers["end_date"].notna(), keep].copy()
    churners[reason_col] = pd.Series(text_or(churners[reason_col], "unknown"),
                                     index=churners.index, dtype=object)
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
        ``ci_low``/``ci_high``: simultaneous 95% intervals across the k reasons (Goodman's
        multinomial intervals, :func:`simultaneous_ci`; within each level of ``by``).
        ``attrs["n_reasons"]`` is k (the largest k of any level with ``by``).
    """
    if by is not None and by not in _customers(data) and reason_col in _customers(data):
        raise ChurnDataError(f"no column {by!r} to split the exit reasons by.",
                             table="customers", column=by,
                             fix="pick one of: " + ", ".join(map(str, _customers(data).columns)))
    churners = _churners_with_reasons(data, reason_col, [by] if by else [])
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
    counts["ci_low"], counts["ci_high"] = np.nan, np.nan
    groups = counts.groupby(keys).groups.values() if keys else [counts.index]
    for idx in groups:
        lo, hi = simultaneous_ci(counts.loc[idx, "count"])
        counts.loc[idx, "ci_low"], counts.loc[idx, "ci_high"] = lo, hi
    out = counts.reset_index(drop=True)
    out.attrs["n_reasons"] = int(out.groupby(keys).size().max() if keys else len(out))
    return out


@dataclass
class ReasonShift:
    """The exit-reason mix before vs after a business change.

    Attributes
    ----------
    table : DataFrame
        One row per reason: ``count_before``, ``count_after``, ``share_before``,
        ``share_after`` with their simultaneous 95% intervals across the k reasons (Goodman,
        ``share_before_low``, ..., ``share_after_high``), ``diff`` (after − before) and its
        interval ``ci_low``/``ci_high`` (Newcombe's hybrid score method from the simultaneous
        intervals: Bonferroni across the k differences), the adjusted standardised residual of
        the "after" cell, its two-sided ``p_value`` (this reason vs all others, before vs after)
        and the Holm-adjusted ``p_holm`` over the k reasons (``p_holm < alpha`` marks a reason
        whose share moved).
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

    def key_figures(self) -> dict[str, Any]:
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
        Family-wise level: the intervals are simultaneous ``1 − alpha`` intervals across the
        reasons, and ``p_holm`` controls the family-wise error of the per-reason tests.
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
    churners = _churners_with_reasons(data, reason_col, [])
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
        notes.append(_("some expected counts are below 5; the chi-square p-value is approximate."))
    n = n_a + n_b
    v = math.sqrt(chi2 / (n * max(min(tab.shape) - 1, 1)))
    out = tab.rename(columns={"before": "count_before", "after": "count_after"})
    out.index.name = "reason"
    out = out.reset_index()
    out["share_before"] = out["count_before"] / n_b
    out["share_after"] = out["count_after"] / n_a
    out["diff"] = out["share_after"] - out["share_before"]
    l1, u1 = simultaneous_ci(out["count_after"], alpha=alpha)
    l0, u0 = simultaneous_ci(out["count_before"], alpha=alpha)
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
    out["p_value"] = 2 * stats.norm.sf(out["residual"].abs())
    ok = out["p_value"].notna()
    out["p_holm"] = np.nan
    if ok.any():
        out.loc[ok, "p_holm"] = multipletests(out.loc[ok, "p_value"], alpha=alpha,
                                              method="holm")[1]
    out = out.sort_values("count_before", ascending=False).reset_index(drop=True)
    return ReasonShift(out, float(chi2), int(dof), float(p), float(v), n_b, n_a, change, notes)
