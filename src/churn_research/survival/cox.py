"""Cox regression: :class:`CoxRegression` (hazard ratios, concordance, a Schoenfeld-based
proportional-hazards check with lifelines' advice as a table, stratified remedy),
:func:`piecewise_hazard_ratios` (a time interaction by tenure band), :func:`cox_design`,
:func:`hazard_ratios` and :func:`compare_with_truth`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import proportional_hazard_test
from scipy import stats

from churn_research.model import ChurnDataError
from churn_research.models.coxfit import CoxPHFitter, CoxTimeVaryingFitter
from churn_research.stats import compare_with_truth as shared_compare
from churn_research.stats import reference_level
from churn_research.survival.frame import _MIN_EPISODE, _entry


# ---------------------------------------------------------------------------------------
# Cox regression
# ---------------------------------------------------------------------------------------
def cox_design(df: pd.DataFrame, covariates: Sequence[str], *, reference: Mapping | None = None,
               per: Mapping | None = None) -> pd.DataFrame:
    """Numeric design matrix for a regression on customer attributes.

    Categorical columns become treatment dummies named ``column[level]`` against a reference
    level (``reference[column]``, else the most frequent level); booleans become 0/1 columns
    with the column's name; numeric columns stay as they are, or are divided by
    ``per[column]`` and renamed ``column_per_<k>`` (e.g. ``per={"age": 10}`` gives
    ``age_per_10``: the effect of 10 years of age). Rows with a missing covariate are dropped.

    Returns
    -------
    DataFrame
        Indexed like ``df``; ``attrs["sources"]`` maps each design column to its source column,
        ``attrs["reference"]`` gives the reference levels and ``attrs["dropped"]`` the number
        of rows dropped for missing values.
    """
    reference, per = dict(reference or {}), dict(per or {})
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise ChurnDataError(f"covariate(s) {missing} not found.", table="customers",
                             fix=f"choose among: {', '.join(map(str, df.columns))}.")
    complete = df[list(covariates)].notna().all(axis=1)
    data = df if bool(complete.all()) else df.loc[complete]
    parts, sources, refs = [], {}, {}
    for col in covariates:
        s = data[col]
        # factorize object columns once (instead of one string comparison per level)
        codes, uniques = pd.factorize(s) if s.dtype == object else (None, None)
        if pd.api.types.is_bool_dtype(s) or (
                uniques is not None and all(isinstance(u, bool | np.bool_) for u in uniques)):
            parts.append(s.astype(int).rename(col))
            sources[col] = col
        elif pd.api.types.is_numeric_dtype(s):
            k = per.get(col)
            name = col if k is None else f"{col}_per_{k:g}"
            parts.append((s.astype(float) / (1 if k is None else float(k))).rename(name))
            sources[name] = col
        else:
            if codes is None:
                codes, uniques = pd.factorize(s)
            levels, inverse = np.unique(np.array([str(u) for u in uniques]), return_inverse=True)
            level_codes = inverse[codes]
            counts = np.bincount(level_codes, minlength=len(levels))
            ref = reference_level(pd.Series(counts, index=levels), reference.get(col), column=col)
            refs[col] = ref
            for j, level in enumerate(levels):  # sorted
                if level == ref:
                    continue
                name = f"{col}[{level}]"
                parts.append(pd.Series((level_codes == j).astype(np.int64), index=s.index, name=name))
                sources[name] = col
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=data.index)
    values = design.to_numpy(dtype=float) if len(design.columns) else np.empty((len(design), 0))
    constant = [c for c, lo, hi in zip(design.columns, np.nanmin(values, axis=0, initial=np.inf),
                                      np.nanmax(values, axis=0, initial=-np.inf), strict=True)
                if not lo < hi]
    design = design.drop(columns=constant)
    design.attrs.update({"sources": {k: v for k, v in sources.items() if k not in constant},
                         "reference": refs, "dropped": int((~complete).sum()),
                         "constant_dropped": constant})
    return design


def hazard_ratios(fitter, *, alpha: float | None = None) -> pd.DataFrame:
    """Hazard ratios (``exp(coef)``) with Wald confidence intervals from a fitted lifelines
    Cox model (``CoxPHFitter`` or ``CoxTimeVaryingFitter``).

    Returns
    -------
    DataFrame
        Indexed by covariate: ``coef, se, hr, lower, upper, p``.
    """
    alpha = fitter.alpha if alpha is None else alpha
    z = stats.norm.ppf(1 - alpha / 2)
    s = fitter.summary
    coef, se = s["coef"].astype(float), s["se(coef)"].astype(float)
    out = pd.DataFrame({"coef": coef, "se": se, "hr": np.exp(coef), "lower": np.exp(coef - z * se),
                        "upper": np.exp(coef + z * se), "p": s["p"].astype(float)})
    out.index.name = "covariate"
    out.attrs["alpha"] = alpha
    return out


def compare_with_truth(ratios: pd.DataFrame, truth_log_hr: Mapping[str, float], *,
                       aliases: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Set estimated ratios next to known true log-ratios (e.g. the synthetic generator's).

    Parameters
    ----------
    ratios : DataFrame
        Output of :func:`hazard_ratios` (``hr, lower, upper`` indexed by covariate).
    truth_log_hr : mapping
        ``{name: true log hazard ratio}``.
    aliases : mapping, optional
        ``{covariate in ratios: name in truth}`` where they differ (``age_per_10`` vs
        ``age_per_10y``).

    Returns
    -------
    DataFrame
        ``covariate, hr, lower, upper, true_hr, covered`` for the covariates present in both.
    """
    out = shared_compare(ratios, truth_log_hr, estimate="hr", lower="lower", upper="upper",
                         aliases=aliases, exp=True)
    out = out.rename(columns={"term": "covariate", "truth": "true_hr"})
    return out[["covariate", "hr", "lower", "upper", "true_hr", "covered"]]


