"""Why customers leave (stage 20_causes): exit reasons, churn drivers, high-churn profiles and
common claims, one topic per module:

``frame``       the customer-level frame, the design, candidate drivers, person-month rows
``reasons``     :func:`reason_pareto`, :func:`reason_shift`
``rates``       :func:`driver_rates`, :func:`driver_tests`, :func:`dose_response`
``drivers``     :class:`DriverModel` (discrete-time hazard or snapshot logistic GLM), VIF,
                :func:`compare_with_truth`
``importance``  :func:`compare_importance` (permutation importance of a gradient-boosting model)
``profiles``    :func:`churn_profiles` (decision-tree rules with lift)
``claims``      :func:`test_claims`
``competing``   competing exit reasons: :func:`cumulative_incidence` (Aalen–Johansen),
                :func:`cause_specific_cox`, :func:`annual_split` (avoidable vs unavoidable)
``sections``    what each report section shows: the rules that pick what it reports (Holm-
                significant drivers, strongest terms, rank disagreements), the sections that
                exist only for some data, and :func:`key_figures`

Drivers, profiles and claims are associations in observational data, not causes, unless a
design (a change date with a counterfactual) supports a causal reading. Functions take a
:class:`~churn_research.model.ChurnData` (or a customers DataFrame) first and keyword-only
options, return new frames and never mutate their input.
"""

from churn_research.causes.claims import (
    CLAIMS,
    test_claims,
)
from churn_research.causes.competing import (
    GROUPS,
    REASON_GROUPS,
    CompetingReasons,
    CumulativeIncidence,
    aalen_johansen,
    annual_split,
    cause_specific_cox,
    cumulative_incidence,
    reason_frame,
    reason_truth,
)
from churn_research.causes.drivers import (
    DriverModel,
    compare_with_truth,
)
from churn_research.causes.frame import (
    ADJUSTMENTS,
    CANDIDATE_DRIVERS,
    TIME_VARYING,
    customer_frame,
    default_drivers,
    is_snapshot,
    outcome_label,
    person_period,
    resolve_design,
)
from churn_research.causes.importance import (
    compare_importance,
    driver_importance,
)
from churn_research.causes.profiles import (
    churn_profiles,
)
from churn_research.causes.rates import (
    dose_response,
    driver_rates,
    driver_tests,
)
from churn_research.causes.reasons import (
    ReasonShift,
    has_reasons,
    reason_pareto,
    reason_shift,
    simultaneous_ci,
)
from churn_research.causes.sections import (
    ALPHA,
    adjustment_terms,
    campaign_truth,
    collinear_terms,
    competing_reasons,
    dose_curves,
    exit_reasons,
    key_figures,
    largest_rise,
    moved_reasons,
    no_reason_count,
    odds_vs_hazards,
    rank_disagreements,
    reason_shift_if_changed,
    reasons_by,
    reasons_covering,
    resolve_drivers,
    significant_drivers,
    static_drivers,
    strongest_effects,
    true_log_hr,
    truth_check,
)
from churn_research.stats import (
    poisson_rate_ci,
    wilson_ci,
)

__all__ = [
    "ALPHA",
    "ADJUSTMENTS",
    "CANDIDATE_DRIVERS",
    "TIME_VARYING",
    "CLAIMS",
    "DriverModel",
    "ReasonShift",
    "churn_profiles",
    "compare_importance",
    "compare_with_truth",
    "customer_frame",
    "default_drivers",
    "dose_response",
    "driver_importance",
    "driver_rates",
    "driver_tests",
    "has_reasons",
    "is_snapshot",
    "outcome_label",
    "person_period",
    "poisson_rate_ci",
    "reason_pareto",
    "reason_shift",
    "resolve_design",
    "simultaneous_ci",
    "test_claims",
    "wilson_ci",
    "adjustment_terms",
    "campaign_truth",
    "collinear_terms",
    "dose_curves",
    "exit_reasons",
    "key_figures",
    "largest_rise",
    "moved_reasons",
    "odds_vs_hazards",
    "rank_disagreements",
    "reason_shift_if_changed",
    "reasons_by",
    "competing_reasons",
    "GROUPS",
    "REASON_GROUPS",
    "CompetingReasons",
    "CumulativeIncidence",
    "aalen_johansen",
    "annual_split",
    "cause_specific_cox",
    "cumulative_incidence",
    "reason_frame",
    "reason_truth",
    "no_reason_count",
    "reasons_covering",
    "resolve_drivers",
    "significant_drivers",
    "static_drivers",
    "strongest_effects",
    "true_log_hr",
    "truth_check",
]
