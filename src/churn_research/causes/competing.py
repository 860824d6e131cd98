"""Competing exit reasons: every churner leaves for one reason, so the reasons compete.

:func:`cumulative_incidence`
    The Aalen–Johansen estimate of each reason's cumulative incidence F_k(t) (the share of
    customers who have left *for reason k* by tenure t), on the one lifetime frame
    (:func:`churn_research.durations.durations`, with its delayed entry). "1 − Kaplan–Meier per
    reason" (the other reasons treated as censoring) overstates every reason, because it
    pretends a customer who left for another reason could still leave for this one; the
    Aalen–Johansen curves add up to the overall churn, ``Σ_k F_k(t) = 1 − S(t)``.
:func:`cause_specific_cox`
    A Cox model per main reason (exits for the other reasons censored): which drivers push which
    reason, as cause-specific hazard ratios.
:func:`annual_split`
    The project's one annual churn (:func:`churn_research.annual.annual_churn`) split into
    avoidable, unavoidable and other churn by a reason → group mapping (:data:`REASON_GROUPS`,
    seed 001's 主观原因 / 客观原因); the parts add up to the annual churn.
:func:`reason_truth`
    The generator's expected reason shares (synthetic data), to check the observed ones against.

Ties. lifelines' ``AalenJohansenFitter`` jitters tied event times of different reasons at
random (it cannot handle ties; ``jitter_level=0.0001``), which makes its curves depend on a seed
and only approximately add up to 1 − S(t). The estimator itself needs no jitter: at a tenure t_j
with n_j customers at risk, d_kj exits for reason k and d_j exits in all,
``F_k(t) = Σ_{t_j ≤ t} S(t_{j−1}) d_kj / n_j`` and ``S(t_j) = S(t_{j−1}) (1 − d_j / n_j)``, so
``Σ_k F_k(t) = 1 − S(t)`` exactly with ties. :func:`aalen_johansen` computes this from the event
table (with numpy) and the pointwise intervals by the same formula as lifelines (Greenwood-type
variance, Collett 3rd ed. p. 411, on the log(−log) scale); a test checks both against lifelines
on tie-free data and the sum against the Kaplan–Meier curve with ties.

Delayed entry: a customer is at risk at t when ``entry < t ≤ duration`` (those entering at 0
from the start), the convention of :func:`churn_research.annual.product_limit` and of lifelines'
``entry``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from churn_research.annual import AnnualChurn
from churn_research.causes.drivers import _design_matrix
from churn_research.causes.frame import DEFAULT_SCALES, TIME_VARYING, text_codes, text_or
from churn_research.causes.reasons import simultaneous_ci
from churn_research.durations import durations
from churn_research.model import ChurnData, ChurnDataError, on_books, read_parquet
from churn_research.models.coxfit import CoxPHFitter
from churn_research.stats import wilson_ci

__all__ = ["REASON_GROUPS", "GROUPS", "CumulativeIncidence", "aalen_johansen", "reason_frame",
           "cumulative_incidence", "cause_specific_cox", "main_reasons",
           "reason_heterogeneity", "AnnualSplit",
           "annual_split", "reason_group", "reason_truth"]

#: Default grouping of exit reasons: avoidable (the business can act on them: 主观原因) and
#: unavoidable (the customer's circumstances: 客观原因). Any reason not listed (``other``, no
#: reason recorded) counts as ``other``.
REASON_GROUPS: dict[str, str] = {
    "price": "avoidable", "service_quality": "avoidable", "product_quality": "avoidable",
    "competitor": "avoidable", "relocation": "unavoidable", "needs_changed": "unavoidable",
}
#: The groups, in the order reports show them.
GROUPS = ("avoidable", "unavoidable", "other")
#: What a churner without a recorded reason counts as (as in :func:`reason_pareto`).
UNKNOWN = "unknown"


def reason_group(reason: str, groups: Mapping[str, str] | None = None) -> str:
    """The group of one reason under ``groups`` (default :data:`REASON_GROUPS`): ``other`` when
    the reason is not listed."""
    groups = REASON_GROUPS if groups is None else groups
    return str(groups.get(str(reason), "other"))


def _check_groups(groups: Mapping[str, str]) -> None:
    bad = {k: v for k, v in groups.items() if v not in GROUPS}
    if bad:
        raise ChurnDataError(
            f"reason groups must be one of {', '.join(GROUPS)}; got {bad}.",
            parameter="reason_groups",
            fix="map each exit reason to avoidable, unavoidable or other.")


# =============================================================================================
# Aalen–Johansen
# =============================================================================================
def aalen_johansen(duration, cause, entry=None, *, alpha: float = 0.05) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of every cause, exact with tied times.

    Parameters
    ----------
    duration : array
        Time of exit or censoring.
    cause : array
        The cause of each exit (any hashable label); None or NaN for a censored customer.
    entry : array, optional
        Delayed entry (left truncation): at risk at t when ``entry < t ≤ duration``.
    alpha : float
        Pointwise ``1 − alpha`` intervals.

    Returns
    -------
    DataFrame
        One row per distinct time (sorted), columns ``time``, ``at_risk``, ``events``,
        ``survival`` (the overall Kaplan–Meier just after t) and per cause ``k``:
        ``("cif", k)``, ``("low", k)``, ``("high", k)``, ``("events", k)`` in a column
        MultiIndex under the top level; ``attrs["causes"]`` lists the causes (largest final
        incidence first).
    """
    duration = np.asarray(duration, dtype=float)
    codes, labels = text_codes(cause)  # (the text of each distinct cause; missing: -1)
    observed = codes >= 0
    times, inv = np.unique(duration, return_inverse=True)
    exits = np.bincount(inv, minlength=len(times)).astype(float)
    n = exits[::-1].cumsum()[::-1]
    if entry is not None:
        late = np.sort(np.asarray(entry, dtype=float))
        late = late[late > 0]
        n = n - (len(late) - np.searchsorted(late, times, side="left"))
    d = np.bincount(inv, weights=observed.astype(float), minlength=len(times))
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(n > 0, d / n, 0.0)
    surv = np.cumprod(1.0 - hazard)
    lag = np.concatenate([[1.0], surv[:-1]])
    causes = sorted(set(labels[np.unique(codes[observed])]))
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where((n > d) & (n > 0), d / (n * (n - d)), 0.0)
    cols: dict[tuple[str, str], np.ndarray] = {}
    finals = {}
    for k in causes:
        dk = np.bincount(inv, weights=np.isin(codes, np.flatnonzero(labels == k)),
                         minlength=len(times))
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(n > 0, lag * dk / n, 0.0)
            b = np.where(n > 0, lag**2 * dk * (n - dk) / n**3, 0.0)
            c = np.where(n > 0, lag * dk / n**2, 0.0)
        f = np.cumsum(step)
        # Var F(t) = Σ (F(t) − F_i)² a_i + Σ b_i − 2 Σ (F(t) − F_i) c_i over t_i ≤ t
        var = (f**2 * np.cumsum(a) - 2 * f * np.cumsum(a * f) + np.cumsum(a * f**2)
               + np.cumsum(b) - 2 * (f * np.cumsum(c) - np.cumsum(c * f)))
        var = np.maximum(var, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            loglog = np.log(-np.log(f))
            se = np.sqrt(var) / (f * np.abs(np.log(f)))
            one = np.exp(-np.exp(loglog + z * se))
            two = np.exp(-np.exp(loglog - z * se))
        low, high = np.fmin(one, two), np.fmax(one, two)
        low, high = np.where(f > 0, low, 0.0), np.where(f > 0, high, 0.0)
        cols[("cif", k)], cols[("low", k)], cols[("high", k)] = f, low, high
        cols[("events", k)] = dk
        finals[k] = f[-1] if len(f) else 0.0
    order = sorted(causes, key=lambda k: (-finals[k], k))
    out = pd.DataFrame({("time", ""): times, ("at_risk", ""): n, ("events", "all"): d,
                        ("survival", ""): surv, **cols})
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    out.attrs["causes"] = order
    return out


def reason_frame(data: ChurnData, *, reason_col: str = "churn_reason",
                 unit: str = "months", columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The lifetime frame of :func:`churn_research.durations.durations` with ``reason``: the
    exit reason of each churn (``"unknown"`` where none was recorded), None if censored.
    ``columns``: only these customer attributes besides the reason (default: all of them; ``()``
    for the lifetimes alone, as :func:`cumulative_incidence` needs them on a large base)."""
    if columns is not None:
        core = ["customer_id", "start_date", "end_date", reason_col]
        keep = [c for c in dict.fromkeys([*core, *columns]) if c in data.customers]
        data = data.replace(customers=data.customers[keep])
    frame = durations(data, unit=unit)
    if reason_col not in frame:
        raise ChurnDataError(
            "there is no exit-reason column.", table="customers", column=reason_col,
            fix="map the exit reason column to 'churn_reason' in the dataset YAML, or skip the "
                "competing-reasons analysis (check has_reasons(data) first).")
    reason = text_or(frame[reason_col], UNKNOWN)
    reason[frame["event"].to_numpy() != 1] = None  # censored: no reason
    frame["reason"] = pd.Series(reason, index=frame.index, dtype=object)
    return frame


@dataclass
class CumulativeIncidence:
    """Aalen–Johansen cumulative incidence per exit reason (see :func:`cumulative_incidence`).

    Attributes
    ----------
    table : DataFrame
        :func:`aalen_johansen`'s output (one row per distinct tenure).
    reasons : list of str
        The reasons, largest cumulative incidence at the last tenure first.
    unit : str
        Time unit of the tenures.
    entry : bool
        Whether delayed entry (left truncation) was used.
    n, n_events : int
        Customers and churn events.
    """

    table: pd.DataFrame
    reasons: list[str]
    unit: str
    entry: bool
    n: int
    n_events: int

    @property
    def times(self) -> np.ndarray:
        return self.table[("time", "")].to_numpy(float)

    def long(self) -> pd.DataFrame:
        """``time, reason, cif, ci_low, ci_high`` for every reason (for plotting)."""
        parts = [pd.DataFrame({"time": self.times, "reason": k,
                               "cif": self.table[("cif", k)].to_numpy(),
                               "ci_low": self.table[("low", k)].to_numpy(),
                               "ci_high": self.table[("high", k)].to_numpy()})
                 for k in self.reasons]
        return pd.concat(parts, ignore_index=True)

    def at(self, horizons: Sequence[float]) -> pd.DataFrame:
        """Cumulative incidence of each reason at ``horizons`` (a right-continuous step; NaN
        beyond the last tenure), with its interval, plus the row ``"all reasons"`` =
        1 − Kaplan–Meier. Columns ``reason, horizon, cif, ci_low, ci_high``; ``attrs["max_time"]``.
        """
        h = np.asarray(list(horizons), dtype=float)
        pos = np.searchsorted(self.times, h, side="right") - 1
        beyond = h > self.times[-1]
        rows = []

        def pick(col) -> np.ndarray:
            v = self.table[col].to_numpy(float)
            out = np.where(pos >= 0, v[np.clip(pos, 0, None)], 0.0)
            return np.where(beyond, np.nan, out)

        for k in self.reasons:
            for hi, f, lo, up in zip(h, pick(("cif", k)), pick(("low", k)), pick(("high", k)),
                                     strict=True):
                rows.append({"reason": k, "horizon": hi, "cif": f, "ci_low": lo, "ci_high": up})
        s = pick(("survival", ""))
        s = np.where((pos < 0) & ~beyond, 1.0, s)
        for hi, v in zip(h, s, strict=True):
            rows.append({"reason": "all reasons", "horizon": hi, "cif": 1 - v,
                         "ci_low": np.nan, "ci_high": np.nan})
        out = pd.DataFrame(rows)
        out.attrs["max_time"] = float(self.times[-1])
        return out

    def wide(self, horizons: Sequence[float]) -> pd.DataFrame:
        """:meth:`at` as one row per reason and one column per horizon (cumulative incidence)."""
        at = self.at(horizons)
        out = at.pivot(index="reason", columns="horizon", values="cif")
        return out.reindex([*self.reasons, "all reasons"])

    def key_figures(self, horizons: Sequence[float]) -> dict:
        at = self.at(horizons)
        return {r: {f"cif_{int(h) if float(h).is_integer() else h}": v
                    for h, v in zip(g["horizon"], g["cif"], strict=True)}
                for r, g in at.groupby("reason", sort=False)}


def cumulative_incidence(data: ChurnData | pd.DataFrame, *, reason_col: str = "churn_reason",
                         use_entry: bool = True, alpha: float = 0.05) -> CumulativeIncidence:
    """Aalen–Johansen cumulative incidence per exit reason over tenure (months).

    Parameters
    ----------
    data : ChurnData or DataFrame
        A ChurnData, or :func:`reason_frame`'s output.
    use_entry : bool
        Respect delayed entry (left truncation) in the risk sets, as 30_survival does.
    alpha : float
        Pointwise ``1 − alpha`` intervals.
    """
    frame = reason_frame(data, reason_col=reason_col) if isinstance(data, ChurnData) else data
    entry = frame["entry"].to_numpy(float) if use_entry and "entry" in frame \
        and (frame["entry"] > 0).any() else None
    table = aalen_johansen(frame["duration"], frame["reason"], entry, alpha=alpha)
    return CumulativeIncidence(table, table.attrs["causes"], str(frame.attrs.get("unit", "months")),
                               entry is not None, len(frame), int(frame["event"].sum()))


# =============================================================================================
# cause-specific hazards
# =============================================================================================
def main_reasons(frame: pd.DataFrame, k: int = 4) -> list[str]:
    """The ``k`` most frequent exit reasons of a :func:`reason_frame` (``other`` and no reason
    recorded left out: a hazard ratio for "other" says little)."""
    counts = frame["reason"].dropna().value_counts()
    counts = counts[~counts.index.isin(["other", UNKNOWN])]
    return counts.sort_values(ascending=False, kind="stable").head(int(k)).index.tolist()


def cause_specific_cox(data: ChurnData | pd.DataFrame, *, drivers: Sequence[str],
                       reasons: Sequence[str] | int = 4, reference: Mapping[str, str] | None = None,
                       reason_col: str = "churn_reason", use_entry: bool = True,
                       alpha: float = 0.05, min_level_count: int = 30) -> pd.DataFrame:
    """A Cox model per exit reason, the exits for the other reasons censored.

    Parameters
    ----------
    data : ChurnData or DataFrame (:func:`reason_frame`)
    drivers : sequence of str
        Customer columns measured once per customer (time-varying drivers are left out: they
        would need episode splitting); coded as in the driver model (same reference levels, age
        per 10 years).
    reasons : sequence of str or int
        The reasons, or how many of the most frequent (:func:`main_reasons`).
    reference : mapping, optional
        Reference level per categorical driver (default: the most frequent).
    use_entry : bool
        Delayed entry (``entry_col``), as the survival stage's Cox model.

    Returns
    -------
    DataFrame
        ``reason, term, hr, ci_low, ci_high, p_value, coef, se, events`` (Efron ties,
        lifelines' ``CoxPHFitter``); ``attrs``: ``reasons``, ``drivers`` (those used), ``left_out``
        (time-varying ones), ``reference`` (term -> reference level).
    """
    frame = reason_frame(data, reason_col=reason_col) if isinstance(data, ChurnData) else data
    left_out = [d for d in drivers if d in TIME_VARYING or d not in frame]
    used = [d for d in drivers if d not in left_out]
    if not used:
        raise ChurnDataError("no customer-level driver to model the exit reasons by.",
                             parameter="drivers",
                             fix="list customer columns (plan, contract, ...) as drivers.")
    if isinstance(reasons, int):
        reasons = main_reasons(frame, reasons)
    frame = frame.dropna(subset=used).reset_index(drop=True)
    x, terms, _notes = _design_matrix(frame, used, reference=dict(reference or {}),
                                      scales=DEFAULT_SCALES, min_level_count=min_level_count,
                                      duration=None, duration_knots=())
    x = x.drop(columns="const")
    x = x.loc[:, x.std() > 0]
    base = x.copy()
    base["duration"] = np.maximum(frame["duration"].to_numpy(float), 1e-6)
    entry = use_entry and (frame["entry"] > 0).any()
    if entry:
        base["entry"] = np.minimum(frame["entry"].to_numpy(float), base["duration"] - 1e-9)
        base["entry"] = base["entry"].clip(lower=0)
    rows = []
    for r in reasons:
        df = base.assign(event=(frame["reason"] == r).to_numpy(int))
        cph = CoxPHFitter(alpha=alpha)
        cph.fit(df, duration_col="duration", event_col="event",
                entry_col="entry" if entry else None)
        s = cph.summary
        lo_col = [c for c in s.columns if c.startswith("exp(coef) lower")][0]
        hi_col = [c for c in s.columns if c.startswith("exp(coef) upper")][0]
        for term, row in s.iterrows():
            rows.append({"reason": r, "term": term, "hr": row["exp(coef)"],
                         "ci_low": row[lo_col], "ci_high": row[hi_col], "p_value": row["p"],
                         "coef": row["coef"], "se": row["se(coef)"],
                         "events": int(df["event"].sum())})
    out = pd.DataFrame(rows)
    out.attrs.update({"reasons": list(reasons), "drivers": used, "left_out": left_out,
                      "reference": {tm.term: tm.reference for tm in terms}})
    return out


def reason_heterogeneity(hazards: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Does a driver's effect differ between the reasons? Cochran's Q per term.

    The cause-specific partial likelihoods factor over the reasons, so the models' estimates are
    (asymptotically) independent and ``Q = Σ_r w_r (β_r − β̄)²`` (``w_r = 1/se_r²``, ``β̄`` their
    weighted mean) is chi-square with k − 1 df when the effect is the same for every reason.
    Holm-adjusted over the terms.

    Returns ``term, q, dof, p_value, p_holm, differs, reason`` (the reason farthest from the
    others, in standard errors), ``hr`` (its ratio), ``others_low``/``others_high`` (the range of
    the other reasons' ratios), most heterogeneous first.
    """
    rows = []
    for term, g in hazards.groupby("term", sort=False):
        g = g[np.isfinite(g["se"]) & (g["se"] > 0)]
        if len(g) < 2:
            continue
        w = 1 / g["se"].to_numpy() ** 2
        b = g["coef"].to_numpy()
        mean = float((w * b).sum() / w.sum())
        q = float((w * (b - mean) ** 2).sum())
        far = int(np.argmax(np.sqrt(w) * np.abs(b - mean)))
        others = np.delete(g["hr"].to_numpy(), far)
        rows.append({"term": term, "q": q, "dof": len(g) - 1,
                     "p_value": float(stats.chi2.sf(q, len(g) - 1)),
                     "reason": g["reason"].iloc[far], "hr": float(g["hr"].iloc[far]),
                     "others_low": float(others.min()), "others_high": float(others.max())})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = multipletests(out["p_value"], method="holm")[1]
    out["differs"] = out["p_holm"] < alpha
    return out.sort_values("q", ascending=False).reset_index(drop=True)


# =============================================================================================
# avoidable vs unavoidable churn
# =============================================================================================
@dataclass
class AnnualSplit:
    """The annual churn split by reason group (see :func:`annual_split`).

    ``table``: one row per group: ``group, lost, share`` (of the exits), ``rate`` (its part of
    the annual churn) and ``ci_low``/``ci_high`` (Wilson, window method only); ``annual`` the
    :class:`~churn_research.annual.AnnualChurn` it splits; ``groups`` the mapping used;
    ``basis``: ``"window"`` (the exits in the annual-churn window) or ``"all exits"`` (the shares
    of every recorded exit, for a survival-curve annual churn).
    """

    table: pd.DataFrame
    annual: AnnualChurn
    groups: dict[str, str]
    basis: str

    def rate(self, group: str) -> float:
        return float(self.table.set_index("group").loc[group, "rate"])

    def key_figures(self) -> dict:
        members = {f"{g}_reasons": [r for r, v in self.groups.items() if v == g]
                   for g in ("avoidable", "unavoidable")}
        return {"rate": self.annual.rate, "basis": self.basis, **members,
                **{r.group: {"rate": r.rate, "share": r.share, "lost": r.lost}
                   for r in self.table.itertuples()}}


def annual_split(data: ChurnData, annual: AnnualChurn, *, groups: Mapping[str, str] | None = None,
                 reason_col: str = "churn_reason") -> AnnualSplit:
    """Split the annual churn into avoidable, unavoidable and other churn.

    With a window annual churn (customers on the books at the window start, the share of them
    lost by its end) each group's part is the share of the same base lost for a reason of that
    group, so the parts add up to the annual churn (annualised windows: scaled by the same
    factor). With a survival-curve annual churn (one snapshot) the annual churn is split by the
    shares of every recorded exit.
    """
    groups = dict(REASON_GROUPS if groups is None else groups)
    _check_groups(groups)
    cust = data.customers
    # each customer's group through the distinct reasons (no string per customer)
    codes, names = text_codes(cust[reason_col]) if reason_col in cust else \
        (np.full(len(cust), -1, dtype=np.intp), np.array([], dtype=object))
    group_of = np.array([list(GROUPS).index(reason_group(r, groups)) for r in [*names, UNKNOWN]])
    group = group_of[codes]  # code -1 (missing): the group of "unknown"
    if annual.method.startswith("window"):
        w0, w1 = annual.window_start, annual.window_end
        lost = on_books(cust, w0) & ~on_books(cust, w1)
        basis, base = "window", annual.at_risk
    else:
        lost = cust["end_date"].notna()
        basis, base = "all exits", None
    counts = pd.Series(np.bincount(group[np.asarray(lost, dtype=bool)], minlength=len(GROUPS)),
                       index=list(GROUPS))
    total = int(counts.sum())
    rows = []
    for g, k in counts.items():
        share = k / total if total else float("nan")
        if basis == "window" and annual.method == "window":
            rate = k / base if base else float("nan")
            lo, hi = (float(v) for v in wilson_ci(int(k), int(base)))
        else:
            rate, lo, hi = annual.rate * share, float("nan"), float("nan")
        rows.append({"group": g, "lost": int(k), "share": share, "rate": rate,
                     "ci_low": lo, "ci_high": hi})
    return AnnualSplit(pd.DataFrame(rows), annual, groups, basis)


# =============================================================================================
# the generator's truth
# =============================================================================================
def reason_truth(data: ChurnData, *, reason_col: str = "churn_reason",
                 complaint_window_days: float | None = None) -> pd.DataFrame | None:
    """The generator's expected exit-reason shares among the churners, against the observed ones.

    The synthetic generator draws each churner's reason with probability proportional to
    ``truth["reason_weights"]``, multiplied by ``truth["reason_multipliers"]`` where the
    churner had a price rise, a complaint in the ``complaint_window_days`` before leaving or
    left on or after the change date. The expected share of reason k is the mean of those
    probabilities over the churners (the flags read off the data), so the observed shares
    should lie within their simultaneous intervals.

    Returns ``reason, observed, expected, count, ci_low, ci_high, covered`` (Goodman's
    simultaneous 95% intervals of the observed shares); ``attrs["p_value"]``: chi-square
    goodness of fit. None without a recorded truth.
    """
    truth = (data.meta or {}).get("truth") or {}
    weights = truth.get("reason_weights")
    if not weights or reason_col not in data.customers:
        return None
    mults = truth.get("reason_multipliers") or {}
    window = float(complaint_window_days or truth.get("complaint_window_days") or 90)
    cust = data.customers
    used = [c for c in ("customer_id", "end_date", reason_col, "price_rise") if c in cust]
    churners = cust.loc[cust["end_date"].notna() & cust[reason_col].notna(), used]
    end = pd.to_datetime(churners["end_date"])
    flags = {"price_rise": churners["price_rise"].astype(bool).to_numpy()
             if "price_rise" in churners else np.zeros(len(churners), bool),
             "after_change": (end >= pd.Timestamp(truth["change_date"])).to_numpy()
             if truth.get("change_date") else np.zeros(len(churners), bool),
             "complaint_90d": np.zeros(len(churners), bool)}
    if data.has("tickets"):
        comp = _complaints(data)
        m = comp.merge(pd.DataFrame({"customer_id": churners["customer_id"].to_numpy(),
                                     "end": end.to_numpy()}), on="customer_id")
        gap = (m["end"] - pd.to_datetime(m["date"])).dt.days
        hit = set(m.loc[(gap >= 0) & (gap <= window), "customer_id"])
        flags["complaint_90d"] = churners["customer_id"].isin(hit).to_numpy()
    reasons = list(weights)
    w = np.tile(np.array([weights[r] for r in reasons], dtype=float), (len(churners), 1))
    for j, r in enumerate(reasons):
        for flag, mult in (mults.get(r) or {}).items():
            if flag in flags:
                w[:, j] *= np.where(flags[flag], float(mult), 1.0)
    expected = (w / w.sum(axis=1, keepdims=True)).mean(axis=0)
    counts = churners[reason_col].astype(str).value_counts().reindex(reasons, fill_value=0)
    lo, hi = simultaneous_ci(counts.to_numpy())
    out = pd.DataFrame({"reason": reasons, "count": counts.to_numpy(),
                        "observed": counts.to_numpy() / counts.sum(), "expected": expected,
                        "ci_low": lo, "ci_high": hi})
    out["covered"] = (out["ci_low"] <= out["expected"]) & (out["expected"] <= out["ci_high"])
    chi2 = float((((out["count"] - expected * counts.sum()) ** 2) / (expected * counts.sum())).sum())
    out.attrs["p_value"] = float(stats.chi2.sf(chi2, len(reasons) - 1))
    out.attrs["chi2"] = chi2
    return out.sort_values("expected", ascending=False).reset_index(drop=True)


def _complaints(data: ChurnData) -> pd.DataFrame:
    """``customer_id, date`` of the complaint tickets: read from disk (only these columns, and
    not kept in ``data``) while the tickets table is not in memory, as a large base's is not."""
    path = data.unread_path("tickets")
    tk = data.tickets if path is None else read_parquet(path, columns=["customer_id", "date", "kind"])
    codes, kinds = text_codes(tk["kind"])
    hit = np.isin(codes, np.flatnonzero(kinds == "complaint"))
    return tk.loc[hit, ["customer_id", "date"]]


def true_cause_hr(truth: Mapping | None, hrs: pd.DataFrame) -> pd.DataFrame | None:
    """The generator's (approximate) cause-specific hazard ratios beside the estimates.

    The generator's hazard of leaving for reason k is the all-cause hazard times the chance of
    reason k, ``λ_k = λ · w_k m_k / Σ_j w_j m_j`` (weights ``w``, multipliers ``m`` of the
    churner's flags). A driver that no reason multiplier uses has the same hazard ratio for
    every reason, its all-cause ``exp(log_hr)``; a flag with multipliers (``price_rise``)
    multiplies reason k's hazard ratio by ``m_k · Σ_j w_j / Σ_j w_j m_j``. The other flags
    (complaint, after the change) are held at "no" — hence approximate: with them the factor
    moves by a few per cent.

    Returns ``hrs`` with ``true_hr`` and ``covered`` (the interval covers it) for the terms the
    truth knows, or None without a truth.
    """
    if not truth or not truth.get("log_hr"):
        return None
    log_hr = truth["log_hr"]
    weights = truth.get("reason_weights") or {}
    mults = truth.get("reason_multipliers") or {}
    total = sum(weights.values())
    out = hrs[hrs["term"].isin(list(log_hr))].copy()

    def factor(reason: str, term: str) -> float:
        if not total or reason not in weights:
            return 1.0
        with_flag = sum(w * float((mults.get(r) or {}).get(term, 1.0)) for r, w in weights.items())
        return float((mults.get(reason) or {}).get(term, 1.0)) * total / with_flag

    out["true_hr"] = [float(np.exp(log_hr[r.term])) * factor(r.reason, r.term)
                      for r in out.itertuples()]
    out["covered"] = (out["ci_low"] <= out["true_hr"]) & (out["true_hr"] <= out["ci_high"])
    return out.reset_index(drop=True)


@dataclass
class CompetingReasons:
    """Everything the competing-reasons section shows (see :func:`competing_reasons`)."""

    incidence: CumulativeIncidence
    horizons: list[float]
    hazards: pd.DataFrame
    hazard_truth: pd.DataFrame | None
    split: AnnualSplit
    shares_truth: pd.DataFrame | None

    def key_figures(self) -> dict:
        out: dict = {"cif": self.incidence.key_figures(self.horizons),
                     "entry": self.incidence.entry,
                     "annual_split": self.split.key_figures(),
                     "cause_specific": {
                         r: {g.term: {"hr": g.hr, "ci_low": g.ci_low, "ci_high": g.ci_high,
                                      "p_value": g.p_value} for g in grp.itertuples()}
                         for r, grp in self.hazards.groupby("reason", sort=False)}}
        het = reason_heterogeneity(self.hazards)
        if len(het):
            out["differs_by_reason"] = {r.term: {"reason": r.reason, "p_holm": r.p_holm}
                                        for r in het[het["differs"]].itertuples()}
        if self.hazard_truth is not None:
            out["cause_specific_truth"] = {"covered": int(self.hazard_truth["covered"].sum()),
                                           "terms": len(self.hazard_truth)}
        if self.shares_truth is not None:
            out["reason_truth"] = {"covered": int(self.shares_truth["covered"].sum()),
                                   "reasons": len(self.shares_truth),
                                   "p_value": self.shares_truth.attrs["p_value"]}
        return out
