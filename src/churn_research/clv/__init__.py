"""Customer lifetime value, residual lifetime, the cost of churn and retention scenarios (stage
50_clv; the project's "value" question).

``formulas``     :func:`simple_clv` ("spend x frequency x years x margin"), :func:`churn_cost`
``contractual``  survival-based value for subscriptions: :func:`survival_curve` (Kaplan-Meier +
                 parametric tail), :func:`contractual_clv`, :func:`residual_clv`,
                 :func:`curve_derl`, :func:`fit_sbg`
``btyd``         non-contractual purchases: :func:`rfm_summary`, :func:`btyd_clv` and the
                 validation tables of Fader, Hardie & Lee (2005)
``tracking``     BG/NBD tracking plot data (:func:`tracking_table`) and P(alive) vs holdout
                 activity (:func:`p_alive_activity`)
``scenarios``    :func:`churn_cost_inputs`, :func:`retention_scenarios`
``risk``         money at risk: P(churn within a horizon) x value from the retention curve
                 (:func:`curve_churn_probability`) or the BG/NBD
                 (:func:`bgnbd_churn_probability`), with bootstrap intervals

The probability models themselves (sBG, BG/NBD, gamma-gamma) live in
:mod:`churn_research.models`, shared with the survival stage; they are re-exported here.
Conventions: rates are fractions (0.05 = 5%); ``discount_rate`` is *annual* unless the
argument says otherwise and is converted to the period length; nothing depends on "now".
"""

from churn_research.clv.btyd import (
    FREQ_DAYS,
    btyd_clv,
    frequency_fit,
    holdout_comparison,
    rfm_summary,
)
from churn_research.clv.contractual import (
    contractual_clv,
    curve_derl,
    default_observed_from,
    fit_sbg,
    residual_clv,
    survival_curve,
)
from churn_research.clv.formulas import (
    ChurnCost,
    SimpleCLV,
    churn_cost,
    period_discount_rate,
    simple_clv,
)
from churn_research.clv.risk import (
    bgnbd_churn_probability,
    curve_churn_probability,
)
from churn_research.clv.scenarios import (
    churn_cost_inputs,
    default_calibration_end,
    retention_scenarios,
)
from churn_research.durations import (
    DAYS_PER_MONTH,
)
from churn_research.models.beta_geo import (
    BetaGeo,
)
from churn_research.models.gamma_gamma import (
    GammaGamma,
)
from churn_research.models.shifted_beta_geo import (
    derl,
    sbg_del,
    sbg_survival,
)

__all__ = [
    "DAYS_PER_MONTH",
    "FREQ_DAYS",
    "SimpleCLV",
    "simple_clv",
    "ChurnCost",
    "churn_cost",
    "period_discount_rate",
    "survival_curve",
    "default_observed_from",
    "contractual_clv",
    "residual_clv",
    "curve_derl",
    "derl",
    "sbg_del",
    "sbg_survival",
    "fit_sbg",
    "rfm_summary",
    "BetaGeo",
    "GammaGamma",
    "btyd_clv",
    "holdout_comparison",
    "frequency_fit",
    "churn_cost_inputs",
    "default_calibration_end",
    "retention_scenarios",
    "curve_churn_probability",
    "bgnbd_churn_probability",
]
