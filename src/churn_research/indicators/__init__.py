"""Definitions (the textbook ones, made precise)
---------------------------------------------
A customer is *on the books* from ``start_date`` (inclusive) until ``end_date`` (the day the
loss happens; NaT = still a customer at the end of the observation window). Periods are calendar
months, quarters, half-years or years, clipped to the *observation window* (see
:func:`observation_window`). For each period:

``at_risk``
    customers on the books at the start of the period: ``start_date`` before the period's first
    day and ``end_date`` on or after it (or none). A customer whose ``start_date`` is the first
    day of a period is **new in that period**, not at risk at its start; a customer whose
    ``end_date`` is the first day of a period was at risk at its start and **churned in it**.
``new``
    customers whose ``start_date`` falls in the period.
``churned``
    customers whose ``end_date`` falls in the period, *including* those who joined in the same
    period (``churned_new`` of them).
``returned``
    non-contractual data only (lapse episodes, below): customers who bought again in the period
    after a lapse; 0 otherwise.
``exposed``
    ``at_risk + new + returned``: everyone who was a customer at some time during the period,
    i.e. every customer who could have been lost in it.
``churn_rate``
    ``numerator / denominator``. With the default ``denominator="exposed"`` that is
    ``churned / (at_risk + new)``: a customer who joins and leaves within one period is counted in
    ``new``, in ``churned`` *and* in the denominator, so the rate is a proportion of the customers
    who could have been lost (never above 1) and its binomial (Wilson) interval is valid. When no
    one joins, it is exactly the textbook ``lost / customers at risk at the start``.
    ``denominator="start"`` gives the strict cohort version ``(churned - churned_new) / at_risk``
    (losses among the customers on the books at the start).
``retention_rate``
    ``1 - churn_rate`` (with the mirrored interval).

Periods after the window end never appear; a period cut short by the window (typically the
last one, ending at ``observation_end``) has ``partial = True`` and its rate covers fewer days.

Non-contractual data (purchases only) have no explicit end date. Per-period churn counts
**lapse episodes** (:mod:`~churn_research.indicators.episodes`): every gap of more than
``inactivity_days`` between two purchases of a customer, or after the last one up to
``observation_end``, is a lapse counted in the period of the purchase before it; a customer who
buys again *returns* and is at risk again from that purchase on. Each customer's final lapse is
the project's customer-level rule (:func:`infer_churn`: lost at the last purchase), which
:func:`overall_churn` (the share lost for good over the window) and :func:`cohort_retention` use;
counting only final lapses per period (``lapses="final"``) would miss early lapses that were
followed by a return, so churn would drift upwards over the window. Because a lapse is only
visible ``inactivity_days`` later, the window of a non-contractual dataset ends
``inactivity_days + 1`` days before ``observation_end``: up to that day every lapse is already
visible, after it none can be (so churn there would look like zero).

New vs existing customers (新客户 / 老客户) is the built-in segment ``by="tenure_group"``: in each
period a customer is *new* if their tenure at the period's start is below ``new_tenure_months``
(customers joining during the period are new), otherwise *existing*.

All functions are vectorised (period codes by ``np.searchsorted``, counts by ``np.bincount`` over
difference arrays, lapse episodes by one sort of the purchase log).

Modules: ``window`` (period codes, the observation window), ``grid`` (periods and the vectorised
grid), ``episodes`` (lapse episodes of purchase logs), ``churn`` (churn tables), ``experience``
(complaints, satisfaction, repeat purchases, revenue retention), ``cohorts``, ``targets``,
``figures`` (the report's rules and key figures), ``complaints`` (complaint handling: the
complaint-rate control chart, resolution, churn by resolution time), ``growth`` (joins, net adds,
growth rate), and ``impact`` (before/after, interrupted time
series, control charts: did churn change after the business change?).
"""

from churn_research.annual import (
    annual_churn,  # the dataset's one annual churn (shared with 50_clv)
)
from churn_research.indicators import impact  # noqa: F401  (the change-impact methods)
from churn_research.indicators.churn import (
    churn_table,
    latest_period,
    new_vs_existing,
    overall_churn,
    pooled_rates,
)
from churn_research.indicators.cohorts import (
    cohort_retention,
)
from churn_research.indicators.complaints import (
    ComplaintHandling,
    complaint_handling,
)
from churn_research.indicators.episodes import (
    lapse_episodes,
)
from churn_research.indicators.events import (
    each_event,
    events_figures,
    events_impact,
    select_events,
)
from churn_research.indicators.experience import (
    complaint_table,
    repeat_purchase_table,
    revenue_retention,
    revenue_retentions,
    satisfaction_table,
)
from churn_research.indicators.figures import (
    ImpactReadiness,
    churn_figures,
    cohort_figures,
    cohort_retention_at,
    cohorts_followable,
    complaint_figures,
    experience_tables,
    flagged_periods,
    has_trend,
    header_figures,
    impact_figures,
    impact_readiness,
    impact_skipped_figures,
    latest,
    measurable,
    over_time,
    pooled_segments,
    present_segments,
    recurring_column,
    repeat_figures,
    revenue_figures,
    satisfaction_figures,
    segment_figures,
    segment_rates,
    survey_measures,
    synthetic_truth,
    target_figures,
    tenure_figures,
    tenure_groups,
    trend_periods,
    trend_table,
    verdict_figures,
)
from churn_research.indicators.grid import (
    periods,
)
from churn_research.indicators.growth import (
    growth_figures,
    growth_table,
    yearly_churn,
)
from churn_research.indicators.targets import (
    indicator_series,
    target_table,
)
from churn_research.indicators.window import (
    DIRECTIONS,
    FREQ_NAMES,
    TENURE_GROUP,
    TENURE_LABELS,
    TENURE_LABELS_ZH,
    normalize_freq,
    observation_window,
    prepared_customers,
)
from churn_research.model import (
    infer_churn,
)
from churn_research.stats import (
    wilson_ci,
)

__all__ = [
    "annual_churn",
    "each_event",
    "events_figures",
    "events_impact",
    "select_events",
    "FREQ_NAMES",
    "TENURE_GROUP",
    "TENURE_LABELS",
    "TENURE_LABELS_ZH",
    "DIRECTIONS",
    "normalize_freq",
    "observation_window",
    "infer_churn",
    "prepared_customers",
    "lapse_episodes",
    "periods",
    "churn_table",
    "new_vs_existing",
    "overall_churn",
    "pooled_rates",
    "latest_period",
    "wilson_ci",
    "complaint_table",
    "satisfaction_table",
    "repeat_purchase_table",
    "revenue_retention",
    "revenue_retentions",
    "cohort_retention",
    "indicator_series",
    "target_table",
    "ComplaintHandling",
    "complaint_handling",
    "growth_table",
    "growth_figures",
    "yearly_churn",
    # figures: the report's rules and key figures
    "ImpactReadiness",
    "impact_readiness",
    "present_segments",
    "measurable",
    "recurring_column",
    "experience_tables",
    "survey_measures",
    "latest",
    "has_trend",
    "over_time",
    "trend_periods",
    "trend_table",
    "pooled_segments",
    "segment_rates",
    "tenure_groups",
    "cohorts_followable",
    "cohort_retention_at",
    "flagged_periods",
    "synthetic_truth",
    "header_figures",
    "churn_figures",
    "segment_figures",
    "tenure_figures",
    "complaint_figures",
    "satisfaction_figures",
    "repeat_figures",
    "revenue_figures",
    "cohort_figures",
    "target_figures",
    "impact_figures",
    "impact_skipped_figures",
    "verdict_figures",
]
