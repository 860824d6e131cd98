"""A recorded retention campaign measured end to end for the report of 60_retention, and the
planning tool that links a churn target to the campaign's measured effect and cost.

:func:`study` composes :mod:`~churn_research.retention.campaign` (the effect on churn over the
horizon: a randomised holdout's difference with Newcombe's interval, or a propensity-adjusted
estimate with its assumptions) and :mod:`~churn_research.retention.uplift` (a cross-fitted
T-learner, its Qini curve on held-out customers, and targeting by ``uplift x value - cost``
against targeting by risk alone at the same contact budget). Where the data come from the
synthetic generator, its truth (``meta["truth"]["campaign"]``) is set beside every estimate.

:func:`plan` answers "how many customers must we save to meet the target": from a churn rate
now and its target (10_indicators' SMART target), the customers on the books, and the
campaign's measured effect and cost per contact.

Inputs are the processed data and what the notebook passes in (covariates at the campaign's
date, residual values): this package never imports another research question's package.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn_research.lookup import reindexed
from churn_research.model import ChurnData
from churn_research.retention import campaign as cp
from churn_research.retention import uplift as up
from churn_research.stats import compare_with_truth

__all__ = ["CampaignStudy", "study", "plan"]


@dataclass
class CampaignStudy:
    """One campaign measured: ``effect`` (:class:`~churn_research.retention.campaign.CampaignEffect`),
    ``truth_table`` (estimates beside the generator's truth, or None), the uplift model's held-out
    ``qini`` curve, ``qini_coefficient`` (area per customer) and ``qini_normalised`` (the
    normalised coefficient and its bootstrap 95% interval), and the targeting ``policy`` table (None without
    values)."""

    frame: pd.DataFrame
    effect: cp.CampaignEffect
    randomised: bool
    horizon_days: int
    date: pd.Timestamp
    uplift_model: str
    qini: pd.DataFrame
    qini_coefficient: float
    budget: int
    cost_per_contact: float | None
    policy: pd.DataFrame | None = None
    truth: dict | None = None
    truth_table: pd.DataFrame | None = None
    covariates: list[str] = field(default_factory=list)
    qini_normalised: tuple[float, float, float] = (float("nan"),) * 3
    n_boot: int = 200

    def key_figures(self) -> dict:
        e = self.effect.as_dict()
        e.pop("assumptions", None)
        out = {"campaign": {**e, "randomised": self.randomised, "horizon_days": self.horizon_days,
                            "date": str(self.date.date()),
                            "cost_per_contact": self.cost_per_contact},
               "uplift": {"model": self.uplift_model, "qini_coefficient": self.qini_coefficient,
                          "qini_normalised": self.qini_normalised[0],
                          "qini_normalised_ci_low": self.qini_normalised[1],
                          "qini_normalised_ci_high": self.qini_normalised[2],
                          "budget": self.budget}}
        if self.policy is not None:
            out["uplift"]["policy"] = {k: v for k, v in self.policy.to_dict("index").items()}
        if self.truth is not None:
            out["campaign"]["truth"] = {k: self.truth[k] for k in ("ate", "saved", "saved_expected")}
            if self.truth_table is not None:
                out["campaign"]["truth"]["covered"] = bool(self.truth_table["covered"].all())
        return out


def study(data: ChurnData, covariates, *, values=None,
          campaign: str | None = None, horizon_days: int = cp.DEFAULT_HORIZON_DAYS,
          randomised: bool = True, cost_per_contact: float | None = None,
          uplift_model: str = "logistic", budget_share: float = 0.2, n_boot: int = 200,
          columns: list[str] | None = None, random_state: int = 0) -> CampaignStudy:
    """Measure the campaign recorded in ``data.campaigns`` (see the module docstring).

    ``covariates``: one row per customer (index ``customer_id``) with what was known about them
    on the campaign's date (the propensity and uplift models' inputs), or a function of that
    date returning them (given the campaign's customer ids as ``ids=`` when it takes them: it
    may then return their rows only); ``values``: what keeping each customer was worth on that date (residual
    value; a Series or a function of the date; None: no money, no targeting policy);
    ``cost_per_contact``: None takes the table's recorded ``cost``; ``budget_share``: the share
    of the campaign's customers that both targeting policies may contact; ``columns``: the
    covariates used (None: those that are columns of the customers table, and ``tenure_days``).
    """
    frame = cp.outcomes(data.customers, data.campaigns, observation_end=data.observation_end,
                        horizon_days=horizon_days, campaign=campaign)
    day = pd.Timestamp(frame["date"].max())
    if callable(covariates):  # a function of the date (and, if it takes them, of the ids)
        takes_ids = "ids" in inspect.signature(covariates).parameters
        covariates = covariates(day, ids=frame["customer_id"]) if takes_ids else covariates(day)
    values = values(day) if callable(values) else values
    if columns is None:  # the customer attributes and the tenure, not the recent behaviour
        columns = [c for c in covariates.columns if c in data.customers.columns or c == "tenure_days"]
    ids = frame["customer_id"]
    # the campaign's customers' rows (matched by Arrow, no table of ids left behind); the
    # whole base's frames go as soon as these are taken (at 10^7 customers, GBs)
    cov = reindexed(covariates[list(columns)], pd.Index(ids)).reset_index(drop=True)
    del covariates
    cov = cov.loc[:, cov.notna().any()]
    worth = None if values is None else reindexed(values, pd.Index(ids)).astype(float)
    del values
    treated = frame["treated"] == 1
    unit = float(worth[treated.to_numpy()].mean()) if worth is not None and worth.notna().any() else None
    cost = (float(cost_per_contact) if cost_per_contact is not None else
            float(frame.loc[treated, "cost"].mean()) if frame["cost"].gt(0).any() else None)
    if randomised:
        effect = cp.randomised_effect(frame, value_per_customer=unit, cost_per_contact=cost_per_contact)
    else:
        effect = cp.adjusted_effect(frame, cov, n_boot=n_boot, random_state=random_state,
                                    value_per_customer=unit, cost_per_contact=cost_per_contact)
    fit = up.t_learner(up.design_matrix(cov), frame["treated"], frame["churned"], model=uplift_model,
                       random_state=random_state)
    qini = up.qini_curve(fit["uplift"], frame["treated"], frame["churned"])
    budget = int(round(budget_share * len(frame)))
    truth = (data.meta.get("truth") or {}).get("campaign")
    policy = None
    if worth is not None:
        kept = None
        if truth is not None and "kept_if_contacted" in truth:
            kept = ids.astype(str).map(truth["kept_if_contacted"]).fillna(0.0).to_numpy()
        policy = up.compare_policies(fit["uplift"], fit["risk_control"], worth.fillna(0.0).to_numpy(),
                                     cost_per_contact=cost or 0.0, budget=budget, true_saved=kept,
                                     treated=frame["treated"], churned=frame["churned"])
    table = None
    if truth is not None:
        est = pd.DataFrame({"estimate": [effect.difference, effect.saved],
                            "ci_low": [effect.ci[0], effect.saved_ci[0]],
                            "ci_high": [effect.ci[1], effect.saved_ci[1]]},
                           index=["effect", "saved"])
        table = compare_with_truth(est, {"effect": truth["ate"], "saved": truth["saved"]},
                                   estimate="estimate", lower="ci_low", upper="ci_high")
    return CampaignStudy(frame=frame, effect=effect, randomised=bool(randomised),
                         horizon_days=int(horizon_days), date=day,
                         uplift_model=uplift_model, qini=qini,
                         qini_coefficient=up.qini_coefficient(qini), budget=budget,
                         qini_normalised=up.qini_normalised_ci(fit["uplift"], frame["treated"],
                                                               frame["churned"], n_boot=n_boot,
                                                               random_state=random_state),
                         n_boot=int(n_boot),
                         cost_per_contact=cost, policy=policy, truth=truth, truth_table=table,
                         covariates=list(cov.columns))


def _contacts(save: int, effect: float) -> int | None:
    per = -float(effect)
    return int(np.ceil(round(save / per, 9))) if per > 0 else None


def plan(*, actual: float, target: float, customers: int, effect: float,
         cost_per_contact: float | None, value_per_customer: float | None,
         effect_ci: tuple[float, float] | None = None, within_interval: bool = False) -> dict:
    """How many customers must be saved per period to bring churn from ``actual`` to ``target``
    (rates per period over ``customers`` on the books), and what that takes at the campaign's
    measured ``effect`` (churn of the contacted minus churn of the controls; negative = it
    keeps customers): contacts needed, their cost, the value kept and the net.

    Contacts are None when the measured effect does not keep anyone (``effect >= 0``).
    ``effect_ci`` (the effect's 95% interval) gives each of contacts, cost and net an interval
    (``*_low``/``*_high``): the strongest effect in the interval needs the fewest contacts; an
    interval that reaches no effect leaves the upper contacts and cost unbounded (None) and the
    lower net None. ``met``: the target is met (``actual <= target``) or, with
    ``within_interval`` (10_indicators could not tell the actual rate from the target), met
    within the actual rate's interval: ``met_how`` says which ("met", "within interval")."""
    gap = max(float(actual) - float(target), 0.0)
    save = int(np.ceil(round(gap * int(customers), 9)))
    contacts = _contacts(save, effect)
    c_cost = None if cost_per_contact is None else float(cost_per_contact)
    cost = None if contacts is None or c_cost is None else contacts * c_cost
    value = None if value_per_customer is None else save * float(value_per_customer)
    net = None if cost is None or value is None else value - cost
    out = {"actual": float(actual), "target": float(target), "customers": int(customers),
           "to_save": save, "effect": float(effect), "contacts": contacts, "cost": cost,
           "value": value, "net": net, "met": gap == 0.0 or bool(within_interval),
           "met_how": "met" if gap == 0.0 else "within interval" if within_interval else None}
    if effect_ci is not None:
        strong, weak = sorted(float(e) for e in effect_ci)
        lo, hi = _contacts(save, strong), _contacts(save, weak)
        out.update({"effect_ci_low": strong, "effect_ci_high": weak,
                    "contacts_low": lo, "contacts_high": hi,
                    "cost_low": None if lo is None or c_cost is None else lo * c_cost,
                    "cost_high": None if hi is None or c_cost is None else hi * c_cost})
        out["net_high"] = None if value is None or out["cost_low"] is None else value - out["cost_low"]
        out["net_low"] = None if value is None or out["cost_high"] is None else value - out["cost_high"]
    return out
