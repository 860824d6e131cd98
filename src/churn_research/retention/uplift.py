"""Whom to contact: uplift models, the Qini curve and the targeting policy.

A customer's **uplift** is how much contacting them lowers their chance of leaving within the
horizon: ``P(churn | not contacted) - P(churn | contacted)`` (positive = the contact helps).
It is learnt from a campaign with a control group (:mod:`churn_research.retention.campaign`):

* :func:`t_learner` — one churn model per arm (scikit-learn gradient boosting or logistic
  regression), uplift = the control model's risk minus the treated model's; **cross-fitted**:
  every customer's uplift comes from models fitted on the other folds, so the curve below is
  measured on held-out customers;
* :func:`x_learner` — Künzel et al.'s X-learner (imputed effects per arm, weighted by the
  propensity), better when one arm is much smaller;
* :func:`qini_curve` / :func:`qini_coefficient` — incremental customers kept when contacting
  the top share of customers ranked by uplift, against contacting at random;
* :func:`qini_normalised` / :func:`qini_normalised_ci` — the **normalised Qini coefficient**
  (Radcliffe 2007, "Using control groups to target on predicted lift"; scikit-uplift's
  ``qini_auc_score``): the area between the model's Qini curve and the random line divided by
  the same area of the perfect ranking (the kept-if-contacted treated first, the kept controls
  last), so 1 = perfect, 0 = random; with a seeded bootstrap interval over the customers;
* :func:`target` / :func:`compare_policies` — contact the customers with the largest
  ``uplift x value - cost`` (within a budget), compared with contacting the riskiest and with
  contacting the largest ``risk x value``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["design_matrix", "t_learner", "x_learner", "qini_curve", "qini_coefficient",
           "qini_normalised", "qini_normalised_ci", "target", "compare_policies", "POLICIES"]


def design_matrix(covariates: pd.DataFrame) -> np.ndarray:
    """Covariates as a numeric matrix (categories one-hot, booleans 0/1, gaps as the mean):
    ``pd.get_dummies(drop_first=True)``'s columns and values, each gap filled with its column's
    mean. Built column by column into the matrix (at 10^7 customers a campaign's 4 * 10^6
    customers: one matrix, not the four whole-frame copies of get_dummies, astype and fillna)."""
    x = pd.DataFrame(index=covariates.index)
    for col in covariates.columns:  # booleans as 0/1, the other columns as they are (no copy)
        s = covariates[col]
        x[col] = s.astype(float) if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean" else s
    x = pd.get_dummies(x, drop_first=True, dtype=float)
    out = np.empty((len(x), x.shape[1]))
    for j, col in enumerate(x.columns):
        s = x.pop(col).astype(float)
        out[:, j] = s.fillna(s.mean()).to_numpy()
    return out


def _model(kind: str, random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415 - heavy
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    if kind == "gbm":
        return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_depth=3,
                                              min_samples_leaf=50, random_state=random_state)
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    raise ValueError(f"model must be 'gbm' or 'logistic', got {kind!r}.")


def _fit_predict(kind, x_fit, y_fit, x_new, random_state):
    if len(np.unique(y_fit)) < 2:
        return np.full(len(x_new), float(np.mean(y_fit)) if len(y_fit) else 0.0)
    return _model(kind, random_state).fit(x_fit, y_fit).predict_proba(x_new)[:, 1]


def _folds(n: int, n_folds: int, random_state: int) -> np.ndarray:
    rng = np.random.default_rng(random_state)
    return rng.permutation(np.arange(n) % n_folds)


def t_learner(x: np.ndarray, treated, churned, *, model: str = "logistic", n_folds: int = 2,
              random_state: int = 0) -> pd.DataFrame:
    """Cross-fitted T-learner: for each fold, a churn model per arm fitted on the other folds.

    Returns one row per customer: ``risk_control`` (P(churn) if not contacted), ``risk_treated``
    (if contacted) and ``uplift`` = ``risk_control - risk_treated`` (expected churn reduction),
    all predicted by models that never saw the customer.
    """
    x = np.asarray(x, dtype=float)
    a = np.asarray(treated, dtype=int)
    y = np.asarray(churned, dtype=int)
    fold = _folds(len(a), n_folds, random_state)
    r0, r1 = np.empty(len(a)), np.empty(len(a))
    for f in range(n_folds):
        test, fit = fold == f, fold != f
        c, tr = fit & (a == 0), fit & (a == 1)
        r0[test] = _fit_predict(model, x[c], y[c], x[test], random_state)
        r1[test] = _fit_predict(model, x[tr], y[tr], x[test], random_state)
    return pd.DataFrame({"risk_control": r0, "risk_treated": r1, "uplift": r0 - r1})


def x_learner(x: np.ndarray, treated, churned, *, model: str = "logistic", n_folds: int = 2,
              random_state: int = 0) -> pd.DataFrame:
    """Cross-fitted X-learner: the T-learner's per-arm models impute each customer's effect
    (treated: ``m0(x) - y``; control: ``y - m1(x)``), regressed on the covariates per arm
    (gradient boosting regression), and combined with the propensity ``e(x)`` as
    ``e(x) tau_0(x) + (1 - e(x)) tau_1(x)``. Same columns as :func:`t_learner`."""
    from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: PLC0415

    x = np.asarray(x, dtype=float)
    a = np.asarray(treated, dtype=int)
    y = np.asarray(churned, dtype=int)
    fold = _folds(len(a), n_folds, random_state)
    out = t_learner(x, a, y, model=model, n_folds=n_folds, random_state=random_state)
    uplift = np.empty(len(a))
    for f in range(n_folds):
        test, fit = fold == f, fold != f
        c, tr = fit & (a == 0), fit & (a == 1)
        m0_tr = _fit_predict(model, x[c], y[c], x[tr], random_state)
        m1_c = _fit_predict(model, x[tr], y[tr], x[c], random_state)
        reg = dict(max_iter=100, learning_rate=0.05, max_depth=3, min_samples_leaf=50,
                   random_state=random_state)
        tau1 = HistGradientBoostingRegressor(**reg).fit(x[tr], m0_tr - y[tr]).predict(x[test])
        tau0 = HistGradientBoostingRegressor(**reg).fit(x[c], y[c] - m1_c).predict(x[test])
        e = _model("logistic", random_state).fit(x[fit], a[fit]).predict_proba(x[test])[:, 1]
        uplift[test] = e * tau0 + (1 - e) * tau1
    out["uplift"] = uplift
    return out


def qini_curve(uplift, treated, churned, *, points: int = 101) -> pd.DataFrame:
    """The Qini curve: contacting the top ``share`` of customers ranked by ``uplift``, the
    customers kept = control churners among them scaled to the treated count, minus the treated
    churners among them (``kept``), beside contacting the same share at random (``random``).

    Measure it on held-out predictions (:func:`t_learner` cross-fits them)."""
    u = np.asarray(uplift, dtype=float)
    a = np.asarray(treated, dtype=int)
    y = np.asarray(churned, dtype=int)
    order = np.argsort(-u, kind="stable")
    a, y = a[order], y[order]
    n_t, n_c = np.cumsum(a), np.cumsum(1 - a)
    y_t, y_c = np.cumsum(y * a), np.cumsum(y * (1 - a))
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(n_c > 0, y_c * n_t / np.maximum(n_c, 1), 0.0) - y_t
    n = len(u)
    kept = np.concatenate([[0.0], kept])
    total = kept[-1]
    at = np.unique(np.round(np.linspace(0, n, points)).astype(int))
    share = at / n
    return pd.DataFrame({"share": share, "contacted": at, "kept": kept[at],
                         "random": share * total})


def qini_coefficient(curve: pd.DataFrame) -> float:
    """Area between the Qini curve and the random line (trapezoids over the share contacted),
    per customer contacted at full share: > 0 means the ranking finds those the contact helps
    better than chance."""
    gain = (curve["kept"] - curve["random"]).to_numpy()
    share = curve["share"].to_numpy()
    area = float(np.sum((gain[1:] + gain[:-1]) / 2 * np.diff(share)))
    return area / max(int(curve["contacted"].iloc[-1]), 1)


def _qini_area(score, a, y) -> float:
    """Area between the Qini curve and the random line, the curve taken at the end of each block
    of tied scores (ties are not ordered arbitrarily) and joined by straight lines, over the
    share of customers contacted."""
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="stable")
    s, a, y = s[order], a[order], y[order]
    n_t, n_c = np.cumsum(a), np.cumsum(1 - a)
    y_t, y_c = np.cumsum(y * a), np.cumsum(y * (1 - a))
    kept = np.where(n_c > 0, y_c * n_t / np.maximum(n_c, 1), 0.0) - y_t
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    x = np.r_[0, ends + 1] / len(s)
    k = np.r_[0.0, kept[ends]]
    gain = k - x * k[-1]
    return float(np.sum((gain[1:] + gain[:-1]) / 2 * np.diff(x)))


def qini_normalised(uplift, treated, churned) -> float:
    """The normalised Qini coefficient: the model's Qini area above the random line divided by
    the perfect ranking's (see the module docstring). NaN when the perfect area is 0."""
    a = np.asarray(treated, dtype=int)
    y = np.asarray(churned, dtype=int)
    kept = 1 - y  # the customer stayed: contacted and staying first, controls staying last
    perfect = _qini_area(kept * a - kept * (1 - a), a, y)
    return _qini_area(uplift, a, y) / perfect if perfect > 0 else float("nan")


