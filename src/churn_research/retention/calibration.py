"""Calibrated churn risk: cross-fitted recalibration of a risk model's scores, the reliability
table before and after, the Brier score and the expected calibration error (ECE).

Method: **cross-fitted by hand**, isotonic (default) or Platt. The scores to calibrate are the
risk model's *out-of-fold* predictions (40_segments' :class:`ChurnRiskModel` already scores each
customer with a model that did not see them), so the calibrator only needs a second split:
the customers are cut into ``n_splits`` stratified folds, a calibrator is fitted on the
(score, label) pairs of the other folds and applied to the held-out fold. Every calibrated
probability used to judge the calibration is therefore held out twice over, and the ECE after
calibration is an honest held-out figure. The calibrator applied to today's customers is then
fitted on all (score, label) pairs. ``CalibratedClassifierCV(cv=...)`` would refit the whole
pipeline per fold to obtain the same out-of-fold scores the risk model already has; calibrating
those scores directly costs one cheap 1-D fit per fold and keeps the risk model untouched.

Isotonic regression is the default: with thousands of labelled customers it corrects any
monotone distortion (a model that is too confident at the top and too timid below); Platt
scaling (a logistic fit on the log-odds) is the choice for small samples, where isotonic
steps overfit.

Deciles are numbered one way everywhere: decile 1 holds the 10% of customers with the highest
predicted risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from churn_research.stats import (  # re-exported: the one home is churn_research.stats
    CALIBRATION_TOLERANCE,
    brier_score,
    expected_calibration_error,
    reliability_table,
    risk_deciles,
)

__all__ = ["risk_deciles", "reliability_table", "expected_calibration_error", "brier_score",
           "Calibrator", "CalibrationResult", "calibrate"]

_EPS = 1e-6


class Calibrator:
    """A monotone map from risk scores to calibrated probabilities (isotonic or Platt)."""

    def __init__(self, method: str = "isotonic"):
        if method not in ("isotonic", "platt"):
            raise ValueError(f"unknown calibration method {method!r}: use 'isotonic' or 'platt'")
        self.method = method

    @staticmethod
    def _logit(p) -> np.ndarray:
        p = np.clip(np.asarray(p, float), _EPS, 1 - _EPS)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def fit(self, p, y) -> Calibrator:
        if self.method == "isotonic":
            self.model_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self.model_.fit(np.asarray(p, float), np.asarray(y, float))
        else:
            self.model_ = LogisticRegression(C=1e6, max_iter=1000).fit(self._logit(p), np.asarray(y, int))
        return self

    def transform(self, p) -> np.ndarray:
        if self.method == "isotonic":
            return np.asarray(self.model_.predict(np.asarray(p, float)), float)
        return self.model_.predict_proba(self._logit(p))[:, 1]


@dataclass
class CalibrationResult:
    """Scores before and after cross-fitted calibration, and the calibrator for new scores."""

    y: pd.Series
    before: pd.Series                # the model's out-of-fold scores
    after: pd.Series                 # cross-fitted calibrated probabilities (held out)
    calibrator: Calibrator           # fitted on every (score, label) pair
    method: str
    n_splits: int
    n_bins: int = 10
    _metrics: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def reliability(self) -> pd.DataFrame:
        """Both reliability tables stacked, with ``scores`` = "before" / "after"."""
        return pd.concat([reliability_table(self.y, s, n_bins=self.n_bins).assign(scores=k)
                          for k, s in (("before", self.before), ("after", self.after))],
                         ignore_index=True)

    def metrics(self) -> pd.DataFrame:
        """Brier score and ECE before and after calibration (rows ``before``, ``after``); computed
        once (:attr:`improves`, :attr:`reads_as_probabilities` and the report text all read them,
        over every labelled customer)."""
        if self._metrics is None:
            self._metrics = pd.DataFrame({
                k: {"brier": brier_score(self.y, s),
                    "ece": expected_calibration_error(self.y, s, n_bins=self.n_bins),
                    "mean_predicted": float(np.mean(s))}
                for k, s in (("before", self.before), ("after", self.after))}).T
        return self._metrics.copy()

    @property
    def improves(self) -> bool:
        """The rule for using the calibration: the cross-fitted (held-out) calibrated scores must
        lower both the expected calibration error and the Brier score; otherwise the model's own
        scores are kept (:meth:`apply` returns them)."""
        m = self.metrics()
        return bool(m.loc["after", "ece"] < m.loc["before", "ece"]
                    and m.loc["after", "brier"] < m.loc["before", "brier"])

    @property
    def reads_as_probabilities(self) -> bool:
        """Whether the scores in use are shown to be right as churn probabilities: the
        calibrated ones when they are used (:attr:`improves`), else the model's own, whose
        expected calibration error must be within :data:`~churn_research.stats.CALIBRATION_TOLERANCE`
        (40_segments' rule). A model already calibrated is not improved by recalibration; its
        scores are still probabilities."""
        return self.improves or bool(self.metrics().loc["before", "ece"] <= CALIBRATION_TOLERANCE)

    def apply(self, scores: pd.Series, *, in_sample: bool = False) -> pd.Series:
        """Calibrated probabilities of today's customers, or the model's own ``scores`` when the
        calibration does not improve them (:attr:`improves`).

        ``in_sample=False`` (features at a later date, new scores): the calibrator fitted on
        every pair. ``in_sample=True`` (one snapshot: today's customers are the labelled ones and
        ``scores`` their out-of-fold scores): their cross-fitted, held-out probabilities."""
        if not self.improves:
            return scores.rename("p_churn")
        if in_sample:
            return self.after.reindex(scores.index).rename("p_churn")
        return pd.Series(self.calibrator.transform(scores.to_numpy(float)), index=scores.index,
                         name="p_churn")

    def key_figures(self) -> dict:
        m = self.metrics()
        return {"calibration": {"method": self.method, "folds": self.n_splits,
                                "customers": int(len(self.y)),
                                "observed_rate": float(self.y.mean()),
                                "used": self.improves,
                                "probabilities": self.reads_as_probabilities,
                                **{f"{k}_{w}": float(m.loc[w, k]) for k in ("brier", "ece")
                                   for w in ("before", "after")}}}


def calibrate(scores: pd.Series, y: pd.Series, *, method: str = "isotonic", n_splits: int = 5,
              n_bins: int = 10, random_state: int = 0) -> CalibrationResult:
    """Cross-fitted calibration of out-of-fold risk scores (see the module docstring).

    Parameters
    ----------
    scores : Series
        Out-of-fold predicted churn probabilities, indexed by customer.
    y : Series of 0/1
        Churned within the horizon, aligned on ``scores``.
    method : {"isotonic", "platt"}
    n_splits : int
        Folds of the cross-fitting (stratified, shuffled with ``random_state``).
    """
    y = pd.Series(y).reindex(scores.index).astype(int)
    p = scores.to_numpy(float)
    after = np.empty(len(p))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for tr, te in folds.split(p.reshape(-1, 1), y):
        after[te] = Calibrator(method).fit(p[tr], y.to_numpy()[tr]).transform(p[te])
    full = Calibrator(method).fit(p, y.to_numpy())
    return CalibrationResult(y, scores.rename("before"), pd.Series(after, index=scores.index, name="after"),
                             full, method, n_splits, n_bins)
