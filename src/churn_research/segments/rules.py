"""The rules and thresholds of segmentation and early warning, in one place: feature windows,
value-tier rules (:data:`TIER_RULES`), early-warning signals (:data:`SIGNALS`), the retention
playbook's likely-reason heuristic (:data:`PLAYBOOK`; the actions are
:data:`churn_research.playbook.ACTION_RULES`) and the watchlist's columns. Datasets override the defaults through
their parameters (``windows``, ``tier_rules``, ``signal_thresholds``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churn_research.i18n import N_, is_chinese, label, label_msg
from churn_research.playbook import ACTION_RULES  # noqa: F401  (re-exported: the one rule set)

DAY = np.timedelta64(1, "D")

#: Look-back windows (days) used by :func:`features_at`.
DEFAULT_WINDOWS = {
    "window_days": 365,       # RFM frequency / monetary value and customer value: trailing window
    "recent_days": 90,        # "recent" activity window for the activity-drop signal
    "baseline_days": 365,     # the customer's own baseline: the window before the recent one
    "trend_months": 6,        # months (30-day buckets) in the purchase-frequency trend
    "complaint_days": 90,     # "recent" complaints
    "survey_days": 365,       # only survey answers this recent count as current satisfaction
}

#: Thresholds of the value-tier rules (see :data:`TIER_RULES`).
DEFAULT_TIER_RULES = {
    "new_days": 180,                 # tenure below this -> new
    "at_risk_recency_days": 60,      # no purchase for this long while still a customer ...
    "at_risk_min_fm": 3,             # ... and F or M score at least this (was a good customer)
    "at_risk_activity_ratio": 0.5,   # or recent activity <= this fraction of own baseline
    "at_risk_min_baseline_tx": 3,    # (baseline must hold at least this many purchases)
    "high_value_min_m": 5,           # M score at least this -> high value (5 = top quintile)
    "loyal_min_f": 4,                # F score at least this ...
    "loyal_min_tenure_days": 365,    # ... and tenure at least this -> loyal
}

#: Thresholds of the early-warning signals (see :data:`SIGNALS`).
DEFAULT_SIGNAL_THRESHOLDS = {
    "activity_drop_ratio": 0.5,      # recent purchase rate <= this x own baseline rate
    "min_baseline_tx": 3,            # baseline must hold at least this many purchases
    "frequency_trend": -0.25,        # monthly purchase count falling >= 25% of its mean per month
    "min_trend_tx": 4,               # trend needs at least this many purchases in its window
    "complaint_min": 1,              # at least this many complaints in complaint_days
    "low_csat": 2,                   # latest CSAT (1-5) at most this ...
    "low_nps": 4,                    # ... or latest NPS (0-10) at most this
}

#: Tiers from most to least valuable (report order).
TIER_ORDER = [label_msg("high value"), label_msg("loyal"), label_msg("regular"), label_msg("new"),
              label_msg("at risk"), label_msg("lost")]

#: The value-tier rules, applied in this order (first match wins). ``rule`` is in words with the
#: thresholds as ``{parameter}`` placeholders (filled by :func:`fill_rule`); ``parameters``
#: names the parameters (keys of ``tier_rules``) a researcher sets.
TIER_RULES = pd.DataFrame([
    ("lost", N_("no longer a customer at the cutoff: ended on or before it (contractual data) or "
               "no purchase within the data's inactivity window (purchase logs: the churn rule)"),
     N_("inactivity_days (of the data)")),
    ("new", N_("a customer for less than {new_days} days"), "new_days"),
    ("at risk", N_("still a customer and not new, and either no purchase for {at_risk_recency_days} "
                  "days although the F or M score is at least {at_risk_min_fm} (a good customer "
                  "going quiet), or a recent purchase rate at most {at_risk_activity_ratio} × the "
                  "customer's own earlier rate (which needs at least {at_risk_min_baseline_tx} "
                  "earlier purchases)"),
     "at_risk_recency_days, at_risk_min_fm, at_risk_activity_ratio, at_risk_min_baseline_tx"),
    ("high value", N_("M score at least {high_value_min_m} (5 = the top fifth by spend in the "
                     "trailing window)"), "high_value_min_m"),
    ("loyal", N_("F score at least {loyal_min_f} and a customer for at least "
                "{loyal_min_tenure_days} days"), "loyal_min_f, loyal_min_tenure_days"),
    ("regular", N_("everyone else"), ""),
], columns=["tier", "rule", "parameters"])

#: The early-warning signals (all computed from data dated on or before the scoring date);
#: ``definition`` in words with ``{parameter}`` placeholders for the thresholds
#: (``signal_thresholds``) and windows (``windows``).
SIGNALS = pd.DataFrame([
    (label_msg("recent_complaint"), "tickets",
     N_("at least {complaint_min} complaint(s) (tickets of kind 'complaint') in the last "
       "{complaint_days} days"),
     "complaint_min, complaint_days"),
    (label_msg("low_satisfaction"), "surveys",
     N_("the latest survey answer of the last {survey_days} days has CSAT at most {low_csat} "
       "(of 5) or NPS at most {low_nps} (of 10)"),
     "low_csat, low_nps, survey_days"),
    (label_msg("activity_drop"), "transactions",
     N_("purchase rate in the last {recent_days} days at most {activity_drop_ratio} × the "
       "customer's own rate in the {baseline_days} days before (which needs at least "
       "{min_baseline_tx} purchases)"),
     "activity_drop_ratio, min_baseline_tx, recent_days, baseline_days"),
    (label_msg("falling_frequency"), "transactions",
     N_("monthly (30-day) purchase counts over the last {trend_months} months fall by at least "
       "{frequency_drop} of their average month every month (least-squares slope; needs at least "
       "{min_trend_tx} purchases and a tenure covering the whole window)"),
     "frequency_trend, min_trend_tx, trend_months"),
], columns=["signal", "needs", "definition", "parameters"])


def fill_rule(template: str, values: dict) -> str:
    """A rule of :data:`TIER_RULES` or :data:`SIGNALS` with its thresholds filled in
    (``frequency_drop`` is ``-frequency_trend`` as a percentage)."""
    values = dict(values)
    if "frequency_trend" in values:
        values["frequency_drop"] = f"{-100 * float(values['frequency_trend']):g}%"
    return template.format_map({k: (f"{v:g}" if isinstance(v, float) else v)
                                for k, v in values.items()})


def parameter_values(names: str, values: dict) -> str:
    """``"new_days"`` -> ``"new_days = 180"`` (the parameters of one rule with their values); in
    a translated report each parameter's name is preceded by what it sets (``新客户的在网天数上限
    （new_days）= 180``): the name stays, as the key a researcher sets."""
    out = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        shown = name if not is_chinese() or label(name) == name else f"{label(name)}（{name}）"
        out.append(f"{shown} = {values[name]}" if name in values else shown)
    return ("，" if is_chinese() else ", ").join(out)


#: Priority of signals when several fire: the first one is the "dominant" signal.
SIGNAL_PRIORITY = list(SIGNALS["signal"])

#: The likely-reason heuristic of the retention playbook: the likely reason is the first row
#: whose trigger matches (signals in priority order, then price sensitivity, then tenure). The
#: action does not come from here: it comes from the one rule set of
#: :data:`churn_research.playbook.ACTION_RULES` (re-exported here), applied by
#: :func:`churn_research.playbook.state_actions` in every list that names an action.
PLAYBOOK = pd.DataFrame([
    (label_msg("service quality"), N_("dominant signal: recent complaint")),
    (label_msg("dissatisfaction"), N_("dominant signal: low satisfaction")),
    (label_msg("price"),
     N_("price-sensitive (had a price rise; or month-to-month in the top revenue quintile)")),
    (label_msg("disengagement"), N_("dominant signal: activity drop or falling frequency")),
    (label_msg("onboarding"), N_("tier: new")),
    (label_msg("unknown (model risk only)"), N_("otherwise")),
], columns=["likely reason", "trigger"])

#: The only columns a watchlist may carry (no names, phone numbers or e-mails).
WATCHLIST_COLUMNS = ["rank", "customer_id", "tier", "high_value", "risk", "value",
                     "expected_loss", "priority", "signals", "n_signals", "dominant_signal",
                     "likely_reason", "action"]
#: Columns 60_retention's call list adds: 50_clv's residual value and risk x residual value,
#: the quantity its money section sums (the watchlist's own ``expected_loss`` is risk x annual
#: revenue, the ranking score of 40_segments).
RESIDUAL_VALUE_COLUMNS = ["residual_value", "risk_x_residual_value"]
#: The English CSV's header of each column whose name alone would not say what it holds.
WATCHLIST_CSV_NAMES = {"value": "annual_revenue", "expected_loss": "risk_x_annual_revenue"}

_DENY_STATIC = re.compile(
    r"(^customer_id$|date|churn|reason|^end|tenure|total|^last|^first|count|^n_|recency|"
    r"frequency|monetary|score|label|status|active)", re.IGNORECASE)
