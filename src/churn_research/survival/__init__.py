"""Survival analysis of customer lifetimes (stage 30_survival): *when* do customers leave, and what
changes that. Built on lifelines, one topic per module:

``frame``       first-purchase features and entry times on the lifetime frame of
                :func:`churn_research.durations.durations` (re-exported here as ``durations``)
``km``          Kaplan-Meier: :func:`km_fit`, :func:`km_summary`, :func:`km_curves`, fitted on
                lifetime counts (:func:`counts_frame`, :func:`as_counts`: one row per distinct
                exit and entry time, weighted by its customers)
``group_tests`` :func:`logrank` and :func:`pairwise_logrank` (Holm-corrected), with delayed entry
``cox``         :class:`CoxRegression` with a proportional-hazards check and remedy,
                :func:`piecewise_hazard_ratios`
``parametric``  :func:`fit_parametric`, :func:`extrapolate`, :func:`fit_aft`
``change``      the business events (and a campaign contact) as time-varying exposures: :func:`change_episodes`,
                :func:`separable_events`, :func:`fit_change_cox`, :func:`acquired_before_after`
``diagnostics`` smoothed hazards with bands, cut where few remain at risk; held-out time-dependent
                AUC and Brier score with bootstrap intervals
``cohorts``     cohort tables projected with the sBG model (:mod:`churn_research.models`)
``sections``    what each report section computes and keeps: rules, result objects, key figures

Every model runs on tenure in the unit chosen in :func:`~churn_research.durations.durations`
and honours left truncation through its ``entry`` column.
"""

from churn_research.durations import (
    TIME_UNITS,
    durations,
)
from churn_research.models.shifted_beta_geo import (
    ShiftedBetaGeometric,
)
from churn_research.survival.change import (
    acquired_before_after,
    change_episodes,
    exposure_columns,
    fit_change_cox,
    separable_events,
)
from churn_research.survival.cohorts import (
    cohort_table,
    fit_sbg_cohorts,
    sbg_holdout_accuracy,
    sbg_projection,
    sbg_summary,
)
from churn_research.survival.cox import (
    CoxRegression,
    compare_with_truth,
    cox_design,
    hazard_ratios,
    piecewise_hazard_ratios,
    schoenfeld_test,
)
from churn_research.survival.diagnostics import (
    HeldOutValidation,
    hazard_figures,
    held_out_validation,
    smoothed_hazards,
)
from churn_research.survival.frame import (
    add_first_purchase,
)
from churn_research.survival.group_tests import (
    logrank,
    pairwise_logrank,
)
from churn_research.survival.km import (
    as_counts,
    counts_frame,
    format_km_summary,
    km_curves,
    km_fit,
    km_summary,
    rmst,
    survival_at,
)
from churn_research.survival.parametric import (
    aft_comparison,
    extrapolate,
    fit_aft,
    fit_parametric,
    parametric_comparison,
    time_ratios,
)
from churn_research.survival.sections import (
    ChangeAnalysis,
    CohortAnalysis,
    SegmentComparison,
    band_variables,
    base_figures,
    change_analysis,
    change_figures,
    cohort_analysis,
    compare_segments,
    cox_figures,
    km_figures,
    lifetimes,
    model_sample,
    parametric_figures,
    ph_remedy,
    segment_figures,
    segment_verdicts,
    split_segments,
    strongest_drivers,
    tenure_bands,
    true_hazard_ratios,
    truth_table,
)

__all__ = [
    "TIME_UNITS",
    "durations",
    "add_first_purchase",
    "km_fit",
    "km_summary",
    "as_counts",
    "counts_frame",
    "km_curves",
    "survival_at",
    "rmst",
    "logrank",
    "pairwise_logrank",
    "cox_design",
    "CoxRegression",
    "schoenfeld_test",
    "hazard_ratios",
    "compare_with_truth",
    "piecewise_hazard_ratios",
    "fit_parametric",
    "parametric_comparison",
    "extrapolate",
    "fit_aft",
    "aft_comparison",
    "change_episodes",
    "exposure_columns",
    "separable_events",
    "fit_change_cox",
    "acquired_before_after",
    "ShiftedBetaGeometric",
    "cohort_table",
    "fit_sbg_cohorts",
    "sbg_summary",
    "sbg_projection",
    "sbg_holdout_accuracy",
    "format_km_summary",
    "time_ratios",
    "SegmentComparison", "ChangeAnalysis", "CohortAnalysis", "base_figures", "km_figures",
    "split_segments", "compare_segments", "segment_verdicts", "segment_figures", "strongest_drivers",
    "truth_table", "true_hazard_ratios", "ph_remedy", "band_variables", "cox_figures",
    "parametric_figures", "change_analysis", "change_figures", "cohort_analysis",
    "lifetimes", "model_sample", "tenure_bands",
    "smoothed_hazards", "hazard_figures", "held_out_validation", "HeldOutValidation",
]
