"""Complaint handling: complaint rate as an early-warning indicator (with its own control chart
beside churn's), resolution rate and time to resolution per period, churn after resolved vs
unresolved complaints and by resolution time (dose–response), and complaints before/after the
business change.

Definitions
-----------
A *complaint* is a ticket whose ``kind`` is ``"complaint"``. Its *resolution time* is
``resolution_days`` when ``resolved`` is true; an unresolved complaint has none.

``complaint share`` (per period)
    customers with at least one complaint in the period / customers on the books at some time in
    it (:func:`~churn_research.indicators.complaint_table`'s ``share_complaining``): a
    proportion, so the control chart is a p-chart (Laney p′ when the baseline is overdispersed),
    the same code as churn's (:class:`~churn_research.indicators.impact.ControlChart`).
``resolution rate``
    complaints of the period resolved by the snapshot / complaints of the period.
``within target``
    complaints resolved within ``service_target_days`` / complaints of the period whose target
    date is on or before the snapshot (a later one cannot be judged yet).
``churn within N days``
    the complaining customer's end date falls within ``N`` days after the complaint (on the
    complaint day excluded); only complaints with ``N`` days of follow-up before the snapshot
    count, and a complaint within ``N`` days after an earlier complaint of the same customer is
    not counted again (one churn, one complaint episode).

Caveat (said in the report): a customer who leaves before their complaint is handled may see it
closed unresolved because they left, which makes "unresolved" look worse than it is; the
resolution bands are then a description, not an effect estimate, outside the synthetic data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from churn_research.i18n import _, t
from churn_research.indicators.churn import churn_table
from churn_research.indicators.experience import complaint_table
from churn_research.indicators.grid import periods
from churn_research.indicators.impact import ControlChart, before_after
from churn_research.indicators.window import observation_window
from churn_research.model import ChurnData
from churn_research.stats import cochran_armitage, ratio_test, wilson_ci

__all__ = [
    "ComplaintHandling",
    "complaint_handling",
    "complaints",
    "resolution_table",
    "resolution_bands",
    "complaint_churn",
    "UNRESOLVED",
    "band_label",
]

#: The band of complaints that were never resolved.
UNRESOLVED = "unresolved"


def complaints(data: ChurnData, *, kinds: Sequence[str] = ("complaint",)) -> pd.DataFrame | None:
    """The complaint tickets with ``resolved`` and ``resolution_days`` (None if the data have no
    tickets with these columns)."""
    if not data.has("tickets"):
        return None
    tk = data.tickets
    if not {"kind", "date", "customer_id"} <= set(tk.columns):
        return None
    out = tk.loc[tk["kind"].astype(str).str.lower().isin([k.lower() for k in kinds])].copy()
    out["date"] = pd.to_datetime(out["date"])
    return out


def _has_resolution(comp: pd.DataFrame | None) -> bool:
    return (comp is not None and len(comp) > 0 and "resolved" in comp.columns
            and "resolution_days" in comp.columns)


def _weights(comp: pd.DataFrame) -> np.ndarray:
    """How many complaints each row stands for: 1 for a ticket, ``n`` for a row of the engine's
    counts (:meth:`~churn_research.sources.engine.Tables.complaint_days`: no customer ids;
    a ticket's own column ``n``, if any, is no count)."""
    if "n" in comp.columns and "customer_id" not in comp.columns:
        return comp["n"].to_numpy(np.int64)
    return np.ones(len(comp), np.int64)


def _engine(tables):
    """``tables`` when they hold the tickets (the engine path), else None (pandas)."""
    return tables if tables is not None and tables.has("tickets") else None


def _complaint_days(data: ChurnData, kinds: Sequence[str], tables=None) -> pd.DataFrame | None:
    """The complaints: one row per ticket (pandas), or per distinct date and resolution with
    their count ``n`` (the engine's ``tables``: the tickets stay out of memory)."""
    if _engine(tables) is None:
        return complaints(data, kinds=kinds)
    if not {"kind", "date", "customer_id"} <= set(tables.tickets.columns):
        return None
    return tables.complaint_days(kinds=tuple(kinds))


def _repeat(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``values`` each repeated as often as it counts (itself for tickets)."""
    return values if (weights == 1).all() else np.repeat(values, weights)


def _resolved(comp: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ok = comp["resolved"].fillna(False).astype(bool).to_numpy()
    days = pd.to_numeric(comp["resolution_days"], errors="coerce").to_numpy(float)
    ok &= ~np.isnan(days)
    return ok, np.where(ok, days, np.nan)


def resolution_table(data: ChurnData, *, freq: str = "Q", service_target_days: float = 7,
                     kinds: Sequence[str] = ("complaint",), alpha: float = 0.05,
                     tables=None) -> pd.DataFrame:
    """Resolution rate and time to resolution of the complaints of each period.

    Returns one row per period of the observation window: ``complaints``, ``resolved``,
    ``resolution_rate`` (with Wilson ``resolution_ci_low`` / ``_high``), ``median_days`` (of the
    resolved ones), ``due`` (complaints whose target date ``date + service_target_days`` is on
    or before the snapshot), ``within_target`` and ``within_target_rate`` (with a Wilson interval).

    Examples
    --------
    A hand-made frame: resolution days 1, 3, 10 and one unresolved complaint, target 5 days:
    median 3 days, resolution rate 3/4, within target 2/4.

    ``tables``: the same data as engine tables: the complaints counted there (the same numbers).
    """
    comp = _complaint_days(data, kinds, tables)
    if not _has_resolution(comp):
        raise ValueError("resolution_table needs tickets with resolved and resolution_days.")
    w0, w1 = observation_window(data)
    per = periods(w0, w1, freq=freq)
    comp = comp[(comp["date"] >= w0) & (comp["date"] <= w1)]
    code = np.searchsorted(per["period_start"].to_numpy(), comp["date"].to_numpy(), side="right") - 1
    ok, days = _resolved(comp)
    w = _weights(comp)
    target = float(service_target_days)
    due = (comp["date"] + pd.to_timedelta(target, unit="D") <= data.observation_end).to_numpy()
    within = ok & (days <= target)
    P = len(per)
    n = np.bincount(code, weights=w, minlength=P).astype(np.int64)
    res = np.bincount(code, weights=ok * w, minlength=P)
    n_due = np.bincount(code, weights=due * w, minlength=P)
    n_within = np.bincount(code, weights=(within & due) * w, minlength=P)
    med = (pd.Series(_repeat(days[ok], w[ok])).groupby(_repeat(code[ok], w[ok])).median()
           .reindex(range(P)).to_numpy())
    out = per[["period", "period_start", "period_end", "partial"]].copy()
    out["complaints"] = n
    out["resolved"] = res.astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["resolution_rate"] = np.where(n > 0, res / np.maximum(n, 1), np.nan)
        out["resolution_ci_low"], out["resolution_ci_high"] = wilson_ci(res, n, alpha=alpha)
        out["median_days"] = med
        out["due"] = n_due.astype(int)
        out["within_target"] = n_within.astype(int)
        out["within_target_rate"] = np.where(n_due > 0, n_within / np.maximum(n_due, 1), np.nan)
    out["within_ci_low"], out["within_ci_high"] = wilson_ci(n_within, n_due, alpha=alpha)
    out.attrs.update(freq=per.attrs.get("freq"), service_target_days=target)
    return out


def resolution_bands(days: np.ndarray, resolved: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Band labels of resolution times: ``"≤ a days"``, ``"a–b days"``, ``"> z days"`` (right-
    closed) and :data:`UNRESOLVED`; the labels are data labels (translated where shown)."""
    edges = sorted(float(e) for e in edges)
    names = _band_names(edges)
    idx = np.searchsorted(np.asarray(edges), np.nan_to_num(days, nan=0.0), side="left")
    out = np.asarray(names, dtype=object)[idx]
    out[~np.asarray(resolved, bool)] = UNRESOLVED
    return out


def band_label(band: str) -> str:
    """A band of :func:`resolution_bands` in the report language."""
    if band == UNRESOLVED:
        return _("never resolved")
    if band.startswith("≤ "):
        return t("within {a} days", a=band[2:].split(" ")[0])
    if band.startswith("> "):
        return t("over {a} days", a=band[2:].split(" ")[0])
    a, b = band.split(" ")[0].split("–")
    return t("{a}–{b} days", a=a, b=b)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _band_names(edges: Sequence[float]) -> list[str]:
    names = [f"≤ {_fmt(edges[0])} days"]
    names += [f"{_fmt(a)}–{_fmt(b)} days" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    names.append(f"> {_fmt(edges[-1])} days")
    return names


def _episodes(data: ChurnData, comp: pd.DataFrame, within_days: int) -> pd.DataFrame:
    """Per complaint ticket (pandas): ``first``, ``followed``, ``churned`` as
    :meth:`~churn_research.sources.engine.Tables.complaint_episodes` counts them."""
    N = pd.Timedelta(days=int(within_days))
    comp = comp.sort_values(["customer_id", "date"], kind="mergesort")
    prev = comp.groupby("customer_id", sort=False)["date"].shift()
    out = comp[["resolved", "resolution_days"]].copy()
    out["first"] = (prev.isna() | (comp["date"] - prev > N)).to_numpy()
    out["followed"] = (comp["date"] + N <= data.observation_end).to_numpy()
    end = comp["customer_id"].map(data.customers.set_index("customer_id")["end_date"])
    end = pd.to_datetime(end)
    out["churned"] = ((end > comp["date"]) & (end <= comp["date"] + N)).to_numpy()
    return out


def complaint_churn(data: ChurnData, *, within_days: int = 90, bands: Sequence[float] = (3, 7, 14),
                    kinds: Sequence[str] = ("complaint",), alpha: float = 0.05,
                    tables=None) -> pd.DataFrame:
    """Churn within ``within_days`` after a complaint, by resolution-time band (dose–response).

    One row per band, fastest first and :data:`UNRESOLVED` last: ``band``, ``complaints``,
    ``churned``, ``churn_rate`` with Wilson ``ci_low`` / ``ci_high``. ``attrs``: ``trend_z``,
    ``trend_p`` (Cochran–Armitage over the ordered bands, unresolved scored one step beyond the
    slowest), ``resolved_rate`` / ``unresolved_rate`` and their ``risk_ratio`` with CI and p
    (unresolved vs resolved), ``excess`` (unresolved minus the fastest band, with Newcombe
    interval), ``within_days``, ``excluded_followup`` (complaints too recent to follow).
    ``tables``: the same data as engine tables: the episodes counted there (the same numbers).
    """
    if _engine(tables) is None:
        comp = complaints(data, kinds=kinds)
        if not _has_resolution(comp):
            raise ValueError("complaint_churn needs tickets with resolved and resolution_days.")
        ep = _episodes(data, comp, within_days)
    else:
        ep = tables.complaint_episodes(kinds=tuple(kinds), within_days=int(within_days))
        if not {"resolved", "resolution_days"} <= set(ep.columns) or not len(ep):
            raise ValueError("complaint_churn needs tickets with resolved and resolution_days.")
    w = _weights(ep)
    first, followed = ep["first"].to_numpy(bool), ep["followed"].to_numpy(bool)
    excluded = int(w[first & ~followed].sum())
    keep = first & followed
    ep, w = ep[keep], w[keep]
    churned = ep["churned"].to_numpy(bool)
    ok, days = _resolved(ep)
    band = resolution_bands(days, ok, bands)
    names = [*_band_names(sorted(float(b) for b in bands)), UNRESOLVED]
    n = np.array([w[band == b].sum() for b in names], dtype=float)
    k = np.array([w[churned & (band == b)].sum() for b in names], dtype=float)
    lo, hi = wilson_ci(k, n, alpha=alpha)
    out = pd.DataFrame({"band": names, "band_label": [band_label(b) for b in names],
                        "complaints": n.astype(int), "churned": k.astype(int),
                        "churn_rate": np.where(n > 0, k / np.maximum(n, 1), np.nan),
                        "ci_low": lo, "ci_high": hi})
    keep = n > 0
    z, p = cochran_armitage(k[keep], n[keep], np.arange(len(n))[keep])
    kr, nr = k[:-1].sum(), n[:-1].sum()
    ku, nu = k[-1], n[-1]
    attrs: dict[str, Any] = {"within_days": int(within_days), "trend_z": z, "trend_p": p,
                             "excluded_followup": excluded,
                             "resolved_rate": kr / nr if nr else float("nan"),
                             "unresolved_rate": ku / nu if nu else float("nan"),
                             "n_resolved": int(nr), "n_unresolved": int(nu)}
    if nr and nu:
        rr, rlo, rhi, rp = ratio_test(ku, nu, kr, nr, kind="risk", alpha=alpha)
        attrs.update(risk_ratio=rr, risk_ratio_ci_low=rlo, risk_ratio_ci_high=rhi, risk_ratio_p=rp)
    if n[0] and nu:
        ba = _newcombe(ku, nu, k[0], n[0], alpha=alpha)
        attrs.update(excess=ba[0], excess_ci_low=ba[1], excess_ci_high=ba[2])
    out.attrs.update(attrs)
    return out


def _newcombe(k1, n1, k0, n0, *, alpha: float) -> tuple[float, float, float]:
    """Difference of two proportions ``k1/n1 - k0/n0`` with Newcombe's hybrid score interval."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff",
                                        alpha=alpha)
    return float(k1 / n1 - k0 / n0), float(lo), float(hi)


def _change_table(data: ChurnData, comp: pd.DataFrame, share: pd.DataFrame, *, event_date,
                  service_target_days: float, seasonality: str = "none") -> pd.DataFrame:
    """Complaints before vs after the event: complaint share (pooled periods, score test),
    resolution rate and within-target rate (two-proportion tests), median resolution days
    (Mann–Whitney). The complaint share follows the control chart's seasonality rule
    (``seasonality``: "before" seasonally expected when the rule calls for it)."""
    ev = pd.Timestamp(event_date)
    rows = []
    ba = before_after(share, event_date=ev, numerator="complainants", denominator="active",
                      seasonality=seasonality)
    b, a = ba.table.loc["before"], ba.table.loc["after"]
    rows.append({"measure": "complaint share per period", "before": b["churn_rate"],
                 "after": a["churn_rate"],
                 "p_value": ba.p_value})
    ok, days = _resolved(comp)
    w = _weights(comp)
    after = (comp["date"] >= ev).to_numpy()
    in_window = (comp["date"] >= share["period_start"].min()).to_numpy()
    target = float(service_target_days)
    due = (comp["date"] + pd.to_timedelta(target, unit="D") <= data.observation_end).to_numpy()
    within = ok & (days <= target)

    def two_prop(hit, base, name):
        k1, n1 = w[hit & base & after].sum(), w[base & after].sum()
        k0, n0 = w[hit & base & ~after].sum(), w[base & ~after].sum()
        if min(n0, n1) == 0:
            return
        pooled = (k0 + k1) / (n0 + n1)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
        pv = float(2 * sps.norm.sf(abs((k1 / n1 - k0 / n0) / se))) if se > 0 else float("nan")
        rows.append({"measure": name, "before": k0 / n0, "after": k1 / n1, "p_value": pv})

    two_prop(ok, in_window, "resolution rate")
    two_prop(within, in_window & due, "resolved within target")
    m0, m1 = ok & in_window & ~after, ok & in_window & after
    d0, d1 = _repeat(days[m0], w[m0]), _repeat(days[m1], w[m1])
    if len(d0) and len(d1):
        rows.append({"measure": "median days to resolution", "before": float(np.median(d0)),
                     "after": float(np.median(d1)),
                     "p_value": float(sps.mannwhitneyu(d0, d1).pvalue)})
    out = pd.DataFrame(rows)
    out.attrs.update(event_date=str(ev.date()), seasonal=ba.seasonal,
                     seasonality_reason=ba.seasonality_reason)
    return out


@dataclass
class ComplaintHandling:
    """Everything the complaint-handling section shows (:func:`complaint_handling`).

    ``available``: ``"complaints"`` (tickets with complaints), ``"resolution"`` (with
    ``resolved`` and ``resolution_days``), ``"chart"`` (an event date and enough baseline
    periods), ``"change"`` (an event with complaints on both sides). Absent parts are None.
    """

    available: dict[str, bool]
    service_target_days: float
    within_days: int
    share: pd.DataFrame | None = None          # complaint share per impact period
    chart: ControlChart | None = None          # its control chart
    churn_chart: ControlChart | None = None    # churn's, for the side-by-side figure
    segments: pd.DataFrame | None = None       # pooled complaint share per segment level
    resolution: pd.DataFrame | None = None     # per dashboard period
    dose: pd.DataFrame | None = None           # churn within N days by resolution band
    change: pd.DataFrame | None = None         # before / after the event
    truth: dict[str, Any] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def key_figures(self) -> dict[str, Any]:
        """Flat key figures (``complaints.*``)."""
        out: dict[str, Any] = {"complaints.available": self.available.get("complaints", False),
                               "complaints.resolution_available": self.available.get("resolution", False)}
        if self.chart is not None:
            out["complaints.chart"] = self.chart.chart_
            out["complaints.chart_center"] = self.chart.center_
            out["complaints.chart_flagged"] = self.chart.flagged_
        if self.resolution is not None:
            r = self.resolution
            tot = r["complaints"].sum()
            out["complaints.service_target_days"] = self.service_target_days
            out["complaints.resolution_rate"] = r["resolved"].sum() / tot if tot else None
            due = r["due"].sum()
            out["complaints.within_target_rate"] = r["within_target"].sum() / due if due else None
            last = r[~r["partial"] & (r["complaints"] > 0)]
            if len(last):
                out["complaints.latest_period"] = last["period"].iloc[-1]
                out["complaints.latest_median_days"] = last["median_days"].iloc[-1]
        if self.dose is not None:
            out["complaints.within_days"] = self.within_days
            out.update({f"complaints.{k}": v for k, v in self.dose.attrs.items()
                        if not isinstance(v, (list, dict))})
        if self.truth is not None:
            out["complaints.truth_extra_churn_unresolved"] = self.truth["extra_churn_prob"]["unresolved"]
            out["complaints.truth_extra_churn_slow"] = self.truth["extra_churn_prob"]["slow"]
        return out


def _segment_shares(data: ChurnData, segments: Sequence[str], *, freq: str,
                    alpha: float, tables=None) -> pd.DataFrame | None:
    rows = []
    for col in segments:
        if col not in data.customers.columns:
            continue
        tab = (complaint_table(data, freq=freq, by=col) if tables is None
               else tables.complaint_table(freq=freq, by=col))
        tab = tab[~tab["partial"].astype(bool)]
        g = tab.groupby(col, observed=True)[["complainants", "active"]].sum()
        lo, hi = wilson_ci(g["complainants"], g["active"], alpha=alpha)
        rows.append(pd.DataFrame({"segment": col, "level": g.index.astype(str),
                                  "active": g["active"].to_numpy(),
                                  "complainants": g["complainants"].to_numpy(),
                                  "share": g["complainants"] / g["active"],
                                  "ci_low": lo, "ci_high": hi}).reset_index(drop=True))
    return pd.concat(rows, ignore_index=True) if rows else None


def _engine_churn(tables):
    """:func:`churn_table`'s signature on engine tables (``data`` unused)."""
    return lambda data, **kw: tables.churn_table(**kw)


def complaint_handling(data: ChurnData, *, freq: str = "Q", impact_freq: str = "M", event_date=None,
                       service_target_days: float = 7, within_days: int = 90,
                       bands: Sequence[float] = (3, 7, 14), segments: Sequence[str] = (),
                       chart: str = "auto", baseline_periods: int | None = 24,
                       denominator: str = "exposed", inactivity_days: int | None = None,
                       seasonality: str = "none", alpha: float = 0.05, tables=None) -> ComplaintHandling:
    """The complaint-handling section's results (see the module docstring); parts the data
    cannot support are None and flagged in ``available``. ``seasonality`` is churn's control-chart
    rule (:func:`~churn_research.indicators.impact.seasonal_rule`), applied to the complaint-share
    chart, churn's chart beside it and the complaint before/after comparison. ``tables``: the
    same data as engine tables (the notebook's ``tables``): the complaint and churn tables per
    period come from the engine (the same numbers)."""
    comp = _complaint_days(data, ("complaint",), tables)
    avail = {"complaints": comp is not None and len(comp) > 0}
    avail["resolution"] = avail["complaints"] and _has_resolution(comp)
    res = ComplaintHandling(available=avail, service_target_days=float(service_target_days),
                            within_days=int(within_days))
    if not avail["complaints"]:
        avail.update(chart=False, change=False)
        return res
    res.share = (complaint_table(data, freq=impact_freq, inactivity_days=inactivity_days)
                 if tables is None else
                 tables.complaint_table(freq=impact_freq, inactivity_days=inactivity_days))
    res.segments = _segment_shares(data, list(segments), freq=freq, alpha=alpha, tables=tables)
    ev = pd.Timestamp(event_date) if event_date is not None else data.event_date
    avail["chart"] = avail["change"] = False
    if ev is not None:
        try:
            res.chart = ControlChart(chart=chart, seasonality=seasonality).fit(
                res.share, baseline_end=ev, baseline_periods=baseline_periods,
                numerator="complainants", denominator="active")
            res.churn_chart = ControlChart(chart=chart, seasonality=seasonality).fit(
                (churn_table if tables is None else _engine_churn(tables))(
                    data, freq=impact_freq, denominator=denominator, inactivity_days=inactivity_days),
                baseline_end=ev, baseline_periods=baseline_periods)
            avail["chart"] = True
        except ValueError as err:
            res.notes["chart"] = str(err)
    if avail["resolution"]:
        res.resolution = resolution_table(data, freq=freq, service_target_days=service_target_days,
                                          alpha=alpha, tables=tables)
        res.dose = complaint_churn(data, within_days=within_days, bands=bands, alpha=alpha,
                                   tables=tables)
    if ev is not None and avail["resolution"]:
        try:
            res.change = _change_table(data, comp, res.share, event_date=ev,
                                       service_target_days=service_target_days,
                                       seasonality=seasonality)
            avail["change"] = len(res.change) > 0
        except ValueError as err:
            res.notes["change"] = str(err)
    truth = (data.meta or {}).get("truth", {}) if isinstance(data.meta, Mapping) else {}
    res.truth = truth.get("complaint_resolution") if isinstance(truth, Mapping) else None
    return res
