"""Model-agnostic comparison: the permutation importance of a gradient-boosting model beside the
driver model's per-driver Wald statistics (:func:`compare_importance`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from threadpoolctl import threadpool_limits

from churn_research.causes.drivers import DriverModel
from churn_research.causes.frame import ADJUSTMENTS
from churn_research.causes.rates import _is_indicator, _is_numeric


# =============================================================================================
# model-agnostic comparison: permutation importance
# =============================================================================================
def driver_importance(frame: pd.DataFrame, *, drivers: Sequence[str], outcome: str = "event",
                      groups: str | None = "customer_id", extra: Sequence[str] = (),
                      test_size: float = 0.3, n_repeats: int = 5, max_rows: int = 30_000,
                      scoring: str = "roc_auc", random_state=0) -> pd.DataFrame:
    """Permutation importance of each driver in a gradient-boosting model.

    A :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (categorical drivers as native
    categories) is fitted on a training split (split by ``groups`` so that one customer's rows
    stay together) and each raw driver column is permuted on the held-out split.

    Parameters
    ----------
    frame : DataFrame
        Modelling rows, e.g. ``DriverModel.frame_``.
    drivers : sequence of str
    outcome : str
    groups : str, optional
        Column identifying customers; None for one row per customer.
    extra : sequence of str
        Further columns to use as features and report (e.g. ``"tenure_months"``).
    test_size, n_repeats, max_rows, scoring, random_state
        Longer frames are cut to ``max_rows`` rows by a case-control subsample (all churn
        rows, a random share of the others), which leaves AUC-based importance unbiased.

    Returns
    -------
    DataFrame
        ``driver, importance, importance_std, rank``; ``attrs["test_score"]`` holds the held-out
        score of the fitted model.
    """
    features = list(dict.fromkeys([*drivers, *extra]))
    rng = np.random.default_rng(random_state)
    y_all = frame[outcome].to_numpy(dtype=int)
    if len(frame) > max_rows:
        # case-control subsample: every churn row and a random share of the others (AUC, and
        # so the importance ranking, does not depend on the outcome's prevalence)
        pos = np.flatnonzero(y_all == 1)
        neg = np.flatnonzero(y_all == 0)
        take = max(max_rows - len(pos), min(len(neg), len(pos)))
        keep = np.sort(np.concatenate([pos, rng.choice(neg, size=min(take, len(neg)),
                                                       replace=False)]))
        frame = frame.iloc[keep]
    # numeric drivers as floats, categorical ones as the codes of their sorted levels (what
    # the model's own ordinal encoding of a pandas category gives), in one float array: the
    # same model and scores as a frame of categories, without the frame's per-column
    # conversion at each of the permutation's predictions
    columns, categorical = [], []
    for f in features:
        s = frame[f]
        numeric = _is_indicator(s) or _is_numeric(s)
        columns.append(s.to_numpy(dtype=float) if numeric else
                       s.astype(str).astype("category").cat.codes.to_numpy(dtype=float))
        categorical.append(not numeric)
    x = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    y = frame[outcome].to_numpy(dtype=int)
    seed = int(rng.integers(2**31 - 1))
    if groups is not None:
        split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        tr, te = next(split.split(x, y, frame[groups]))
    else:
        tr, te = train_test_split(np.arange(len(x)), test_size=test_size, random_state=seed,
                                  stratify=y)
    model = HistGradientBoostingClassifier(
        categorical_features=np.array(categorical) if any(categorical) else None, max_iter=150,
        learning_rate=0.05, max_depth=4,
        min_samples_leaf=50, l2_regularization=1.0, early_stopping=False, random_state=seed)
    # one OpenMP thread: the trees are small, and oversubscribed threads on a shared machine
    # are many times slower (the libraries are imported above, so the limit reaches them)
    with threadpool_limits(1):
        model.fit(x[tr], y[tr])
        imp = permutation_importance(model, x[te], y[te], scoring=scoring,
                                     n_repeats=n_repeats, random_state=seed)
        test_score = float(get_scorer(scoring)(model, x[te], y[te]))
    out = pd.DataFrame({"driver": features, "importance": imp.importances_mean,
                        "importance_std": imp.importances_std})
    out["driver"] = out["driver"].replace({"tenure_months": "tenure"})
    out = out.sort_values("importance", ascending=False).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs["test_score"] = test_score
    out.attrs["scoring"] = scoring
    return out


def compare_importance(model: DriverModel, *, n_repeats: int = 5, random_state=0,
                       max_rows: int = 30_000) -> pd.DataFrame:
    """The GLM's per-driver Wald chi-square beside the permutation importance of a GBM.

    Both rank the same drivers (and tenure; not the adjustments of :data:`ADJUSTMENTS`, which
    both models hold fixed); ``rank_gap`` is the difference of ranks and
    ``attrs["spearman"]`` the rank correlation, so a reviewer sees whether the two agree.

    Returns
    -------
    DataFrame
        ``driver, wald_chi2, df, glm_p_value, glm_rank, importance, importance_std,
        importance_rank, rank_gap``.
    """
    # tenure is the time axis of the hazard model, so the GBM sees it too; on a snapshot it is a
    # feature only if it is a driver (for inferred churn it would encode the outcome)
    extra = ["tenure_months"] if model.design_ == "person-period" else []
    imp = driver_importance(model.frame_, drivers=model.drivers_, outcome=model.outcome_,
                            groups="customer_id" if model.design_ == "person-period" else None,
                            extra=extra, n_repeats=n_repeats, random_state=random_state,
                            max_rows=max_rows)
    glm = model.driver_tests_.rename(columns={"chi2": "wald_chi2", "p_value": "glm_p_value"})
    glm = glm.replace({"driver": {"tenure_months": "tenure"}})
    out = glm.merge(imp.drop(columns="rank"), on="driver", how="outer")
    # an adjustment (a campaign's contact) is held fixed in both models but is not a driver to rank
    out = out[~out["driver"].isin(ADJUSTMENTS)].copy()
    out["glm_rank"] = out["wald_chi2"].rank(ascending=False, method="min")
    out["importance_rank"] = out["importance"].rank(ascending=False, method="min")
    out["rank_gap"] = out["importance_rank"] - out["glm_rank"]
    out = out.sort_values("glm_rank").reset_index(drop=True)
    both = out.dropna(subset=["wald_chi2", "importance"])
    rho = stats.spearmanr(both["wald_chi2"], both["importance"]).statistic if len(both) > 2 \
        else float("nan")
    out.attrs.update({"spearman": float(rho), "test_score": imp.attrs["test_score"],
                      "scoring": imp.attrs["scoring"]})
    return out
