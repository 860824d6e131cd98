"""Calendar periods: the period codes (M, Q, H, Y) and their names, the calendar periods of a
window (:func:`periods`), the churn-table columns from per-period flows with the project's one
denominator rule (:func:`flow_columns`), and the cohort retention table from counts
(:func:`cohort_frame`). One home for both computations of churn per period: the pandas path
(:mod:`churn_research.indicators`) and the engine (:mod:`churn_research.sources.engine`), which
sits below the stages and so cannot import them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from churn_research.i18n import label_msg
from churn_research.stats import wilson_ci

__all__ = ["FREQ_NAMES", "TENURE_GROUP", "TENURE_LABELS", "TENURE_LABELS_ZH", "normalize_freq",
           "periods", "flow_columns", "cohort_frame", "complaint_columns", "csat_columns",
           "nps_columns"]

#: Accepted period frequencies (canonical code -> name). The names are data labels: they stay
#: English in the key figures (``freq``) and read in the report language through
#: :func:`churn_research.i18n.label` (月, 季度, 半年, 年).
FREQ_NAMES = {"M": label_msg("month"), "Q": label_msg("quarter"), "H": label_msg("half-year"),
              "Y": label_msg("year")}
_FREQ_ALIASES = {
    "m": "M", "ms": "M", "me": "M", "month": "M", "months": "M", "monthly": "M",
    "q": "Q", "qs": "Q", "qe": "Q", "quarter": "Q", "quarters": "Q", "quarterly": "Q",
    "h": "H", "half": "H", "half-year": "H", "half_year": "H", "halfyear": "H", "6m": "H",
    "6ms": "H", "semiannual": "H", "semi-annual": "H", "half-yearly": "H",
    "y": "Y", "a": "Y", "ys": "Y", "ye": "Y", "year": "Y", "years": "Y", "yearly": "Y",
    "annual": "Y", "annually": "Y",
}
_MONTHS_PER = {"M": 1, "Q": 3, "H": 6, "Y": 12}

#: Name of the built-in new-vs-existing segment (usable in ``by``).
TENURE_GROUP = "tenure_group"
#: Its levels (data labels: a Chinese report shows them through :func:`churn_research.i18n.label`,
#: whose catalog has the seed terms 新客户 = new customers, 老客户 = existing customers), and those
#: Chinese names (kept for callers; the reports read them from the catalog).
TENURE_LABELS = (label_msg("new"), label_msg("existing"))
TENURE_LABELS_ZH = {"new": "新客户", "existing": "老客户"}


def normalize_freq(freq: str) -> str:
    """Canonical period code (``"M"``, ``"Q"``, ``"H"`` or ``"Y"``) of a frequency name.

    Accepts e.g. ``"M"``, ``"month"``, ``"Q"``, ``"quarter"``, ``"H"``, ``"half-year"``,
    ``"Y"``, ``"A"``, ``"year"`` (case-insensitive).
    """
    key = str(freq).strip().lower()
    if key not in _FREQ_ALIASES:
        raise ValueError(f"unknown freq {freq!r}: use one of month ('M'), quarter ('Q'), "
                         "half-year ('H') or year ('Y').")
    return _FREQ_ALIASES[key]


def _align(ts: pd.Timestamp, code: str) -> pd.Timestamp:
    m = _MONTHS_PER[code]
    month = ((ts.month - 1) // m) * m + 1
    return pd.Timestamp(year=ts.year, month=month, day=1)


def _label(ts: pd.Timestamp, code: str) -> str:
    if code == "M":
        return f"{ts.year}-{ts.month:02d}"
    if code == "Q":
        return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"
    if code == "H":
        return f"{ts.year}H{(ts.month - 1) // 6 + 1}"
    return f"{ts.year}"


def periods(start, end, *, freq: str = "Q") -> pd.DataFrame:
    """Calendar periods covering ``[start, end]`` (inclusive days), clipped to that window.

    Returns
    -------
    DataFrame
        ``period`` (label: ``2024-01``, ``2024Q1``, ``2024H1``, ``2024``), ``period_start`` and
        ``period_end`` (first and last day inside the window), ``days`` (days inside the window),
        ``full_days`` (days of the whole calendar period) and ``partial`` (``days < full_days``).
    """
    code = normalize_freq(freq)
    w0, w1 = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if w1 < w0:
        raise ValueError(f"the window ends ({w1.date()}) before it starts ({w0.date()}).")
    m = _MONTHS_PER[code]
    starts = pd.date_range(_align(w0, code), w1, freq=f"{m}MS")
    nxt = starts + pd.DateOffset(months=m)
    cov_start = starts.where(starts >= w0, w0)
    last = nxt - pd.Timedelta(days=1)
    cov_end = last.where(last <= w1, w1)
    out = pd.DataFrame({
        "period": [_label(s, code) for s in starts],
        "period_start": pd.DatetimeIndex(cov_start).astype("datetime64[ns]"),
        "period_end": pd.DatetimeIndex(cov_end).astype("datetime64[ns]"),
    })
    out["days"] = (out["period_end"] - out["period_start"]).dt.days + 1
    out["full_days"] = np.asarray((nxt - starts).days)
    out["partial"] = out["days"] < out["full_days"]
    out.attrs["freq"] = code
    return out


def flow_columns(f: dict, *, denominator: str, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """The churn table's columns from per-period flows ``f`` (``at_risk``, ``new``, ``returned``,
    ``churned``, ``churned_new``), by the project's one denominator rule: ``exposed`` = churned /
    (at risk at the start + joined + returned), ``start`` = churned among those at risk at the
    start / at risk at the start; with Wilson intervals."""
    exposed = f["at_risk"] + f["new"] + f["returned"]
    if denominator == "exposed":
        num, den = f["churned"], exposed
    else:
        num, den = f["churned"] - f["churned_new"], f["at_risk"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    lo, hi = wilson_ci(num, den, alpha=alpha)
    return {
        "at_risk": f["at_risk"], "new": f["new"], "returned": f["returned"], "churned": f["churned"],
        "churned_new": f["churned_new"], "at_end": exposed - f["churned"],
        "exposed": exposed, "numerator": num, "denominator": den,
        "churn_rate": rate, "churn_ci_low": lo, "churn_ci_high": hi,
        "retention_rate": 1.0 - rate, "retention_ci_low": 1.0 - hi, "retention_ci_high": 1.0 - lo,
    }


def cohort_frame(observed: np.ndarray, retained: np.ndarray, sizes: np.ndarray, labels, *,
                 wide: bool) -> pd.DataFrame:
    """The cohort retention table from counts per (cohort, months since start): ``observed``
    (customers whose k-th month is observable) and ``retained`` (still customers then); wide
    (cohorts x months, ``attrs["sizes"]``) or long (``cohort, months, observed, retained,
    retention``). Cohorts without customers are left out."""
    K = observed.shape[1] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(observed > 0, retained / np.maximum(observed, 1), np.nan)
    present = sizes > 0
    if not wide:
        cc, kk = np.nonzero(np.ones_like(ret, dtype=bool))
        long = pd.DataFrame({"cohort": np.asarray(labels)[cc], "months": kk,
                             "observed": observed[cc, kk], "retained": retained[cc, kk],
                             "retention": ret[cc, kk]})
        return long[np.repeat(present, K + 1) & (long["observed"].to_numpy() > 0)].reset_index(drop=True)
    out = pd.DataFrame(ret, index=pd.Index(labels, name="cohort"),
                       columns=pd.Index(range(K + 1), name="months since start"))[present]
    out.attrs["sizes"] = pd.Series(sizes[present], index=out.index, name="customers")
    return out


def complaint_columns(active, complaints, complainants, *, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """The complaint table's columns from per-period counts: ``complaint_rate`` = complaints /
    active customers, ``share_complaining`` = customers with a complaint / active, with a Wilson
    interval (:func:`churn_research.indicators.complaint_table`; the engine's twin)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(active > 0, complaints / np.maximum(active, 1), np.nan)
        share = np.where(active > 0, complainants / np.maximum(active, 1), np.nan)
    lo, hi = wilson_ci(complainants, active, alpha=alpha)
    return {"active": active, "complaints": complaints, "complainants": complainants,
            "complaint_rate": rate, "share_complaining": share,
            "share_complaining_ci_low": lo, "share_complaining_ci_high": hi}


def csat_columns(n, s1, s2, sat, *, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """CSAT columns from per-period answers ``n``, sums ``s1`` and ``s2`` of the answers and of
    their squares, and ``sat`` satisfied answers: mean with a t interval, share satisfied with a
    Wilson interval (:func:`churn_research.indicators.satisfaction_table`; the engine's twin)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s1 / np.maximum(n, 1), np.nan)
        var = np.where(n > 1, (s2 - n * mean ** 2) / np.maximum(n - 1, 1), np.nan)
        half = sps.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1)) * np.sqrt(np.maximum(var, 0) / np.maximum(n, 1))
        share = np.where(n > 0, sat / np.maximum(n, 1), np.nan)
    lo, hi = wilson_ci(sat, n, alpha=alpha)
    return {"csat_responses": n, "csat": mean, "csat_ci_low": mean - half,
            "csat_ci_high": mean + half, "share_satisfied": share,
            "share_satisfied_ci_low": lo, "share_satisfied_ci_high": hi}


def nps_columns(n, prom, det, *, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """NPS columns from per-period answers ``n``, promoters ``prom`` (9-10) and detractors
    ``det`` (0-6): NPS with a normal interval, recommendation rate with a Wilson interval
    (:func:`churn_research.indicators.satisfaction_table`; the engine's twin)."""
    z = sps.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(n > 0, prom / np.maximum(n, 1), np.nan)
        pd_ = np.where(n > 0, det / np.maximum(n, 1), np.nan)
        nps = 100 * (pp - pd_)
        se = 100 * np.sqrt(np.maximum(pp + pd_ - (pp - pd_) ** 2, 0) / np.maximum(n, 1))
    lo, hi = wilson_ci(prom, n, alpha=alpha)
    return {"nps_responses": n, "promoters": prom, "passives": n - prom - det,
            "detractors": det, "nps": nps, "nps_ci_low": nps - z * se,
            "nps_ci_high": nps + z * se, "recommendation_rate": pp,
            "recommendation_ci_low": lo, "recommendation_ci_high": hi}