def qini_normalised_ci(uplift, treated, churned, *, n_boot: int = 200, alpha: float = 0.05,
                       random_state: int = 0) -> tuple[float, float, float]:
    """The normalised Qini coefficient and its percentile bootstrap interval: the held-out
    customers resampled with replacement ``n_boot`` times (fixed seed), their scores kept."""
    u = np.asarray(uplift, dtype=float)
    a = np.asarray(treated, dtype=int)
    y = np.asarray(churned, dtype=int)
    kept = 1 - y
    # a resample is the customers with their number of draws as weights: each score order is
    # sorted once, and the curve at the end of each block of tied scores (where the area is
    # read) has the same counts as the resample's own sort (the same numbers, not a sort per
    # resample of the whole held-out set)
    sides = [_Sorted(u, a, y), _Sorted(kept * a - kept * (1 - a), a, y)]
    rng = np.random.default_rng(random_state)
    reps = []
    for _ in range(int(n_boot)):
        w = np.bincount(rng.integers(0, len(u), len(u)), minlength=len(u))
        model, perfect = (side.area(w) for side in sides)
        reps.append(model / perfect if perfect > 0 else float("nan"))
    lo, hi = np.nanquantile(reps, [alpha / 2, 1 - alpha / 2])
    return qini_normalised(u, a, y), float(lo), float(hi)