def _strata_column(s: pd.Series, bins: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique() > 6:
        return pd.qcut(s, q=bins, duplicates="drop").astype(str)
    return s.astype(str)


def _risk_set_means(X: np.ndarray, w: np.ndarray, start: np.ndarray, stop: np.ndarray,
                    times: np.ndarray) -> np.ndarray:
    """Risk-weighted covariate means over the risk sets {j: start_j < t <= stop_j} at ``times``."""
    o_stop, o_start = np.argsort(stop, kind="mergesort"), np.argsort(start, kind="mergesort")
    wx = w[:, None] * X

    def suffix(order, vals):
        c = np.cumsum(vals[order][::-1], axis=0)[::-1]
        return np.concatenate([c, np.zeros((1,) + vals.shape[1:])], axis=0)

    i_stop = np.searchsorted(stop[o_stop], times, side="left")      # stop_j >= t
    i_start = np.searchsorted(start[o_start], times, side="left")   # start_j >= t (not yet entered)
    s0 = suffix(o_stop, w)[i_stop] - suffix(o_start, w)[i_start]
    s1 = suffix(o_stop, wx)[i_stop] - suffix(o_start, wx)[i_start]
    return s1 / s0[:, None]


def schoenfeld_test(fitter, frame: pd.DataFrame, *, duration_col: str = "duration",
                    event_col: str = "event", entry_col: str | None = "entry",
                    strata: Sequence[str] | None = None) -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards on scaled Schoenfeld residuals, with
    delayed entry.

    lifelines' ``proportional_hazard_test`` needs residuals, which lifelines does not compute
    for models fitted with ``entry_col``. This computes the Schoenfeld residuals
    x_i - xbar(t_i) over the risk sets {entry < t <= duration} (within strata; Breslow
    handling of tied event times), scales them as lifelines does (n_events x residual x
    covariance) and applies lifelines' statistic with its ``rank`` and ``km`` time transforms
    (the KM transform here honours delayed entry). Without delayed entry and ties it agrees
    with lifelines' test (tested).

    Returns
    -------
    DataFrame
        Indexed by (covariate, transform) with ``test_statistic`` and ``p``, like the
        ``summary`` of lifelines' result.
    """
    cols = list(fitter.params_.index)
    X = frame[cols].to_numpy(float)
    T = frame[duration_col].to_numpy(float)
    E = frame[event_col].to_numpy(bool)
    start = frame[entry_col].to_numpy(float) if entry_col and entry_col in frame else np.zeros_like(T)
    eta = X @ fitter.params_.to_numpy(float)
    w = np.exp(eta - eta.max())
    resid = np.zeros((int(E.sum()), len(cols)))
    ev_idx = np.flatnonzero(E)
    ev_idx = ev_idx[np.argsort(T[ev_idx], kind="mergesort")]
    pos = {j: k for k, j in enumerate(ev_idx)}
    keys = (frame[list(strata)].astype(str).agg("|".join, axis=1).to_numpy() if strata
            else np.zeros(len(frame), dtype=int))
    for key in np.unique(keys):
        m = keys == key
        rows = np.flatnonzero(m & E)
        if not len(rows):
            continue
        xbar = _risk_set_means(X[m], w[m], start[m], T[m], T[rows])
        for k, r in enumerate(rows):
            resid[pos[r]] = X[r] - xbar[k]
    n_events = len(ev_idx)
    scaled = n_events * resid @ fitter.variance_matrix_.to_numpy(float)
    te = T[ev_idx]
    km = KaplanMeierFitter().fit(T, E, entry=start if (start > 0).any() else None)
    transforms = {"rank": np.arange(1, n_events + 1, dtype=float),
                  "km": 1 - km.survival_function_at_times(te).to_numpy(float)}
    se2 = fitter.standard_errors_.to_numpy(float) ** 2
    rows_out = []
    for name, g in transforms.items():
        gc = g - g.mean()
        stat = (gc @ scaled) ** 2 / (n_events * se2 * np.sum(gc ** 2))
        for c, t in zip(cols, stat, strict=True):
            rows_out.append({"covariate": c, "transform": name, "test_statistic": float(t),
                             "p": float(stats.chi2.sf(t, 1))})
    return pd.DataFrame(rows_out).set_index(["covariate", "transform"])


class CoxRegression:
    """Cox proportional-hazards regression of churn on customer attributes (lifelines).

    Parameters
    ----------
    covariates : sequence of str
        Attribute columns of the durations frame (see :func:`cox_design` for the coding).
    reference, per : mapping, optional
        Reference levels and per-unit scaling, as in :func:`cox_design`.
    strata : sequence of str, optional
        Columns to stratify on (each level gets its own baseline hazard; no hazard ratio is
        estimated for them). Numeric columns with more than 6 values are binned into
        ``bins`` quantile groups first.
    penalizer : float
        L2 penalty (lifelines ``penalizer``); 0 gives the plain partial-likelihood estimate.
    alpha : float
        1 - confidence level of the intervals.
    use_entry : bool
        Use delayed entry (left truncation, lifelines ``entry_col``) when present.
    bins : int
        Quantile bins for numeric strata.

    Attributes
    ----------
    fitter_ : lifelines.CoxPHFitter
    training_frame_ : DataFrame
        The frame lifelines was fitted on (design, duration, event, entry, strata).
    sources_ : dict
        Design column -> source column.
    hazard_ratios_ : DataFrame
        See :func:`hazard_ratios`.
    concordance_ : float
        Harrell's concordance index on the training data.
    ph_table_ : DataFrame
        Set by :meth:`check_ph`.
    """

    def __init__(self, covariates: Sequence[str], *, reference: Mapping | None = None,
                 per: Mapping | None = None, strata: Sequence[str] | None = None,
                 penalizer: float = 0.0, alpha: float = 0.05, use_entry: bool = True, bins: int = 4):
        self.covariates = list(covariates)
        self.reference = reference
        self.per = per
        self.strata = list(strata or [])
        self.penalizer = penalizer
        self.alpha = alpha
        self.use_entry = use_entry
        self.bins = bins

    def fit(self, df: pd.DataFrame) -> CoxRegression:
        """Fit on a durations frame (:func:`durations`); returns ``self``."""
        covs = [c for c in self.covariates if c not in self.strata]
        design = cox_design(df, covs, reference=self.reference, per=self.per)
        rows = df if design.index.equals(df.index) else df.loc[design.index]
        frame = design.copy()
        frame["duration"] = rows["duration"].astype(float)
        frame["event"] = rows["event"].astype(int)
        entry = _entry(df, self.use_entry)
        if entry is not None:
            frame["entry"] = rows["entry"].astype(float)
            # a lifetime must be longer than its delayed entry (zero-length ones get 1e-6)
            frame["duration"] = np.maximum(frame["duration"], frame["entry"] + _MIN_EPISODE)
        for col in self.strata:
            frame[f"stratum_{col}"] = _strata_column(rows[col], self.bins)
        frame = frame.reset_index(drop=True)
        cph = CoxPHFitter(penalizer=self.penalizer, alpha=self.alpha)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            cph.fit(frame, duration_col="duration", event_col="event",
                    entry_col="entry" if entry is not None else None,
                    strata=[f"stratum_{c}" for c in self.strata] or None)
        self.fitter_ = cph
        self.training_frame_ = frame
        self.sources_ = design.attrs["sources"]
        self.design_info_ = dict(design.attrs)
        self.hazard_ratios_ = hazard_ratios(cph)
        self.log_likelihood_ = float(cph.log_likelihood_)
        self.n_ = len(frame)
        self.events_ = int(frame["event"].sum())
        return self

    @property
    def concordance_(self) -> float:
        """Harrell's concordance on the training data (computed on first use, as in lifelines:
        it costs about as much as the fit itself on 10^5 customers)."""
        return float(self.fitter_.concordance_index_)

    def check_ph(self, *, threshold: float = 0.01) -> pd.DataFrame:
        """Schoenfeld-residual test of proportional hazards, per covariate, with advice.

        Runs lifelines' ``proportional_hazard_test`` on the scaled Schoenfeld residuals with
        the rank and Kaplan-Meier time transforms (as ``check_assumptions`` does) and turns
        lifelines' advice into columns: a covariate *violates* when its smaller p-value is
        below ``threshold``; with at most 6 distinct values (each seen at least 5 times) the
        advice is to stratify on its source column, otherwise to check the functional form,
        bin it and stratify, or interact it with time.

        Returns
        -------
        DataFrame
            ``covariate, source, chi2_rank, p_rank, chi2_km, p_km, violates, advice, remedy``.
        """
        strata = [f"stratum_{c}" for c in self.strata]
        if "entry" in self.training_frame_:
            s = schoenfeld_test(self.fitter_, self.training_frame_, strata=strata)
        else:
            s = proportional_hazard_test(self.fitter_, self.training_frame_,
                                         time_transform=["rank", "km"]).summary
        rows = []
        for cov in self.fitter_.params_.index:
            p_rank, p_km = float(s.loc[(cov, "rank"), "p"]), float(s.loc[(cov, "km"), "p"])
            source = self.sources_.get(cov, cov)
            counts = self._level_counts(cov, source)
            few = counts.shape[0] <= 6 and counts.min() >= 5
            violates = min(p_rank, p_km) < threshold
            if not violates:
                advice, remedy = "proportional hazards not rejected", "none"
            elif few:
                advice = (f"only {counts.shape[0]} distinct values: stratify on '{source}' "
                          "(a separate baseline hazard per level)")
                remedy = "stratify"
            else:
                advice = (f"check the functional form of '{source}'; or bin it (quantiles) and "
                          "stratify on the bins; or add an interaction with time")
                remedy = "bin and stratify"
            rows.append({"covariate": cov, "source": source,
                         "chi2_rank": float(s.loc[(cov, "rank"), "test_statistic"]), "p_rank": p_rank,
                         "chi2_km": float(s.loc[(cov, "km"), "test_statistic"]), "p_km": p_km,
                         "violates": violates, "advice": advice, "remedy": remedy})
        self.ph_table_ = pd.DataFrame(rows)
        self.ph_table_.attrs["threshold"] = threshold
        return self.ph_table_

    def _level_counts(self, cov: str, source: str) -> pd.Series:
        """How many training rows take each value of ``cov``'s source column: a dummy of a
        categorical driver counts the driver's levels (its sibling dummies' 1s and the
        reference level's rows), not the dummy's own 0/1."""
        frame = self.training_frame_
        siblings = [c for c in self.fitter_.params_.index
                    if c != source and self.sources_.get(c, c) == source and c in frame]
        if cov == source or not siblings:
            return frame[cov].value_counts()
        ones = frame[siblings].sum().astype(int)
        return pd.concat([ones, pd.Series({"(reference)": len(frame) - int(ones.sum())})])

    def remedy(self, df: pd.DataFrame, *, threshold: float = 0.01, bin_numeric: bool = False) -> CoxRegression:
        """Refit with the violating drivers as strata, following lifelines' advice.

        Categorical / binary drivers that violate proportional hazards (advice "stratify")
        become strata. Numeric violators stay in the model unless ``bin_numeric`` is True (then
        they are binned into quantiles and stratified too, which removes their hazard ratio);
        their time-dependence is better shown with :func:`piecewise_hazard_ratios`.

        Returns a new, fitted :class:`CoxRegression` (``self`` is unchanged); ``kept_``
        lists violating numeric drivers left in the model.
        """
        table = self.ph_table_ if hasattr(self, "ph_table_") else self.check_ph(threshold=threshold)
        bad = table.loc[table["violates"]]
        kinds = {"stratify", "bin and stratify"} if bin_numeric else {"stratify"}
        add = [s for s in dict.fromkeys(bad.loc[bad["remedy"].isin(kinds), "source"]) if s not in self.strata]
        kept = [s for s in dict.fromkeys(bad["source"]) if s not in add and s not in self.strata]
        model = CoxRegression(self.covariates, reference=self.reference, per=self.per,
                              strata=self.strata + add, penalizer=self.penalizer, alpha=self.alpha,
                              use_entry=self.use_entry, bins=self.bins)
        model.fit(df)
        model.kept_ = kept
        return model


def _split_at(base: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """Split each row's (start, stop] interval at per-row cut times.

    ``base`` has a unique ``_row`` key with ``start``/``stop``; ``cuts`` has ``_row`` and
    ``time``. Returns one row per piece with ``_row, start, stop``.
    """
    pts = pd.concat([
        base[["_row", "start"]].rename(columns={"start": "time"}),
        base[["_row", "stop"]].rename(columns={"stop": "time"}),
        cuts[["_row", "time"]],
    ], ignore_index=True)
    lim = base.set_index("_row")
    lo = lim["start"].reindex(pts["_row"]).to_numpy()
    hi = lim["stop"].reindex(pts["_row"]).to_numpy()
    t = pts["time"].to_numpy(float)
    pts = pts.loc[(t >= lo) & (t <= hi)]
    pts = pts.drop_duplicates().sort_values(["_row", "time"], kind="mergesort")
    nxt = pts.groupby("_row")["time"].shift(-1)
    pieces = pd.DataFrame({"_row": pts["_row"].to_numpy(), "start": pts["time"].to_numpy(),
                           "stop": nxt.to_numpy()})
    pieces = pieces.dropna(subset=["stop"])
    # a row whose interval has zero length (a zero-length lifetime) yields no piece: keep one
    zero = base.loc[base["stop"] <= base["start"], ["_row", "start", "stop"]]
    return pd.concat([pieces, zero], ignore_index=True).sort_values(["_row", "start"], kind="mergesort")


def _fit_ctv(frame: pd.DataFrame, *, penalizer: float, alpha: float):
    ctv = CoxTimeVaryingFitter(penalizer=penalizer, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        ctv.fit(frame, id_col="customer_id", event_col="event", start_col="start", stop_col="stop",
                show_progress=False)
    return ctv



def piecewise_hazard_ratios(df: pd.DataFrame, *, covariates: Sequence[str], vary: Sequence[str],
                            cuts: Sequence[float], reference: Mapping | None = None,
                            per: Mapping | None = None, penalizer: float = 0.0,
                            alpha: float = 0.05) -> pd.DataFrame:
    """Time interaction: a separate hazard ratio per tenure band for the ``vary`` covariates.

    Lifetimes are split into start-stop episodes at the tenures in ``cuts`` (honouring delayed
    entry) and each design column of a ``vary`` source column is replaced by one column per
    band (``x @ [a, b)``), fitted with lifelines' ``CoxTimeVaryingFitter``. Hazard ratios that
    drift across bands are what a proportional-hazards violation looks like.

    Returns
    -------
    DataFrame
        :func:`hazard_ratios` of the fitted model, with ``band``, ``source`` and ``note``
        columns; a band in which a level has no churn at all cannot be estimated (its
        partial likelihood keeps rising as the ratio goes to 0): its row is NaN with a note.
    """
    design = cox_design(df, covariates, reference=reference, per=per)
    base = pd.DataFrame({"_row": np.arange(len(design)),
                         "start": df.loc[design.index, "entry"].to_numpy(float) if "entry" in df else 0.0,
                         "stop": df.loc[design.index, "duration"].to_numpy(float)})
    cuts = sorted(float(c) for c in cuts)
    cut_frame = pd.DataFrame({"_row": np.repeat(base["_row"].to_numpy(), len(cuts)),
                              "time": np.tile(cuts, len(base))})
    ep = _split_at(base, cut_frame)
    d = design.reset_index(drop=True)
    frame = d.iloc[ep["_row"].to_numpy()].reset_index(drop=True)
    frame["customer_id"] = ep["_row"].to_numpy()
    frame["start"] = ep["start"].to_numpy()
    frame["stop"] = np.maximum(ep["stop"].to_numpy(), ep["start"].to_numpy() + _MIN_EPISODE)
    ev = df.loc[design.index, "event"].to_numpy(int)[ep["_row"].to_numpy()]
    dur = base["stop"].to_numpy()[ep["_row"].to_numpy()]
    frame["event"] = ev * (ep["stop"].to_numpy() >= dur)
    edges = [0.0, *cuts, np.inf]
    band = np.searchsorted(np.asarray(cuts), frame["start"].to_numpy(), side="right")
    labels = [f"[{edges[i]:g}, {edges[i + 1]:g})" for i in range(len(edges) - 1)]
    sources = design.attrs["sources"]
    vary_cols = [c for c, s in sources.items() if s in set(vary)]
    empty, names = [], []
    for col in vary_cols:
        for b, lab in enumerate(labels):
            name = f"{col} @ {lab}"
            names.append(name)
            values = frame[col] * (band == b)
            if frame.loc[values != 0, "event"].sum() == 0 or values.nunique() < 2:
                empty.append(name)  # no churn (or nobody) there: the ratio is not estimable
                continue
            frame[name] = values
        frame = frame.drop(columns=col)
    ctv = _fit_ctv(frame, penalizer=penalizer, alpha=alpha)
    out = hazard_ratios(ctv)
    if empty:
        out = pd.concat([out, pd.DataFrame(index=pd.Index(empty, name="covariate"), columns=out.columns, dtype=float)])
    out["band"] = [c.split(" @ ")[1] if " @ " in c else "all" for c in out.index]
    out["source"] = [sources.get(c.split(" @ ")[0], c) for c in out.index]
    out["note"] = ["no churn in this band: not estimable" if c in empty else "" for c in out.index]
    order = {c: i for i, c in enumerate(names)}
    return out.sort_index(key=lambda idx: idx.map(lambda c: order.get(c, -1)), kind="mergesort")
