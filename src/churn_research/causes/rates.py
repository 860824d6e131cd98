"""Driver-by-driver churn rates: :func:`driver_rates` (churn rate per level or bin with Wilson
intervals), :func:`driver_tests` (chi-square test of independence and a Cochran–Armitage trend
test for ordered drivers) and :func:`dose_response` (complaints in the previous 90 days, the last
satisfaction answer).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from churn_research.causes.frame import (
    TIME_VARYING,
    customer_frame,
    default_drivers,
    person_period,
    text_codes,
)
from churn_research.model import ChurnData, ChurnDataError
from churn_research.stats import cochran_armitage, poisson_rate_ci, wilson_ci
from churn_research.wording.drivers import LOG2_SUFFIX


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


def _money_range(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}".removesuffix(".0")


def _binned(s: pd.Series, bins) -> tuple[pd.Series, bool]:
    """Levels for a driver: categorical as is, numeric binned (quantiles or given edges); a
    log2(1 + x) driver (name ending ``_log2``) labelled by the range of x itself."""
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
            if str(s.name).endswith(LOG2_SUFFIX):  # log2(1 + x): the range of x itself
                lo = max(iv.left, s.min())
                return f"{_money_range(2 ** lo - 1)}–{_money_range(2 ** iv.right - 1)}"
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


def _is_text(s: pd.Series) -> bool:
    """A text column (object or string dtype, not categorical) of the kind :func:`_binned` keeps
    as its levels."""
    return (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)) \
        and not isinstance(s.dtype, pd.CategoricalDtype) and not _is_indicator(s) \
        and not _is_numeric(s)


def _text_counts(s: pd.Series, outcome: pd.Series) -> pd.DataFrame:
    """``level, n, churned`` per distinct value of a text driver, in the order of first
    appearance, missing values left out: what ``groupby(level, sort=False)`` of
    :func:`_binned`'s levels gives, counted on codes (a 10^7-row base's object strings took
    gigabytes)."""
    codes, texts = text_codes(s)  # (the level's text: what the caller's astype(str) gives)
    known = codes >= 0
    churned = known & outcome.to_numpy(dtype=bool)
    return pd.DataFrame({"level": pd.Series(texts, dtype=object),
                         "n": np.bincount(codes[known], minlength=len(texts)).astype(np.int64),
                         "churned": np.bincount(codes[churned], minlength=len(texts)).astype(np.int64)})


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
    if drivers is None:
        drivers = [d for d in default_drivers(data) if d not in TIME_VARYING]
    frame = customer_frame(data, study_start=study_start, horizon_months=horizon_months,
                           columns=drivers)
    frame = frame.loc[frame["eligible"], [c for c in dict.fromkeys([*drivers, "outcome"]) if c in frame]]
    base = frame["outcome"].mean()
    rows = []
    for d in drivers:
        if d not in frame:
            continue
        b = bins.get(d, 4) if isinstance(bins, Mapping) else bins
        if _is_text(frame[d]):  # as the groupby below would count them, without a string per row
            tab, ordered = _text_counts(frame[d], frame["outcome"]), False
        else:
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

    The drivers are one family of tests, so the chi-square p-values are also adjusted for
    multiple testing with Holm's method, as 30_survival's pairwise tests are: ``p_holm``.

    Parameters
    ----------
    rates : DataFrame
        The output of :func:`driver_rates` (or :func:`dose_response`, columns ``n`` and
        ``churned``).

    Returns
    -------
    DataFrame
        ``driver, levels, chi2, dof, p_value, p_holm, trend_z, trend_p_value, lowest, highest,
        max_ratio`` (highest / lowest level churn rate), sorted by p-value. ``p_holm`` is the
        Holm-adjusted ``p_value`` over the drivers (NaN where the test was not possible).
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
    out = pd.DataFrame(rows).sort_values("p_value").reset_index(drop=True)
    adjusted = np.full(len(out), np.nan)
    ok = out["p_value"].notna().to_numpy()
    if ok.any():
        adjusted[ok] = multipletests(out.loc[ok, "p_value"].to_numpy(), method="holm")[1]
    out.insert(out.columns.get_loc("p_value") + 1, "p_holm", adjusted)
    return out


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
