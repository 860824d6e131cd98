"""The churn-risk model: :class:`ChurnRiskModel` (logistic regression vs gradient boosting vs a
naive one-feature baseline, stratified K-fold AUC with a t-interval over the folds), calibration,
lift / cumulative gains, and scores for the customers active now.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from churn_research.lookup import reindexed
from churn_research.model import ChurnData, ChurnDataError, sample_ids
from churn_research.segments.design import _by_id
from churn_research.segments.features import features_at
from churn_research.stats import expected_calibration_error, risk_deciles
from churn_research.stats import reliability_table as calibration_table

# Risk model
# ---------------------------------------------------------------------------------------------
_NOT_FEATURES = {"active", "r_score", "f_score", "m_score", "rfm_code", "rfm_score", "value",
                 "tier", "churned", "tx_trend_window"}


def model_columns(features: pd.DataFrame, *, exclude=()) -> tuple[list[str], list[str]]:
    """Numeric and categorical model inputs among the columns of :func:`features_at`.

    Scores, codes, the ``active`` flag and ``value`` (a duplicate of ``monetary``) are left out;
    columns that are constant or entirely missing are dropped. When ``activity_recency_days``
    is present (recurring invoices were separated from purchases), the RFM ``recency_days`` is
    left out: for a subscription it only measures where the date falls in the billing month,
    which differs between the training cutoff and the scoring date.
    """
    num, cat = [], []
    skip = set(_NOT_FEATURES) | set(exclude)
    if "activity_recency_days" in features:
        skip.add("recency_days")
    for c in features.columns:
        if c in skip:
            continue
        s = features[c]
        if s.nunique(dropna=True) < 2:
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            num.append(c)
        else:
            cat.append(c)
    return num, cat


#: Non-negative, right-skewed inputs that the models see on a log scale (log1p).
LOG_FEATURES = ("tenure_days", "recency_days", "activity_recency_days", "frequency", "monetary", "tx_recent",
                "tx_baseline", "activity_ratio", "complaints_recent", "complaints_365",
                "tickets_365", "survey_age_days", "total_charges")


def _log1p_clip(X):
    return np.log1p(np.clip(np.asarray(X, dtype="float64"), 0, None))


def make_model(name: str, *, numeric, categorical, random_state: int = 0):
    """A scikit-learn pipeline: imputation + scaling / one-hot encoding + a classifier.

    Numeric columns listed in :data:`LOG_FEATURES` (durations, counts, money) are log1p-
    transformed, then every numeric column gets median imputation with a missing-value
    indicator and standardisation; categorical columns are one-hot encoded (unknown levels
    ignored).

    ``"logistic"``: L2 logistic regression (C=1). ``"gradient_boosting"``: histogram gradient
    boosting (learning rate 0.05, 150 trees of depth <= 3, >= 50 customers per leaf, L2 1.0,
    no early stopping, so the fit is deterministic for a random_state). ``"baseline"``: a
    logistic regression on the numeric columns given (the naive one-feature rule).
    """
    def num_pipe(log):
        steps = [FunctionTransformer(_log1p_clip, feature_names_out="one-to-one")] if log else []
        steps += [SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                  StandardScaler()]
        return make_pipeline(*steps)

    logged = [c for c in numeric if c in LOG_FEATURES]
    plain = [c for c in numeric if c not in LOG_FEATURES]
    parts = []
    if logged:
        parts.append(("log", num_pipe(True), logged))
    if plain:
        parts.append(("num", num_pipe(False), plain))
    if categorical:
        parts.append(("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)), list(categorical)))
    pre = ColumnTransformer(parts, remainder="drop")
    if name in ("logistic", "baseline"):
        clf = LogisticRegression(C=1.0, max_iter=2000)
    elif name == "gradient_boosting":
        clf = HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=50,
            l2_regularization=1.0, early_stopping=False, random_state=random_state)
    else:
        raise ValueError(f"unknown model {name!r}: use 'logistic', 'gradient_boosting' or 'baseline'")
    return Pipeline([("prepare", pre), ("model", clf)])


#: Rows scored at once by :meth:`ChurnRiskModel.predict_proba`.
PREDICT_ROWS = 100_000


def _cat_frame(X: pd.DataFrame, categorical) -> pd.DataFrame:
    """Categorical columns as strings, missing values as the level "missing"."""
    X = X.copy()
    for c in categorical:
        s = X[c].astype("object")
        X[c] = s.where(s.notna(), "missing").astype(str)
    return X


def _auc(y, p) -> float:
    return float(roc_auc_score(y, p))


class ChurnRiskModel:
    """Compare churn-risk classifiers by stratified K-fold cross-validation, keep the best.

    Parameters
    ----------
    models : sequence of str, default ("logistic", "gradient_boosting")
        Candidates (see :func:`make_model`).
    baseline_feature : str, default "tenure_days"
        The naive baseline: a one-feature logistic regression ("new customers churn more";
        use "recency_days" for non-contractual data). A no-skill ranking has AUC 0.5.
    n_splits : int, default 5
    confidence : float, default 0.95
        Level of the AUC interval: mean fold AUC +- t(n_splits - 1) x sd / sqrt(n_splits)
        (a t-interval over the fold AUCs).
    n_bins : int, default 10
        Bins (deciles of predicted risk) of the calibration and gains tables.
    random_state : int, default 0
        Seeds the fold split and the gradient boosting.
    n_threads : int or None, default 1
        Threads for BLAS / OpenMP while fitting (None: library default). One thread is the
        fastest on a shared machine (stages run in parallel under ``make -j``).
    max_fit_rows : int or None, default None
        Fit and cross-validate on a seeded simple random sample of at most this many customers
        (:func:`churn_research.model.sample_ids`; the stage's ``max_model_customers``); the
        fitted model can still score every customer.

    Attributes
    ----------
    n_fit_ : int
        Customers the model was fitted on (fewer than given when ``max_fit_rows`` applied).
    numeric_, categorical_ : list of str
    cv_results_ : DataFrame
        One row per model and fold: ``auc``.
    oof_ : DataFrame
        Out-of-fold predicted churn probability per customer and model, plus ``churned``.
    summary_ : DataFrame
        Per model: ``cv_auc``, ``ci_low``, ``ci_high``, ``fold_sd``, ``oof_auc``, ``ece``,
        ``max_calibration_gap``, ``brier``, ``top_decile_capture``, ``top_decile_lift`` and,
        against the baseline, ``auc_gain`` with its paired t-interval over the folds
        (``gain_ci_low``, ``gain_ci_high``).
    best_name_ : str
        The candidate with the highest mean CV AUC.
    best_estimator_ : Pipeline
        The best candidate refitted on all the data.
    """

    def __init__(self, models=("logistic", "gradient_boosting"), *,
                 baseline_feature: str = "tenure_days", n_splits: int = 5,
                 confidence: float = 0.95, n_bins: int = 10, random_state: int = 0,
                 n_threads: int | None = 1, max_fit_rows: int | None = None):
        self.n_threads = n_threads
        self.max_fit_rows = max_fit_rows
        self.models = models
        self.baseline_feature = baseline_feature
        self.n_splits = n_splits
        self.confidence = confidence
        self.n_bins = n_bins
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series, *, numeric=None, categorical=None):
        """Cross-validate every candidate and the baseline, then refit the best on all data.

        Parameters
        ----------
        X : DataFrame
            Features (e.g. :func:`features_at` rows of the customers with a label).
        y : Series of 0/1
            Churn label aligned on ``X.index``.
        numeric, categorical : list of str, optional
            Model inputs (default :func:`model_columns`).

        Returns
        -------
        self
        """
        if self.max_fit_rows is not None and len(X) > self.max_fit_rows:
            rows = sample_ids(X.index.to_series(), int(self.max_fit_rows),
                              random_state=self.random_state)
            X, y = reindexed(X, rows), reindexed(pd.Series(y), rows)  # as .loc[rows]
        self.n_fit_ = len(X)
        with threadpool_limits(limits=self.n_threads):
            return self._fit(X, y, numeric=numeric, categorical=categorical)

    def _fit(self, X, y, *, numeric=None, categorical=None):
        y = pd.Series(y).reindex(X.index)
        if y.isna().any():
            raise ChurnDataError("some customers in X have no label.", rows=list(y.index[y.isna()]))
        y = y.astype(int)
        if y.nunique() < 2:
            raise ChurnDataError("the label has a single class; no model can be fitted.",
                                 fix="choose a cutoff / horizon with both churners and stayers.")
        if self.baseline_feature is not None and self.baseline_feature not in X:
            raise ChurnDataError(
                f"the baseline feature '{self.baseline_feature}' is not among the features.",
                column=self.baseline_feature,
                fix=f"set baseline_feature to one of {sorted(model_columns(X)[0])} (or None).")
        if numeric is None and categorical is None:
            numeric, categorical = model_columns(X)
        self.numeric_, self.categorical_ = list(numeric or []), list(categorical or [])
        Xc = _cat_frame(X, self.categorical_)
        cv = StratifiedKFold(n_splits=self.n_splits, shuffle=True, random_state=self.random_state)
        splits = list(cv.split(Xc, y))
        specs = {m: (self.numeric_, self.categorical_) for m in self.models}
        if self.baseline_feature is not None and self.baseline_feature in X:
            specs["baseline"] = ([self.baseline_feature], [])
        rows, oof = [], pd.DataFrame(index=X.index)
        for name, (num, cat) in specs.items():
            pred = np.empty(len(y))
            for k, (tr, te) in enumerate(splits):
                est = make_model(name, numeric=num, categorical=cat, random_state=self.random_state)
                est.fit(Xc.iloc[tr], y.iloc[tr])
                pred[te] = est.predict_proba(Xc.iloc[te])[:, 1]
                rows.append({"model": name, "fold": k, "auc": _auc(y.iloc[te], pred[te])})
            oof[name] = pred
        oof["churned"] = y
        self.cv_results_ = pd.DataFrame(rows)
        self.oof_ = oof
        summ = []
        tq = stats.t.ppf(0.5 + self.confidence / 2, self.n_splits - 1)
        for name in specs:
            a = self.cv_results_.loc[self.cv_results_["model"] == name, "auc"]
            half = tq * a.std(ddof=1) / np.sqrt(len(a))
            p = oof[name].to_numpy()
            cal = calibration_table(y, p, n_bins=self.n_bins)
            gains = gains_table(y, p, n_bins=self.n_bins)
            summ.append({
                "model": name, "cv_auc": a.mean(), "ci_low": a.mean() - half,
                "ci_high": a.mean() + half, "fold_sd": a.std(ddof=1), "oof_auc": _auc(y, p),
                "ece": expected_calibration_error(y, p, n_bins=self.n_bins),
                "max_calibration_gap": float(cal["gap"].abs().max()),
                "brier": float(np.mean((p - y.to_numpy()) ** 2)),
                "top_decile_capture": float(gains["cum_capture"].iloc[0]),
                "top_decile_lift": float(gains["lift"].iloc[0]),
            })
        self.summary_ = pd.DataFrame(summ).set_index("model")
        if "baseline" in specs:                  # paired over folds: same customers, same split
            folds = self.cv_results_.pivot(index="fold", columns="model", values="auc")
            for name in specs:
                diff = folds[name] - folds["baseline"]
                half = tq * diff.std(ddof=1) / np.sqrt(len(diff))
                self.summary_.loc[name, "auc_gain"] = diff.mean()
                self.summary_.loc[name, "gain_ci_low"] = diff.mean() - half
                self.summary_.loc[name, "gain_ci_high"] = diff.mean() + half
        cand = self.summary_.loc[list(self.models)]
        self.best_name_ = str(cand["cv_auc"].idxmax())
        self.best_estimator_ = make_model(self.best_name_, numeric=self.numeric_,
                                          categorical=self.categorical_,
                                          random_state=self.random_state).fit(Xc, y)
        return self

    def predict_proba(self, X: pd.DataFrame, *, rows=None) -> pd.Series:
        """Churn probability within the horizon from the best model (a Series named ``risk``).
        Only the model's inputs (:meth:`inputs_`) of ``X`` are read, and they are prepared
        (log, imputation, scaling, one-hot) and scored :data:`PREDICT_ROWS` rows at a time,
        without the pipeline's copies of every row: at 10^7 customers the prepared matrix of
        every active customer at once would be about 1.5 GB. The scores are the pipeline's:
        a tree model's to the last bit; a logistic model's to about 1e-16 (BLAS sums a block's
        products in an order that may depend on the block's size). ``rows`` (positions): score
        only these rows of ``X``, without a copy of them first."""
        cols = self.inputs_(X)
        at = X.columns.get_indexer(cols)
        pos = np.arange(len(X)) if rows is None else np.asarray(rows, dtype=np.intp)
        prepare, clf = self.best_estimator_[:-1], self.best_estimator_[-1]
        p = np.empty(len(pos))
        with threadpool_limits(limits=self.n_threads):
            for i in range(0, len(pos), PREDICT_ROWS):
                block = pos[i:i + PREDICT_ROWS]
                Z = prepare.transform(_cat_frame(X.iloc[block, at], self.categorical_))
                p[i:i + len(block)] = clf.predict_proba(Z)[:, 1]
                del Z
        return pd.Series(p, index=X.index[pos], name="risk")

    def inputs_(self, X: pd.DataFrame) -> list[str]:
        """The columns of ``X`` the fitted model reads (its numeric and categorical inputs), in
        ``X``'s order: the frame to score can leave out every other column."""
        used = set(self.numeric_) | set(self.categorical_)
        return [c for c in X.columns if c in used]

    def roc_curves(self) -> pd.DataFrame:
        """Out-of-fold ROC curve points (``model``, ``fpr``, ``tpr``)."""
        parts = []
        for name in self.summary_.index:
            fpr, tpr, _ = roc_curve(self.oof_["churned"], self.oof_[name])
            parts.append(pd.DataFrame({"model": name, "fpr": fpr, "tpr": tpr}))
        return pd.concat(parts, ignore_index=True)

    def calibration(self, model: str | None = None) -> pd.DataFrame:
        """Calibration table (deciles of out-of-fold risk) of a model (default: the best)."""
        m = model or self.best_name_
        return calibration_table(self.oof_["churned"], self.oof_[m], n_bins=self.n_bins)

    def gains(self, model: str | None = None) -> pd.DataFrame:
        """Lift / cumulative-gains table of a model (default: the best), out of fold."""
        m = model or self.best_name_
        return gains_table(self.oof_["churned"], self.oof_[m], n_bins=self.n_bins)


def score_customers(data: ChurnData, model: ChurnRiskModel, *, design: str = "prospective",
                    **feature_options) -> tuple[pd.DataFrame, pd.Series]:
    """Features and churn risk of the current customers at ``observation_end``.

    Prospective: features at ``observation_end`` (same definitions as at the training cutoff)
    scored by the refitted best model — the probability of churning within the horizon.
    Cross-sectional: the snapshot's customers without a churn flag are the active ones, and
    their risk is the model's *out-of-fold* prediction (they were part of the training data, so
    in-sample scores would be optimistic).

    Parameters
    ----------
    data : ChurnData
    model : ChurnRiskModel
        Fitted.
    design : {"prospective", "cross-sectional"}
    **feature_options
        Passed to :func:`features_at` (windows, static columns, ...).

    Returns
    -------
    features : DataFrame
        :func:`features_at` at ``observation_end``; ``active`` is the customer's true status.
    risk : Series
        Churn probability of each active customer (named ``risk``).
    """
    feats = features_at(data, data.observation_end, design=design, **feature_options)
    if design == "cross-sectional":
        status = _by_id(data.customers, "end_date").reindex(feats.index)
        feats["active"] = status.isna().to_numpy()
        act = feats.index[feats["active"]]
        risk = model.oof_[model.best_name_].reindex(act).rename("risk")
        return feats, risk
    # the active customers' rows, scored in blocks (not a copy of their features first)
    return feats, model.predict_proba(feats, rows=np.flatnonzero(feats["active"].astype(bool)
                                                                 .to_numpy()))


def gains_table(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by decile of predicted risk (highest risk first).

    Returns ``decile`` (1 = top 10% by risk), ``customers``, ``churners``, ``churn_rate``,
    ``lift`` (churn rate / overall rate), ``cum_share`` (share of customers contacted) and
    ``cum_capture`` (share of all churners among them: the cumulative-gains curve).
    """
    y = np.asarray(y, float)
    g = pd.DataFrame({"decile": risk_deciles(p, n_bins), "y": y}).groupby("decile")["y"]
    out = pd.DataFrame({"customers": g.size(), "churners": g.sum()})
    out["churn_rate"] = out["churners"] / out["customers"]
    out["lift"] = out["churn_rate"] / y.mean()
    out["cum_share"] = out["customers"].cumsum() / len(y)
    out["cum_capture"] = out["churners"].cumsum() / y.sum()
    return out.reset_index()


def top_decile_capture(y, p) -> float:
    """Share of all churners among the 10% of customers with the highest predicted risk."""
    return float(gains_table(y, p, n_bins=10)["cum_capture"].iloc[0])


# ---------------------------------------------------------------------------------------------