class _Sorted:
    """Scores sorted once (highest first) for :func:`_qini_area` of weighted resamples."""

    def __init__(self, score, a, y):
        s = np.asarray(score, dtype=float)
        self.order = np.argsort(-s, kind="stable")
        self.s, self.a, self.y = s[self.order], a[self.order], y[self.order]

    def area(self, weights) -> float:
        """:func:`_qini_area` of the sample holding each customer ``weights`` times."""
        w = weights[self.order]
        on = w > 0
        s, a, y, w = self.s[on], self.a[on], self.y[on], w[on]
        n_t, n_c = np.cumsum(w * a), np.cumsum(w * (1 - a))
        y_t, y_c = np.cumsum(w * y * a), np.cumsum(w * y * (1 - a))
        kept = np.where(n_c > 0, y_c * n_t / np.maximum(n_c, 1), 0.0) - y_t
        ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
        x = np.r_[0, np.cumsum(w)[ends]] / w.sum()
        k = np.r_[0.0, kept[ends]]
        gain = k - x * k[-1]
        return float(np.sum((gain[1:] + gain[:-1]) / 2 * np.diff(x)))


def target(score, *, budget: int | None = None) -> np.ndarray:
    """Whom to contact: the ``budget`` customers with the highest ``score`` (all with a positive
    score when ``budget`` is None). Returns a boolean mask."""
    s = np.asarray(score, dtype=float)
    chosen = np.zeros(len(s), dtype=bool)
    if budget is None:
        return s > 0
    order = np.argsort(-s, kind="stable")[:int(budget)]
    chosen[order] = True
    return chosen


#: The targeting policies compared, in the report's order.
POLICIES = ("uplift", "risk_value", "risk")


def _measured_kept(chosen, treated, churned) -> float:
    """Customers kept among the chosen, measured on the campaign's own groups: (churn of the
    chosen controls - churn of the chosen contacted) x customers chosen. NaN without both."""
    a, y = np.asarray(treated, dtype=int)[chosen], np.asarray(churned, dtype=int)[chosen]
    if a.sum() == 0 or (1 - a).sum() == 0:
        return float("nan")
    return float((y[a == 0].mean() - y[a == 1].mean()) * len(a))


def compare_policies(uplift, risk, value, *, cost_per_contact: float, budget: int,
                     true_saved=None, treated=None, churned=None) -> pd.DataFrame:
    """Targeting by uplift (``uplift x value - cost``) against targeting by risk alone and by
    risk x value, at the same contact ``budget``: per policy, customers contacted, the expected
    customers kept and value kept by the model's uplift, the cost and the net; with
    ``treated``/``churned`` (the campaign's groups; the uplift held out) the customers kept
    measured among the chosen (``kept_measured``); with ``true_saved`` (the expected chance each
    customer is kept by a contact, e.g. a generator's truth) also the true customers and value
    kept and the true net."""
    u = np.asarray(uplift, dtype=float)
    v = np.asarray(value, dtype=float)
    r = np.asarray(risk, dtype=float)
    policies = {"uplift": target(u * v - cost_per_contact, budget=budget),
                "risk_value": target(r * v, budget=budget),
                "risk": target(r, budget=budget)}
    rows = []
    for name, chosen in policies.items():
        cost = cost_per_contact * int(chosen.sum())
        row = {"policy": name, "contacted": int(chosen.sum()),
               "kept_expected": float(u[chosen].sum()),
               "value_expected": float((u * v)[chosen].sum()), "cost": cost}
        row["net_expected"] = row["value_expected"] - cost
        if treated is not None and churned is not None:
            row["kept_measured"] = _measured_kept(chosen, treated, churned)
        if true_saved is not None:
            ts = np.asarray(true_saved, dtype=float)
            row["kept_true"] = float(ts[chosen].sum())
            row["value_true"] = float((ts * v)[chosen].sum())
            row["net_true"] = row["value_true"] - cost
        rows.append(row)
    return pd.DataFrame(rows).set_index("policy")
