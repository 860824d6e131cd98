"""From watchlist to decision (stage 60_retention): calibrated risk, money at risk, actions
that fit the customer, and win-back. One topic per module:

``calibration``  cross-fitted recalibration of risk scores, reliability tables, Brier, ECE
``value``        money at risk: calibrated P(churn) x residual value, with a bootstrap interval
``actions``      the state-aware playbook and the check of the likely-reason heuristic
``winback``      recently lost customers by lost value, the historical win-back rate
``campaign``     a retention campaign's effect on churn: randomised holdout, or propensity-adjusted
``uplift``       uplift models (T- and X-learner), the Qini curve, targeting by uplift x value - cost

Like every research-question package it imports no other stage: the notebook passes in what
40_segments (risk scores, features) and 50_clv (residual values) compute.
"""

import pandas as pd

from churn_research.retention import actions, calibration, campaign, measure, uplift, value, winback

__all__ = ["actions", "calibration", "campaign", "measure", "uplift", "value", "winback", "stage_figures"]


def stage_figures(*, dataset: str, design: str, horizon_days: int, calibration, money=None,
                  reasons: dict | None = None, actions=None, winback=None, winback_days: int = 90,
                  rate=None, campaign=None, plan: dict | None = None,
                  return_models: dict | None = None, winback_snapshot=None,
                  action_states: list[str] | None = None, clv_value_lost: dict | None = None,
                  winback_mix: dict | None = None) -> dict:
    """The stage's key figures (nested; the runner flattens them).

    ``winback_snapshot``: the day one snapshot was taken (:attr:`winback.WinBack.snapshot_date`);
    its win-back list is everyone who had left by then, so the count is ``winback.lost_by_snapshot``
    (with ``winback.snapshot_date``), never ``winback.recently_lost`` over ``winback.days``.
    ``clv_value_lost``: 50_clv's value lost to churn, read from its key figures (the expected loss
    the findings point to when risk × value is not one). ``winback_mix``: the list's chance of
    returning beside the historical rate (:meth:`winback.WinBack.mix_figures`)."""
    figures = {"dataset": dataset, "design": design, "horizon_days": int(horizon_days),
               **calibration.key_figures()}
    if money is not None:
        figures.update(money.key_figures())
    if clv_value_lost is not None:
        figures["clv_value_lost"] = dict(clv_value_lost)
    if reasons is not None:
        figures["reasons"] = {k: reasons[k] for k in ("accuracy", "base_rate", "base_reason", "customers")}
        figures["reasons"]["base_sources"] = ", ".join(reasons.get("base_sources", []))
    if actions is not None:
        if action_states:
            figures["action_states"] = ", ".join(action_states)
        figures["action_counts"] = {str(k): int(v) for k, v in actions["rule"].value_counts().items()}
    if winback is not None:
        if winback_snapshot is not None:
            listed = {"snapshot_date": str(pd.Timestamp(winback_snapshot).date()),
                      "lost_by_snapshot": int(len(winback))}
        else:
            listed = {"days": int(winback_days), "recently_lost": int(len(winback))}
        figures["winback"] = {**listed, "lost_value": float(winback["lost_value"].sum()),
                              "ranked_by": ("expected recovered value"
                                            if "expected_recovered_value" in winback else "lost value")}
        if "expected_recovered_value" in winback:
            figures["winback"]["expected_recovered_value"] = float(winback["expected_recovered_value"].sum())
        for m, r in sorted((return_models or {}).items()):
            if r is not None:
                figures["winback"][f"return_{m}m"] = r.key_figures()
        if winback_mix is not None:
            figures["winback"]["mix"] = dict(winback_mix)
        if rate is not None:
            for _i, row in rate.iterrows():
                m = int(row["months"])
                figures["winback"].update({f"rate_{m}m": row["rate"], f"rate_{m}m_ci_low": row["ci_low"],
                                           f"rate_{m}m_ci_high": row["ci_high"],
                                           f"losses_{m}m": int(row["losses"])})
    if campaign is not None:
        figures.update(campaign.key_figures())
    if plan is not None:
        figures["plan"] = dict(plan)
    return figures
